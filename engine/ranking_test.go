package engine_test

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

func TestRankOrderAndTies(t *testing.T) {
	at := func(sec int) string { return t0.Add(time.Duration(sec) * time.Second).Format(time.RFC3339) }
	p := func(id, state, points string, reached int) engine.Participant {
		vars := map[string]string{"name": strings.ToUpper(id[:1]) + id[1:]}
		if points != "" {
			vars["points"], vars["points.at"] = points, at(reached)
		}
		return engine.Participant{ID: id, State: state, Vars: vars, UpdatedAt: t0.Add(time.Hour)}
	}
	everyone := []engine.Participant{
		p("ann", "wait", "5", 30),
		p("bob", "wait", "7", 50),
		p("cy", "wait", "5.0", 10), // the same number as ann's, reached earlier
		p("dan", "won", "5", 30),   // ann's value at ann's second: they share a rank
		p("eve", "wait", "9", 1),
		p("fay", engine.StateOptedOut, "99", 1),
		p("gus", engine.StateDeclined, "99", 1),
		p("hal", engine.StateConsent, "99", 1),
		p("ivy", "ask", "", 0),        // no number yet
		p("jo", "wait", "lots", 1),    // no number at all
		p("kim", "wait", "-2.5", 100), // negative numbers rank too
	}
	tests := []struct {
		name string
		rk   campaigns.Ranking
		want string
	}{
		{"HighestFirstEarliestWins", campaigns.Ranking{By: "points", TieBreak: campaigns.TieEarliest},
			"1 eve 9, 2 bob 7, 3 cy 5.0, 4 ann 5, 4 dan 5, 6 kim -2.5"},
		{"LowestFirst", campaigns.Ranking{By: "points", Ascending: true, TieBreak: campaigns.TieEarliest},
			"1 kim -2.5, 2 cy 5.0, 3 ann 5, 3 dan 5, 5 bob 7, 6 eve 9"},
		{"NoTieBreak", campaigns.Ranking{By: "points", TieBreak: campaigns.TieNone},
			"1 eve 9, 2 bob 7, 3 ann 5, 3 cy 5.0, 3 dan 5, 6 kim -2.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, r := range engine.Rank(&tt.rk, everyone) {
				got = append(got, fmt.Sprintf("%d %s %s", r.Rank, r.ParticipantID, r.Value))
			}
			if g := strings.Join(got, ", "); g != tt.want {
				t.Errorf("ranking\n got %s\nwant %s", g, tt.want)
			}
		})
	}
	r := engine.Rank(&campaigns.Ranking{By: "points", TieBreak: campaigns.TieEarliest}, everyone)
	if r[0].Name != "Eve" || !r[0].ReachedAt.Equal(t0.Add(time.Second)) {
		t.Errorf("first = %+v, want Eve, reached at %s", r[0], t0.Add(time.Second))
	}
}

func TestWinnersIncludeTiesAtTheBoundary(t *testing.T) {
	ranked := []engine.Ranked{{Rank: 1, ParticipantID: "a"}, {Rank: 2, ParticipantID: "b"}, {Rank: 3, ParticipantID: "c"},
		{Rank: 3, ParticipantID: "d"}, {Rank: 5, ParticipantID: "e"}}
	for top, want := range map[int]string{1: "a", 2: "a b", 3: "a b c d", 4: "a b c d", 5: "a b c d e", 9: "a b c d e"} {
		var got []string
		for _, w := range engine.Winners(ranked, top) {
			got = append(got, w.ParticipantID)
		}
		if g := strings.Join(got, " "); g != want {
			t.Errorf("top %d: winners %q, want %q", top, g, want)
		}
	}
}

// quizDef saves a score in ask and again in wait, where the participant hears their rank.
func quizDef(rk campaigns.Ranking) *campaigns.Definition {
	save := func(next string) *campaigns.Transition {
		t := onText(next, "")
		t.Save = &campaigns.Save{Var: "points", As: "number"}
		return t
	}
	return def("quiz").
		state("ask", "Your score?", save("wait")).
		state("wait", "{{points}} points: number {{rank}} of {{rank_of}}, top {{top}}.", onText("gone", "", "bye"), save("wait"),
			&campaigns.Transition{Kind: campaigns.OnVerdict, Verdict: campaigns.VerdictWinner, Goto: "won"}).
		final("won", "You won!").
		final("gone", "Bye.").
		with(func(d *campaigns.Definition) { d.Ranking = &rk }).build()
}

