package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/store/sqlite"
	"github.com/chatcampaigns/campaign/store/storetest"
)

func MustOpen(tb testing.TB, path string) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		tb.Fatalf("Open(%s): %v", path, err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		return MustOpen(t, filepath.Join(t.TempDir(), "campaign.db"))
	})
}

var t0 = time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)

func participant(from string) engine.Participant {
	return engine.Participant{
		ID: engine.ParticipantID("c", "webchat", from), Campaign: "c", Channel: "webchat",
		Address: from, State: "start", Vars: map[string]string{}, Version: 1, CreatedAt: t0, UpdatedAt: t0,
	}
}

func event(from string, n int) engine.Inbound {
	return engine.Inbound{Channel: "webchat", PlatformID: fmt.Sprintf("%s-%d", from, n), Campaign: "c",
		From: from, ParticipantID: engine.ParticipantID("c", "webchat", from), Kind: engine.KindText,
		Text: "hi", At: t0}
}

// TestConcurrentWritersAndReaders is what a busy server does: webhooks storing events, the
// worker committing steps and the dashboard reading, all at once. SQLite has one writer;
// none of this may surface as SQLITE_BUSY.
func TestConcurrentWritersAndReaders(t *testing.T) {
	path := filepath.Join(t.TempDir(), "campaign.db")
	db := MustOpen(t, path)
	// A second handle on the same file stands in for a second process, such as the CLI.
	other := MustOpen(t, path)
	const workers, events = 8, 50
	ctx := t.Context()
	var wg sync.WaitGroup
	errc := make(chan error, workers*4)
	for w := range workers {
		store := db
		if w%4 == 3 {
			store = other
		}
		from := fmt.Sprintf("u%d", w)
		wg.Go(func() {
			p := participant(from)
			for n := range events {
				id, dup, err := store.SaveInbound(ctx, event(from, n))
				if err != nil || dup {
					errc <- fmt.Errorf("SaveInbound %s-%d: dup=%v err=%w", from, n, dup, err)
					return
				}
				step := engine.Step{InboundID: id, Participant: p, Created: n == 0, PrevVersion: p.Version,
					Lines:  []engine.Line{{ParticipantID: p.ID, Direction: engine.In, Text: "hi", At: t0}},
					Outbox: []engine.Outbound{{ParticipantID: p.ID, Campaign: "c", Channel: "webchat", To: from, Text: "yo", DueAt: t0}}}
				if n > 0 {
					step.Participant.Version++
				}
				if err := store.Commit(ctx, step); err != nil {
					errc <- fmt.Errorf("Commit %s-%d: %w", from, n, err)
					return
				}
				p = step.Participant
			}
		})
		wg.Go(func() {
			pid := engine.ParticipantID("c", "webchat", from)
			for range events {
				if _, err := store.PendingInbound(ctx, 100); err != nil {
					errc <- fmt.Errorf("PendingInbound: %w", err)
					return
				}
				if _, err := store.Participant(ctx, pid); err != nil && !errors.Is(err, errs.ErrNotFound) {
					errc <- fmt.Errorf("Participant: %w", err)
					return
				}
				if _, err := store.Transcript(ctx, pid); err != nil {
					errc <- fmt.Errorf("Transcript: %w", err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	due, err := db.DueOutbox(ctx, t0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != workers*events {
		t.Errorf("%d replies queued, want %d", len(due), workers*events)
	}
	pending, err := db.PendingInbound(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 0 {
		t.Errorf("%d events left pending, want none", len(pending))
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "campaign.db")
	ctx := t.Context()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	p := participant("u1")
	p.Vars["code"] = "DOOR42"
	id, _, err := db.SaveInbound(ctx, event("u1", 0))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Commit(ctx, engine.Step{InboundID: id, Participant: p, Created: true, Codes: []string{"DOOR42"}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.SaveInbound(ctx, event("u1", 1)); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = MustOpen(t, path)
	got, err := db.Participant(ctx, p.ID)
	if err != nil {
		t.Fatalf("Participant after reopen: %v", err)
	}
	if got.Vars["code"] != "DOOR42" || got.Version != 1 || !got.CreatedAt.Equal(t0) {
		t.Errorf("Participant after reopen = %+v", got)
	}
	pending, err := db.PendingInbound(ctx, 0)
	if err != nil || len(pending) != 1 || pending[0].PlatformID != "u1-1" {
		t.Errorf("PendingInbound after reopen = %+v, %v; want event u1-1", pending, err)
	}
	if _, dup, err := db.SaveInbound(ctx, event("u1", 0)); err != nil || !dup {
		t.Errorf("SaveInbound of an event stored before the reopen: dup=%v err=%v; want a duplicate", dup, err)
	}
	p2 := participant("u2")
	err = db.Commit(ctx, engine.Step{Participant: p2, Created: true, Codes: []string{"DOOR42"}})
	if !errors.Is(err, engine.ErrCodeTaken) {
		t.Errorf("issuing a code issued before the reopen: err = %v, want ErrCodeTaken", err)
	}
}

func TestOpenRejectsMemory(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file::memory:"} {
		if _, err := sqlite.Open(t.Context(), path); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("Open(%q): err = %v, want ErrInvalid", path, err)
		}
	}
}

// TestMigrationKeepsOutbox opens a database made by the first schema, with a reply waiting,
// and checks the second migration (which rebuilds the outbox) keeps it and can send it, and
// the sixth (participant keys) keeps the transcript and the replies found by participant.
func TestMigrationKeepsOutbox(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	schema, err := os.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	old, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{string(schema), "PRAGMA user_version = 1",
		`INSERT INTO participants (id, campaign, channel, address, state, vars, version, def_version, created_at, updated_at)
			VALUES ('p1', 'c', 'webchat', 'u1', 'door', '{}', 1, 'v1', 1, 1)`,
		`INSERT INTO outbox (participant_id, campaign, channel, recipient, text, due_at, status)
			VALUES ('p1', 'c', 'webchat', 'u1', 'waiting since the old version', 1, 'pending')`,
		`INSERT INTO lines (participant_id, direction, text, media_key, at)
			VALUES ('p1', 'in', 'said before the upgrade', '', 1)`,
	} {
		if _, err := old.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	old.Close()

	db := MustOpen(t, path)
	due, err := db.DueOutbox(t.Context(), t0, 0)
	if err != nil || len(due) != 1 || due[0].Text != "waiting since the old version" || due[0].ParticipantID != "p1" {
		t.Fatalf("DueOutbox after migrating = %+v, %v", due, err)
	}
	if err := db.MarkSent(t.Context(), due[0].ID, "w1", t0); err != nil {
		t.Fatal(err)
	}
	p, err := db.Participant(t.Context(), "p1")
	if err != nil || p.Finished || p.Entered != 0 || !p.LastInboundAt.IsZero() {
		t.Errorf("participant after migrating = %+v, %v", p, err)
	}
	lines, err := db.Transcript(t.Context(), "p1")
	if err != nil || len(lines) != 2 || lines[0].Text != "said before the upgrade" || lines[1].Text != "waiting since the old version" {
		t.Errorf("transcript after migrating = %+v, %v", lines, err)
	}
	out, err := db.Outbox(t.Context(), "p1")
	if err != nil || len(out) != 1 || out[0].Status != engine.StatusSent {
		t.Errorf("outbox after migrating = %+v, %v", out, err)
	}
	// A participant who arrives after the upgrade gets a key of their own.
	p2 := engine.Participant{ID: "p2", Campaign: "c", Channel: "webchat", Address: "u2", State: "door",
		Vars: map[string]string{}, Version: 1, DefVersion: "v1", CreatedAt: t0, UpdatedAt: t0}
	err = db.Commit(t.Context(), engine.Step{Participant: p2, Created: true,
		Lines: []engine.Line{{Direction: engine.In, Text: "new here", At: t0}}})
	if err != nil {
		t.Fatal(err)
	}
	if lines, err := db.Transcript(t.Context(), "p2"); err != nil || len(lines) != 1 || lines[0].Text != "new here" {
		t.Errorf("transcript of a participant after the upgrade = %+v, %v", lines, err)
	}
	if lines, err := db.Transcript(t.Context(), "p1"); err != nil || len(lines) != 2 {
		t.Errorf("transcript of p1 after p2 joined = %+v, %v", lines, err)
	}
}

func TestSharedConformance(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) (storetest.Store, storetest.Store) {
		path := filepath.Join(t.TempDir(), "campaign.db")
		return MustOpen(t, path), MustOpen(t, path)
	})
}

// Broadcasts read and write number health and marketing preferences through these.
var _ storetest.NumberStore = (*sqlite.DB)(nil)
