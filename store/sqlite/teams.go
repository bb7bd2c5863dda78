package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// CreateTeam stores a new team with its first member, or nothing (see engine.TeamStore).
func (db *DB) CreateTeam(ctx context.Context, t engine.Team) error {
	if t.ID == "" || t.Campaign == "" || t.Code == "" || len(t.Members) != 1 {
		return fmt.Errorf("sqlite: create team: %w: want an id, a campaign, a code and one member", errs.ErrInvalid)
	}
	err := db.write(ctx, func(tx *wtx) error {
		var n int
		err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM teams WHERE campaign = ? AND code = ?`,
			t.Campaign, t.Code).Scan(&n)
		if err != nil {
			return err
		}
		if n > 0 {
			return engine.ErrTeamCodeTaken
		}
		err = tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM teams WHERE campaign = ? AND name_key = ?`,
			t.Campaign, engine.TeamNameKey(t.Name)).Scan(&n)
		if err != nil {
			return err
		}
		if n > 0 {
			return engine.ErrTeamNameTaken
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO teams (id, campaign, channel, name, name_key, code, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.Campaign, t.Channel, t.Name, engine.TeamNameKey(t.Name), t.Code, unixNano(t.CreatedAt)); err != nil {
			return err
		}
		return addMember(ctx, tx, t.Campaign, t.Channel, t.ID, t.Members[0])
	})
	if err != nil {
		return fmt.Errorf("sqlite: create team %q in %s: %w", t.Name, t.Campaign, convertTeam(err))
	}
	return nil
}

// addMember puts member in team, failing with engine.ErrInTeam when they are in one already.
func addMember(ctx context.Context, tx *wtx, campaign, channel, team, member string) error {
	var joined int
	err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(joined), 0) FROM team_members WHERE team_id = ?`, team).Scan(&joined)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `
		INSERT INTO team_members (campaign, channel, member, team_id, joined) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`, campaign, channel, member, team, joined+1)
	if err != nil {
		return err
	}
	return noRow(res, engine.ErrInTeam)
}

// JoinTeam adds member to the team with code unless it has max members (see engine.TeamStore).
func (db *DB) JoinTeam(ctx context.Context, campaign, channel, code, member string, max int) (engine.Team, error) {
	var t engine.Team
	err := db.write(ctx, func(tx *wtx) error {
		var err error
		t, err = team(ctx, tx, `WHERE campaign = ? AND code = ?`, campaign, code)
		if err != nil {
			return err
		}
		for _, m := range t.Members {
			if m == member {
				return nil
			}
		}
		if max > 0 && len(t.Members) >= max {
			return engine.ErrTeamFull
		}
		if err := addMember(ctx, tx, campaign, channel, t.ID, member); err != nil {
			return err
		}
		t.Members = append(t.Members, member)
		return nil
	})
	if err != nil {
		return engine.Team{}, fmt.Errorf("sqlite: join team %s in %s: %w", code, campaign, convertTeam(err))
	}
	return t, nil
}

// TeamOf returns member's team in campaign on channel.
func (db *DB) TeamOf(ctx context.Context, campaign, channel, member string) (engine.Team, error) {
	t, err := team(ctx, db.rq, `WHERE id = (SELECT team_id FROM team_members WHERE campaign = ? AND channel = ? AND member = ?)`,
		campaign, channel, member)
	if err != nil {
		return engine.Team{}, fmt.Errorf("sqlite: team of %s in %s: %w", member, campaign, convert(err))
	}
	return t, nil
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// team reads one team and its members.
func team(ctx context.Context, q querier, where string, args ...any) (engine.Team, error) {
	var (
		t       engine.Team
		created int64
	)
	err := q.QueryRowContext(ctx, `SELECT id, campaign, channel, name, code, created_at FROM teams `+where, args...).
		Scan(&t.ID, &t.Campaign, &t.Channel, &t.Name, &t.Code, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return t, errs.ErrNotFound
	}
	if err != nil {
		return t, err
	}
	t.CreatedAt = fromUnixNano(created)
	rows, err := q.QueryContext(ctx, `SELECT member FROM team_members WHERE team_id = ? ORDER BY joined`, t.ID)
	if err != nil {
		return t, err
	}
	defer rows.Close()
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return t, err
		}
		t.Members = append(t.Members, m)
	}
	return t, rows.Err()
}

// convertTeam keeps the engine's team errors as they are. Names and codes are checked inside
// the write, and the store has one writer, so their UNIQUE constraints are a safety net only.
func convertTeam(err error) error {
	for _, e := range []error{engine.ErrTeamCodeTaken, engine.ErrTeamNameTaken, engine.ErrTeamFull, engine.ErrInTeam} {
		if errors.Is(err, e) {
			return err
		}
	}
	return convert(err)
}

// MarkRound records a round event, keeping the later time for one marked before.
func (db *DB) MarkRound(ctx context.Context, m engine.RoundMark) error {
	err := db.write(ctx, func(tx *wtx) error {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO round_marks (campaign, round, event, at) VALUES (?, ?, ?, ?)
			ON CONFLICT (campaign, round, event) DO UPDATE SET at = MAX(at, excluded.at)`,
			m.Campaign, m.Round, m.Event, unixNano(m.At))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: mark round %s %s of %s: %w", m.Round, m.Event, m.Campaign, convert(err))
	}
	return nil
}

// RoundMarks returns a campaign's round marks, oldest first.
func (db *DB) RoundMarks(ctx context.Context, campaign string) ([]engine.RoundMark, error) {
	rows, err := db.rq.QueryContext(ctx, `SELECT round, event, at FROM round_marks WHERE campaign = ? ORDER BY at, round, event`, campaign)
	if err != nil {
		return nil, fmt.Errorf("sqlite: round marks of %s: %w", campaign, convert(err))
	}
	defer rows.Close()
	var out []engine.RoundMark
	for rows.Next() {
		m := engine.RoundMark{Campaign: campaign}
		var at int64
		if err := rows.Scan(&m.Round, &m.Event, &at); err != nil {
			return nil, fmt.Errorf("sqlite: round marks of %s: %w", campaign, convert(err))
		}
		m.At = fromUnixNano(at)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: round marks of %s: %w", campaign, convert(err))
	}
	return out, nil
}
