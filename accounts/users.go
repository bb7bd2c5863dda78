package accounts

import (
	"context"
	"time"
)

// Roles a dashboard user can have.
const (
	RoleAdmin     = "admin"
	RoleModerator = "moderator"
	RoleJudge     = "judge"
)

// User is a dashboard account.
type User struct {
	ID           int64
	Username     string
	Role         string
	PasswordHash []byte
	CreatedAt    time.Time
	// Teams are the hand-off teams the user answers for (a state's `handoff: NAME`), sorted;
	// nil for none. A user may be in several teams: one agent often covers two desks.
	Teams []string
	// Campaigns are the campaigns the user works on (ids, sorted): they see and act on only
	// these campaigns' entries, conversations and pages. Nil is every campaign; an admin sees
	// every campaign whatever this says.
	Campaigns []string
}

// Users is what the dashboard and the CLI need from persistence for accounts and login sessions.
// Session tokens are stored only as hashes, so a copy of the database does not log anyone in.
type Users interface {
	// CreateUser stores a new user and returns it with its ID; errs.ErrConflict if the
	// username is taken.
	CreateUser(ctx context.Context, u User) (User, error)
	// UserByName returns a user, or an error wrapping errs.ErrNotFound.
	UserByName(ctx context.Context, username string) (User, error)
	// CountUsers returns how many users exist.
	CountUsers(ctx context.Context) (int, error)
	// CreateSession stores a session for a user until expires.
	CreateSession(ctx context.Context, tokenHash string, userID int64, expires time.Time) error
	// SessionUser returns the user of an unexpired session, or an error wrapping
	// errs.ErrNotFound.
	SessionUser(ctx context.Context, tokenHash string, now time.Time) (User, error)
	// DeleteSession removes a session; removing a missing one is not an error.
	DeleteSession(ctx context.Context, tokenHash string) error
}
