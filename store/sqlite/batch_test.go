package sqlite_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/store/sqlite"
)

// TestCommitBatch commits one batch holding every way a step can fail next to steps that
// succeed: each failed step leaves nothing behind (its event stays pending, its participant
// unchanged), and the others are written.
func TestCommitBatch(t *testing.T) {
	ctx := t.Context()
	db := MustOpen(t, filepath.Join(t.TempDir(), "campaign.db"))
	save := func(from string, n int) int64 {
		t.Helper()
		id, _, err := db.SaveInbound(ctx, event(from, n))
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	// Existing participants "old", "stale" and "coded", a code taken, a full pool, an event done.
	setup := []engine.Step{
		{InboundID: save("old", 0), Participant: participant("old"), Created: true},
		{InboundID: save("stale", 0), Participant: participant("stale"), Created: true},
		{InboundID: save("coded", 0), Participant: participant("coded"), Created: true, Codes: []string{"TAKEN"},
			Places: []engine.Place{{Campaign: "c", Pool: "door", Capacity: 1}}},
	}
	for _, s := range setup {
		if err := db.Commit(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	next := func(from string) engine.Participant {
		p := participant(from)
		p.Version = 2
		p.State = "next"
		return p
	}
	line := func(from string) []engine.Line {
		return []engine.Line{{ParticipantID: participant(from).ID, Direction: engine.In, Text: "hi " + from, At: t0}}
	}
	reply := func(from string) []engine.Outbound {
		return []engine.Outbound{{Campaign: "c", Channel: "webchat", To: from, Text: "yo " + from, DueAt: t0}}
	}
	done := save("old", 1)
	tests := []struct {
		name string
		step engine.Step
		want error // nil: written
	}{
		{"new participant", engine.Step{InboundID: save("new", 0), Participant: participant("new"), Created: true,
			Lines: line("new"), Outbox: reply("new")}, nil},
		{"stale version", engine.Step{InboundID: save("stale", 1), Participant: next("stale"), PrevVersion: 7,
			Lines: line("stale"), Outbox: reply("stale")}, errs.ErrConflict},
		{"created twice", engine.Step{InboundID: save("coded", 1), Participant: participant("coded"), Created: true,
			Lines: line("coded"), Outbox: reply("coded")}, errs.ErrConflict},
		{"code taken", engine.Step{InboundID: save("x", 0), Participant: participant("x"), Created: true,
			Lines: line("x"), Outbox: reply("x"), Codes: []string{"TAKEN"}}, engine.ErrCodeTaken},
		{"pool full", engine.Step{InboundID: save("y", 0), Participant: participant("y"), Created: true,
			Lines: line("y"), Outbox: reply("y"), Places: []engine.Place{{Campaign: "c", Pool: "door", Capacity: 1}}}, engine.ErrPoolFull},
		{"stranger", engine.Step{InboundID: save("z", 0), Outbox: reply("z")}, nil},
		{"next version", engine.Step{InboundID: done, Participant: next("old"), PrevVersion: 1,
			Lines: line("old"), Outbox: reply("old")}, nil},
		{"event processed", engine.Step{InboundID: done, Participant: participant("w"), Created: true,
			Lines: line("w"), Outbox: reply("w")}, engine.ErrProcessed},
		{"stranger with a line", engine.Step{InboundID: save("v", 0), Lines: line("v")}, errs.ErrInvalid},
	}
	steps := make([]engine.Step, len(tests))
	for i, tt := range tests {
		steps[i] = tt.step
	}
	got, err := db.CommitBatch(ctx, steps)
	if err != nil {
		t.Fatal(err)
	}
	pending, err := db.PendingInbound(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	isPending := map[int64]bool{}
	for _, in := range pending {
		isPending[in.ID] = true
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.want == nil && got[i] != nil || tt.want != nil && !errors.Is(got[i], tt.want) {
				t.Fatalf("error %v, want %v", got[i], tt.want)
			}
			s := tt.step
			if tt.want != nil && tt.want != engine.ErrProcessed && !isPending[s.InboundID] {
				t.Errorf("event %d consumed by a failed step", s.InboundID)
			}
			if tt.want == nil && isPending[s.InboundID] {
				t.Errorf("event %d still pending", s.InboundID)
			}
			if s.Participant.ID == "" || s.Participant.ID == participant("coded").ID {
				return
			}
			lines, err := db.Transcript(ctx, s.Participant.ID)
			if err != nil {
				t.Fatal(err)
			}
			outbox, err := db.Outbox(ctx, s.Participant.ID)
			if err != nil {
				t.Fatal(err)
			}
			wantLines, wantOut := 0, 0
			if tt.want == nil {
				wantLines, wantOut = 1, 1
			}
			if len(lines) != wantLines || len(outbox) != wantOut {
				t.Errorf("%d lines and %d replies, want %d and %d", len(lines), len(outbox), wantLines, wantOut)
			}
		})
	}
	p, err := db.Participant(ctx, participant("old").ID)
	if err != nil || p.Version != 2 || p.State != "next" {
		t.Errorf("old = version %d state %q (%v), want version 2 in next", p.Version, p.State, err)
	}
	if n, err := db.PoolTaken(ctx, "c", "door"); err != nil || n != 1 {
		t.Errorf("pool taken %d (%v), want 1", n, err)
	}
}

// TestMarkSentBatch records sent replies next to unknown and already sent ones.
func TestMarkSentBatch(t *testing.T) {
	ctx := t.Context()
	db := MustOpen(t, filepath.Join(t.TempDir(), "campaign.db"))
	due := repliesDue(t, db, 3)
	if err := db.MarkSent(ctx, due[1].ID, "wamid.1", t0); err != nil {
		t.Fatal(err)
	}
	sent := []engine.Sent{
		{ID: due[0].ID, PlatformID: "wamid.0", At: t0},
		{ID: due[1].ID, PlatformID: "wamid.again", At: t0},
		{ID: 999999, PlatformID: "wamid.x", At: t0},
		{ID: due[2].ID, PlatformID: "wamid.2", At: t0},
	}
	got, err := db.MarkSentBatch(ctx, sent)
	if err != nil {
		t.Fatal(err)
	}
	want := []error{nil, errs.ErrConflict, errs.ErrNotFound, nil}
	for i := range want {
		if want[i] == nil && got[i] != nil || want[i] != nil && !errors.Is(got[i], want[i]) {
			t.Errorf("reply %d: %v, want %v", i, got[i], want[i])
		}
	}
	lines, err := db.Transcript(ctx, participant("u").ID)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, l := range lines {
		texts = append(texts, l.Text)
	}
	if fmt.Sprint(texts) != "[reply 1 reply 0 reply 2]" {
		t.Errorf("transcript %q, want each reply once in the order sent", texts)
	}
}

// repliesDue commits a step of participant u queueing n replies due at t0, and returns them
// as DueOutbox reads them.
func repliesDue(t *testing.T, db *sqlite.DB, n int) []engine.Outbound {
	t.Helper()
	ctx := t.Context()
	id, _, err := db.SaveInbound(ctx, event("u", 0))
	if err != nil {
		t.Fatal(err)
	}
	var outs []engine.Outbound
	for i := range n {
		outs = append(outs, engine.Outbound{Campaign: "c", Channel: "webchat", To: "u", Text: fmt.Sprint("reply ", i), DueAt: t0})
	}
	if err := db.Commit(ctx, engine.Step{InboundID: id, Participant: participant("u"), Created: true, Outbox: outs}); err != nil {
		t.Fatal(err)
	}
	due, err := db.DueOutbox(ctx, t0, 0)
	if err != nil || len(due) != n {
		t.Fatalf("%d due (%v), want %d", len(due), err, n)
	}
	return due
}
