// Package accounts owns the dashboard's accounts: users and their roles, hand-off teams and
// campaigns, the rules for adding and changing them (AddUser, RemoveUser, ...), password
// hashing and login sessions. It knows nothing of HTTP, so the stores and the CLI use it
// without pulling in the web framework.
package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"golang.org/x/crypto/bcrypt"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/errs"
)

// Limits on accounts.
const (
	MinUsernameLen = 3
	MaxUsernameLen = 64
	MinPasswordLen = 10
	// MaxPasswordLen is bcrypt's limit: it ignores, and x/crypto refuses, anything past 72
	// bytes, so a longer password would be weaker than it looks.
	MaxPasswordLen = 72
)

// AddUser validates a new account and stores it with a bcrypt hash of its password. A
// username is 3 to 64 of a-z, 0-9, '.', '_' and '-'; a password at least 10 characters and at
// most 72 bytes; the role admin, moderator or judge; each team a plain name (as a state's
// `handoff:` writes it). It fails with errs.ErrInvalid (saying why) for a bad field and
// errs.ErrConflict when the username is taken.
func AddUser(ctx context.Context, users Users, username, password, role string, teams ...string) (User, error) {
	if err := validUsername(username); err != nil {
		return User{}, fmt.Errorf("accounts: add user: %w", err)
	}
	if err := validPassword(password); err != nil {
		return User{}, fmt.Errorf("accounts: add user %s: %w", username, err)
	}
	if !ValidRole(role) {
		return User{}, fmt.Errorf("accounts: add user %s: %w: role %q (want admin, moderator or judge)", username, errs.ErrInvalid, role)
	}
	if err := validTeams(teams); err != nil {
		return User{}, fmt.Errorf("accounts: add user %s: %w", username, err)
	}
	hash, err := HashPassword(password)
	if err != nil {
		return User{}, fmt.Errorf("accounts: add user %s: %w", username, err)
	}
	u, err := users.CreateUser(ctx, User{Username: username, Role: role, PasswordHash: hash, Teams: normTeams(teams)})
	if err != nil {
		return User{}, fmt.Errorf("accounts: add user %s: %w", username, err)
	}
	return u, nil
}

func validPassword(password string) error {
	switch {
	case len([]rune(password)) < MinPasswordLen:
		return fmt.Errorf("%w: password shorter than %d characters", errs.ErrInvalid, MinPasswordLen)
	case len(password) > MaxPasswordLen:
		return fmt.Errorf("%w: password longer than %d bytes", errs.ErrInvalid, MaxPasswordLen)
	}
	return nil
}

// Accounts is what managing accounts (`campaign user`) needs beyond Users.
type Accounts interface {
	Users
	// ListUsers returns every user, by username.
	ListUsers(ctx context.Context) ([]User, error)
	// SetPasswordHash replaces a user's password hash and ends their sessions; errs.ErrNotFound
	// for an unknown username.
	SetPasswordHash(ctx context.Context, username string, hash []byte) error
	// DeleteUser removes a user and their sessions; errs.ErrNotFound for an unknown username.
	DeleteUser(ctx context.Context, username string) error
	// SetTeams replaces a user's hand-off teams (sorted, nil for none); errs.ErrNotFound for
	// an unknown username.
	SetTeams(ctx context.Context, username string, teams []string) error
}

// ChangePassword gives a user a new password (the same rules as AddUser's) and logs them out
// everywhere. It fails with errs.ErrInvalid for a bad password and errs.ErrNotFound for an
// unknown user.
func ChangePassword(ctx context.Context, a Accounts, username, password string) error {
	if err := validPassword(password); err != nil {
		return fmt.Errorf("accounts: change password of %s: %w", username, err)
	}
	hash, err := HashPassword(password)
	if err != nil {
		return fmt.Errorf("accounts: change password of %s: %w", username, err)
	}
	if err := a.SetPasswordHash(ctx, username, hash); err != nil {
		return fmt.Errorf("accounts: change password of %s: %w", username, err)
	}
	return nil
}

