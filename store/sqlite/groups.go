package sqlite

import (
	"context"
	"fmt"

	"github.com/chatcampaigns/campaign/engine"
)

// SaveGroupRequest stores a captain's request, replacing one with its channel and request id.
func (db *DB) SaveGroupRequest(ctx context.Context, r engine.GroupRequest) error {
	err := db.write(ctx, func(tx *wtx) error {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO group_requests (channel, request_id, campaign, captain, message_id, number, name,
				group_id, invite_link, error, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (channel, request_id) DO UPDATE SET campaign = excluded.campaign,
				captain = excluded.captain, message_id = excluded.message_id, number = excluded.number,
				name = excluded.name, group_id = excluded.group_id, invite_link = excluded.invite_link,
				error = excluded.error, created_at = excluded.created_at`,
			r.Channel, r.RequestID, r.Campaign, r.Captain, r.MessageID, r.Number, r.Name, r.Group,
			r.InviteLink, r.Error, unixNano(r.CreatedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: save group request %s: %w", r.RequestID, convert(err))
	}
	return nil
}

const groupRequestColumns = `channel, request_id, campaign, captain, message_id, number, name, group_id, invite_link, error, created_at`

func scanGroupRequest(row interface{ Scan(...any) error }) (engine.GroupRequest, error) {
	var r engine.GroupRequest
	var at int64
	err := row.Scan(&r.Channel, &r.RequestID, &r.Campaign, &r.Captain, &r.MessageID, &r.Number, &r.Name,
		&r.Group, &r.InviteLink, &r.Error, &at)
	r.CreatedAt = fromUnixNano(at)
	return r, convert(err)
}

// GroupRequest returns the request channel knows as requestID.
func (db *DB) GroupRequest(ctx context.Context, channel, requestID string) (engine.GroupRequest, error) {
	r, err := scanGroupRequest(db.rq.QueryRowContext(ctx, `SELECT `+groupRequestColumns+`
		FROM group_requests WHERE channel = ? AND request_id = ?`, channel, requestID))
	if err != nil {
		return r, fmt.Errorf("sqlite: group request %s: %w", requestID, err)
	}
	return r, nil
}

// CaptainRequest returns the latest request of a captain.
func (db *DB) CaptainRequest(ctx context.Context, campaign, channel, captain string) (engine.GroupRequest, error) {
	r, err := scanGroupRequest(db.rq.QueryRowContext(ctx, `SELECT `+groupRequestColumns+`
		FROM group_requests WHERE campaign = ? AND channel = ? AND captain = ?
		ORDER BY created_at DESC, request_id DESC LIMIT 1`, campaign, channel, captain))
	if err != nil {
		return r, fmt.Errorf("sqlite: group request of %s in %s: %w", captain, campaign, err)
	}
	return r, nil
}
