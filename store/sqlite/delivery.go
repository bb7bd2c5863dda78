package sqlite

import (
	"context"
	"fmt"

	"github.com/chatcampaigns/campaign/engine"
)

// UpdateDelivery records a platform's delivery report on the reply it sent as platformID. A
// report that would downgrade the recorded one (a late "delivered" after "read") changes
// nothing, and so does a report for a message this store never sent: platforms report on
// messages sent by other systems sharing the number too.
func (db *DB) UpdateDelivery(ctx context.Context, platformID string, d engine.Delivery) error {
	rank := engine.DeliveryRank(d.Status)
	if platformID == "" || rank == 0 {
		return nil
	}
	err := db.write(ctx, func(tx *wtx) error {
		_, err := tx.ExecContext(ctx, `
			UPDATE outbox SET delivery = ?, delivery_rank = ?, delivery_code = ?, delivery_error = ?, delivery_at = ?
			WHERE platform_id = ? AND delivery_rank < ?`,
			d.Status, rank, d.ErrorCode, d.ErrorTitle, unixNano(d.At), platformID, rank)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: delivery of %s: %w", platformID, convert(err))
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
