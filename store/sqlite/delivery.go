package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/chatcampaigns/campaign/engine"
)

// UpdateDelivery records a platform's delivery report on the reply it sent as platformID. A
// report that would downgrade the recorded one (a late "delivered" after "read") changes
// nothing. A report for a message no reply of this store has (yet) is kept for earlyKeep: the
// sender records a round's sends together, after its slowest one, and the platform may report
// on a reply before that (markSent applies it then); reports on messages sent by other systems
// sharing the number are dropped when they expire.
func (db *DB) UpdateDelivery(ctx context.Context, platformID string, d engine.Delivery) error {
	rank := engine.DeliveryRank(d.Status)
	if platformID == "" || rank == 0 {
		return nil
	}
	err := db.write(ctx, func(tx *wtx) error {
		res, err := tx.ExecContext(ctx, `
			UPDATE outbox SET delivery = ?, delivery_rank = ?, delivery_code = ?, delivery_error = ?, delivery_at = ?
			WHERE platform_id = ? AND delivery_rank < ?`,
			d.Status, rank, d.ErrorCode, d.ErrorTitle, unixNano(d.At), platformID, rank)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		var known int
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM outbox WHERE platform_id = ?)`, platformID).Scan(&known); err != nil {
			return err
		}
		if known == 1 {
			return nil // recorded already, with this report or a later one
		}
		return keepEarly(ctx, tx, platformID, rank, d, time.Now())
	})
	if err != nil {
		return fmt.Errorf("sqlite: delivery of %s: %w", platformID, convert(err))
	}
	return nil
}

// earlyKeep is how long a report on a message no reply has is kept for the reply's record.
const earlyKeep = time.Hour

// keepEarly keeps a report on a message no reply has yet (the highest of those on it), and
// drops those kept past earlyKeep.
func keepEarly(ctx context.Context, tx *wtx, platformID string, rank int, d engine.Delivery, now time.Time) error {
	// Set before the report is written, in the writer's goroutine: a markSent committed after
	// this one looks for it.
	tx.db.early.Store(true)
	if _, err := tx.ExecContext(ctx, `DELETE FROM early_deliveries WHERE received_at < ?`, unixNano(now.Add(-earlyKeep))); err != nil {
		return fmt.Errorf("expire early reports: %w", err)
	}
	_, err := tx.ExecContext(ctx, `
		INSERT INTO early_deliveries (platform_id, delivery, delivery_rank, delivery_code, delivery_error, delivery_at, received_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (platform_id) DO UPDATE SET delivery = excluded.delivery, delivery_rank = excluded.delivery_rank,
			delivery_code = excluded.delivery_code, delivery_error = excluded.delivery_error, delivery_at = excluded.delivery_at
		WHERE excluded.delivery_rank > early_deliveries.delivery_rank`,
		platformID, d.Status, rank, d.ErrorCode, d.ErrorTitle, unixNano(d.At), unixNano(now))
	if err != nil {
		return fmt.Errorf("keep early report: %w", err)
	}
	return nil
}

// applyEarly moves a report kept for platformID (keepEarly) onto reply id, just recorded as
// sent with it. Only once a report was kept since Open (db.early) does it look: one statement
// a reply for nothing otherwise.
func applyEarly(ctx context.Context, tx *wtx, id int64, platformID string) error {
	if platformID == "" || !tx.db.early.Load() {
		return nil
	}
	_, err := tx.ExecContext(ctx, `
		UPDATE outbox SET delivery = e.delivery, delivery_rank = e.delivery_rank, delivery_code = e.delivery_code,
			delivery_error = e.delivery_error, delivery_at = e.delivery_at
		FROM early_deliveries e
		WHERE e.platform_id = ? AND outbox.id = ? AND outbox.delivery_rank < e.delivery_rank`, platformID, id)
	if err != nil {
		return fmt.Errorf("apply early report: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM early_deliveries WHERE platform_id = ?`, platformID); err != nil {
		return fmt.Errorf("drop early report: %w", err)
	}
	return nil
}

// DeliveryCounts counts a campaign's replies by how far they got: pending, cancelled, failed
// (refused by us or reported by the platform), sent (accepted, no report yet), delivered,
// read and played.
func (db *DB) DeliveryCounts(ctx context.Context, campaign string) (map[string]int, error) {
	rows, err := db.rq.QueryContext(ctx, `
		SELECT CASE WHEN status = 'sent' AND delivery != '' THEN delivery ELSE status END, count(*)
		FROM outbox WHERE campaign = ? GROUP BY 1`, campaign)
	if err != nil {
		return nil, fmt.Errorf("sqlite: delivery counts of %s: %w", campaign, convert(err))
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("sqlite: delivery counts of %s: %w", campaign, convert(err))
		}
		out[st] = n
	}
	return out, rows.Err()
}

// Undelivered returns a campaign's newest replies that did not reach their participant: refused
// before sending (a closed window, a permanent platform error), reported failed afterwards, or
// held back (cancelled) because the participant opted out.
func (db *DB) Undelivered(ctx context.Context, campaign string, limit int) ([]engine.Outbound, error) {
	out, err := db.outbox(ctx, `WHERE o.campaign = ? AND (o.status IN ('failed', 'cancelled') OR o.delivery = 'failed') ORDER BY o.id DESC LIMIT ?`, campaign, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: undelivered of %s: %w", campaign, err)
	}
	return out, nil
}

// MaybeTwice returns a campaign's newest replies that were sent again after an attempt whose
// outcome was never stored (the process died while sending): the participant may have
// received them twice.
func (db *DB) MaybeTwice(ctx context.Context, campaign string, limit int) ([]engine.Outbound, error) {
	out, err := db.outbox(ctx, `WHERE o.campaign = ? AND o.maybe_twice = 1 ORDER BY o.id DESC LIMIT ?`, campaign, noLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("sqlite: maybe sent twice of %s: %w", campaign, err)
	}
	return out, nil
}
