package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/chatcampaigns/campaign/accounts"
	"github.com/chatcampaigns/campaign/errs"
)

// CreateUser stores a new user and returns it with its ID; errs.ErrConflict if the username is
// taken.
func (db *DB) CreateUser(ctx context.Context, u accounts.User) (accounts.User, error) {
	hash := u.PasswordHash
	if hash == nil {
		hash = []byte{}
	}
	u.Teams, u.Campaigns = normTeams(u.Teams), normTeams(u.Campaigns)
	err := db.write(ctx, func(tx *wtx) error {
		return tx.QueryRowContext(ctx, `
			INSERT INTO users (username, role, password_hash, created_at, teams, campaigns) VALUES (?, ?, ?, ?, ?, ?)
			RETURNING id`,
			u.Username, u.Role, hash, unixNano(u.CreatedAt), teamsJSON(u.Teams), teamsJSON(u.Campaigns)).Scan(&u.ID)
	})
	if err != nil {
		return accounts.User{}, fmt.Errorf("sqlite: create user %q: %w", u.Username, convert(err))
	}
	return u, nil
}

// userCols are the columns scanUser reads, in its order.
const userCols = `id, username, role, password_hash, created_at, teams, campaigns`

func scanUser(row interface{ Scan(...any) error }) (accounts.User, error) {
	var (
		u       accounts.User
		created int64
		teams   string
		camps   string
	)
	if err := row.Scan(&u.ID, &u.Username, &u.Role, &u.PasswordHash, &created, &teams, &camps); err != nil {
		return accounts.User{}, err
	}
	u.CreatedAt = fromUnixNano(created)
	if err := json.Unmarshal([]byte(teams), &u.Teams); err != nil {
		return accounts.User{}, fmt.Errorf("teams of %q: %w", u.Username, err)
	}
	u.Teams = normTeams(u.Teams)
	if err := json.Unmarshal([]byte(camps), &u.Campaigns); err != nil {
		return accounts.User{}, fmt.Errorf("campaigns of %q: %w", u.Username, err)
	}
	u.Campaigns = normTeams(u.Campaigns)
	return u, nil
}

// normTeams sorts and dedupes team (or campaign) names; none is nil, so a user reads back as written.
func normTeams(teams []string) []string {
	if len(teams) == 0 {
		return nil
	}
	out := slices.Clone(teams)
	slices.Sort(out)
	return slices.Compact(out)
}

func teamsJSON(teams []string) string {
	if teams == nil {
		return "[]"
	}
	b, _ := json.Marshal(teams) // a list of strings always marshals
	return string(b)
}

// UserByName returns a user, or an error wrapping errs.ErrNotFound.
func (db *DB) UserByName(ctx context.Context, username string) (accounts.User, error) {
	u, err := scanUser(db.rq.QueryRowContext(ctx,
		`SELECT `+userCols+` FROM users WHERE username = ?`, username))
	if err != nil {
		return accounts.User{}, fmt.Errorf("sqlite: user %q: %w", username, convert(err))
	}
	return u, nil
}

// CountUsers returns how many users exist.
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := db.rq.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: count users: %w", convert(err))
	}
	return n, nil
}

// CreateSession stores a session for a user until expires; errs.ErrConflict if the token hash
// is already in use.
func (db *DB) CreateSession(ctx context.Context, tokenHash string, userID int64, expires time.Time) error {
	err := db.write(ctx, func(tx *wtx) error {
		// From the user's row: the writer does not enforce foreign keys (Open).
		res, err := tx.ExecContext(ctx,
			`INSERT INTO sessions (token_hash, user_id, expires_at) SELECT ?, id, ? FROM users WHERE id = ?`,
			tokenHash, unixNano(expires), userID)
		if err != nil {
			return err
		}
		return noRow(res, fmt.Errorf("user %d: %w", userID, errs.ErrNotFound))
	})
	if err != nil {
		return fmt.Errorf("sqlite: create session for user %d: %w", userID, convert(err))
	}
	return nil
}

