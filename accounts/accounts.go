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

// AddUser validates a new account and stores it with a bcrypt hash of its password; it is Add
// for a user of every campaign.
func AddUser(ctx context.Context, users Users, username, password, role string, teams ...string) (User, error) {
	return Add(ctx, users, NewUser{Username: username, Password: password, Role: role, Teams: teams})
}

// NewUser is an account to add.
type NewUser struct {
	Username, Password, Role string
	Teams                    []string
	// Campaigns the user works on; none is every campaign.
	Campaigns []string
}

// Add validates a new account and stores it with a bcrypt hash of its password. A username is
// 3 to 64 of a-z, 0-9, '.', '_' and '-'; a password at least 10 characters and at most 72
// bytes; the role admin, moderator or judge; each team and campaign a plain name (as a
// definition writes it). It fails with errs.ErrInvalid (saying why) for a bad field and
// errs.ErrConflict when the username is taken.
func Add(ctx context.Context, users Users, n NewUser) (User, error) {
	username := n.Username
	if err := validUsername(username); err != nil {
		return User{}, fmt.Errorf("accounts: add user: %w", err)
	}
	if err := validPassword(n.Password); err != nil {
		return User{}, fmt.Errorf("accounts: add user %s: %w", username, err)
	}
	if !ValidRole(n.Role) {
		return User{}, fmt.Errorf("accounts: add user %s: %w: role %q (want admin, moderator or judge)", username, errs.ErrInvalid, n.Role)
	}
	if err := validTeams(n.Teams); err != nil {
		return User{}, fmt.Errorf("accounts: add user %s: %w", username, err)
	}
	if err := validCampaigns(n.Campaigns); err != nil {
		return User{}, fmt.Errorf("accounts: add user %s: %w", username, err)
	}
	hash, err := HashPassword(n.Password)
	if err != nil {
		return User{}, fmt.Errorf("accounts: add user %s: %w", username, err)
	}
	u, err := users.CreateUser(ctx, User{Username: username, Role: n.Role, PasswordHash: hash, Teams: Norm(n.Teams), Campaigns: Norm(n.Campaigns)})
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
	// SetCampaigns replaces the campaigns a user works on (sorted, nil for every campaign);
	// errs.ErrNotFound for an unknown username.
	SetCampaigns(ctx context.Context, username string, campaigns []string) error
	// SetRole changes a user's role; errs.ErrNotFound for an unknown username.
	SetRole(ctx context.Context, username, role string) error
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
	if err := a.SetTeams(ctx, username, Norm(teams)); err != nil {
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

func validCampaigns(ids []string) error {
	for _, id := range ids {
		if !campaigns.IsName(id) {
			return fmt.Errorf("%w: campaign %q must be lower-case letters, digits, - and _ (a definition's id:)", errs.ErrInvalid, id)
		}
	}
	return nil
}

// Norm sorts and dedupes names (teams, campaigns); none is nil, so a user reads back from a
// store as written.
func Norm(names []string) []string {
	if len(names) == 0 {
		return nil
	}
	out := slices.Clone(names)
	slices.Sort(out)
	return slices.Compact(out)
}

// ErrLastAdmin is the refusal to remove or demote the only admin: nobody could then pause a
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
		if err := notLastAdmin(ctx, a); err != nil {
			return fmt.Errorf("accounts: remove user %s: %w", username, err)
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

// SetUserCampaigns replaces the campaigns a user works on (none: every campaign). It fails
// with errs.ErrInvalid for a bad campaign id and errs.ErrNotFound for an unknown user.
func SetUserCampaigns(ctx context.Context, a Accounts, username string, ids []string) error {
	if err := validCampaigns(ids); err != nil {
		return fmt.Errorf("accounts: set campaigns of %s: %w", username, err)
	}
	if err := a.SetCampaigns(ctx, username, Norm(ids)); err != nil {
		return fmt.Errorf("accounts: set campaigns of %s: %w", username, err)
	}
	return nil
}

// ChangeRole gives a user another role and returns the one they had. It fails with
// errs.ErrInvalid for an unknown role, errs.ErrNotFound for an unknown user and ErrLastAdmin
// when it would leave no admin. Two admins demoting each other at the same moment can both
// succeed; the CLI (`campaign user add --role admin`) is the way back in.
func ChangeRole(ctx context.Context, a Accounts, username, role string) (from string, err error) {
	if !ValidRole(role) {
		return "", fmt.Errorf("accounts: change role of %s: %w: role %q (want admin, moderator or judge)", username, errs.ErrInvalid, role)
	}
	u, err := a.UserByName(ctx, username)
	if err != nil {
		return "", fmt.Errorf("accounts: change role of %s: %w", username, err)
	}
	if u.Role == role {
		return u.Role, nil
	}
	if u.Role == RoleAdmin {
		if err := notLastAdmin(ctx, a); err != nil {
			return "", fmt.Errorf("accounts: change role of %s: %w", username, err)
		}
	}
	if err := a.SetRole(ctx, username, role); err != nil {
		return "", fmt.Errorf("accounts: change role of %s: %w", username, err)
	}
	return u.Role, nil
}

// notLastAdmin fails with ErrLastAdmin unless there are at least two admins.
func notLastAdmin(ctx context.Context, a Accounts) error {
	all, err := a.ListUsers(ctx)
	if err != nil {
		return err
	}
	admins := 0
	for _, o := range all {
		if o.Role == RoleAdmin {
			admins++
		}
	}
	if admins <= 1 {
		return ErrLastAdmin
	}
	return nil
}

// CheckNames checks hand-off teams and campaign ids as AddUser does, so a form that changes
// several things of a user can refuse before it changes any.
func CheckNames(teams, campaigns []string) error {
	if err := validTeams(teams); err != nil {
		return err
	}
	return validCampaigns(campaigns)
}
