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
