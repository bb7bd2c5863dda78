package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
)

// TestAttemptOutboxBatchThatFailsWritesNothing: a batch of attempts whose write does not happen
// (the caller gave up, the store is closed) answers with one error for all and records none of
// them, so the sender sends none of them.
func TestAttemptOutboxBatchThatFailsWritesNothing(t *testing.T) {
	ctx := t.Context()
	db := MustOpen(t, filepath.Join(t.TempDir(), "campaign.db"))
	due := repliesDue(t, db, 2)
	ids := []int64{due[0].ID, due[1].ID}

	gone, cancel := context.WithCancel(ctx)
	cancel()
	results, err := db.AttemptOutboxBatch(gone, ids, "a", t0)
	if !errors.Is(err, context.Canceled) || results != nil {
		t.Errorf("with the context gone: %v, %v; want no results and the context's error", results, err)
	}
	again, err := db.DueOutbox(ctx, t0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range again {
		if o.Attempts != 0 || o.InFlight {
			t.Errorf("reply %d after the failed batch: %d attempts, in flight %v; want untouched", o.ID, o.Attempts, o.InFlight)
		}
	}

	db.Close()
	if results, err := db.AttemptOutboxBatch(ctx, ids, "a", t0); err == nil || results != nil {
		t.Errorf("on a closed store: %v, %v; want no results and an error", results, err)
	}
}
