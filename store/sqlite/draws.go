package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/chatcampaigns/campaign/draw"
	"github.com/chatcampaigns/campaign/errs"
)

var _ draw.Store = (*DB)(nil)

// CreateDraw stores a new, open draw.
func (db *DB) CreateDraw(ctx context.Context, r draw.Record) error {
	err := db.writeOne(ctx, func(tx *wtx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO draws (campaign, name, status, algorithm, winners, eligible,
			eligible_sha256, seed, seed_sha256, committed_by, committed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.Campaign, r.Name, r.Status, r.Algorithm, r.Winners, draw.ListText(r.Eligible), r.EligibleSHA256,
			r.Seed, r.SeedSHA256, r.CommittedBy, unixNano(r.CommittedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: create draw %s/%s: %w", r.Campaign, r.Name, convert(err))
	}
	return nil
}

const drawColumns = `campaign, name, status, algorithm, winners, eligible, eligible_sha256, seed, seed_sha256,
	committed_by, committed_at, closed_by, closed_at, drawn`

func scanDraw(row interface{ Scan(...any) error }) (draw.Record, error) {
	var (
		r                     draw.Record
		eligible, drawn       string
		committedAt, closedAt int64
	)
	if err := row.Scan(&r.Campaign, &r.Name, &r.Status, &r.Algorithm, &r.Winners, &eligible, &r.EligibleSHA256,
		&r.Seed, &r.SeedSHA256, &r.CommittedBy, &committedAt, &r.ClosedBy, &closedAt, &drawn); err != nil {
		return r, err
	}
	r.Eligible, r.Drawn = lines(eligible), lines(drawn)
	r.CommittedAt = fromUnixNano(committedAt)
	if closedAt != 0 {
		r.ClosedAt = fromUnixNano(closedAt)
	}
	return r, nil
}

// lines splits text written by draw.ListText.
func lines(text string) []string {
	list, _ := draw.ReadList(strings.NewReader(text))
	if len(list) == 0 {
		return nil
	}
	return list
}

// Draw returns one draw.
func (db *DB) Draw(ctx context.Context, campaign, name string) (draw.Record, error) {
	r, err := scanDraw(db.rq.QueryRowContext(ctx, `SELECT `+drawColumns+` FROM draws WHERE campaign = ? AND name = ?`, campaign, name))
	if err != nil {
		return draw.Record{}, fmt.Errorf("sqlite: draw %s/%s: %w", campaign, name, convert(err))
	}
	return r, nil
}

// Draws lists a campaign's draws, oldest commitment first.
func (db *DB) Draws(ctx context.Context, campaign string) ([]draw.Record, error) {
	rows, err := db.rq.QueryContext(ctx, `SELECT `+drawColumns+` FROM draws WHERE campaign = ? ORDER BY committed_at, name`, campaign)
	if err != nil {
		return nil, fmt.Errorf("sqlite: draws of %s: %w", campaign, convert(err))
	}
	defer rows.Close()
	out := []draw.Record{}
	for rows.Next() {
		r, err := scanDraw(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: draws of %s: %w", campaign, convert(err))
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: draws of %s: %w", campaign, convert(err))
	}
	return out, nil
}

// CloseDraw records the winners of an open draw, once.
func (db *DB) CloseDraw(ctx context.Context, campaign, name string, drawn []string, by string, at time.Time) error {
	err := db.write(ctx, func(tx *wtx) error {
		var closedAt int64
		err := tx.QueryRowContext(ctx, `SELECT closed_at FROM draws WHERE campaign = ? AND name = ?`, campaign, name).Scan(&closedAt)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.ErrNotFound
		}
		if err != nil {
			return err
		}
		if closedAt != 0 {
			return fmt.Errorf("%w: the draw closed before", errs.ErrConflict)
		}
		_, err = tx.ExecContext(ctx, `UPDATE draws SET closed_by = ?, closed_at = ?, drawn = ? WHERE campaign = ? AND name = ?`,
			by, unixNano(at), draw.ListText(drawn), campaign, name)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: close draw %s/%s: %w", campaign, name, convert(err))
	}
	return nil
}
