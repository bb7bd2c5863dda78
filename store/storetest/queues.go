package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/engine"
)

// QueueCounter counts the shared queues (the engine's back-pressure and /metrics read it).
type QueueCounter interface {
	QueueStats(ctx context.Context, now time.Time) (engine.QueueStats, error)
}

var queueTests = []test{
	{"counts unprocessed events and pending replies", func(t *testing.T, s Store) {
		qc, ok := s.(QueueCounter)
		if !ok {
			t.Skip("the store does not count its queues")
		}
		stats := func(now time.Time) engine.QueueStats {
			t.Helper()
			st, err := qc.QueueStats(t.Context(), now)
			noErr(t, "QueueStats", err)
			return st
		}
		equal(t, "empty store", stats(t0), engine.QueueStats{})
		// The join is consumed by its step; reply 1 is due at 1s, reply 2 at 1h, and the
		// greeting at 1s.
		queue(t, s, time.Second, time.Hour)
		a := inbound("m1", "u2", "hi")
		a.At = at(2 * time.Second)
		MustSaveInbound(t, s, a)
		b := inbound("m2", "u3", "hi")
		b.At = at(3 * time.Second)
		MustSaveInbound(t, s, b)
		equal(t, "at 10s", stats(at(10*time.Second)),
			engine.QueueStats{Inbound: 2, OldestInbound: at(2 * time.Second), OutboxPending: 3, OutboxDue: 2})
		equal(t, "at 2h", stats(at(2*time.Hour)).OutboxDue, 3)
	}},
}
