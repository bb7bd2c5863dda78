package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// maxMergedCampaigns bounds the campaigns everyCampaign merges in one statement (SQLite takes
// at most 500 terms in a compound SELECT).
const maxMergedCampaigns = 200

// everyCampaign builds the query of the newest participants of all campaigns matching where
// (with its arguments after), at most limit, newest first. No index orders participants by
// updated_at alone (migration 0025: every step of every participant would move its entry),
// so it reads one range of participants_campaign_recent per campaign and SQLite merges them,
// each range read in the index's order only as far as the merge asks. A first statement
// merges the ranges' times alone, which the index holds without the rows, and takes the
// oldest time among the newest limit: no row of the answer is older, so bounded by it the
// ranges of the second read, together, limit rows and those tied with the last. The
// campaigns come from an index on campaign, one seek each. It returns an empty query when
// nothing matches. Past maxMergedCampaigns campaigns it sorts every participant instead:
// correct, and as slow as that is.
func (db *DB) everyCampaign(ctx context.Context, where []string, after []any, limit int) (string, []any, error) {
	rows, err := db.rq.QueryContext(ctx, `WITH RECURSIVE c(campaign) AS (
			SELECT min(campaign) FROM participants
			UNION ALL
			SELECT (SELECT min(campaign) FROM participants WHERE campaign > c.campaign) FROM c WHERE c.campaign IS NOT NULL)
		SELECT campaign FROM c WHERE campaign IS NOT NULL LIMIT ?`, maxMergedCampaigns+1)
	if err != nil {
		return "", nil, fmt.Errorf("campaigns: %w", convert(err))
	}
	var campaigns []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return "", nil, fmt.Errorf("campaigns: %w", convert(err))
		}
		campaigns = append(campaigns, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return "", nil, fmt.Errorf("campaigns: %w", convert(err))
	}
	if len(campaigns) == 0 {
		return "", nil, nil
	}
	cond := ""
	if len(where) > 0 {
		cond = ` AND ` + strings.Join(where, " AND ")
	}
	var args []any
	if len(campaigns) > maxMergedCampaigns {
		q := `SELECT ` + participantColumns + `, seq FROM participants WHERE 1` + cond +
			` ORDER BY updated_at DESC, id DESC LIMIT ?`
		return q, append(append(args, after...), limit), nil
	}
	// The first statement: the time of the limit-th newest, from the index alone (the
	// cursor's tie-break on id reads a row only where the time equals the cursor's). Its
	// ranges have no LIMIT of their own: each is read in the index's order as the merge asks
	// for its next row, so together they read limit entries and one more each.
	var times []string
	for _, c := range campaigns {
		times = append(times, `SELECT updated_at FROM participants INDEXED BY participants_campaign_recent
			WHERE campaign = ?`+cond)
		args = append(append(args, c), after...)
	}
	var oldest sql.NullInt64
	err = db.rq.QueryRowContext(ctx, `SELECT min(updated_at) FROM (`+strings.Join(times, "\nUNION ALL\n")+`
		ORDER BY updated_at DESC LIMIT ?)`, append(args, limit)...).Scan(&oldest)
	if err != nil {
		return "", nil, fmt.Errorf("newest of every campaign: %w", convert(err))
	}
	if !oldest.Valid {
		return "", nil, nil
	}
	members := make([]string, len(campaigns))
	args = args[:0]
	for i, c := range campaigns {
		members[i] = `SELECT ` + participantColumns + `, seq FROM participants INDEXED BY participants_campaign_recent
			WHERE campaign = ? AND updated_at >= ?` + cond
		args = append(append(args, c, oldest.Int64), after...)
	}
	q := strings.Join(members, "\nUNION ALL\n") + `
		ORDER BY updated_at DESC, id DESC LIMIT ?`
	return q, append(args, limit), nil
}
