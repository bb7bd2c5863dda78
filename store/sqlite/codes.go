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
// case) are left as they are. The codes the pool has are read first, on a read connection, so
// loading an unchanged file at a start writes nothing; the new ones are written in parts of
// codesPerWrite, so that the participants' steps, which share the one writer, wait at most for
// one part of a long file rather than for all of it.
func (db *DB) AddCodes(ctx context.Context, campaign, pool string, codes []string) (int, error) {
	known, err := db.poolCodes(ctx, campaign, pool)
	if err != nil {
		return 0, fmt.Errorf("sqlite: add codes to %s/%s: %w", campaign, pool, convert(err))
	}
	var fresh []string
	for _, code := range codes {
		code = strings.TrimSpace(code)
		if k := foldASCII(code); code != "" && !known[k] {
			known[k] = true
			fresh = append(fresh, code)
		}
	}
	added := 0
	for i := 0; i < len(fresh); i += codesPerWrite {
		n, err := db.addCodes(ctx, campaign, pool, fresh[i:min(i+codesPerWrite, len(fresh))])
		added += n
		if err != nil {
			return added, fmt.Errorf("sqlite: add codes to %s/%s: %w", campaign, pool, convert(err))
		}
	}
	return added, nil
}

// codesPerWrite is how many codes one write of AddCodes stores, and codesPerInsert how many
// one statement does (four parameters each, far below SQLite's limit).
const (
	codesPerWrite  = 5000
	codesPerInsert = 250
)

var insertCodes = "INSERT INTO pool_codes (campaign, pool, code, seq) VALUES " +
	strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?), ", codesPerInsert), ", ") + " ON CONFLICT DO NOTHING"

// addCodes writes one part of AddCodes, after the codes the pool has. Another process loading
// the same file at the same time writes the same codes: the primary key keeps one of each.
func (db *DB) addCodes(ctx context.Context, campaign, pool string, codes []string) (int, error) {
	added := 0
	err := db.write(ctx, func(tx *wtx) error {
		added = 0
		var seq int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM pool_codes WHERE campaign = ? AND pool = ?`,
			campaign, pool).Scan(&seq); err != nil {
			return err
		}
		insert := func(query string, codes []string) error {
			args := make([]any, 0, 4*len(codes))
			for _, code := range codes {
				seq++
				args = append(args, campaign, pool, code, seq)
			}
			res, err := tx.ExecContext(ctx, query, args...)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			added += int(n)
			return err
		}
		for len(codes) >= codesPerInsert {
			if err := insert(insertCodes, codes[:codesPerInsert]); err != nil {
				return err
			}
			codes = codes[codesPerInsert:]
		}
		// The rest one by one: a statement for each length would fill the statement cache.
		for i := range codes {
			if err := insert(`INSERT INTO pool_codes (campaign, pool, code, seq) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, codes[i:i+1]); err != nil {
				return err
			}
		}
		return nil
	})
	return added, err
}

// poolCodes returns the codes a pool has, folded as the code column compares them.
func (db *DB) poolCodes(ctx context.Context, campaign, pool string) (map[string]bool, error) {
	rows, err := db.rq.QueryContext(ctx, `SELECT code FROM pool_codes WHERE campaign = ? AND pool = ?`, campaign, pool)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	known := map[string]bool{}
	for rows.Next() {
		var code string
		if err := rows.Scan(&code); err != nil {
			return nil, err
		}
		known[foldASCII(code)] = true
	}
	return known, rows.Err()
}

// foldASCII is code as SQLite's NOCASE collation compares it: ASCII letters in lower case,
// every other character as it is.
func foldASCII(code string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, code)
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
	return noRow(res, fmt.Errorf("code %s of pool %s: %w", c.Code, c.Pool, engine.ErrCodeClaimed))
}
