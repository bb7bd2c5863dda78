package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/engine"
)

// TestEventsWaitingSet checks the writer's set of participants with events waiting
// (waitingSet) against what the file holds: a participant with an event stored unprocessed is
// never taken for one with none — not after a restart, not after a check whose write or
// transaction was rolled back — and one whose events were processed is found with none.
func TestEventsWaitingSet(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "campaign.db")
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	event := func(n int) engine.Inbound {
		return engine.Inbound{Channel: "webchat", PlatformID: "m" + string(rune('a'+n)), Campaign: "c", From: "ann",
			ParticipantID: "ann", Kind: engine.KindText, Text: "hi", At: at}
	}
	// waits asks as the receive loop does, in a write of its own.
	waits := func(t *testing.T, db *DB) bool {
		t.Helper()
		var w bool
		err := db.write(ctx, func(tx *wtx) error {
			var err error
			w, err = tx.eventsWaiting(ctx, "ann")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if waits(t, db) {
		t.Fatal("nothing stored, yet events waiting")
	}
	id, _, err := db.SaveInbound(ctx, event(0))
	if err != nil {
		t.Fatal(err)
	}
	if !waits(t, db) {
		t.Fatal("an event stored unprocessed, yet none waiting")
	}
	// Reopened, the set is read from the file.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if !waits(t, db) {
		t.Fatal("after a restart: none waiting")
	}
	// The event processed and the check made in one write that fails (alone in its group:
	// its transaction rolls back), then in one that fails beside another that commits (its
	// savepoint rolls back): the event is unprocessed again, and must still be found.
	boom := errors.New("boom")
	processThenCheck := func(tx *wtx) error {
		if err := markProcessed(ctx, tx, id, ""); err != nil {
			return err
		}
		w, err := tx.eventsWaiting(ctx, "ann")
		if err != nil {
			return err
		}
		if w {
			return errors.New("processed in this transaction, yet waiting")
		}
		return boom
	}
	for _, group := range [][]writeRequest{
		{{ctx: ctx, fn: processThenCheck, done: make(chan error, 1)}},
		{{ctx: ctx, fn: processThenCheck, done: make(chan error, 1)},
			{ctx: ctx, fn: func(*wtx) error { return nil }, done: make(chan error, 1)}},
	} {
		runGroup(t, db, group)
		if err := <-group[0].done; !errors.Is(err, boom) {
			t.Fatalf("the failing write: %v", err)
		}
		if !waits(t, db) {
			t.Fatalf("a check rolled back (group of %d) took ann out of the set", len(group))
		}
	}
	if err := db.SkipInbound(ctx, id, "done"); err != nil {
		t.Fatal(err)
	}
	if waits(t, db) {
		t.Fatal("the event processed, yet waiting")
	}
	if _, ok := db.waiting.maybe["ann"]; ok {
		t.Error("ann found with none waiting stays in the set")
	}
}

// TestEventsWaitingSetReload: the set read again from the file between groups keeps the
// participants with events waiting and drops the others.
func TestEventsWaitingSetReload(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	if _, _, err := db.SaveInbound(ctx, engine.Inbound{Channel: "webchat", PlatformID: "m1", Campaign: "c",
		From: "ann", ParticipantID: "ann", Kind: engine.KindText, Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	err := db.write(ctx, func(tx *wtx) error {
		for i := range waitingReload {
			tx.mayWait(string(rune(0x4e00 + i)))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The next write runs after the group above: the set was read again before it.
	err = db.write(ctx, func(tx *wtx) error {
		if n := len(db.waiting.maybe); n != 1 {
			t.Errorf("%d participants in the set after the reload, want 1", n)
		}
		w, err := tx.eventsWaiting(ctx, "ann")
		if !w {
			t.Error("ann dropped by the reload")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestParticipantUpdateLeavesOutWhatDidNotChange: the step's update leaves def_version and
// finished out when the row holds them already, and writes them when they changed; a stale
// version is refused either way.
func TestParticipantUpdateLeavesOutWhatDidNotChange(t *testing.T) {
	ctx := t.Context()
	db := openTest(t)
	p := engine.Participant{ID: "ann", Campaign: "c", Channel: "webchat", Address: "ann", State: "start",
		Vars: map[string]string{}, Version: 1, DefVersion: "v1"}
	if err := db.Commit(ctx, engine.Step{Participant: p, Created: true}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		prev     int64
		def      string
		finished bool
		conflict bool
	}{
		{name: "nothing of them changed", prev: 1, def: "v1"},
		{name: "a new version of the campaign", prev: 2, def: "v2"},
		{name: "finished", prev: 3, def: "v2", finished: true},
		{name: "stale, unchanged", prev: 3, def: "v2", finished: true, conflict: true},
		{name: "stale, changed", prev: 3, def: "v3", conflict: true},
		{name: "unfinished again", prev: 4, def: "v2"},
	}
	for _, tt := range tests {
		q := p
		q.Version, q.DefVersion, q.Finished, q.State = tt.prev+1, tt.def, tt.finished, tt.name
		err := db.Commit(ctx, engine.Step{Participant: q, PrevVersion: tt.prev})
		if tt.conflict != (err != nil) {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if tt.conflict {
			continue
		}
		var (
			state, def string
			version    int64
			finished   bool
		)
		err = db.r.QueryRowContext(ctx, `SELECT state, version, def_version, finished FROM participants WHERE id = 'ann'`).
			Scan(&state, &version, &def, &finished)
		if err != nil {
			t.Fatal(err)
		}
		if state != tt.name || version != tt.prev+1 || def != tt.def || finished != tt.finished {
			t.Errorf("%s: stored %q v%d %s finished=%v", tt.name, state, version, def, finished)
		}
	}
}
