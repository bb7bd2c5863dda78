package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// AddCodes adds codes to a pool of codes after the ones it has; codes it has (compared without
// case) are left as they are.
func (db *DB) AddCodes(ctx context.Context, campaign, pool string, codes []string) (int, error) {
	added := 0
	err := db.write(ctx, func(tx *wtx) error {
		added = 0
		var seq int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM pool_codes WHERE campaign = ? AND pool = ?`,
			campaign, pool).Scan(&seq); err != nil {
			return err
		}
		for _, code := range codes {
			code = strings.TrimSpace(code)
			if code == "" {
				continue
			}
			res, err := tx.ExecContext(ctx, `
				INSERT INTO pool_codes (campaign, pool, code, seq) VALUES (?, ?, ?, ?)
				ON CONFLICT DO NOTHING`, campaign, pool, code, seq+1)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				continue
			}
			seq++
			added++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: add codes to %s/%s: %w", campaign, pool, convert(err))
	}
	return added, nil
}

// NextCode returns the first code of the pool not handed out yet.
func (db *DB) NextCode(ctx context.Context, campaign, pool string) (string, error) {
	var code string
	err := db.rq.QueryRowContext(ctx, `
		SELECT code FROM pool_codes WHERE campaign = ? AND pool = ? AND participant_id IS NULL
		ORDER BY seq LIMIT 1`, campaign, pool).Scan(&code)
	if err == sql.ErrNoRows {
		return "", fmt.Errorf("sqlite: pool %s/%s: no code left: %w", campaign, pool, errs.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: next code of %s/%s: %w", campaign, pool, convert(err))
	}
	return code, nil
}

// CodesLeft returns how many codes of the pool are not handed out yet, and how many it has.
func (db *DB) CodesLeft(ctx context.Context, campaign, pool string) (left, total int, err error) {
	err = db.rq.QueryRowContext(ctx, `
		SELECT COUNT(*), COALESCE(SUM(participant_id IS NULL), 0) FROM pool_codes WHERE campaign = ? AND pool = ?`,
		campaign, pool).Scan(&total, &left)
	if err != nil {
		return 0, 0, fmt.Errorf("sqlite: codes left in %s/%s: %w", campaign, pool, convert(err))
	}
	return left, total, nil
}

// claimCode hands one code to the participant, or fails with engine.ErrCodeClaimed when it was
// handed out before; the condition and the write are one statement in the step's transaction.
func claimCode(ctx context.Context, tx *wtx, participantID string, at int64, c engine.CodeClaim) error {
	res, err := tx.ExecContext(ctx, `
		UPDATE pool_codes SET participant_id = ?, claimed_at = ?
		WHERE campaign = ? AND pool = ? AND code = ? AND participant_id IS NULL`,
		participantID, at, c.Campaign, c.Pool, c.Code)
	if err != nil {
		return fmt.Errorf("claim code of %s: %w", c.Pool, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("code %s of pool %s: %w", c.Code, c.Pool, engine.ErrCodeClaimed)
	}
	return nil
}
