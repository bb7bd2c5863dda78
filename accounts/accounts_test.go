package accounts_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chatcampaigns/campaign/accounts"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/store/sqlite"
)

const password = "a-long-password"

func newStore(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "campaign.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestAddWithCampaigns(t *testing.T) {
	db := newStore(t)
	ctx := context.Background()
	u, err := accounts.Add(ctx, db, accounts.NewUser{Username: "judy", Password: password, Role: accounts.RoleJudge,
		Campaigns: []string{"race", "bouncer", "race"}})
	if err != nil || !slices.Equal(u.Campaigns, []string{"bouncer", "race"}) {
		t.Fatalf("Add = %+v, %v", u, err)
	}
	for _, bad := range [][]string{{"Race"}, {""}, {"a b"}, {strings.Repeat("x", 64)}} {
		_, err := accounts.Add(ctx, db, accounts.NewUser{Username: "other", Password: password, Role: accounts.RoleJudge, Campaigns: bad})
		if !errors.Is(err, errs.ErrInvalid) || !strings.Contains(err.Error(), "campaign") {
			t.Errorf("campaigns %q: %v, want invalid", bad, err)
		}
	}
	if err := accounts.SetUserCampaigns(ctx, db, "judy", []string{"Nope!"}); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("SetUserCampaigns with a bad id: %v", err)
	}
	if err := accounts.SetUserCampaigns(ctx, db, "nobody", []string{"race"}); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("SetUserCampaigns of nobody: %v", err)
	}
}

func TestChangeRoleKeepsAnAdmin(t *testing.T) {
	db := newStore(t)
	ctx := context.Background()
	for _, n := range []accounts.NewUser{{Username: "ann", Role: accounts.RoleAdmin}, {Username: "bob", Role: accounts.RoleJudge}} {
		n.Password = password
		if _, err := accounts.Add(ctx, db, n); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := accounts.ChangeRole(ctx, db, "ann", accounts.RoleModerator); !errors.Is(err, accounts.ErrLastAdmin) || !errors.Is(err, errs.ErrConflict) {
		t.Errorf("demoting the last admin: %v", err)
	}
	if _, err := accounts.ChangeRole(ctx, db, "bob", "owner"); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("an unknown role: %v", err)
	}
	if _, err := accounts.ChangeRole(ctx, db, "nobody", accounts.RoleJudge); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("role of nobody: %v", err)
	}
	if from, err := accounts.ChangeRole(ctx, db, "bob", accounts.RoleAdmin); err != nil || from != accounts.RoleJudge {
		t.Fatalf("promote bob = %q, %v", from, err)
	}
	// With two admins, either may step down, but not both.
	if from, err := accounts.ChangeRole(ctx, db, "ann", accounts.RoleJudge); err != nil || from != accounts.RoleAdmin {
		t.Fatalf("demote ann = %q, %v", from, err)
	}
	if err := accounts.RemoveUser(ctx, db, "bob"); !errors.Is(err, accounts.ErrLastAdmin) {
		t.Errorf("removing the last admin: %v", err)
	}
	if u, _ := db.UserByName(ctx, "bob"); u.Role != accounts.RoleAdmin {
		t.Errorf("bob is %s", u.Role)
	}
}

func TestMatrix(t *testing.T) {
	for _, c := range []struct {
		role   string
		action accounts.Action
		want   bool
	}{
		{accounts.RoleJudge, accounts.DecideEntries, true},
		{accounts.RoleJudge, accounts.ScoreEntries, true},
		{accounts.RoleJudge, accounts.Reply, false},
		{accounts.RoleJudge, accounts.HandBack, false},
		{accounts.RoleJudge, accounts.GiveVerdicts, false},
		{accounts.RoleJudge, accounts.ReadConversations, false},
		{accounts.RoleModerator, accounts.Reply, true},
		{accounts.RoleModerator, accounts.GiveVerdicts, true},
		{accounts.RoleModerator, accounts.Broadcast, false},
		{accounts.RoleModerator, accounts.ManageUsers, false},
		{accounts.RoleAdmin, accounts.ManageUsers, true},
		{accounts.RoleAdmin, accounts.RunCampaigns, true},
		{"owner", accounts.SeeEntries, false},
		{accounts.RoleAdmin, accounts.Action("fly"), false},
	} {
		if got := accounts.Can(c.role, c.action); got != c.want {
			t.Errorf("Can(%s, %s) = %v, want %v", c.role, c.action, got, c.want)
		}
	}
	if got := accounts.Denied(accounts.RoleJudge, accounts.Reply); got != "As a judge you may not reply as the persona: that takes the role admin or moderator." {
		t.Errorf("Denied = %q", got)
	}
	for _, r := range accounts.Matrix() {
		if !slices.Contains(r.Roles, accounts.RoleAdmin) {
			t.Errorf("admins may not %s", r.Action)
		}
	}
}

func TestSeesCampaign(t *testing.T) {
	judy := accounts.User{Role: accounts.RoleJudge, Campaigns: []string{"race"}}
	anyone := accounts.User{Role: accounts.RoleJudge}
	boss := accounts.User{Role: accounts.RoleAdmin, Campaigns: []string{"race"}}
	for _, c := range []struct {
		u        accounts.User
		campaign string
		want     bool
	}{
		{judy, "race", true}, {judy, "bouncer", false}, {anyone, "bouncer", true}, {boss, "bouncer", true},
	} {
		if got := c.u.SeesCampaign(c.campaign); got != c.want {
			t.Errorf("%+v sees %s = %v, want %v", c.u, c.campaign, got, c.want)
		}
	}
}
