package judge_test

import (
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/audit"
	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/judge"
)

// TestVerdictsAndScoresAreAudited: every verdict (on an entry, on a participant) and every
// score adds an event to the trail, with who gave it and when (the injected clock), and a
// refused verdict adds none.
func TestVerdictsAndScoresAreAudited(t *testing.T) {
	s, db := MustService(t)
	s.Scores = db
	s.Audit = &audit.Log{Store: db, Now: func() time.Time { return t0 }}
	e := MustEntry(t, db, "e1")
	MustParticipant(t, db, "p2", "waiting", false)
	if err := s.Decide(t.Context(), judge.Decision{EntryID: e.ID, Verdict: judge.StatusRejected, By: "ann", Reason: "blurry"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Decide(t.Context(), judge.Decision{EntryID: e.ID, Verdict: judge.StatusApproved, By: "bob"}); err == nil {
		t.Fatal("a second verdict on one entry was accepted")
	}
	if err := s.DecideParticipant(t.Context(), "race", "p2", campaigns.VerdictAdvanced, "bob", "k1"); err != nil {
		t.Fatal(err)
	}
	def := &campaigns.Definition{ID: "race", Rubric: &campaigns.Rubric{ScaleMin: 1, ScaleMax: 10,
		Criteria: []campaigns.Criterion{{Name: "Originality", Weight: 1}, {Name: "Composition", Weight: 1}}}}
	if err := s.Score(t.Context(), def, judge.Scorecard{EntryID: e.ID, Judge: "carol", Scores: map[string]int{"Originality": 7, "Composition": 5}}); err != nil {
		t.Fatal(err)
	}
	got, err := db.AuditEvents(t.Context(), audit.Query{Campaign: "race"})
	if err != nil {
		t.Fatal(err)
	}
	want := []audit.Event{
		{Actor: "ann", Action: audit.Verdict, Campaign: "race", ParticipantID: e.ParticipantID, EntryID: e.ID, Detail: "rejected: blurry"},
		{Actor: "bob", Action: audit.Verdict, Campaign: "race", ParticipantID: "p2", Detail: "advanced"},
		{Actor: "carol", Action: audit.Score, Campaign: "race", ParticipantID: e.ParticipantID, EntryID: e.ID, Detail: "Composition=5; Originality=7"},
	}
	if len(got) != len(want) {
		t.Fatalf("trail = %+v, want %d events", got, len(want))
	}
	for i := range want {
		g := got[i]
		if !g.At.Equal(t0) {
			t.Errorf("event %d at %v, want the injected clock %v", i, g.At, t0)
		}
		g.ID, g.At = 0, time.Time{}
		if g != want[i] {
			t.Errorf("event %d = %+v, want %+v", i, g, want[i])
		}
	}
}
