package accounts

import (
	"context"
	"time"
)

// RoleChange is a change of who may do what: an account added (From ""), given another role,
// other campaigns, or removed (To "").
type RoleChange struct {
	Username string
	// From and To are the roles before and after.
	From, To string
	// Campaigns are the campaigns the user works on after the change (nil: every campaign).
	Campaigns []string
	// By is who made the change: a dashboard username, or "cli" for `campaign user`.
	By string
	At time.Time
}

// RoleChangeRecorder receives every role change, for the audit trail. The dashboard and the
// CLI call it after the change is stored; NoRecorder is the default until a trail is wired.
type RoleChangeRecorder interface {
	RecordRoleChange(ctx context.Context, c RoleChange) error
}

// NoRecorder records nothing.
type NoRecorder struct{}

// RecordRoleChange does nothing.
func (NoRecorder) RecordRoleChange(context.Context, RoleChange) error { return nil }
