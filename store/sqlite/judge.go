package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/judge"
)

const entryColumns = `id, campaign, participant_id, state, kind, media_key, thumb_key, mime, caption,
	location, created_at, status, decided_by, decided_at, reason`

func scanEntry(row interface{ Scan(...any) error }) (judge.Entry, error) {
	var (
		e                  judge.Entry
		created, decidedAt int64
	)
	err := row.Scan(&e.ID, &e.Campaign, &e.ParticipantID, &e.State, &e.Kind, &e.MediaKey,
		&e.ThumbKey, &e.MIME, &e.Caption, &e.Location, &created, &e.Status, &e.DecidedBy, &decidedAt, &e.Reason)
	if err != nil {
		return judge.Entry{}, err
	}
	e.CreatedAt = fromUnixNano(created)
	e.DecidedAt = fromUnixNano(decidedAt)
	return e, nil
}

// Entries lists entries matching f, newest first (all matches when f.Limit <= 0).
func (db *DB) Entries(ctx context.Context, f judge.Filter) ([]judge.Entry, error) {
	var (
		where []string
		args  []any
	)
	if f.Campaign != "" {
		where = append(where, "campaign = ?")
		args = append(args, f.Campaign)
	}
	if f.Status != "" {
		where = append(where, "status = ?")
		args = append(args, f.Status)
	}
	q := `SELECT ` + entryColumns + ` FROM entries`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	// rowid breaks ties between entries created in the same instant, in insertion order.
	q += ` ORDER BY created_at DESC, rowid DESC LIMIT ?`
	args = append(args, noLimit(f.Limit))
	rows, err := db.rq.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list entries: %w", convert(err))
	}
	defer rows.Close()
	var out []judge.Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list entries: %w", convert(err))
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list entries: %w", convert(err))
	}
	return out, nil
}

// Entry returns one entry, or an error wrapping errs.ErrNotFound.
func (db *DB) Entry(ctx context.Context, id string) (judge.Entry, error) {
	e, err := scanEntry(db.rq.QueryRowContext(ctx, `SELECT `+entryColumns+` FROM entries WHERE id = ?`, id))
	if err != nil {
		return judge.Entry{}, fmt.Errorf("sqlite: entry %s: %w", id, convert(err))
	}
	return e, nil
}

// Decide records d on a pending entry and stores ev as an inbound event in the same
// transaction, so a verdict and the participant hearing of it happen together or not at all.
// It fails with errs.ErrNotFound for an unknown entry and errs.ErrConflict for one already
// decided, and then changes nothing. ev follows SaveInbound's dedupe rule.
func (db *DB) Decide(ctx context.Context, d judge.Decision, ev engine.Inbound) error {
	err := db.write(ctx, func(tx *wtx) error {
		res, err := tx.ExecContext(ctx, `
			UPDATE entries SET status = ?, decided_by = ?, decided_at = ?, reason = ?
			WHERE id = ? AND status = 'pending'`,
			d.Verdict, d.By, unixNano(d.At), d.Reason, d.EntryID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			var status, by string
			err := tx.QueryRowContext(ctx, `SELECT status, decided_by FROM entries WHERE id = ?`, d.EntryID).
				Scan(&status, &by)
			if err != nil {
				return convert(err)
			}
			return fmt.Errorf("%w: already %s by %s", errs.ErrConflict, status, by)
		}
		_, _, err = insertInbound(ctx, tx, ev)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: decide entry %s: %w", d.EntryID, convert(err))
	}
	return nil
}