// SessionUser returns the user of a session that expires after now, or an error wrapping
// errs.ErrNotFound.
func (db *DB) SessionUser(ctx context.Context, tokenHash string, now time.Time) (accounts.User, error) {
	u, err := scanUser(db.rq.QueryRowContext(ctx, `
		SELECT u.id, u.username, u.role, u.password_hash, u.created_at, u.teams, u.campaigns
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = ? AND s.expires_at > ?`, tokenHash, unixNano(now)))
	if err != nil {
		return accounts.User{}, fmt.Errorf("sqlite: session user: %w", convert(err))
	}
	return u, nil
}

// DeleteSession removes a session; removing a missing one is not an error.
func (db *DB) DeleteSession(ctx context.Context, tokenHash string) error {
	err := db.write(ctx, func(tx *wtx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, tokenHash)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete session: %w", convert(err))
	}
	return nil
}

// ListUsers returns every user, by username.
func (db *DB) ListUsers(ctx context.Context) ([]accounts.User, error) {
	rows, err := db.rq.QueryContext(ctx, `SELECT `+userCols+` FROM users ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list users: %w", convert(err))
	}
	defer rows.Close()
	var out []accounts.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list users: %w", convert(err))
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list users: %w", convert(err))
	}
	return out, nil
}

// SetPasswordHash replaces a user's password hash and ends the user's sessions (whoever knew
// the old password is logged out); errs.ErrNotFound for an unknown username.
func (db *DB) SetPasswordHash(ctx context.Context, username string, hash []byte) error {
	err := db.write(ctx, func(tx *wtx) error {
		var id int64
		if err := tx.QueryRowContext(ctx, `UPDATE users SET password_hash = ? WHERE username = ? RETURNING id`,
			hash, username).Scan(&id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: set password of %q: %w", username, convert(err))
	}
	return nil
}

// DeleteUser removes a user and their sessions; errs.ErrNotFound for an unknown username.
func (db *DB) DeleteUser(ctx context.Context, username string) error {
	err := db.write(ctx, func(tx *wtx) error {
		// Sessions go with the user, as the schema's ON DELETE CASCADE says: the writer does
		// not enforce foreign keys (Open).
		var id int64
		if err := tx.QueryRowContext(ctx, `DELETE FROM users WHERE username = ? RETURNING id`, username).Scan(&id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, id); err != nil {
			return fmt.Errorf("delete sessions: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete user %q: %w", username, convert(err))
	}
	return nil
}

// SetTeams replaces a user's hand-off teams; errs.ErrNotFound for an unknown username.
func (db *DB) SetTeams(ctx context.Context, username string, teams []string) error {
	err := db.write(ctx, func(tx *wtx) error {
		var id int64
		return tx.QueryRowContext(ctx, `UPDATE users SET teams = ? WHERE username = ? RETURNING id`,
			teamsJSON(normTeams(teams)), username).Scan(&id)
	})
	if err != nil {
		return fmt.Errorf("sqlite: set teams of %q: %w", username, convert(err))
	}
	return nil
}

// SetCampaigns replaces the campaigns a user works on (none: every campaign); errs.ErrNotFound
// for an unknown username.
func (db *DB) SetCampaigns(ctx context.Context, username string, campaigns []string) error {
	err := db.write(ctx, func(tx *wtx) error {
		var id int64
		return tx.QueryRowContext(ctx, `UPDATE users SET campaigns = ? WHERE username = ? RETURNING id`,
			teamsJSON(normTeams(campaigns)), username).Scan(&id)
	})
	if err != nil {
		return fmt.Errorf("sqlite: set campaigns of %q: %w", username, convert(err))
	}
	return nil
}

// SetRole changes a user's role; errs.ErrNotFound for an unknown username. Sessions stay: each
// request reads the user afresh, so the new role applies from the next page on.
func (db *DB) SetRole(ctx context.Context, username, role string) error {
	err := db.write(ctx, func(tx *wtx) error {
		var id int64
		return tx.QueryRowContext(ctx, `UPDATE users SET role = ? WHERE username = ? RETURNING id`, role, username).Scan(&id)
	})
	if err != nil {
		return fmt.Errorf("sqlite: set role of %q: %w", username, convert(err))
	}
	return nil
}