func TestRankingInTextsAndInTheEngine(t *testing.T) {
	h := newEnv(t, quizDef(campaigns.Ranking{By: "points", TieBreak: campaigns.TieEarliest, Top: 2}))
	for _, who := range []string{"ann", "bob", "cy"} {
		wantTexts(t, h.join("quiz", who), "Your score?")
	}
	wantTexts(t, h.text("quiz", "ann", "5"), "5 points: number 1 of 1, top 2.")
	wantTexts(t, h.text("quiz", "bob", "7"), "7 points: number 1 of 2, top 2.")
	wantTexts(t, h.text("quiz", "cy", "5"), "5 points: number 3 of 3, top 2.")
	// The same number again is no new score: ann keeps the second she reached it.
	wantTexts(t, h.text("quiz", "ann", "5.0"), "5 points: number 2 of 3, top 2.")
	if at := h.participant("quiz", "ann").Vars["points.at"]; at != t0.Add(3*time.Minute).Format(time.RFC3339) {
		t.Errorf("ann reached 5 at %q, want %s (her first 5)", at, t0.Add(3*time.Minute).Format(time.RFC3339))
	}
	// A higher score is reached now, and passes bob.
	wantTexts(t, h.text("quiz", "cy", "8"), "8 points: number 1 of 3, top 2.")

	got, err := h.eng.Ranking(h.ctx, "quiz")
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, r := range got {
		rows = append(rows, fmt.Sprintf("%d %s %s %s", r.Rank, r.ParticipantID, r.Value, r.ReachedAt.Format("15:04")))
	}
	want := []string{
		"1 " + engine.ParticipantID("quiz", "test", "cy") + " 8 20:07",
		"2 " + engine.ParticipantID("quiz", "test", "bob") + " 7 20:04",
		"3 " + engine.ParticipantID("quiz", "test", "ann") + " 5 20:03",
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("ranking\n%s\nwant\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}

	// Whoever opts out leaves the ranking.
	h.text("quiz", "cy", "STOP")
	if got, _ := h.eng.Ranking(h.ctx, "quiz"); len(got) != 2 || got[0].Rank != 1 || got[0].Value != "7" {
		t.Errorf("after cy opted out: %+v, want bob first of two", got)
	}
}

func TestRankingOfACampaignWithoutOne(t *testing.T) {
	h := newEnv(t, def("plain").state("a", "hi").build())
	if _, err := h.eng.Ranking(h.ctx, "plain"); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("ranking without a ranking: %v, want ErrInvalid", err)
	}
	if _, err := h.eng.Ranking(h.ctx, "nope"); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("ranking of an unknown campaign: %v, want ErrNotFound", err)
	}
}

func TestPickedWinnersHearItOnce(t *testing.T) {
	h := newEnv(t, quizDef(campaigns.Ranking{By: "points", TieBreak: campaigns.TieNone, Top: 1}))
	for who, points := range map[string]string{"ann": "5", "bob": "5", "cy": "3"} {
		h.join("quiz", who)
		h.text("quiz", who, points)
	}
	ranked, err := h.eng.Ranking(h.ctx, "quiz")
	if err != nil {
		t.Fatal(err)
	}
	got, err := h.judge.PickWinners(h.ctx, "quiz", ranked, 1, "mod")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Named) != 2 || len(got.Already)+len(got.Refused) != 0 {
		t.Fatalf("picked %+v, want ann and bob (tied first) named", got)
	}
	wantTexts(t, h.settle(), "You won!", "You won!")
	h.wantState("quiz", "ann", "won")
	ranked, _ = h.eng.Ranking(h.ctx, "quiz")
	if !ranked[0].Winner || !ranked[1].Winner || ranked[2].Winner {
		t.Errorf("winners marked %+v, want the two first", ranked)
	}
	// Picked again: the winners (whose run ended with the verdict) are passed by, not refused.
	got, err = h.judge.PickWinners(h.ctx, "quiz", ranked, 1, "mod")
	if err != nil || len(got.Already) != 2 || len(got.Named)+len(got.Refused) != 0 {
		t.Fatalf("picked again: %+v, %v; want both already winners", got, err)
	}
	wantTexts(t, h.settle())
	// A winner whose run ended before the pick stays ranked but is refused, with the reason.
	h.join("quiz", "dan")
	h.text("quiz", "dan", "9")
	h.text("quiz", "dan", "bye")
	ranked, _ = h.eng.Ranking(h.ctx, "quiz")
	got, err = h.judge.PickWinners(h.ctx, "quiz", ranked, 3, "mod")
	if err != nil || len(got.Named) != 0 || len(got.Already) != 2 || len(got.Refused) != 1 {
		t.Fatalf("top 3: %+v, %v; want dan refused, ann and bob already", got, err)
	}
	if r := got.Refused[0]; r.Value != "9" || r.Reason != "participant has finished" {
		t.Errorf("refused %+v", r)
	}
}

