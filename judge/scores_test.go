package judge_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/judge"
	"github.com/chatcampaigns/campaign/store/sqlite"
)

var rubric = &campaigns.Rubric{ScaleMin: 1, ScaleMax: 10, Criteria: []campaigns.Criterion{
	{Name: "Originality", Weight: 40}, {Name: "Composition", Weight: 35}, {Name: "Summer feeling", Weight: 25},
}}

func sc(o, c, s int) map[string]int {
	return map[string]int{"Originality": o, "Composition": c, "Summer feeling": s}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestWeighted(t *testing.T) {
	for _, tc := range []struct {
		name   string
		rubric *campaigns.Rubric
		scores map[string]int
		want   float64
	}{
		{"WeightsOf100", rubric, sc(10, 0, 0), 4},
		{"AllEqual", rubric, sc(7, 7, 7), 7},
		{"Mixed", rubric, sc(8, 6, 4), (8*40 + 6*35 + 4*25) / 100.0},
		{"WeightsOf1", &campaigns.Rubric{Criteria: []campaigns.Criterion{{Name: "a", Weight: .25}, {Name: "b", Weight: .75}}}, map[string]int{"a": 4, "b": 8}, 7},
		{"NoWeightsCountTheSame", &campaigns.Rubric{Criteria: []campaigns.Criterion{{Name: "a"}, {Name: "b"}}}, map[string]int{"a": 4, "b": 8}, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := judge.Weighted(tc.rubric, tc.scores); !near(got, tc.want) {
				t.Errorf("Weighted = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestAggregatedIsMeanNotSum(t *testing.T) {
	for _, tc := range []struct {
		name                string
		cards               []map[string]int
		mean, first, median float64
	}{
		{"None", nil, 0, 0, 0},
		{"OneJudge", []map[string]int{sc(5, 5, 5)}, 5, 5, 5},
		{"TwoJudges", []map[string]int{sc(10, 10, 10), sc(4, 4, 4)}, 7, 7, 7},
		{"ThreeJudgesMedian", []map[string]int{sc(10, 10, 10), sc(1, 1, 1), sc(6, 6, 6)}, 17.0 / 3, 17.0 / 3, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cards []judge.Scorecard
			for _, s := range tc.cards {
				cards = append(cards, judge.Scorecard{Scores: s})
			}
			a := judge.Aggregated(rubric, cards)
			if a.Judges != len(cards) || !near(a.Mean, tc.mean) || !near(a.First, tc.first) || !near(a.Median, tc.median) {
				t.Errorf("Aggregated = %+v, want mean %v first %v median %v", a, tc.mean, tc.first, tc.median)
			}
		})
	}
}

func entry(id, pid string) judge.Entry {
	return judge.Entry{Entry: engine.Entry{ID: id, ParticipantID: pid, Campaign: "race", State: "harbour", CreatedAt: t0}}
}

func cards(scores ...map[string]int) []judge.Scorecard {
	var out []judge.Scorecard
	for _, s := range scores {
		out = append(out, judge.Scorecard{Scores: s})
	}
	return out
}

func TestRankEntriesTieBreaks(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries []judge.Entry
		cards   map[string][]judge.Scorecard
		want    []string
		byDraw  []bool
	}{
		{"ByMean", []judge.Entry{entry("a", "A"), entry("b", "B"), entry("c", "C")},
			map[string][]judge.Scorecard{"a": cards(sc(5, 5, 5)), "b": cards(sc(9, 9, 9)), "c": cards(sc(7, 7, 7))},
			[]string{"B", "C", "A"}, []bool{false, false, false}},
		{"MeanNotSumSoAbstentionsDoNotSkew", []judge.Entry{entry("a", "A"), entry("b", "B")},
			map[string][]judge.Scorecard{"a": cards(sc(6, 6, 6), sc(6, 6, 6), sc(6, 6, 6)), "b": cards(sc(8, 8, 8))},
			[]string{"B", "A"}, []bool{false, false}},
		{"ThenFirstCriterion", []judge.Entry{entry("a", "A"), entry("b", "B")},
			// Both weigh 4.8 in total; B is better on Originality.
			map[string][]judge.Scorecard{"a": cards(sc(1, 9, 5)), "b": cards(sc(8, 1, 5))},
			[]string{"B", "A"}, []bool{false, false}},
		{"ThenMedianJudge", []judge.Entry{entry("a", "A"), entry("b", "B")},
			// Same mean (6) and first criterion (6), medians 6 and 5.
			map[string][]judge.Scorecard{"a": cards(sc(2, 2, 2), sc(6, 6, 6), sc(10, 10, 10)),
				"b": cards(sc(4, 4, 4), sc(5, 5, 5), sc(9, 9, 9))},
			[]string{"A", "B"}, []bool{false, false}},
		{"ThenSeededDraw", []judge.Entry{entry("a", "A"), entry("b", "B"), entry("c", "C")},
			map[string][]judge.Scorecard{"a": cards(sc(5, 5, 5)), "b": cards(sc(5, 5, 5)), "c": cards(sc(9, 9, 9))},
			nil, []bool{false, true, true}},
		{"UnscoredLast", []judge.Entry{entry("a", "A"), entry("b", "B"), entry("b2", "B")},
			map[string][]judge.Scorecard{"a": cards(sc(1, 1, 1)), "b": cards(sc(9, 9, 9))},
			[]string{"A", "B"}, []bool{false, false}},
		{"TeamEntriesJudgedTogether", []judge.Entry{entry("a1", "A"), entry("a2", "A"), entry("b", "B")},
			map[string][]judge.Scorecard{"a1": cards(sc(10, 10, 10)), "a2": cards(sc(2, 2, 2)), "b": cards(sc(7, 7, 7))},
			[]string{"B", "A"}, []bool{false, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := judge.RankEntries(rubric, tc.entries, tc.cards, 42, "race", "harbour")
			var got []string
			var byDraw []bool
			for i, row := range r.Rows {
				got = append(got, row.ParticipantID)
				byDraw = append(byDraw, row.ByDraw)
				if row.Rank != i+1 {
					t.Errorf("row %d has rank %d", i, row.Rank)
				}
			}
			if tc.want == nil {
				// A draw: the order must follow the recorded seed, and again on every run.
				again := judge.RankEntries(rubric, tc.entries, tc.cards, 42, "race", "harbour")
				for i := range again.Rows {
					if again.Rows[i].ParticipantID != got[i] {
						t.Fatalf("the draw is not deterministic: %v then %v", got, again.Rows)
					}
				}
				if got[0] != "C" || r.Seed != 42 {
					t.Errorf("order %v seed %d", got, r.Seed)
				}
			} else if !slices.Equal(got, tc.want) {
				t.Errorf("order = %v, want %v", got, tc.want)
			}
			if !slices.Equal(byDraw, tc.byDraw) {
				t.Errorf("by draw = %v, want %v", byDraw, tc.byDraw)
			}
		})
	}
}

func TestRankEntriesDrawFollowsSeed(t *testing.T) {
	var es []judge.Entry
	cs := map[string][]judge.Scorecard{}
	for _, p := range []string{"A", "B", "C", "D", "E", "F"} {
		es = append(es, entry("e"+p, p))
		cs["e"+p] = cards(sc(5, 5, 5))
	}
	order := func(seed int64) string {
		s := ""
		for _, r := range judge.RankEntries(rubric, es, cs, seed, "race", "harbour").Rows {
			s += r.ParticipantID
		}
		return s
	}
	first := order(1)
	if again := order(1); again != first {
		t.Fatalf("same seed, different draw: %s then %s", first, again)
	}
	if order(1) == order(2) && order(2) == order(3) {
		t.Error("the draw ignores the seed")
	}
}

var raceDef = &campaigns.Definition{
	ID: "race", Rubric: rubric, Order: []string{"lobby", "harbour", "harbour_sent"},
	Rounds: []*campaigns.Round{{Name: "harbour", Advance: 1}, {Name: "nowhere"}},
	States: map[string]*campaigns.State{
		"lobby":        {Name: "lobby", On: []*campaigns.Transition{{Kind: campaigns.OnRound, Round: "harbour", RoundEvent: campaigns.RoundStarted, Goto: "harbour"}}},
		"harbour":      {Name: "harbour", On: []*campaigns.Transition{{Kind: campaigns.OnRound, Round: "harbour", RoundEvent: campaigns.RoundDeadline, Goto: "out"}}},
		"harbour_sent": {Name: "harbour_sent"},
	},
}

func mustScore(t *testing.T, s *judge.Service, def *campaigns.Definition, entryID, by string, scores map[string]int) {
	t.Helper()
	if err := s.Score(t.Context(), def, judge.Scorecard{EntryID: entryID, Judge: by, Scores: scores}); err != nil {
		t.Fatalf("Score(%s by %s): %v", entryID, by, err)
	}
}

func TestScoreValidates(t *testing.T) {
	s, db := MustService(t)
	s.Scores = db
	MustEntry(t, db, "e1")
	for _, tc := range []struct {
		name   string
		def    *campaigns.Definition
		card   judge.Scorecard
		target error
	}{
		{"BelowScale", raceDef, judge.Scorecard{EntryID: "e1", Judge: "ann", Scores: sc(0, 5, 5)}, errs.ErrInvalid},
		{"AboveScale", raceDef, judge.Scorecard{EntryID: "e1", Judge: "ann", Scores: sc(5, 11, 5)}, errs.ErrInvalid},
		{"MissingCriterion", raceDef, judge.Scorecard{EntryID: "e1", Judge: "ann", Scores: map[string]int{"Originality": 5}}, errs.ErrInvalid},
		{"UnknownCriterion", raceDef, judge.Scorecard{EntryID: "e1", Judge: "ann", Scores: map[string]int{"Originality": 5, "Composition": 5, "Summer feeling": 5, "Luck": 5}}, errs.ErrInvalid},
		{"NoJudge", raceDef, judge.Scorecard{EntryID: "e1", Scores: sc(5, 5, 5)}, errs.ErrInvalid},
		{"NoRubric", &campaigns.Definition{ID: "race"}, judge.Scorecard{EntryID: "e1", Judge: "ann", Scores: sc(5, 5, 5)}, errs.ErrInvalid},
		{"UnknownEntry", raceDef, judge.Scorecard{EntryID: "nope", Judge: "ann", Scores: sc(5, 5, 5)}, errs.ErrNotFound},
		{"OtherCampaign", &campaigns.Definition{ID: "bouncer", Rubric: rubric}, judge.Scorecard{EntryID: "e1", Judge: "ann", Scores: sc(5, 5, 5)}, errs.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.Score(t.Context(), tc.def, tc.card); !errors.Is(err, tc.target) {
				t.Errorf("Score = %v, want %v", err, tc.target)
			}
		})
	}
	if got, _ := s.Scorecards(t.Context(), "race", "e1"); len(got) != 0 {
		t.Errorf("refused scores were stored: %+v", got)
	}
	mustScore(t, s, raceDef, "e1", "ann", sc(1, 1, 1))
	mustScore(t, s, raceDef, "e1", "ann", sc(10, 10, 10))
	got, _ := s.Scorecards(t.Context(), "race", "e1")
	if len(got) != 1 || got[0].Scores["Originality"] != 10 || !got[0].At.Equal(t0) || got[0].Campaign != "race" {
		t.Errorf("after re-scoring: %+v", got)
	}
}

// mustRoundEntry stores a participant with one pending entry collected in state.
func mustRoundEntry(t *testing.T, db *sqlite.DB, id, state string) {
	t.Helper()
	p := engine.Participant{ID: "p-" + id, Campaign: "race", Channel: "test", Address: id, State: state,
		Vars: map[string]string{}, Version: 1, CreatedAt: t0, UpdatedAt: t0}
	e := engine.Entry{ID: id, Campaign: "race", ParticipantID: p.ID, State: state, Kind: "photo", CreatedAt: t0.Add(time.Second)}
	if err := db.Commit(context.Background(), engine.Step{Participant: p, Created: true, Entries: []engine.Entry{e}}); err != nil {
		t.Fatal(err)
	}
}

func TestRankAndAdvance(t *testing.T) {
	s, db := MustService(t)
	s.Scores = db
	for _, id := range []string{"e1", "e2", "e3"} {
		mustRoundEntry(t, db, id, "harbour")
	}
	mustRoundEntry(t, db, "x", "lobby")
	mustScore(t, s, raceDef, "x", "ann", sc(10, 10, 10))

	if _, err := s.Rank(t.Context(), "race", "final", raceDef); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("Rank(unknown round) = %v, want invalid", err)
	}
	if _, err := s.Rank(t.Context(), "race", "nowhere", raceDef); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("Rank(round without states or times) = %v, want invalid", err)
	}
	r, err := s.Rank(t.Context(), "race", "harbour", raceDef)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Rows) != 3 || r.Unscored != 3 || r.Seed != judge.DrawSeed("race", "harbour") {
		t.Fatalf("ranking before scoring = %+v", r)
	}
	if _, err := s.Advance(t.Context(), r, 1, "boss"); !errors.Is(err, errs.ErrConflict) {
		t.Errorf("Advance with unscored entries = %v, want conflict", err)
	}
	if got, _ := db.PendingInbound(t.Context(), 0); len(got) != 0 {
		t.Fatalf("refused Advance queued %d events", len(got))
	}

	mustScore(t, s, raceDef, "e1", "ann", sc(5, 5, 5))
	mustScore(t, s, raceDef, "e2", "ann", sc(9, 9, 9))
	mustScore(t, s, raceDef, "e2", "bob", sc(7, 7, 7))
	mustScore(t, s, raceDef, "e3", "bob", sc(6, 6, 6))
	if err := db.Decide(t.Context(), judge.Decision{EntryID: "e3", Verdict: judge.StatusRejected, By: "m", At: t0},
		engine.Inbound{Channel: "judge", PlatformID: "verdict:e3", Campaign: "race", ParticipantID: "p-e3", Kind: engine.KindVerdict, Verdict: "rejected", At: t0}); err != nil {
		t.Fatal(err)
	}
	r, err = s.Rank(t.Context(), "race", "harbour", raceDef)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, row := range r.Rows {
		order = append(order, row.ParticipantID)
	}
	if !slices.Equal(order, []string{"p-e2", "p-e1"}) || r.Unscored != 0 || !near(r.Rows[0].Mean, 8) || r.Rows[0].Judges != 2 {
		t.Fatalf("ranking = %v %+v", order, r)
	}
	for _, tc := range []struct {
		n    int
		want error
	}{{0, errs.ErrInvalid}, {-1, errs.ErrInvalid}} {
		if _, err := s.Advance(t.Context(), r, tc.n, "boss"); !errors.Is(err, tc.want) {
			t.Errorf("Advance(%d) = %v, want %v", tc.n, err, tc.want)
		}
	}
	db.SkipInbound(t.Context(), mustPendingID(t, db), "test: the rejection is not under test")
	res, err := s.Advance(t.Context(), r, 1, "boss")
	if err != nil || !slices.Equal(res.Advanced, []string{"p-e2"}) || !slices.Equal(res.Eliminated, []string{"p-e1"}) {
		t.Fatalf("Advance = %+v, %v", res, err)
	}
	got, _ := db.PendingInbound(t.Context(), 0)
	verdicts := map[string]string{}
	for _, ev := range got {
		if ev.Kind != engine.KindVerdict || ev.Agent != "boss" || ev.EntryID != "" {
			t.Errorf("event %+v", ev)
		}
		verdicts[ev.ParticipantID] = ev.Verdict
	}
	if len(got) != 2 || verdicts["p-e2"] != campaigns.VerdictAdvanced || verdicts["p-e1"] != campaigns.VerdictEliminated {
		t.Errorf("verdict events = %v", verdicts)
	}
	// A second run, even with n changed, decides nobody twice.
	if res, err := s.Advance(t.Context(), r, 2, "boss"); !errors.Is(err, errs.ErrConflict) || res.Already != 2 {
		t.Errorf("second Advance = %+v, %v; want conflict", res, err)
	}
	if got, _ := db.PendingInbound(t.Context(), 0); len(got) != 2 {
		t.Errorf("%d events after a second Advance, want 2", len(got))
	}
}

