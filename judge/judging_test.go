package judge_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/judge"
	"github.com/chatcampaigns/campaign/store/sqlite"
)

// clock is a settable clock for the tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// auditLog records the events it hears of.
type auditLog struct {
	mu     sync.Mutex
	events []judge.Event
}

func (a *auditLog) Record(_ context.Context, e judge.Event) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, e)
}

func (a *auditLog) kinds() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, e := range a.events {
		out = append(out, e.Kind+":"+e.By+e.Judge)
	}
	return out
}

// judgingService is a Service with every judging store on sqlite, a clock and an audit log.
func judgingService(t *testing.T) (*judge.Service, *sqlite.DB, *clock, *auditLog) {
	t.Helper()
	svc, db := MustService(t)
	c := &clock{t: t0}
	log := &auditLog{}
	svc.Scores, svc.Leases, svc.Panels, svc.Audit, svc.Now = db, db, db, log, c.Now
	return svc, db, c, log
}

func panelDef(perEntry int, judges ...string) *campaigns.Definition {
	return &campaigns.Definition{ID: "race", Rubric: &campaigns.Rubric{ScaleMin: 1, ScaleMax: 10,
		Criteria: []campaigns.Criterion{{Name: "a", Weight: 0.5}, {Name: "b", Weight: 0.5}}},
		Judging: &campaigns.Judging{Judges: judges, PerEntry: perEntry, Normalise: campaigns.NormaliseNone}}
}

func entries(t *testing.T, db *sqlite.DB, n int) []judge.Entry {
	t.Helper()
	var out []judge.Entry
	for i := range n {
		e := MustEntry(t, db, fmt.Sprintf("e%02d", i))
		out = append(out, judge.Entry{Entry: e, Status: judge.StatusPending})
	}
	return out
}

func TestClaimIsExclusiveAndExpires(t *testing.T) {
	svc, db, c, log := judgingService(t)
	svc.LeaseFor = 10 * time.Minute
	MustEntry(t, db, "e1")
	ctx := t.Context()
	l, err := svc.Claim(ctx, "race", "e1", "anna")
	if err != nil || l.By != "anna" || !l.Until.Equal(t0.Add(10*time.Minute)) {
		t.Fatalf("anna's claim = %+v, %v", l, err)
	}
	c.Add(time.Minute)
	if _, err := svc.Claim(ctx, "race", "e1", "anna"); err != nil {
		t.Fatalf("anna renews: %v", err)
	}
	_, err = svc.Claim(ctx, "race", "e1", "ben")
	held, ok := judge.Claimed(err)
	if !ok || !errors.Is(err, errs.ErrConflict) || held.By != "anna" || !held.Until.Equal(t0.Add(11*time.Minute)) {
		t.Fatalf("ben's claim: err = %v, holder %+v; want anna's renewed lease", err, held)
	}
	if got := err.Error(); !strings.Contains(got, "anna is judging this entry (until 20:11 UTC)") {
		t.Errorf("message %q", got)
	}
	err = svc.Decide(ctx, judge.Decision{EntryID: "e1", Verdict: judge.StatusApproved, By: "ben"})
	if _, ok := judge.Claimed(err); !ok {
		t.Fatalf("ben decides while anna holds it: err = %v, want a ClaimedError", err)
	}
	if e, _ := svc.Entry(ctx, "e1"); e.Status != judge.StatusPending {
		t.Fatalf("entry %s after a refused verdict", e.Status)
	}
	cs, err := svc.Claims(ctx, []string{"e1", "e2"})
	if err != nil || len(cs) != 1 || cs["e1"].By != "anna" {
		t.Errorf("Claims = %+v, %v", cs, err)
	}
	c.Add(11 * time.Minute)
	if cs, _ := svc.Claims(ctx, []string{"e1"}); len(cs) != 0 {
		t.Errorf("Claims after the lease ran out = %+v, want none: back in the queue", cs)
	}
	if err := svc.Decide(ctx, judge.Decision{EntryID: "e1", Verdict: judge.StatusApproved, By: "ben"}); err != nil {
		t.Fatalf("ben decides after anna's lease ran out: %v", err)
	}
	if cs, _ := svc.Claims(ctx, []string{"e1"}); len(cs) != 0 {
		t.Errorf("Claims after the decision = %+v, want the lease released", cs)
	}
	want := []string{"claim:anna", "claim:ben", "release:ben"}
	if got := log.kinds(); !slices.Equal(got, want) {
		t.Errorf("audit = %v, want %v (a renewal is no new claim)", got, want)
	}
}

