package accounts

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/chatcampaigns/campaign/audit"
)

// RoleChange is a change of who may do what: an account added (From ""), given another role,
// other campaigns, or removed (To "").
type RoleChange struct {
	Username string
	// From and To are the roles before and after.
	From, To string
	// Campaigns are the campaigns the user works on after the change (nil: every campaign).
	Campaigns []string
	// Teams are an added account's hand-off teams; the other changes leave them out.
	Teams []string
	// By is who made the change: a dashboard username, or "cli" for `campaign user`.
	By string
	At time.Time
}

// RoleChangeRecorder receives every role change, for the audit trail. The dashboard and the
// CLI call it after the change is stored; NoRecorder records nothing.
type RoleChangeRecorder interface {
	RecordRoleChange(ctx context.Context, c RoleChange) error
}

// NoRecorder records nothing.
type NoRecorder struct{}

// RecordRoleChange does nothing.
func (NoRecorder) RecordRoleChange(context.Context, RoleChange) error { return nil }

// Trail records role changes in the audit trail: an account added as audit.UserAdd, removed
// as audit.UserRemove, and a change of role or campaigns as audit.Role, each with the user as
// Subject and By as Actor.
type Trail struct{ Recorder audit.Recorder }

var _ RoleChangeRecorder = Trail{}

// RecordRoleChange appends c to the trail.
func (t Trail) RecordRoleChange(ctx context.Context, c RoleChange) error {
	e := audit.Event{At: c.At, Actor: c.By, Subject: c.Username}
	switch {
	case c.From == "":
		e.Action = audit.UserAdd
		e.Detail = "role " + c.To + listed(c.Teams, ", team", ", teams") + campaignsDetail(c.Campaigns, false)
	case c.To == "":
		e.Action = audit.UserRemove
	default:
		e.Action = audit.Role
		e.Detail = "role " + c.To
		if c.From != c.To {
			e.Detail += " (was " + c.From + ")"
		}
		e.Detail += campaignsDetail(c.Campaigns, true)
	}
	return audit.Record(ctx, t.Recorder, e)
}

// campaignsDetail names the campaigns a user works on; every says so for none when set.
func campaignsDetail(camps []string, every bool) string {
	if len(camps) == 0 {
		if every {
			return ", every campaign"
		}
		return ""
	}
	return listed(camps, ", campaign", ", campaigns")
}

// listed is ", team a" or ", teams a, b": names after one or many, sorted; "" for none.
func listed(names []string, one, many string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return one + " " + names[0]
	}
	return many + " " + strings.Join(slices.Sorted(slices.Values(names)), ", ")
}
