package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/chatcampaigns/campaign/audit"
)

var _ audit.Store = (*DB)(nil)

// AppendAudit adds e to the audit trail with the next id.
func (db *DB) AppendAudit(ctx context.Context, e audit.Event) (int64, error) {
	var id int64
	err := db.write(ctx, func(tx *wtx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO audit (at, actor, action, campaign, participant_id, entry_id, subject, detail)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			unixNano(e.At), e.Actor, e.Action, e.Campaign, e.ParticipantID, e.EntryID, e.Subject, e.Detail).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: append audit %s: %w", e.Action, convert(err))
	}
	return id, nil
}

// AuditEvents returns the events matching q, oldest first.
func (db *DB) AuditEvents(ctx context.Context, q audit.Query) ([]audit.Event, error) {
	where, args := []string{"id > ?"}, []any{q.AfterID}
	for _, f := range []struct{ col, v string }{{"campaign", q.Campaign}, {"participant_id", q.ParticipantID}, {"entry_id", q.EntryID}} {
		if f.v != "" {
			where = append(where, f.col+" = ?")
			args = append(args, f.v)
		}
	}
	limit := q.Limit
	if limit <= 0 {
		limit = audit.DefaultLimit
	}
	rows, err := db.rq.QueryContext(ctx, `SELECT id, at, actor, action, campaign, participant_id, entry_id, subject, detail
		FROM audit WHERE `+strings.Join(where, " AND ")+` ORDER BY id LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: audit events: %w", convert(err))
	}
	defer rows.Close()
	out := []audit.Event{}
	for rows.Next() {
		var (
			e  audit.Event
			at int64
		)
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Campaign, &e.ParticipantID, &e.EntryID, &e.Subject, &e.Detail); err != nil {
			return nil, fmt.Errorf("sqlite: audit events: %w", convert(err))
		}
		e.At = fromUnixNano(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: audit events: %w", convert(err))
	}
	return out, nil
}