// TestRankBoard: {{rank}} counts this engine's own commits at once, however little time
// passes, and another server's (a participant committed to the store directly) once the
// board is older than ten seconds.
func TestRankBoard(t *testing.T) {
	h := newEnv(t, quizDef(campaigns.Ranking{By: "points", TieBreak: campaigns.TieEarliest, Top: 2}))
	// say lets no time pass: the persona has no delay, so the replies are due at once.
	say := func(from, text string) []string {
		t.Helper()
		before := len(h.sent.texts())
		kind := engine.KindText
		if text == "" {
			kind = engine.KindJoin
		}
		h.receive("quiz", from, engine.Inbound{Kind: kind, Text: text})
		if _, err := h.eng.ProcessPending(h.ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := h.eng.SendDue(h.ctx); err != nil {
			t.Fatal(err)
		}
		return h.sent.texts()[before:]
	}
	say("ann", "")
	wantTexts(t, say("ann", "5"), "5 points: number 1 of 1, top 2.")
	say("bob", "")
	wantTexts(t, say("bob", "7"), "7 points: number 1 of 2, top 2.")
	wantTexts(t, say("ann", "8"), "8 points: number 1 of 2, top 2.")

	at := h.clock.Now()
	err := h.db.Commit(h.ctx, engine.Step{Created: true, Participant: engine.Participant{
		ID: "elsewhere", Campaign: "quiz", Channel: "test", Address: "dan", State: "wait", Version: 1,
		Vars: map[string]string{"points": "9", "points.at": at.Format(time.RFC3339)}, CreatedAt: at, UpdatedAt: at}})
	if err != nil {
		t.Fatal(err)
	}
	wantTexts(t, say("bob", "7"), "7 points: number 2 of 2, top 2.")
	h.clock.Advance(10 * time.Second)
	wantTexts(t, say("bob", "7"), "7 points: number 3 of 3, top 2.")
}

func TestPickWinnersRefusesNothingToPick(t *testing.T) {
	h := newEnv(t, quizDef(campaigns.Ranking{By: "points", TieBreak: campaigns.TieEarliest, Top: 1}))
	if _, err := h.judge.PickWinners(h.ctx, "quiz", nil, 1, "mod"); !errors.Is(err, errs.ErrConflict) {
		t.Errorf("nobody ranked: %v, want ErrConflict", err)
	}
	if _, err := h.judge.PickWinners(h.ctx, "quiz", []engine.Ranked{{Rank: 1, ParticipantID: "x"}}, 0, "mod"); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("top 0: %v, want ErrInvalid", err)
	}
}

