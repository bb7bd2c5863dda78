package accounts_test

import (
	"context"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/accounts"
	"github.com/chatcampaigns/campaign/audit"
)

// events keeps what a Trail records.
type events []audit.Event

func (e *events) Record(_ context.Context, ev audit.Event) error {
	*e = append(*e, ev)
	return nil
}

// TestTrailRecordsRoleChanges: each kind of role change becomes its audit action, by whoever
// made it, with the user as subject and what changed in words.
func TestTrailRecordsRoleChanges(t *testing.T) {
	at := time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC)
	tests := []struct {
		change       accounts.RoleChange
		action, want string
	}{
		{accounts.RoleChange{Username: "ann", To: accounts.RoleAdmin}, audit.UserAdd, "role admin"},
		{accounts.RoleChange{Username: "bob", To: accounts.RoleJudge, Teams: []string{"chefs"}, Campaigns: []string{"race", "bouncer"}},
			audit.UserAdd, "role judge, team chefs, campaigns bouncer, race"},
		{accounts.RoleChange{Username: "bob", From: accounts.RoleJudge, To: accounts.RoleModerator, Campaigns: []string{"race"}},
			audit.Role, "role moderator (was judge), campaign race"},
		{accounts.RoleChange{Username: "bob", From: accounts.RoleModerator, To: accounts.RoleModerator},
			audit.Role, "role moderator, every campaign"},
		{accounts.RoleChange{Username: "bob", From: accounts.RoleModerator}, audit.UserRemove, ""},
	}
	for _, tt := range tests {
		var got events
		tt.change.By, tt.change.At = "boss", at
		if err := (accounts.Trail{Recorder: &got}).RecordRoleChange(t.Context(), tt.change); err != nil {
			t.Fatal(err)
		}
		want := audit.Event{At: at, Actor: "boss", Action: tt.action, Subject: tt.change.Username, Detail: tt.want}
		if len(got) != 1 || got[0] != want {
			t.Errorf("%+v recorded %+v, want %+v", tt.change, got, want)
		}
	}
}
