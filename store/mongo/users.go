package mongo

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/chatcampaigns/campaign/accounts"
)

type userDoc struct {
	ID           int64  `bson:"_id"`
	Username     string `bson:"username"`
	Role         string `bson:"role"`
	PasswordHash []byte `bson:"password_hash"`
	CreatedAt    int64  `bson:"created_at"`
	// Teams is missing in users stored before teams existed: none.
	Teams []string `bson:"teams,omitempty"`
	// Campaigns is missing in users stored before campaigns were given: every campaign.
	Campaigns []string `bson:"campaigns,omitempty"`
}

func (u userDoc) user() accounts.User {
	return accounts.User{ID: u.ID, Username: u.Username, Role: u.Role, PasswordHash: u.PasswordHash,
		CreatedAt: fromNS(u.CreatedAt), Teams: normTeams(u.Teams), Campaigns: normTeams(u.Campaigns)}
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

// sessionDoc is a login session, keyed by the hash of its token.
type sessionDoc struct {
	TokenHash string `bson:"_id"`
	UserID    int64  `bson:"user_id"`
	ExpiresAt int64  `bson:"expires_at"`
}

// CreateUser stores a new user and returns it with its ID; errs.ErrConflict if the username is
// taken (a unique index decides, so two admins creating the same name at once get one user).
func (db *DB) CreateUser(ctx context.Context, u accounts.User) (accounts.User, error) {
	if u.PasswordHash == nil {
		u.PasswordHash = []byte{}
	}
	u.Teams, u.Campaigns = normTeams(u.Teams), normTeams(u.Campaigns)
	id, err := db.next(ctx, 1)
	if err == nil {
		_, err = db.c(colUsers).InsertOne(ctx, userDoc{ID: id, Username: u.Username, Role: u.Role,
			PasswordHash: u.PasswordHash, CreatedAt: ns(u.CreatedAt), Teams: u.Teams, Campaigns: u.Campaigns})
	}
	if err != nil {
		return accounts.User{}, fmt.Errorf("mongo: create user %q: %w", u.Username, convert(err))
	}
	u.ID = id
	return u, nil
}

// UserByName returns a user, or an error wrapping errs.ErrNotFound.
func (db *DB) UserByName(ctx context.Context, username string) (accounts.User, error) {
	var u userDoc
	if err := db.c(colUsers).FindOne(ctx, d("username", username)).Decode(&u); err != nil {
		return accounts.User{}, fmt.Errorf("mongo: user %q: %w", username, convert(err))
	}
	return u.user(), nil
}

// CountUsers returns how many users exist.
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	n, err := db.c(colUsers).CountDocuments(ctx, d())
	if err != nil {
		return 0, fmt.Errorf("mongo: count users: %w", convert(err))
	}
	return int(n), nil
}

// CreateSession stores a session for a user until expires; errs.ErrConflict if the token hash
// is already in use.
func (db *DB) CreateSession(ctx context.Context, tokenHash string, userID int64, expires time.Time) error {
	_, err := db.c(colSessions).InsertOne(ctx, sessionDoc{TokenHash: tokenHash, UserID: userID, ExpiresAt: ns(expires)})
	if err != nil {
		return fmt.Errorf("mongo: create session for user %d: %w", userID, convert(err))
	}
	return nil
}

// SessionUser returns the user of a session that expires after now, or an error wrapping
// errs.ErrNotFound.
func (db *DB) SessionUser(ctx context.Context, tokenHash string, now time.Time) (accounts.User, error) {
	var s sessionDoc
	err := db.c(colSessions).FindOne(ctx, d("_id", tokenHash, "expires_at", d("$gt", ns(now)))).Decode(&s)
	var u userDoc
	if err == nil {
		err = db.c(colUsers).FindOne(ctx, d("_id", s.UserID)).Decode(&u)
	}
	if err != nil {
		return accounts.User{}, fmt.Errorf("mongo: session user: %w", convert(err))
	}
	return u.user(), nil
}

// DeleteSession removes a session; removing a missing one is not an error.
func (db *DB) DeleteSession(ctx context.Context, tokenHash string) error {
	if _, err := db.c(colSessions).DeleteOne(ctx, d("_id", tokenHash)); err != nil {
		return fmt.Errorf("mongo: delete session: %w", convert(err))
	}
	return nil
}

// ListUsers returns every user, by username.
func (db *DB) ListUsers(ctx context.Context) ([]accounts.User, error) {
	var docs []userDoc
	if err := find(ctx, db.c(colUsers), d(), options.Find().SetSort(d("username", 1)), &docs); err != nil {
		return nil, fmt.Errorf("mongo: list users: %w", err)
	}
	out := make([]accounts.User, len(docs))
	for i, u := range docs {
		out[i] = u.user()
	}
	return out, nil
}

// SetPasswordHash replaces a user's password hash and ends the user's sessions (whoever knew
// the old password is logged out); errs.ErrNotFound for an unknown username.
func (db *DB) SetPasswordHash(ctx context.Context, username string, hash []byte) error {
	var u userDoc
	err := db.c(colUsers).FindOneAndUpdate(ctx, d("username", username), d("$set", d("password_hash", hash))).Decode(&u)
	if err == nil {
		_, err = db.c(colSessions).DeleteMany(ctx, d("user_id", u.ID))
	}
	if err != nil {
		return fmt.Errorf("mongo: set password of %q: %w", username, convert(err))
	}
	return nil
}

// DeleteUser removes a user and their sessions; errs.ErrNotFound for an unknown username.
func (db *DB) DeleteUser(ctx context.Context, username string) error {
	var u userDoc
	err := db.c(colUsers).FindOneAndDelete(ctx, d("username", username)).Decode(&u)
	if err == nil {
		_, err = db.c(colSessions).DeleteMany(ctx, d("user_id", u.ID))
	}
	if err != nil {
		return fmt.Errorf("mongo: delete user %q: %w", username, convert(err))
	}
	return nil
}

// SetTeams replaces a user's hand-off teams; errs.ErrNotFound for an unknown username.
func (db *DB) SetTeams(ctx context.Context, username string, teams []string) error {
	teams = normTeams(teams)
	if teams == nil {
		teams = []string{}
	}
	var u userDoc
	err := db.c(colUsers).FindOneAndUpdate(ctx, d("username", username), d("$set", d("teams", teams))).Decode(&u)
	if err != nil {
		return fmt.Errorf("mongo: set teams of %q: %w", username, convert(err))
	}
	return nil
}

// SetCampaigns replaces the campaigns a user works on (none: every campaign); errs.ErrNotFound
// for an unknown username.
func (db *DB) SetCampaigns(ctx context.Context, username string, campaigns []string) error {
	campaigns = normTeams(campaigns)
	if campaigns == nil {
		campaigns = []string{}
	}
	var u userDoc
	err := db.c(colUsers).FindOneAndUpdate(ctx, d("username", username), d("$set", d("campaigns", campaigns))).Decode(&u)
	if err != nil {
		return fmt.Errorf("mongo: set campaigns of %q: %w", username, convert(err))
	}
	return nil
}

// SetRole changes a user's role; errs.ErrNotFound for an unknown username. Sessions stay: each
// request reads the user afresh, so the new role applies from the next page on.
func (db *DB) SetRole(ctx context.Context, username, role string) error {
	var u userDoc
	err := db.c(colUsers).FindOneAndUpdate(ctx, d("username", username), d("$set", d("role", role))).Decode(&u)
	if err != nil {
		return fmt.Errorf("mongo: set role of %q: %w", username, convert(err))
	}
	return nil
}