// TestBroadcastSaysEachTheirRank: "you are number N of M" in a broadcast, the rank read once
// for all, and empty for someone who holds no number yet.
func TestBroadcastSaysEachTheirRank(t *testing.T) {
	h := newEnv(t, quizDef(campaigns.Ranking{By: "points", TieBreak: campaigns.TieEarliest}))
	for _, who := range []string{"ann", "bob", "cy"} {
		h.join("quiz", who)
	}
	h.text("quiz", "ann", "5")
	h.text("quiz", "bob", "7")
	if _, _, err := h.eng.BroadcastTo(h.ctx, "quiz", engine.Audience{}, campaigns.Message{Text: campaigns.Text{"en": "Week 1: you are [{{rank}}] of {{rank_of}}."}}); err != nil {
		t.Fatal(err)
	}
	got := h.settle()
	sort.Strings(got)
	want := []string{"Week 1: you are [1] of 2.", "Week 1: you are [2] of 2.", "Week 1: you are [] of 2."}
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("broadcast\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestRankCountsAnswersHandledTogether: answers of several participants handled in one batch
// (one commit) each count the ones handled before them, as answers handled one by one do.
func TestRankCountsAnswersHandledTogether(t *testing.T) {
	h := newEnv(t, quizDef(campaigns.Ranking{By: "points", TieBreak: campaigns.TieEarliest, Top: 2}))
	for _, who := range []string{"ann", "bob", "cy"} {
		wantTexts(t, h.join("quiz", who), "Your score?")
	}
	// All three answer before the engine handles any of them: one round of one batch.
	h.receive("quiz", "ann", engine.Inbound{Kind: engine.KindText, Text: "5"})
	h.receive("quiz", "bob", engine.Inbound{Kind: engine.KindText, Text: "7"})
	h.receive("quiz", "cy", engine.Inbound{Kind: engine.KindText, Text: "6"})
	wantTexts(t, h.settle(),
		"5 points: number 1 of 1, top 2.",
		"7 points: number 1 of 2, top 2.",
		"6 points: number 2 of 3, top 2.")
	// What the batch put on the board is what was committed: the next answer agrees.
	wantTexts(t, h.text("quiz", "ann", "5"), "5 points: number 3 of 3, top 2.")
}

// TestPickPassesByWhoIsStillPlaying: a participant in the top whose state answers no verdict
// winner (still answering questions) is not named now, where the verdict would move and tell
// them nothing and mark them winner for good, but by a pick once they wait for it.
func TestPickPassesByWhoIsStillPlaying(t *testing.T) {
	saveStay := onText("", "")
	saveStay.Save = &campaigns.Save{Var: "points", As: "number"}
	saveStay.Say = says("{{points}} so far.")
	d := def("quiz").
		state("ask", "Your score?", onText("wait", "", "done"), saveStay).
		state("wait", "Waiting.", &campaigns.Transition{Kind: campaigns.OnVerdict, Verdict: campaigns.VerdictWinner, Goto: "won"}).
		final("won", "You won!").
		with(func(d *campaigns.Definition) {
			d.Ranking = &campaigns.Ranking{By: "points", TieBreak: campaigns.TieEarliest, Top: 2}
		}).build()
	h := newEnv(t, d)
	for who, points := range map[string]string{"ann": "5", "bob": "3"} {
		h.join("quiz", who)
		h.text("quiz", who, points)
	}
	wantTexts(t, h.text("quiz", "bob", "done"), "Waiting.")
	ranked, err := h.eng.Ranking(h.ctx, "quiz")
	if err != nil {
		t.Fatal(err)
	}
	if ranked[0].Unanswered != "ask" || ranked[1].Unanswered != "" {
		t.Fatalf("ranking %+v, want ann still playing in ask", ranked)
	}
	got, err := h.judge.PickWinners(h.ctx, "quiz", ranked, 2, "mod")
	if err != nil || len(got.Named) != 1 || got.Named[0].Value != "3" || len(got.Waiting) != 1 || got.Waiting[0].Value != "5" {
		t.Fatalf("picked %+v, %v; want bob named, ann passed by", got, err)
	}
	wantTexts(t, h.settle(), "You won!")
	h.wantState("quiz", "ann", "ask")

	wantTexts(t, h.text("quiz", "ann", "done"), "Waiting.")
	ranked, _ = h.eng.Ranking(h.ctx, "quiz")
	got, err = h.judge.PickWinners(h.ctx, "quiz", ranked, 2, "mod")
	if err != nil || len(got.Named) != 1 || got.Named[0].Value != "5" || len(got.Already) != 1 {
		t.Fatalf("picked again %+v, %v; want ann named now", got, err)
	}
	wantTexts(t, h.settle(), "You won!")
}
