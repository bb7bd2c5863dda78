package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/reports"
)

// Assign assigns a conversation to a.User, or to nobody when a.User is empty. The campaign is
// the participant's own; an unknown participant fails with errs.ErrNotFound.
func (db *DB) Assign(ctx context.Context, a reports.Assignment) error {
	err := db.write(ctx, func(tx *wtx) error {
		var campaign string
		switch err := tx.QueryRowContext(ctx, `SELECT campaign FROM participants WHERE id = ?`, a.ParticipantID).Scan(&campaign); {
		case errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("participant %s: %w", a.ParticipantID, errs.ErrNotFound)
		case err != nil:
			return err
		}
		if a.User == "" {
			_, err := tx.ExecContext(ctx, `DELETE FROM assignments WHERE participant_id = ?`, a.ParticipantID)
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO assignments (participant_id, campaign, username, by, at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (participant_id) DO UPDATE SET username = excluded.username, by = excluded.by, at = excluded.at`,
			a.ParticipantID, campaign, a.User, a.By, unixNano(a.At))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: assign %s to %q: %w", a.ParticipantID, a.User, convert(err))
	}
	return nil
}

// Assignment returns whom a conversation is assigned to; the zero Assignment (with the
// participant's id) when nobody.
func (db *DB) Assignment(ctx context.Context, participantID string) (reports.Assignment, error) {
	a := reports.Assignment{ParticipantID: participantID}
	var at int64
	err := db.rq.QueryRowContext(ctx, `SELECT campaign, username, by, at FROM assignments WHERE participant_id = ?`,
		participantID).Scan(&a.Campaign, &a.User, &a.By, &at)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return a, nil
	case err != nil:
		return a, fmt.Errorf("sqlite: assignment of %s: %w", participantID, convert(err))
	}
	a.At = fromUnixNano(at)
	return a, nil
}

// assignees returns the assignee of each of the conversations ids that has one.
func (db *DB) assignees(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := db.rq.QueryContext(ctx, `SELECT participant_id, username FROM assignments
		WHERE participant_id IN (`+strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: assignees: %w", convert(err))
	}
	defer rows.Close()
	for rows.Next() {
		var id, user string
		if err := rows.Scan(&id, &user); err != nil {
			return nil, fmt.Errorf("sqlite: assignees: %w", convert(err))
		}
		out[id] = user
	}
	return out, convert(rows.Err())
}

// RoundCounts counts a campaign's participants by the last round that started for them and
// whether they finished, for each of rounds (the definition's, in its order; a round nobody got
// to is left out). Each round is one range of the index on campaign and round, read from the
// index alone: only participants that played a round have an entry in it.
func (db *DB) RoundCounts(ctx context.Context, campaign string, rounds []string) ([]reports.RoundCount, error) {
	var out []reports.RoundCount
	for _, round := range rounds {
		var n, finished int
		// One equality on the indexed round per round counts from the index without reading
		// each participant's row; the condition repeated is what lets SQLite use the partial
		// index.
		err := db.rq.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(finished), 0) FROM participants INDEXED BY participants_round
			WHERE campaign = ? AND round = ? AND round != ''`,
			campaign, round).Scan(&n, &finished)
		if err != nil {
			return nil, fmt.Errorf("sqlite: round counts of %s: %w", campaign, convert(err))
		}
		if n > 0 {
			out = append(out, reports.RoundCount{Round: round, Playing: n - finished, Out: finished})
		}
	}
	return out, nil
}
