package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/chatcampaigns/campaign/broadcast"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

var (
	_ broadcast.Store   = (*DB)(nil)
	_ broadcast.Numbers = (*DB)(nil)
)

// StartBroadcast stores a paced broadcast and its recipients in one transaction.
func (db *DB) StartBroadcast(ctx context.Context, b broadcast.Broadcast, rs []broadcast.Recipient) error {
	req, err := json.Marshal(b.Request)
	if err != nil {
		return fmt.Errorf("sqlite: start broadcast %s: %w", b.ID, err)
	}
	plan, err := json.Marshal(b.Plan)
	if err != nil {
		return fmt.Errorf("sqlite: start broadcast %s: %w", b.ID, err)
	}
	err = db.write(ctx, func(tx *wtx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO paced_broadcasts (id, campaign, status, paused_reason, baseline,
			channel, number, request, plan, at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			b.ID, b.Request.Campaign, string(b.Status), b.PausedReason, string(b.Baseline), b.Channel, b.Number,
			string(req), string(plan), unixNano(b.At), unixNano(b.UpdatedAt))
		if err != nil {
			return err
		}
		for i, r := range rs {
			_, err := tx.ExecContext(ctx, `INSERT INTO broadcast_recipients (broadcast_id, seq, participant_id,
				channel, number, address, country, template, status, reason, released_at, outbox_id, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				b.ID, int64(i+1), r.ParticipantID, r.Channel, r.Number, r.Address, r.Country, r.Template, r.Status, r.Reason,
				unixNano(r.ReleasedAt), r.OutboxID, unixNano(r.UpdatedAt))
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: start broadcast %s: %w", b.ID, convert(err))
	}
	return nil
}

// UpdateBroadcast stores a broadcast's status, paused reason, baseline and time.
func (db *DB) UpdateBroadcast(ctx context.Context, b broadcast.Broadcast) error {
	var n int64
	err := db.writeOne(ctx, func(tx *wtx) error {
		res, err := tx.ExecContext(ctx, `UPDATE paced_broadcasts SET status = ?, paused_reason = ?, baseline = ?,
			updated_at = ? WHERE id = ?`, string(b.Status), b.PausedReason, string(b.Baseline), unixNano(b.UpdatedAt), b.ID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err == nil && n == 0 {
		err = errs.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlite: update broadcast %s: %w", b.ID, convert(err))
	}
	return nil
}

const pacedColumns = `id, status, paused_reason, baseline, channel, number, request, plan, at, updated_at`

func scanPaced(row interface{ Scan(...any) error }) (broadcast.Broadcast, error) {
	var (
		b            broadcast.Broadcast
		status, base string
		req, plan    string
		at, updated  int64
	)
	if err := row.Scan(&b.ID, &status, &b.PausedReason, &base, &b.Channel, &b.Number, &req, &plan, &at, &updated); err != nil {
		return b, err
	}
	if err := json.Unmarshal([]byte(req), &b.Request); err != nil {
		return b, fmt.Errorf("decode request: %w", err)
	}
	if err := json.Unmarshal([]byte(plan), &b.Plan); err != nil {
		return b, fmt.Errorf("decode plan: %w", err)
	}
	b.Status, b.Baseline = broadcast.Status(status), broadcast.Quality(base)
	b.At, b.UpdatedAt = fromUnixNano(at), fromUnixNano(updated)
	return b, nil
}

// PacedBroadcast returns one paced broadcast; errs.ErrNotFound for an unknown one.
func (db *DB) PacedBroadcast(ctx context.Context, id string) (broadcast.Broadcast, error) {
	b, err := scanPaced(db.rq.QueryRowContext(ctx, `SELECT `+pacedColumns+` FROM paced_broadcasts WHERE id = ?`, id))
	if err != nil {
		return broadcast.Broadcast{}, fmt.Errorf("sqlite: broadcast %s: %w", id, convert(err))
	}
	return b, nil
}

// PacedBroadcasts lists paced broadcasts newest first, of a campaign and in a status when given.
func (db *DB) PacedBroadcasts(ctx context.Context, campaign string, status broadcast.Status, limit int) ([]broadcast.Broadcast, error) {
	rows, err := db.rq.QueryContext(ctx, `SELECT `+pacedColumns+` FROM paced_broadcasts
		WHERE (? = '' OR campaign = ?) AND (? = '' OR status = ?) ORDER BY at DESC, id DESC LIMIT ?`,
		campaign, campaign, string(status), string(status), noLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("sqlite: broadcasts: %w", convert(err))
	}
	defer rows.Close()
	var out []broadcast.Broadcast
	for rows.Next() {
		b, err := scanPaced(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: broadcasts: %w", convert(err))
		}
		out = append(out, b)
	}
	return out, convert(rows.Err())
}

// BroadcastRecipientList returns a page of a broadcast's recipients in Seq order.
func (db *DB) BroadcastRecipientList(ctx context.Context, id, status string, after int64, limit int) ([]broadcast.Recipient, error) {
	rows, err := db.rq.QueryContext(ctx, `SELECT `+recipientColumns+` FROM broadcast_recipients
		WHERE broadcast_id = ? AND (? = '' OR status = ?) AND seq > ? ORDER BY seq LIMIT ?`,
		id, status, status, after, noLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("sqlite: recipients of broadcast %s: %w", id, convert(err))
	}
	out, err := scanRecipients(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlite: recipients of broadcast %s: %w", id, err)
	}
	return out, nil
}

// RecipientsOf returns the broadcast's recipients among the participants given.
func (db *DB) RecipientsOf(ctx context.Context, id string, participantIDs []string) ([]broadcast.Recipient, error) {
	var out []broadcast.Recipient
	err := eachAddressChunk(participantIDs, func(list string) error {
		rows, err := db.rq.QueryContext(ctx, `SELECT `+recipientColumns+` FROM broadcast_recipients
			WHERE broadcast_id = ? AND participant_id IN (SELECT value FROM json_each(?)) ORDER BY seq`, id, list)
		if err != nil {
			return err
		}
		rs, err := scanRecipients(rows)
		out = append(out, rs...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: recipients of broadcast %s: %w", id, convert(err))
	}
	slices.SortFunc(out, func(a, b broadcast.Recipient) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, nil
}

const recipientColumns = `seq, participant_id, channel, number, address, country, template,
	status, reason, released_at, outbox_id, updated_at`

func scanRecipients(rows *sql.Rows) ([]broadcast.Recipient, error) {
	defer rows.Close()
	var out []broadcast.Recipient
	for rows.Next() {
		var (
			r                 broadcast.Recipient
			released, updated int64
		)
		if err := rows.Scan(&r.Seq, &r.ParticipantID, &r.Channel, &r.Number, &r.Address, &r.Country, &r.Template,
			&r.Status, &r.Reason, &released, &r.OutboxID, &updated); err != nil {
			return nil, convert(err)
		}
		r.ReleasedAt, r.UpdatedAt = fromUnixNano(released), fromUnixNano(updated)
		out = append(out, r)
	}
	return out, convert(rows.Err())
}

// ReleaseRecipients settles waiting recipients and queues their messages in one
// transaction: a recipient no longer waiting is left alone, its message not queued.
func (db *DB) ReleaseRecipients(ctx context.Context, id string, rs []broadcast.Recipient, out []engine.Outbound) (int, error) {
	if len(out) != len(rs) {
		return 0, fmt.Errorf("sqlite: release recipients of %s: %w: %d messages for %d recipients", id, errs.ErrInvalid, len(out), len(rs))
	}
	var settled int
	err := db.write(ctx, func(tx *wtx) error {
		settled = 0 // fn may run twice
		for i, r := range rs {
			res, err := tx.ExecContext(ctx, `UPDATE broadcast_recipients SET status = ?, reason = ?, template = ?,
				number = ?, released_at = ?, updated_at = ? WHERE broadcast_id = ? AND seq = ? AND status = ?`,
				r.Status, r.Reason, r.Template, r.Number, unixNano(r.ReleasedAt), unixNano(r.UpdatedAt), id, r.Seq, broadcast.RecipientWaiting)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			if n == 0 {
				continue
			}
			settled++
			if out[i].Channel == "" {
				continue
			}
			if err := insertOutbound(ctx, tx, out[i]); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `UPDATE broadcast_recipients SET outbox_id = last_insert_rowid()
				WHERE broadcast_id = ? AND seq = ?`, id, r.Seq)
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: release recipients of %s: %w", id, convert(err))
	}
	return settled, nil
}

// FailRecipient records a released recipient's refusal.
func (db *DB) FailRecipient(ctx context.Context, id, participantID, reason string, at time.Time) error {
	var n int64
	err := db.writeOne(ctx, func(tx *wtx) error {
		res, err := tx.ExecContext(ctx, `UPDATE broadcast_recipients SET status = ?, reason = ?, updated_at = ?
			WHERE broadcast_id = ? AND participant_id = ?`, broadcast.RecipientFailed, reason, unixNano(at), id, participantID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err == nil && n == 0 {
		err = errs.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlite: fail recipient of %s: %w", id, convert(err))
	}
	return nil
}

// ReachedOutsideWindow counts the unique addresses a number sent a broadcast's template to
// since since.
func (db *DB) ReachedOutsideWindow(ctx context.Context, channel, number string, since time.Time) (int, error) {
	var n int
	err := db.rq.QueryRowContext(ctx, `SELECT COUNT(DISTINCT address) FROM broadcast_recipients
		INDEXED BY broadcast_recipients_reached
		WHERE channel = ? AND number = ? AND released_at >= ? AND template = 1 AND released_at > 0`,
		channel, number, unixNano(since)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlite: reached on %s: %w", number, convert(err))
	}
	return n, nil
}

// ReleasedTo counts the broadcast messages released to each address since since.
func (db *DB) ReleasedTo(ctx context.Context, channel string, addresses []string, since time.Time) (map[string]int, error) {
	out := map[string]int{}
	err := eachAddressChunk(addresses, func(list string) error {
		rows, err := db.rq.QueryContext(ctx, `SELECT address, COUNT(*) FROM broadcast_recipients
			WHERE channel = ? AND address IN (SELECT value FROM json_each(?)) AND released_at >= ? AND released_at > 0
			GROUP BY address`, channel, list, unixNano(since))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				a string
				n int
			)
			if err := rows.Scan(&a, &n); err != nil {
				return err
			}
			out[a] = n
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: broadcasts released on %s: %w", channel, convert(err))
	}
	return out, nil
}

// RefusedSince reports the addresses whose broadcast message failed with reason since since.
func (db *DB) RefusedSince(ctx context.Context, channel string, addresses []string, reason string, since time.Time) (map[string]bool, error) {
	out := map[string]bool{}
	err := eachAddressChunk(addresses, func(list string) error {
		rows, err := db.rq.QueryContext(ctx, `SELECT DISTINCT address FROM broadcast_recipients
			WHERE channel = ? AND address IN (SELECT value FROM json_each(?)) AND status = ? AND reason = ?
			AND updated_at >= ?`, channel, list, broadcast.RecipientFailed, reason, unixNano(since))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a string
			if err := rows.Scan(&a); err != nil {
				return err
			}
			out[a] = true
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: refusals on %s: %w", channel, convert(err))
	}
	return out, nil
}

// eachAddressChunk calls fn with the addresses as JSON arrays of at most 500.
func eachAddressChunk(addresses []string, fn func(list string) error) error {
	for start := 0; start < len(addresses); start += 500 {
		b, err := json.Marshal(addresses[start:min(start+500, len(addresses))])
		if err != nil {
			return err
		}
		if err := fn(string(b)); err != nil {
			return err
		}
	}
	return nil
}

// AddNotification stores a notification for the moderators and admins that concerns no
// participant (a paused broadcast); one that names a participant who is not there (erased
// meanwhile) is errs.ErrNotFound.
func (db *DB) AddNotification(ctx context.Context, n engine.Notification) error {
	err := db.writeOne(ctx, func(tx *wtx) error {
		if err := participantExists(ctx, tx, n.ParticipantID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO notifications (campaign, participant_id, text, at) VALUES (?, ?, ?, ?)`,
			n.Campaign, nullString(n.ParticipantID), n.Text, unixNano(n.At))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: add notification: %w", convert(err))
	}
	return nil
}
