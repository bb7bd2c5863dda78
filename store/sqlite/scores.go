package sqlite

import (
	"context"
	"fmt"

	"github.com/chatcampaigns/campaign/judge"
)

var _ judge.Scores = (*DB)(nil)

// SaveScorecard stores c, replacing every score c.Judge gave the entry before, in one
// transaction.
func (db *DB) SaveScorecard(ctx context.Context, c judge.Scorecard) error {
	err := db.write(ctx, func(tx *wtx) error {
		// The first score's time survives the change: a score lock counts from it.
		given := unixNano(c.At)
		var first *int64
		if err := tx.QueryRowContext(ctx, `SELECT min(CASE WHEN given_at > 0 THEN given_at ELSE at END) FROM scores
			WHERE campaign = ? AND entry_id = ? AND judge = ?`, c.Campaign, c.EntryID, c.Judge).Scan(&first); err != nil {
			return err
		}
		if first != nil {
			given = *first
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM scores WHERE campaign = ? AND entry_id = ? AND judge = ?`,
			c.Campaign, c.EntryID, c.Judge); err != nil {
			return err
		}
		for name, v := range c.Scores {
			if _, err := tx.ExecContext(ctx, `INSERT INTO scores (campaign, entry_id, judge, criterion, score, at, given_at)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, c.Campaign, c.EntryID, c.Judge, name, v, unixNano(c.At), given); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: save scores of %s on %s: %w", c.Judge, c.EntryID, convert(err))
	}
	return nil
}

// Scorecards returns the scorecards of a campaign, or of one of its entries, ordered by entry
// id, then judge.
func (db *DB) Scorecards(ctx context.Context, campaign, entryID string) ([]judge.Scorecard, error) {
	q := `SELECT entry_id, judge, criterion, score, at, given_at FROM scores WHERE campaign = ?`
	args := []any{campaign}
	if entryID != "" {
		q += ` AND entry_id = ?`
		args = append(args, entryID)
	}
	rows, err := db.rq.QueryContext(ctx, q+` ORDER BY entry_id, judge, criterion`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: scorecards of %s: %w", campaign, convert(err))
	}
	defer rows.Close()
	out := []judge.Scorecard{}
	for rows.Next() {
		var (
			entry, by, criterion string
			v                    int
			at, given            int64
		)
		if err := rows.Scan(&entry, &by, &criterion, &v, &at, &given); err != nil {
			return nil, fmt.Errorf("sqlite: scorecards of %s: %w", campaign, convert(err))
		}
		if n := len(out); n == 0 || out[n-1].EntryID != entry || out[n-1].Judge != by {
			out = append(out, judge.Scorecard{Campaign: campaign, EntryID: entry, Judge: by, Scores: map[string]int{}})
		}
		c := &out[len(out)-1]
		c.Scores[criterion] = v
		if t := fromUnixNano(at); t.After(c.At) {
			c.At = t
		}
		if given == 0 {
			given = at
		}
		if t := fromUnixNano(given); c.Given.IsZero() || t.Before(c.Given) {
			c.Given = t
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: scorecards of %s: %w", campaign, convert(err))
	}
	return out, nil
}
