package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/chatcampaigns/campaign/engine"
)

// QueueStats counts what waits: unprocessed events and when the oldest was received, pending
// replies and how many of them are due at now. Each count walks a partial index that holds
// only the waiting rows, so it costs in proportion to the backlog, not to what is stored
// (/metrics asks on every scrape).
func (db *DB) QueueStats(ctx context.Context, now time.Time) (engine.QueueStats, error) {
	var s engine.QueueStats
	if err := db.rq.QueryRowContext(ctx, `SELECT COUNT(*) FROM inbound WHERE processed = 0`).Scan(&s.Inbound); err != nil {
		return s, fmt.Errorf("sqlite: queue stats: %w", convert(err))
	}
	if s.Inbound > 0 {
		var at int64
		err := db.rq.QueryRowContext(ctx, `SELECT at FROM inbound WHERE processed = 0 ORDER BY id LIMIT 1`).Scan(&at)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return s, fmt.Errorf("sqlite: queue stats: %w", convert(err))
		}
		s.OldestInbound = fromUnixNano(at)
	}
	err := db.rq.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(due_at <= ?), 0) FROM outbox WHERE status = 'pending'`,
		unixNano(now)).Scan(&s.OutboxPending, &s.OutboxDue)
	if err != nil {
		return s, fmt.Errorf("sqlite: queue stats: %w", convert(err))
	}
	return s, nil
}

// SoleProcess says one process uses the file at a time (the README's rule: SQLite is the
// single-server store), so the engine need not lease participants or replies from other
// processes (engine.soleProcess).
func (db *DB) SoleProcess() bool { return true }