// TestAdvanceLeavesOutWhoLeft: a team that opted out or finished gets no round verdict and
// takes no place; the next in the ranking advances instead.
func TestAdvanceLeavesOutWhoLeft(t *testing.T) {
	s, db := MustService(t)
	s.Scores = db
	for _, id := range []string{"e1", "e2", "e3"} {
		mustRoundEntry(t, db, id, "harbour")
	}
	mustScore(t, s, raceDef, "e1", "ann", sc(9, 9, 9))
	mustScore(t, s, raceDef, "e2", "ann", sc(7, 7, 7))
	mustScore(t, s, raceDef, "e3", "ann", sc(5, 5, 5))
	p, _ := db.Participant(t.Context(), "p-e1")
	gone := p
	gone.Version++
	gone.State, gone.Finished = engine.StateOptedOut, true
	if err := db.Commit(t.Context(), engine.Step{Participant: gone, PrevVersion: p.Version}); err != nil {
		t.Fatal(err)
	}
	r, err := s.Rank(t.Context(), "race", "harbour", raceDef)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Advance(t.Context(), r, 1, "boss")
	if err != nil || !slices.Equal(res.Left, []string{"p-e1"}) || !slices.Equal(res.Advanced, []string{"p-e2"}) ||
		!slices.Equal(res.Eliminated, []string{"p-e3"}) {
		t.Fatalf("Advance = %+v, %v; want p-e1 left out, p-e2 advanced, p-e3 eliminated", res, err)
	}
	if got, _ := db.PendingInbound(t.Context(), 0); len(got) != 2 {
		t.Errorf("%d verdict events, want 2", len(got))
	}
}

func mustPendingID(t *testing.T, db *sqlite.DB) int64 {
	t.Helper()
	got, err := db.PendingInbound(t.Context(), 0)
	if err != nil || len(got) != 1 {
		t.Fatalf("pending = %+v, %v", got, err)
	}
	return got[0].ID
}
