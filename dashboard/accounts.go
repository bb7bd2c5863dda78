package dashboard

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/crypto/bcrypt"

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
// most 72 bytes; the role admin, moderator or judge. It fails with errs.ErrInvalid (saying
// why) for a bad field and errs.ErrConflict when the username is taken.
func AddUser(ctx context.Context, users Users, username, password, role string) (User, error) {
	if err := validUsername(username); err != nil {
		return User{}, fmt.Errorf("dashboard: add user: %w", err)
	}
	switch {
	case len([]rune(password)) < MinPasswordLen:
		return User{}, fmt.Errorf("dashboard: add user %s: %w: password shorter than %d characters", username, errs.ErrInvalid, MinPasswordLen)
	case len(password) > MaxPasswordLen:
		return User{}, fmt.Errorf("dashboard: add user %s: %w: password longer than %d bytes", username, errs.ErrInvalid, MaxPasswordLen)
	}
	if !validRole(role) {
		return User{}, fmt.Errorf("dashboard: add user %s: %w: role %q (want admin, moderator or judge)", username, errs.ErrInvalid, role)
	}
	hash, err := hashPassword(password)
	if err != nil {
		return User{}, fmt.Errorf("dashboard: add user %s: %w", username, err)
	}
	u, err := users.CreateUser(ctx, User{Username: username, Role: role, PasswordHash: hash})
	if err != nil {
		return User{}, fmt.Errorf("dashboard: add user %s: %w", username, err)
	}
	return u, nil
}

// EnsureAdmin creates the user "admin" with a random password when there are no users yet,
// and returns that password so it can be shown once. When users exist it changes nothing
// and returns "".
func EnsureAdmin(ctx context.Context, users Users) (password string, err error) {
	n, err := users.CountUsers(ctx)
	if err != nil {
		return "", fmt.Errorf("dashboard: ensure admin: %w", err)
	}
	if n > 0 {
		return "", nil
	}
	// 24 random characters from 144 bits: strong, and short enough to type once.
	password = randomToken()[:24]
	if _, err := AddUser(ctx, users, "admin", password, RoleAdmin); err != nil {
		if errors.Is(err, errs.ErrConflict) {
			// Another process starting on the same store created it first; its password
			// is the one printed there.
			return "", nil
		}
		return "", fmt.Errorf("dashboard: ensure admin: %w", err)
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

func validRole(r string) bool {
	return r == RoleAdmin || r == RoleModerator || r == RoleJudge
}

// canJudge says whether a role may decide entries. All roles may for now; the check is
// here so that a role added later does not get that right by accident.
func canJudge(role string) bool {
	return validRole(role)
}

func hashPassword(password string) ([]byte, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	return h, nil
}
