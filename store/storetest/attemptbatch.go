package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// BatchAttempter is implemented by backends that record the attempts of several replies in one
// write, each as AttemptOutbox would (the engine's sender uses it on a store one process uses).
type BatchAttempter interface {
	AttemptOutboxBatch(ctx context.Context, ids []int64, owner string, at time.Time) ([]error, error)
}

var attemptBatchTests = []test{
	{"AttemptOutboxBatchRecordsEachAsAttemptOutbox", func(t *testing.T, s Store) {
		ba, ok := s.(BatchAttempter)
		if !ok {
			t.Skip("no AttemptOutboxBatch")
		}
		p := queue(t, s, time.Second, 2*time.Second, 3*time.Second)
		fresh := dueID(t, s, "Welcome")
		again := dueID(t, s, "reply 1")
		sent := dueID(t, s, "reply 2")
		cancelled := dueID(t, s, "reply 3")
		// again was in flight when its process died; sent went out before.
		attempt(t, s, again, "a", at(time.Second))
		noErr(t, "MarkSent", s.MarkSent(t.Context(), sent, "wamid.2", at(time.Second)))
		noErr(t, "MarkCancelled", s.MarkCancelled(t.Context(), cancelled, "opted out", at(time.Second)))

		results, err := ba.AttemptOutboxBatch(t.Context(), []int64{fresh, again, sent, 999999, cancelled}, "b", at(5*time.Second))
		noErr(t, "AttemptOutboxBatch", err)
		if len(results) != 5 {
			t.Fatalf("AttemptOutboxBatch returned %d results, want 5", len(results))
		}
		noErr(t, "pending reply", results[0])
		noErr(t, "reply in flight", results[1])
		wantErr(t, "reply sent before", results[2], errs.ErrConflict)
		if !errors.Is(results[3], errs.ErrNotFound) {
			t.Errorf("unknown reply: %v, want not found", results[3])
		}
		wantErr(t, "reply cancelled before", results[4], errs.ErrConflict)

		equal(t, "the pending reply", attemptState(row(t, s, p, fresh)),
			attemptOf{Status: engine.StatusPending, Attempts: 1, By: "b", At: at(5 * time.Second), InFlight: true})
		equal(t, "the reply in flight before", attemptState(row(t, s, p, again)),
			attemptOf{Status: engine.StatusPending, Attempts: 2, By: "b", At: at(5 * time.Second), InFlight: true, MaybeTwice: true})
		if _, ok := s.(OutboxLister); ok {
			// Refused attempts leave the rows as they were.
			equal(t, "the sent reply", attemptState(row(t, s, p, sent)),
				attemptOf{Status: engine.StatusSent, Attempts: 1})
		}
		equal(t, "in flight after", takeBack(t, s, "b"), [2]int{0, 2})
		results, err = ba.AttemptOutboxBatch(t.Context(), nil, "b", at(6*time.Second))
		if err != nil || len(results) != 0 {
			t.Errorf("AttemptOutboxBatch of nothing = %v, %v; want no results, no error", results, err)
		}
	}},
}