func TestReleaseReturnsEntryToQueue(t *testing.T) {
	svc, db, _, log := judgingService(t)
	MustEntry(t, db, "e1")
	ctx := t.Context()
	if _, err := svc.Claim(ctx, "race", "e1", "anna"); err != nil {
		t.Fatal(err)
	}
	if err := svc.Release(ctx, "race", "e1", "ben"); err != nil {
		t.Fatal(err)
	}
	if cs, _ := svc.Claims(ctx, []string{"e1"}); cs["e1"].By != "anna" {
		t.Fatalf("ben's release freed anna's claim: %+v", cs)
	}
	if err := svc.Release(ctx, "race", "e1", "anna"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Claim(ctx, "race", "e1", "ben"); err != nil {
		t.Fatalf("ben after anna's release: %v", err)
	}
	if got, want := log.kinds(), []string{"claim:anna", "release:anna", "claim:ben"}; !slices.Equal(got, want) {
		t.Errorf("audit = %v, want %v", got, want)
	}
}

func TestAssignBalancesByLoad(t *testing.T) {
	svc, db, _, _ := judgingService(t)
	def := panelDef(2, "anna", "ben", "carla")
	es := entries(t, db, 6)
	ctx := t.Context()
	res, err := svc.Assign(ctx, def, es)
	if err != nil || res.Seated != 12 || len(res.Short) != 0 {
		t.Fatalf("Assign = %+v, %v; want 12 seats", res, err)
	}
	loads, _ := db.Loads(ctx, "race", def.Judging.Judges)
	if !maps(loads, map[string]int{"anna": 4, "ben": 4, "carla": 4}) {
		t.Errorf("loads = %v, want 4 each", loads)
	}
	ids := make([]string, len(es))
	for i, e := range es {
		ids[i] = e.ID
	}
	ps, _ := svc.PanelsOf(ctx, ids)
	// Oldest first, fewest seats first, ties to the judge listed first.
	for i, want := range [][]string{{"anna", "ben"}, {"carla", "anna"}, {"ben", "carla"}} {
		if got := ps[ids[i]].Judges(); !slices.Equal(got, want) {
			t.Errorf("entry %s judges = %v, want %v", ids[i], got, want)
		}
	}
	again, err := svc.Assign(ctx, def, es)
	if err != nil || again.Seated != 0 {
		t.Errorf("Assign again = %+v, %v; want nothing more", again, err)
	}
	// A new entry goes to whoever has the fewest seats after a conflict took one away.
	if err := svc.Recuse(ctx, def, ids[0], "anna", judge.RecuseConflict, "my cousin"); err != nil {
		t.Fatal(err)
	}
	p, _ := svc.Panel(ctx, ids[0])
	if got := p.Judges(); !slices.Equal(got, []string{"ben", "carla"}) {
		t.Errorf("after anna's conflict e00 judges = %v, want ben and carla", got)
	}
	loads, _ = db.Loads(ctx, "race", def.Judging.Judges)
	if !maps(loads, map[string]int{"anna": 3, "ben": 4, "carla": 5}) {
		t.Errorf("loads after the conflict = %v", loads)
	}
	more := []judge.Entry{{Entry: MustEntry(t, db, "e06"), Status: judge.StatusPending}}
	if _, err := svc.Assign(ctx, def, more); err != nil {
		t.Fatal(err)
	}
	p, _ = svc.Panel(ctx, more[0].ID)
	if got := p.Judges(); !slices.Equal(got, []string{"anna", "ben"}) {
		t.Errorf("new entry judges = %v, want anna (3 seats) then ben (4)", got)
	}
}

func TestConflictWithNobodyLeftIsShort(t *testing.T) {
	svc, db, _, log := judgingService(t)
	def := panelDef(2, "anna", "ben")
	es := entries(t, db, 1)
	ctx := t.Context()
	if _, err := svc.Assign(ctx, def, es); err != nil {
		t.Fatal(err)
	}
	if err := svc.Recuse(ctx, def, es[0].ID, "ben", judge.RecuseConflict, ""); err != nil {
		t.Fatal(err)
	}
	res, err := svc.Assign(ctx, def, es)
	if err != nil || !slices.Equal(res.Short, []string{es[0].ID}) {
		t.Errorf("Assign = %+v, %v; want the entry short of a judge", res, err)
	}
	err = svc.Score(ctx, def, judge.Scorecard{EntryID: es[0].ID, Judge: "ben", Scores: map[string]int{"a": 5, "b": 5}})
	if !errors.Is(err, errs.ErrConflict) {
		t.Errorf("ben scores after his conflict: err = %v, want ErrConflict", err)
	}
	err = svc.Score(ctx, def, judge.Scorecard{EntryID: es[0].ID, Judge: "carla", Scores: map[string]int{"a": 5, "b": 5}})
	if !errors.Is(err, judge.ErrNotOnPanel) {
		t.Errorf("carla, not on the panel, scores: err = %v, want ErrNotOnPanel", err)
	}
	if err := svc.Recuse(ctx, def, es[0].ID, "anna", judge.RecuseAbstain, "no expertise"); err != nil {
		t.Fatal(err)
	}
	if err := svc.Recuse(ctx, def, es[0].ID, "anna", judge.RecuseConflict, ""); !errors.Is(err, errs.ErrConflict) {
		t.Errorf("a second recusal: err = %v, want ErrConflict", err)
	}
	want := []string{"assign:anna", "assign:ben", "conflict:ben", "abstain:anna"}
	if got := log.kinds(); !slices.Equal(got, want) {
		t.Errorf("audit = %v, want %v", got, want)
	}
}

func TestRecuseAfterScoringIsRefused(t *testing.T) {
	svc, db, _, _ := judgingService(t)
	def := panelDef(1, "anna")
	es := entries(t, db, 1)
	ctx := t.Context()
	if _, err := svc.Assign(ctx, def, es); err != nil {
		t.Fatal(err)
	}
	if err := svc.Score(ctx, def, judge.Scorecard{EntryID: es[0].ID, Judge: "anna", Scores: map[string]int{"a": 5, "b": 5}}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Recuse(ctx, def, es[0].ID, "anna", judge.RecuseAbstain, ""); !errors.Is(err, errs.ErrConflict) {
		t.Errorf("abstain after scoring: err = %v, want ErrConflict", err)
	}
}

func TestScoreLocks(t *testing.T) {
	svc, db, c, log := judgingService(t)
	def := panelDef(0)
	def.Judging.ScoreLock = 5 * time.Minute
	MustEntry(t, db, "e1")
	ctx := t.Context()
	score := func(a int) error {
		return svc.Score(ctx, def, judge.Scorecard{EntryID: "e1", Judge: "anna", Scores: map[string]int{"a": a, "b": 5}})
	}
	if err := score(3); err != nil {
		t.Fatal(err)
	}
	c.Add(4*time.Minute + 59*time.Second)
	if err := score(4); err != nil {
		t.Fatalf("change before the lock: %v", err)
	}
	c.Add(time.Second)
	err := score(6)
	var le *judge.LockedError
	if !errors.As(err, &le) || !errors.Is(err, errs.ErrConflict) || !le.LockedAt.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("change at the lock: err = %v, want a LockedError at 20:05 (from the first score, not the change)", err)
	}
	cards, _ := svc.Scorecards(ctx, "race", "e1")
	if len(cards) != 1 || cards[0].Scores["a"] != 4 {
		t.Errorf("scores after the refused change = %+v", cards)
	}
	if err := svc.Score(ctx, def, judge.Scorecard{EntryID: "e1", Judge: "ben", Scores: map[string]int{"a": 9, "b": 9}}); err != nil {
		t.Errorf("ben's first score after anna's locked: %v", err)
	}
	if got, want := log.kinds(), []string{"score:anna", "score:anna", "score:ben"}; !slices.Equal(got, want) {
		t.Errorf("audit = %v, want %v", got, want)
	}
}

// TestNormalise uses figures worked out by hand: judge A gave 2, 4, 6 (mean 4, sd 1.63299),
// judge B 7, 8, 9 (mean 8, sd 0.81650); all six have mean 6 and sd 2.38048.
func TestNormalise(t *testing.T) {
	r := &campaigns.Rubric{ScaleMin: 1, ScaleMax: 10, Criteria: []campaigns.Criterion{{Name: "x", Weight: 1}}}
	card := func(e, j string, v int) judge.Scorecard {
		return judge.Scorecard{EntryID: e, Judge: j, Scores: map[string]int{"x": v}}
	}
	cards := []judge.Scorecard{card("e1", "A", 2), card("e2", "A", 4), card("e3", "A", 6), card("e1", "B", 7), card("e2", "B", 8), card("e3", "B", 9)}
	z := 1.224744871391589 // 2 / sqrt(8/3)
	for _, tc := range []struct {
		method string
		want   []float64
	}{
		{campaigns.NormaliseZScore, []float64{-z, 0, z, -z, 0, z}},
		{campaigns.NormaliseRescaled, []float64{6 - z*2.3804761428476167, 6, 6 + z*2.3804761428476167, 6 - z*2.3804761428476167, 6, 6 + z*2.3804761428476167}},
		{campaigns.NormaliseNone, []float64{2, 4, 6, 7, 8, 9}},
	} {
		t.Run(tc.method, func(t *testing.T) {
			n := judge.Normalise(r, tc.method, cards)
			for i, c := range cards {
				if got := n.Of(r, c); math.Abs(got-tc.want[i]) > 1e-9 {
					t.Errorf("%s by %s = %.6f, want %.6f", c.EntryID, c.Judge, got, tc.want[i])
				}
			}
		})
	}
	// One judge's only card, or a judge who gave the same everywhere, has no spread: 0.
	n := judge.Normalise(r, campaigns.NormaliseZScore, []judge.Scorecard{card("e1", "A", 3), card("e1", "B", 5), card("e2", "B", 5)})
	for _, c := range []judge.Scorecard{card("e1", "A", 3), card("e1", "B", 5)} {
		if got := n.Of(r, c); got != 0 {
			t.Errorf("no spread: %s by %s = %v, want 0", c.EntryID, c.Judge, got)
		}
	}
	// Rescaled stays within the scale.
	wide := []judge.Scorecard{card("e1", "A", 1), card("e2", "A", 1), card("e3", "A", 1), card("e4", "A", 10), card("e1", "B", 5), card("e2", "B", 5)}
	for _, c := range wide {
		if v := judge.Normalise(r, campaigns.NormaliseRescaled, wide).Of(r, c); v < 1 || v > 10 {
			t.Errorf("rescaled %s by %s = %v, outside the scale", c.EntryID, c.Judge, v)
		}
	}
}

// TestSheetRanksOnNormalisedScores: a lenient judge's middling entry beats a strict judge's
// best on raw means, not once normalised; the sheet shows both.
func TestSheetRanksOnNormalisedScores(t *testing.T) {
	def := panelDef(0)
	def.Rubric.Criteria = []campaigns.Criterion{{Name: "a", Weight: 1}}
	mk := func(id string, at time.Duration) judge.Entry {
		return judge.Entry{Entry: engine.Entry{ID: id, Campaign: "race", ParticipantID: "p-" + id, CreatedAt: t0.Add(at)}, Status: judge.StatusPending}
	}
	es := []judge.Entry{mk("s1", 0), mk("s2", 1), mk("l1", 2), mk("l2", 3), mk("none", 4)}
	card := func(e, j string, v int) judge.Scorecard {
		return judge.Scorecard{Campaign: "race", EntryID: e, Judge: j, Scores: map[string]int{"a": v}}
	}
	// strict scores s1 4 (their best), s2 2; lenient scores l1 9 (their worst), l2 10.
	cards := []judge.Scorecard{card("s1", "strict", 4), card("s2", "strict", 2), card("l1", "lenient", 9), card("l2", "lenient", 10)}
	order := func(sh judge.Sheet) []string {
		var out []string
		for _, e := range sh.Entries {
			out = append(out, e.Entry.ID)
		}
		return out
	}
	raw := judge.SheetOf(def, es, cards)
	if got := order(raw); !slices.Equal(got, []string{"l2", "l1", "s1", "s2", "none"}) {
		t.Errorf("raw order = %v", got)
	}
	def.Judging.Normalise = campaigns.NormaliseZScore
	sh := judge.SheetOf(def, es, cards)
	// s1 and l2 both z = +1; s2 and l1 both -1: the tie-break goes to the first criterion's
	// raw mean (l2 10 > s1 4).
	if got := order(sh); !slices.Equal(got, []string{"l2", "s1", "l1", "s2", "none"}) {
		t.Errorf("normalised order = %v", got)
	}
	if len(sh.Cards) != 4 || sh.Cards[1].EntryID != "s1" || sh.Cards[1].Raw != 4 || math.Abs(sh.Cards[1].Normalised-1) > 1e-9 {
		t.Errorf("cards = %+v", sh.Cards)
	}
	if e := sh.Entries[1]; e.Mean != 4 || math.Abs(e.Normalised-1) > 1e-9 || e.Judges != 1 {
		t.Errorf("s1's aggregate = %+v, want raw mean 4, normalised 1", e.Aggregate)
	}
}

func maps(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestRankNormalises: a round's ranking uses the campaign's normalisation. A strict judge's
// best (e1: 4) ranks below a lenient judge's best (e3: 10) raw, level with it normalised, and
// above the lenient judge's worst (e4: 9).
func TestRankNormalises(t *testing.T) {
	s, db := MustService(t)
	s.Scores = db
	for _, id := range []string{"e1", "e2", "e3", "e4"} {
		mustRoundEntry(t, db, id, "harbour")
	}
	def := *raceDef
	mustScore(t, s, &def, "e1", "strict", sc(4, 4, 4))
	mustScore(t, s, &def, "e2", "strict", sc(2, 2, 2))
	mustScore(t, s, &def, "e3", "lenient", sc(10, 10, 10))
	mustScore(t, s, &def, "e4", "lenient", sc(9, 9, 9))
	order := func(def *campaigns.Definition) []string {
		r, err := s.Rank(t.Context(), "race", "harbour", def)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, row := range r.Rows {
			out = append(out, row.ParticipantID)
		}
		return out
	}
	if got := order(&def); !slices.Equal(got, []string{"p-e3", "p-e4", "p-e1", "p-e2"}) {
		t.Errorf("raw ranking = %v", got)
	}
	def.Judging = &campaigns.Judging{Normalise: campaigns.NormaliseRescaled}
	// Rescaled: e1 and e3 both z = +1, e2 and e4 -1; the tie-break's first criterion puts
	// e3 (10) above e1 (4), and e4 (9) above e2 (2).
	if got := order(&def); !slices.Equal(got, []string{"p-e3", "p-e1", "p-e4", "p-e2"}) {
		t.Errorf("normalised ranking = %v", got)
	}
}
