package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/chatcampaigns/campaign/judge"
)

var (
	_ judge.Leases = (*DB)(nil)
	_ judge.Panels = (*DB)(nil)
)

// inList is "(?, ?, …)" for n values and the values as arguments.
func inList(vals []string) (string, []any) {
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = v
	}
	return "(?" + strings.Repeat(", ?", len(vals)-1) + ")", args
}

// Holders returns who holds each of keys at now (judge.Leases); expired leases are absent.
func (db *DB) Holders(ctx context.Context, keys []string, now time.Time) (map[string]judge.Holder, error) {
	out := map[string]judge.Holder{}
	if len(keys) == 0 {
		return out, nil
	}
	in, args := inList(keys)
	// The list's length varies with the page, so the query is not one for the statement cache.
	rows, err := db.r.QueryContext(ctx, `SELECT key, owner, until FROM claims WHERE key IN `+in+` AND until >= ?`,
		append(args, unixNano(now))...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: holders of %d keys: %w", len(keys), convert(err))
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k, owner string
			until    int64
		)
		if err := rows.Scan(&k, &owner, &until); err != nil {
			return nil, fmt.Errorf("sqlite: holders of %d keys: %w", len(keys), convert(err))
		}
		out[k] = judge.Holder{Owner: owner, Until: fromUnixNano(until)}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: holders of %d keys: %w", len(keys), convert(err))
	}
	return out, nil
}

// Panels returns the seats and recusals of entries, by entry id (judge.Panels).
func (db *DB) Panels(ctx context.Context, entryIDs []string) (map[string]judge.Panel, error) {
	out := map[string]judge.Panel{}
	if len(entryIDs) == 0 {
		return out, nil
	}
	in, args := inList(entryIDs)
	rows, err := db.r.QueryContext(ctx, `SELECT entry_id, seat, campaign, judge, at FROM panel_seats
		WHERE entry_id IN `+in+` ORDER BY entry_id, seat`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: panels of %d entries: %w", len(entryIDs), convert(err))
	}
	defer rows.Close()
	for rows.Next() {
		var (
			s  judge.Seat
			at int64
		)
		if err := rows.Scan(&s.EntryID, &s.N, &s.Campaign, &s.Judge, &at); err != nil {
			return nil, fmt.Errorf("sqlite: panels: %w", convert(err))
		}
		s.At = fromUnixNano(at)
		p := out[s.EntryID]
		p.Seats = append(p.Seats, s)
		out[s.EntryID] = p
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: panels: %w", convert(err))
	}
	rows.Close()
	rows, err = db.r.QueryContext(ctx, `SELECT entry_id, judge, campaign, kind, reason, at FROM panel_recusals
		WHERE entry_id IN `+in+` ORDER BY entry_id, at, judge`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: recusals of %d entries: %w", len(entryIDs), convert(err))
	}
	defer rows.Close()
	for rows.Next() {
		var (
			r  judge.Recusal
			at int64
		)
		if err := rows.Scan(&r.EntryID, &r.Judge, &r.Campaign, &r.Kind, &r.Reason, &at); err != nil {
			return nil, fmt.Errorf("sqlite: recusals: %w", convert(err))
		}
		r.At = fromUnixNano(at)
		p := out[r.EntryID]
		p.Recusals = append(p.Recusals, r)
		out[r.EntryID] = p
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: recusals: %w", convert(err))
	}
	return out, nil
}

// AddSeat stores a seat; errs.ErrConflict when the seat number or the judge is taken on the
// entry (judge.Panels).
func (db *DB) AddSeat(ctx context.Context, s judge.Seat) error {
	err := db.write(ctx, func(tx *wtx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO panel_seats (entry_id, seat, campaign, judge, at) VALUES (?, ?, ?, ?, ?)`,
			s.EntryID, s.N, s.Campaign, s.Judge, unixNano(s.At))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: seat %s on entry %s: %w", s.Judge, s.EntryID, convert(err))
	}
	return nil
}

// Recuse stores a recusal; errs.ErrConflict when the judge recused on the entry before
// (judge.Panels).
func (db *DB) Recuse(ctx context.Context, r judge.Recusal) error {
	err := db.write(ctx, func(tx *wtx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO panel_recusals (entry_id, judge, campaign, kind, reason, at) VALUES (?, ?, ?, ?, ?, ?)`,
			r.EntryID, r.Judge, r.Campaign, r.Kind, r.Reason, unixNano(r.At))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: recusal of %s from entry %s: %w", r.Judge, r.EntryID, convert(err))
	}
	return nil
}

// Loads counts each judge's seats in a campaign, less those they declared a conflict on
// (judge.Panels).
func (db *DB) Loads(ctx context.Context, campaign string, judges []string) (map[string]int, error) {
	out := make(map[string]int, len(judges))
	for _, j := range judges {
		out[j] = 0
	}
	if len(judges) == 0 {
		return out, nil
	}
	in, args := inList(judges)
	rows, err := db.r.QueryContext(ctx, `SELECT s.judge, count(*) FROM panel_seats s
		WHERE s.campaign = ? AND s.judge IN `+in+` AND NOT EXISTS (SELECT 1 FROM panel_recusals r
			WHERE r.entry_id = s.entry_id AND r.judge = s.judge AND r.kind = ?)
		GROUP BY s.judge`, append(append([]any{campaign}, args...), judge.RecuseConflict)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: loads in %s: %w", campaign, convert(err))
	}
	defer rows.Close()
	for rows.Next() {
		var (
			j string
			n int
		)
		if err := rows.Scan(&j, &n); err != nil {
			return nil, fmt.Errorf("sqlite: loads in %s: %w", campaign, convert(err))
		}
		out[j] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: loads in %s: %w", campaign, convert(err))
	}
	return out, nil
}
