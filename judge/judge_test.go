package judge_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/judge"
	"github.com/chatcampaigns/campaign/store/sqlite"
)

var t0 = time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)

func MustService(t *testing.T) (*judge.Service, *sqlite.DB) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "j.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &judge.Service{Store: db, Now: func() time.Time { return t0 }}, db
}

// MustEntry stores a participant with one pending entry.
func MustEntry(t *testing.T, db *sqlite.DB, id string) engine.Entry {
	t.Helper()
	p := engine.Participant{ID: "p-" + id, Campaign: "race", Channel: "test", Address: id, State: "s",
		Vars: map[string]string{}, Version: 1, CreatedAt: t0, UpdatedAt: t0}
	e := engine.Entry{ID: id, Campaign: "race", ParticipantID: p.ID, State: "s", Kind: "photo", CreatedAt: t0}
	if err := db.Commit(context.Background(), engine.Step{Participant: p, Created: true, Entries: []engine.Entry{e}}); err != nil {
		t.Fatal(err)
	}
	return e
}

// MustParticipant stores a participant in state without an entry.
func MustParticipant(t *testing.T, db *sqlite.DB, id, state string, finished bool) {
	t.Helper()
	p := engine.Participant{ID: id, Campaign: "race", Channel: "test", Address: id, State: state,
		Finished: finished, Vars: map[string]string{}, Version: 1, CreatedAt: t0, UpdatedAt: t0}
	if err := db.Commit(context.Background(), engine.Step{Participant: p, Created: true}); err != nil {
		t.Fatal(err)
	}
}

// TestVerdictOnClosedParticipantIsRefused: a verdict on a participant who opted out or finished
// is refused with the reason, and queues nothing; the entry stays pending.
func TestVerdictOnClosedParticipantIsRefused(t *testing.T) {
	tests := []struct {
		name, state string
		finished    bool
		want        error
	}{
		{"opted out", engine.StateOptedOut, true, engine.ErrOptedOut},
		{"finished", "winner", true, engine.ErrFinished},
		{"playing", "judging", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, db := MustService(t)
			MustParticipant(t, db, "team1", tt.state, tt.finished)
			err := s.DecideParticipant(t.Context(), "race", "team1", campaigns.VerdictWinner, "jury", "k")
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("DecideParticipant = %v, want %v", err, tt.want)
			}
			p := engine.Participant{ID: "p-e1", Campaign: "race", Channel: "test", Address: "e1", State: tt.state,
				Finished: tt.finished, Vars: map[string]string{}, Version: 1, CreatedAt: t0, UpdatedAt: t0}
			e := engine.Entry{ID: "e1", Campaign: "race", ParticipantID: p.ID, State: "s", Kind: "photo", CreatedAt: t0}
			if err := db.Commit(t.Context(), engine.Step{Participant: p, Created: true, Entries: []engine.Entry{e}}); err != nil {
				t.Fatal(err)
			}
			err = s.Decide(t.Context(), judge.Decision{EntryID: "e1", Verdict: campaigns.VerdictApproved, By: "jury"})
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Decide = %v, want %v", err, tt.want)
			}
			if tt.want == nil {
				return
			}
			if got, _ := db.PendingInbound(t.Context(), 0); len(got) != 0 {
				t.Errorf("%d events queued after a refusal, want none", len(got))
			}
			if e, _ := s.Entry(t.Context(), "e1"); e.Status != judge.StatusPending {
				t.Errorf("entry status %q after a refusal, want pending", e.Status)
			}
		})
	}
}

func TestDecideAcceptsEveryVerdict(t *testing.T) {
	for _, v := range campaigns.Verdicts {
		t.Run(v, func(t *testing.T) {
			s, db := MustService(t)
			MustEntry(t, db, "e1")
			if err := s.Decide(t.Context(), judge.Decision{EntryID: "e1", Verdict: v, By: "jury"}); err != nil {
				t.Fatal(err)
			}
			e, _ := s.Entry(t.Context(), "e1")
			if e.Status != v {
				t.Errorf("status = %q, want %q", e.Status, v)
			}
		})
	}
	s, db := MustService(t)
	MustEntry(t, db, "e1")
	if err := s.Decide(t.Context(), judge.Decision{EntryID: "e1", Verdict: "maybe"}); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("Decide(maybe) = %v, want invalid", err)
	}
}

func TestDecideParticipantQueuesVerdictWithoutEntry(t *testing.T) {
	s, db := MustService(t)
	MustParticipant(t, db, "team1", "s", false)
	if err := s.DecideParticipant(t.Context(), "race", "team1", campaigns.VerdictEliminated, "jury", ""); err != nil {
		t.Fatal(err)
	}
	got, err := db.PendingInbound(t.Context(), 0)
	if err != nil || len(got) != 1 {
		t.Fatalf("pending = %+v, %v", got, err)
	}
	ev := got[0]
	if ev.Kind != engine.KindVerdict || ev.Verdict != campaigns.VerdictEliminated || ev.EntryID != "" ||
		ev.ParticipantID != "team1" || ev.Campaign != "race" || ev.Agent != "jury" {
		t.Errorf("event = %+v", ev)
	}
	// Without a key, a double submit at the same instant is one verdict.
	if err := s.DecideParticipant(t.Context(), "race", "team1", campaigns.VerdictEliminated, "jury", ""); !errors.Is(err, errs.ErrConflict) {
		t.Errorf("double submit = %v, want a conflict", err)
	}
	if got, _ := db.PendingInbound(t.Context(), 0); len(got) != 1 {
		t.Errorf("%d events after a double submit, want 1", len(got))
	}
	for _, bad := range [][3]string{{"race", "team1", "maybe"}, {"", "team1", "winner"}, {"race", "", "winner"}} {
		if err := s.DecideParticipant(t.Context(), bad[0], bad[1], bad[2], "jury", ""); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("DecideParticipant%v = %v, want invalid", bad, err)
		}
	}
}

// TestDecideParticipantKeys: a decision key makes a resubmitted form one verdict, whenever it
// arrives, while other verdicts and other keys stay decisions of their own.
func TestDecideParticipantKeys(t *testing.T) {
	tests := []struct {
		verdict, by, key string
		want             error
	}{
		{campaigns.VerdictAdvanced, "ann", "page1", nil},
		{campaigns.VerdictAdvanced, "ann", "page1", errs.ErrConflict}, // the same form again
		{campaigns.VerdictAdvanced, "bob", "page1", errs.ErrConflict}, // whoever sends it
		{campaigns.VerdictWinner, "ann", "page1", nil},                // another button on the page
		{campaigns.VerdictAdvanced, "ann", "page2", nil},              // the page loaded again
		{campaigns.VerdictAdvanced, "ann", strings.Repeat("k", 129), errs.ErrInvalid},
	}
	s, db := MustService(t)
	MustParticipant(t, db, "team1", "s", false)
	clock := t0
	s.Now = func() time.Time { clock = clock.Add(time.Second); return clock }
	wantEvents := 0
	for i, tt := range tests {
		err := s.DecideParticipant(t.Context(), "race", "team1", tt.verdict, tt.by, tt.key)
		if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("%d: DecideParticipant(%s, %s, %.10s) = %v, want %v", i, tt.verdict, tt.by, tt.key, err, tt.want)
		}
		if tt.want == nil {
			wantEvents++
		}
	}
	if got, _ := db.PendingInbound(t.Context(), 0); len(got) != wantEvents {
		t.Errorf("%d verdict events, want %d", len(got), wantEvents)
	}
}
