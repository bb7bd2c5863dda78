package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/chatcampaigns/campaign/engine"
)

// QueueStats counts what waits in the shared queues: unprocessed events (and when the oldest
// was received) and pending replies, of which Due are due at now. Every process sharing the
// database counts the same figures, which is what lets the engine's intake apply back-pressure
// on MongoDB: each process's own count in memory is only its share (engine.queueCounter).
func (db *DB) QueueStats(ctx context.Context, now time.Time) (engine.QueueStats, error) {
	var s engine.QueueStats
	n, err := db.c(colInbound).CountDocuments(ctx, d("processed", false))
	if err != nil {
		return s, fmt.Errorf("mongo: queue stats: %w", err)
	}
	s.Inbound = int(n)
	if n > 0 {
		var oldest inboundDoc
		err := db.c(colInbound).FindOne(ctx, d("processed", false), options.FindOne().SetSort(d("_id", 1))).Decode(&oldest)
		if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
			return s, fmt.Errorf("mongo: queue stats: %w", err)
		}
		if err == nil {
			s.OldestInbound = fromNS(oldest.At)
		}
	}
	pending, err := db.c(colOutbox).CountDocuments(ctx, d("status", engine.StatusPending))
	if err != nil {
		return s, fmt.Errorf("mongo: queue stats: %w", err)
	}
	due, err := db.c(colOutbox).CountDocuments(ctx, d("status", engine.StatusPending, "due_at", d("$lte", ns(now))))
	if err != nil {
		return s, fmt.Errorf("mongo: queue stats: %w", err)
	}
	s.OutboxPending, s.OutboxDue = int(pending), int(due)
	return s, nil
}

// Backlog counts what the intake's back-pressure reads every second (engine.backlogCounter):
// the unprocessed events and the replies due at now, two counts where QueueStats makes four
// reads (on FerretDB v1 each a full scan of its collection).
func (db *DB) Backlog(ctx context.Context, now time.Time) (events, due int, err error) {
	n, err := db.c(colInbound).CountDocuments(ctx, d("processed", false))
	if err != nil {
		return 0, 0, fmt.Errorf("mongo: backlog: %w", err)
	}
	m, err := db.c(colOutbox).CountDocuments(ctx, d("status", engine.StatusPending, "due_at", d("$lte", ns(now))))
	if err != nil {
		return 0, 0, fmt.Errorf("mongo: backlog: %w", err)
	}
	return int(n), int(m), nil
}