// SetUserTeams replaces a user's hand-off teams (none: the user answers no team's queue
// first). It fails with errs.ErrInvalid for a bad team name and errs.ErrNotFound for an
// unknown user.
func SetUserTeams(ctx context.Context, a Accounts, username string, teams []string) error {
	if err := validTeams(teams); err != nil {
		return fmt.Errorf("accounts: set teams of %s: %w", username, err)
	}
	if err := a.SetTeams(ctx, username, normTeams(teams)); err != nil {
		return fmt.Errorf("accounts: set teams of %s: %w", username, err)
	}
	return nil
}

func validTeams(teams []string) error {
	for _, t := range teams {
		if !campaigns.IsName(t) {
			return fmt.Errorf("%w: team %q must be lower-case letters, digits, - and _ (as a state's handoff: writes it)", errs.ErrInvalid, t)
		}
	}
	return nil
}

// normTeams sorts and dedupes team names; none is nil.
func normTeams(teams []string) []string {
	if len(teams) == 0 {
		return nil
	}
	out := slices.Clone(teams)
	slices.Sort(out)
	return slices.Compact(out)
}

// ErrLastAdmin is RemoveUser's refusal to remove the only admin: nobody could then pause a
// campaign or add users from the dashboard. It wraps errs.ErrConflict.
var ErrLastAdmin = fmt.Errorf("%w: the last admin", errs.ErrConflict)

// RemoveUser removes a user and their sessions; errs.ErrNotFound for an unknown user,
// ErrLastAdmin for the only admin.
func RemoveUser(ctx context.Context, a Accounts, username string) error {
	u, err := a.UserByName(ctx, username)
	if err != nil {
		return fmt.Errorf("accounts: remove user %s: %w", username, err)
	}
	if u.Role == RoleAdmin {
		all, err := a.ListUsers(ctx)
		if err != nil {
			return fmt.Errorf("accounts: remove user %s: %w", username, err)
		}
		admins := 0
		for _, o := range all {
			if o.Role == RoleAdmin {
				admins++
			}
		}
		if admins <= 1 {
			return fmt.Errorf("accounts: remove user %s: %w", username, ErrLastAdmin)
		}
	}
	if err := a.DeleteUser(ctx, username); err != nil {
		return fmt.Errorf("accounts: remove user %s: %w", username, err)
	}
	return nil
}

// EnsureAdmin creates the user "admin" with a random password when there are no users yet,
// and returns that password so it can be shown once. When users exist it changes nothing
// and returns "".
func EnsureAdmin(ctx context.Context, users Users) (password string, err error) {
	n, err := users.CountUsers(ctx)
	if err != nil {
		return "", fmt.Errorf("accounts: ensure admin: %w", err)
	}
	if n > 0 {
		return "", nil
	}
	// 24 random characters from 144 bits: strong, and short enough to type once.
	password = NewToken()[:24]
	if _, err := AddUser(ctx, users, "admin", password, RoleAdmin); err != nil {
		if errors.Is(err, errs.ErrConflict) {
			// Another process starting on the same store created it first; its password
			// is the one printed there.
			return "", nil
		}
		return "", fmt.Errorf("accounts: ensure admin: %w", err)
	}
	return password, nil
}

func validUsername(s string) error {
	if len(s) < MinUsernameLen || len(s) > MaxUsernameLen {
		return fmt.Errorf("%w: username %q must be %d to %d characters", errs.ErrInvalid, s, MinUsernameLen, MaxUsernameLen)
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("%w: username %q may hold only a-z, 0-9, '.', '_' and '-'", errs.ErrInvalid, s)
		}
	}
	return nil
}

// ValidRole says whether r is one of the roles.
func ValidRole(r string) bool {
	return r == RoleAdmin || r == RoleModerator || r == RoleJudge
}

// HashPassword returns a bcrypt hash of password.
func HashPassword(password string) ([]byte, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	return h, nil
}

// NewToken returns 256 random bits, base64url-encoded (43 characters): a session token.
func NewToken() string {
	var b [32]byte
	// crypto/rand.Read never returns an error; it crashes the program if the system's
	// randomness fails, which is what we want rather than a guessable token.
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// HashToken is what the store keeps of a session token: a database copy cannot be replayed
// as a cookie. A fast hash is enough because the token has 256 random bits.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
