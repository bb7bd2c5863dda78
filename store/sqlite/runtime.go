package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// ParticipantsAt returns the participants writing from address on channel, in any campaign,
// most recently updated first.
func (db *DB) ParticipantsAt(ctx context.Context, channel, address string) ([]engine.Participant, error) {
	ps, ok, ticket := db.routes.get(channel, address)
	if ok {
		return ps, nil
	}
	// On the write connection (readOnWriter): every webhook from a participant not kept asks
	// this, and the step the webhook then writes changes the row read.
	err := db.readOnWriter(ctx, func(t *wtx) error {
		var err error
		ps, err = participantsFrom(ctx, t, `WHERE channel = ? AND address = ? ORDER BY updated_at DESC, rowid DESC`,
			channel, address)
		return err
	})
	if err != nil {
		db.routes.drop(channel, address, ticket)
		return nil, fmt.Errorf("sqlite: participants at %s/%s: %w", channel, address, err)
	}
	db.routes.put(channel, address, ps, ticket)
	return ps, nil
}

// Participants lists participants matching f in the order they joined.
func (db *DB) Participants(ctx context.Context, f engine.ParticipantFilter) ([]engine.Participant, error) {
	var (
		where []string
		args  []any
	)
	if f.Campaign != "" {
		where = append(where, "campaign = ?")
		args = append(args, f.Campaign)
	}
	if f.State != "" {
		where = append(where, "state = ?")
		args = append(args, f.State)
	}
	if f.Unfinished {
		where = append(where, "finished = 0")
	}
	if !f.WroteSince.IsZero() {
		where = append(where, "last_inbound_at >= ?")
		args = append(args, unixNano(f.WroteSince))
	}
	q := ""
	if len(where) > 0 {
		q = "WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, noLimit(f.Limit))
	ps, err := db.participants(ctx, q+` ORDER BY created_at, rowid LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list participants: %w", err)
	}
	return ps, nil
}

func (db *DB) participants(ctx context.Context, where string, args ...any) ([]engine.Participant, error) {
	return participantsFrom(ctx, db.rq, where, args...)
}

func participantsFrom(ctx context.Context, q querier, where string, args ...any) ([]engine.Participant, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+participantColumns+` FROM participants `+where, args...)
	if err != nil {
		return nil, convert(err)
	}
	defer rows.Close()
	var out []engine.Participant
	for rows.Next() {
		p, err := scanParticipant(rows)
		if err != nil {
			return nil, convert(err)
		}
		out = append(out, p)
	}
	return out, convert(rows.Err())
}

// StateCounts returns how many participants of a campaign are in each state.
func (db *DB) StateCounts(ctx context.Context, campaign string) (map[string]int, error) {
	rows, err := db.rq.QueryContext(ctx,
		`SELECT state, COUNT(*) FROM participants WHERE campaign = ? GROUP BY state`, campaign)
	if err != nil {
		return nil, fmt.Errorf("sqlite: state counts of %s: %w", campaign, convert(err))
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var (
			state string
			n     int
		)
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("sqlite: state counts of %s: %w", campaign, convert(err))
		}
		out[state] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: state counts of %s: %w", campaign, convert(err))
	}
	return out, nil
}

// PoolTaken returns how many places of a pool are taken; a pool never used has none taken.
func (db *DB) PoolTaken(ctx context.Context, campaign, pool string) (int, error) {
	var n int
	err := db.rq.QueryRowContext(ctx, `SELECT taken FROM pools WHERE campaign = ? AND pool = ?`,
		campaign, pool).Scan(&n)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: pool %s/%s: %w", campaign, pool, convert(err))
	}
	return n, nil
}

// SaveTimer stores a timer unless one with the same key exists.
func (db *DB) SaveTimer(ctx context.Context, t engine.Timer) error {
	if t.Key == "" {
		return fmt.Errorf("sqlite: save timer: %w: no key", errs.ErrInvalid)
	}
	err := db.write(ctx, func(tx *wtx) error {
		if err := participantExists(ctx, tx, t.ParticipantID); err != nil {
			return err
		}
		return insertTimer(ctx, tx, t)
	})
	if err != nil {
		return fmt.Errorf("sqlite: save timer %s: %w", t.Key, convert(err))
	}
	return nil
}

// DueTimers returns up to limit timers due at or before now, earliest first (all when limit
// <= 0).
func (db *DB) DueTimers(ctx context.Context, now time.Time, limit int) ([]engine.Timer, error) {
	rows, err := db.rq.QueryContext(ctx, `
		SELECT id, key, campaign, participant_id, transition, seq, round, round_event, due_at
		FROM timers WHERE due_at <= ? ORDER BY due_at, id LIMIT ?`, unixNano(now), noLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("sqlite: due timers: %w", convert(err))
	}
	defer rows.Close()
	var out []engine.Timer
	for rows.Next() {
		var (
			t   engine.Timer
			pid sql.NullString
			due int64
		)
		if err := rows.Scan(&t.ID, &t.Key, &t.Campaign, &pid, &t.Transition, &t.Seq, &t.Round,
			&t.RoundEvent, &due); err != nil {
			return nil, fmt.Errorf("sqlite: due timers: %w", convert(err))
		}
		t.ParticipantID = pid.String
		t.DueAt = fromUnixNano(due)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: due timers: %w", convert(err))
	}
	return out, nil
}

// StoreEvents stores events (duplicates ignored) and deletes timer timerID (unless 0) in one
// transaction. It fails with errs.ErrNotFound, storing nothing, when the timer is gone.
func (db *DB) StoreEvents(ctx context.Context, timerID int64, events []engine.Inbound) (int, error) {
	var n int
	err := db.write(ctx, func(tx *wtx) error {
		n = 0
		if timerID != 0 {
			res, err := tx.ExecContext(ctx, `DELETE FROM timers WHERE id = ?`, timerID)
			if err != nil {
				return err
			}
			if k, err := res.RowsAffected(); err != nil {
				return err
			} else if k == 0 {
				return fmt.Errorf("timer %d: %w", timerID, errs.ErrNotFound)
			}
		}
		for _, in := range events {
			_, dup, err := insertInbound(ctx, tx, in)
			if err != nil {
				return err
			}
			if !dup {
				n++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: store events: %w", convert(err))
	}
	return n, nil
}

// Enqueue queues replies outside any step, in one transaction.
func (db *DB) Enqueue(ctx context.Context, out []engine.Outbound) error {
	err := db.write(ctx, func(tx *wtx) error {
		for _, o := range out {
			if err := participantExists(ctx, tx, o.ParticipantID); err != nil {
				return err
			}
			if err := insertOutbound(ctx, tx, o); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: enqueue %d replies: %w", len(out), convert(err))
	}
	return nil
}

// BroadcastReport counts a broadcast's replies by status.
func (db *DB) BroadcastReport(ctx context.Context, id string) (engine.BroadcastReport, error) {
	rows, err := db.rq.QueryContext(ctx, `
		SELECT campaign, status, COUNT(*) FROM outbox WHERE broadcast_id = ? GROUP BY campaign, status`, id)
	if err != nil {
		return engine.BroadcastReport{}, fmt.Errorf("sqlite: broadcast %s: %w", id, convert(err))
	}
	defer rows.Close()
	r := engine.BroadcastReport{ID: id}
	for rows.Next() {
		var (
			status string
			n      int
		)
		if err := rows.Scan(&r.Campaign, &status, &n); err != nil {
			return engine.BroadcastReport{}, fmt.Errorf("sqlite: broadcast %s: %w", id, convert(err))
		}
		switch status {
		case engine.StatusPending:
			r.Pending += n
		case engine.StatusSent:
			r.Sent += n
		case engine.StatusFailed:
			r.Failed += n
		case engine.StatusCancelled:
			r.Cancelled += n
		}
		r.Total += n
	}
	if err := rows.Err(); err != nil {
		return engine.BroadcastReport{}, fmt.Errorf("sqlite: broadcast %s: %w", id, convert(err))
	}
	if r.Total == 0 {
		return engine.BroadcastReport{}, fmt.Errorf("sqlite: broadcast %s: %w", id, errs.ErrNotFound)
	}
	return r, nil
}

// Notifications returns up to limit notifications, newest first (all when limit <= 0).
func (db *DB) Notifications(ctx context.Context, campaign string, limit int) ([]engine.Notification, error) {
	q := `SELECT id, campaign, participant_id, text, at FROM notifications`
	var args []any
	if campaign != "" {
		q += ` WHERE campaign = ?`
		args = append(args, campaign)
	}
	args = append(args, noLimit(limit))
	rows, err := db.rq.QueryContext(ctx, q+` ORDER BY id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: notifications: %w", convert(err))
	}
	defer rows.Close()
	var out []engine.Notification
	for rows.Next() {
		var (
			n   engine.Notification
			pid sql.NullString
			at  int64
		)
		if err := rows.Scan(&n.ID, &n.Campaign, &pid, &n.Text, &at); err != nil {
			return nil, fmt.Errorf("sqlite: notifications: %w", convert(err))
		}
		n.ParticipantID = pid.String
		n.At = fromUnixNano(at)
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: notifications: %w", convert(err))
	}
	return out, nil
}

// SaveCampaign stores a definition version and sets the campaign's status. Saving a version
// stored before keeps its source and moves its At, so launching an older version again makes
// it the latest.
func (db *DB) SaveCampaign(ctx context.Context, r engine.CampaignRecord) error {
	if r.ID == "" || r.Version == "" || r.Status == "" {
		return fmt.Errorf("sqlite: save campaign: %w: id, version and status are required", errs.ErrInvalid)
	}
	if r.Source == nil {
		r.Source = []byte{}
	}
	err := db.write(ctx, func(tx *wtx) error {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO campaign_versions (id, version, file, source, at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (id, version) DO UPDATE SET at = excluded.at`,
			r.ID, r.Version, r.File, r.Source, unixNano(r.At))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `
			INSERT INTO campaign_status (id, status, updated_at, launched_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at`,
			r.ID, r.Status, unixNano(r.At), unixNano(r.At))
		if err != nil || r.Path == "" {
			return err
		}
		_, err = tx.ExecContext(ctx, `
			INSERT INTO campaign_files (path, id, version, hash, at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (path) DO UPDATE SET id = excluded.id, version = excluded.version,
				hash = excluded.hash, at = excluded.at`,
			r.Path, r.ID, r.Version, r.Hash, unixNano(r.At))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: save campaign %s/%s: %w", r.ID, r.Version, convert(err))
	}
	return nil
}

// SetCampaignStatus sets a stored campaign's status.
func (db *DB) SetCampaignStatus(ctx context.Context, id, status string, at time.Time) error {
	err := db.write(ctx, func(tx *wtx) error {
		res, err := tx.ExecContext(ctx, `UPDATE campaign_status SET status = ?, updated_at = ? WHERE id = ?`,
			status, unixNano(at), id)
		if err != nil {
			return err
		}
		return noRow(res, errs.ErrNotFound)
	})
	if err != nil {
		return fmt.Errorf("sqlite: set status of campaign %s: %w", id, convert(err))
	}
	return nil
}

// Campaigns returns each campaign's latest version and the older versions unfinished
// participants still play, oldest first per campaign.
func (db *DB) Campaigns(ctx context.Context) ([]engine.CampaignRecord, error) {
	rows, err := db.rq.QueryContext(ctx, `
		SELECT v.id, v.version, v.file, v.source, v.at, COALESCE(s.status, ''), COALESCE(s.launched_at, 0)
		FROM campaign_versions v LEFT JOIN campaign_status s ON s.id = v.id
		WHERE NOT EXISTS (SELECT 1 FROM campaign_versions l
				WHERE l.id = v.id AND (l.at > v.at OR (l.at = v.at AND l.seq > v.seq)))
			OR EXISTS (SELECT 1 FROM participants p
				WHERE p.campaign = v.id AND p.def_version = v.version AND p.finished = 0)
		ORDER BY v.id, v.at, v.seq`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: campaigns: %w", convert(err))
	}
	defer rows.Close()
	var out []engine.CampaignRecord
	for rows.Next() {
		var (
			r            engine.CampaignRecord
			at, launched int64
		)
		if err := rows.Scan(&r.ID, &r.Version, &r.File, &r.Source, &at, &r.Status, &launched); err != nil {
			return nil, fmt.Errorf("sqlite: campaigns: %w", convert(err))
		}
		r.At = fromUnixNano(at)
		if launched != 0 {
			r.Launched = fromUnixNano(launched)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: campaigns: %w", convert(err))
	}
	return out, nil
}

// LoadedFile returns the version last stored from the file at path.
func (db *DB) LoadedFile(ctx context.Context, path string) (engine.CampaignRecord, error) {
	var (
		r            engine.CampaignRecord
		at, launched int64
	)
	err := db.rq.QueryRowContext(ctx, `
		SELECT f.id, f.version, f.path, f.hash, f.at, COALESCE(s.launched_at, 0)
		FROM campaign_files f LEFT JOIN campaign_status s ON s.id = f.id
		WHERE f.path = ?`, path).Scan(&r.ID, &r.Version, &r.Path, &r.Hash, &at, &launched)
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("sqlite: loaded file %s: %w", path, errs.ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("sqlite: loaded file %s: %w", path, convert(err))
	}
	r.At = fromUnixNano(at)
	if launched != 0 {
		r.Launched = fromUnixNano(launched)
	}
	return r, nil
}

// participantExists is errs.ErrNotFound when id names no participant ("" names none and is
// fine). The writer does not enforce foreign keys (Open): a write outside a step, which has
// not just written its participant, checks that the row it refers to is there, so that
// nothing is queued for someone erased meanwhile.
func participantExists(ctx context.Context, tx *wtx, id string) error {
	if id == "" {
		return nil
	}
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM participants WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("participant %s: %w", id, errs.ErrNotFound)
	}
	return err
}
