package storetest

import (
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/accounts"
	"github.com/chatcampaigns/campaign/errs"
)

func mustCreateUser(t *testing.T, s Store, name, role string) accounts.User {
	t.Helper()
	u, err := s.CreateUser(t.Context(), accounts.User{Username: name, Role: role,
		PasswordHash: []byte("$2a$10$hash-of-" + name), CreatedAt: t0})
	noErr(t, "CreateUser", err)
	if u.ID == 0 {
		t.Fatal("CreateUser returned no ID")
	}
	return u
}

var userTests = []test{
	{"CreateUserRoundTrips", func(t *testing.T, s Store) {
		u := mustCreateUser(t, s, "alice", accounts.RoleAdmin)
		got, err := s.UserByName(t.Context(), "alice")
		noErr(t, "UserByName", err)
		equal(t, "UserByName", got, u)
	}},
	{"CreateUserWithTakenNameConflicts", func(t *testing.T, s Store) {
		mustCreateUser(t, s, "alice", accounts.RoleAdmin)
		_, err := s.CreateUser(t.Context(), accounts.User{Username: "alice", Role: accounts.RoleJudge,
			PasswordHash: []byte("x"), CreatedAt: t0})
		wantErr(t, "CreateUser", err, errs.ErrConflict)
		got, err := s.UserByName(t.Context(), "alice")
		noErr(t, "UserByName", err)
		equal(t, "role", got.Role, accounts.RoleAdmin)
	}},
	{"UserByNameMissingIsNotFound", func(t *testing.T, s Store) {
		_, err := s.UserByName(t.Context(), "nobody")
		wantErr(t, "UserByName", err, errs.ErrNotFound)
	}},
	{"CountUsers", func(t *testing.T, s Store) {
		for i, name := range []string{"", "alice", "bob"} {
			if name != "" {
				mustCreateUser(t, s, name, accounts.RoleModerator)
			}
			n, err := s.CountUsers(t.Context())
			noErr(t, "CountUsers", err)
			equal(t, "CountUsers", n, i)
		}
	}},
	{"SessionUserReturnsUser", func(t *testing.T, s Store) {
		mustCreateUser(t, s, "alice", accounts.RoleAdmin)
		bob := mustCreateUser(t, s, "bob", accounts.RoleJudge)
		noErr(t, "CreateSession", s.CreateSession(t.Context(), "hash-b", bob.ID, at(time.Hour)))
		got, err := s.SessionUser(t.Context(), "hash-b", t0)
		noErr(t, "SessionUser", err)
		equal(t, "SessionUser", got, bob)
	}},
	{"ExpiredSessionIsNotFound", func(t *testing.T, s Store) {
		u := mustCreateUser(t, s, "alice", accounts.RoleAdmin)
		noErr(t, "CreateSession", s.CreateSession(t.Context(), "hash-a", u.ID, at(time.Hour)))
		for _, tc := range []struct {
			name  string
			token string
			now   time.Time
			want  error
		}{
			{"JustBeforeExpiry", "hash-a", at(time.Hour - time.Millisecond), nil},
			{"AtExpiry", "hash-a", at(time.Hour), errs.ErrNotFound},
			{"AfterExpiry", "hash-a", at(2 * time.Hour), errs.ErrNotFound},
			{"UnknownToken", "hash-x", t0, errs.ErrNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := s.SessionUser(t.Context(), tc.token, tc.now)
				if tc.want == nil {
					noErr(t, "SessionUser", err)
					return
				}
				wantErr(t, "SessionUser", err, tc.want)
			})
		}
	}},
	{"DeleteSessionIsIdempotent", func(t *testing.T, s Store) {
		u := mustCreateUser(t, s, "alice", accounts.RoleAdmin)
		noErr(t, "CreateSession", s.CreateSession(t.Context(), "hash-a", u.ID, at(time.Hour)))
		noErr(t, "DeleteSession", s.DeleteSession(t.Context(), "hash-a"))
		_, err := s.SessionUser(t.Context(), "hash-a", t0)
		wantErr(t, "SessionUser after logout", err, errs.ErrNotFound)
		noErr(t, "second DeleteSession", s.DeleteSession(t.Context(), "hash-a"))
	}},
	{"ListUsersByName", func(t *testing.T, s Store) {
		got, err := s.ListUsers(t.Context())
		noErr(t, "ListUsers", err)
		equal(t, "ListUsers of an empty store", len(got), 0)
		bob := mustCreateUser(t, s, "bob", accounts.RoleJudge)
		alice := mustCreateUser(t, s, "alice", accounts.RoleAdmin)
		got, err = s.ListUsers(t.Context())
		noErr(t, "ListUsers", err)
		equal(t, "ListUsers", got, []accounts.User{alice, bob})
	}},
	{"SetPasswordHashEndsSessions", func(t *testing.T, s Store) {
		alice := mustCreateUser(t, s, "alice", accounts.RoleAdmin)
		bob := mustCreateUser(t, s, "bob", accounts.RoleJudge)
		noErr(t, "CreateSession", s.CreateSession(t.Context(), "hash-a", alice.ID, at(time.Hour)))
		noErr(t, "CreateSession", s.CreateSession(t.Context(), "hash-b", bob.ID, at(time.Hour)))
		noErr(t, "SetPasswordHash", s.SetPasswordHash(t.Context(), "alice", []byte("new-hash")))
		got, err := s.UserByName(t.Context(), "alice")
		noErr(t, "UserByName", err)
		equal(t, "password hash", string(got.PasswordHash), "new-hash")
		_, err = s.SessionUser(t.Context(), "hash-a", t0)
		wantErr(t, "alice's session after the change", err, errs.ErrNotFound)
		_, err = s.SessionUser(t.Context(), "hash-b", t0)
		noErr(t, "bob's session", err)
		wantErr(t, "SetPasswordHash of nobody", s.SetPasswordHash(t.Context(), "nobody", []byte("x")), errs.ErrNotFound)
	}},
	{"DeleteUserAndSessions", func(t *testing.T, s Store) {
		alice := mustCreateUser(t, s, "alice", accounts.RoleAdmin)
		bob := mustCreateUser(t, s, "bob", accounts.RoleJudge)
		noErr(t, "CreateSession", s.CreateSession(t.Context(), "hash-b", bob.ID, at(time.Hour)))
		noErr(t, "DeleteUser", s.DeleteUser(t.Context(), "bob"))
		_, err := s.UserByName(t.Context(), "bob")
		wantErr(t, "UserByName after delete", err, errs.ErrNotFound)
		_, err = s.SessionUser(t.Context(), "hash-b", t0)
		wantErr(t, "session after delete", err, errs.ErrNotFound)
		wantErr(t, "second DeleteUser", s.DeleteUser(t.Context(), "bob"), errs.ErrNotFound)
		got, err := s.ListUsers(t.Context())
		noErr(t, "ListUsers", err)
		equal(t, "ListUsers", got, []accounts.User{alice})
		// The name is free again.
		mustCreateUser(t, s, "bob", accounts.RoleModerator)
	}},
}

var teamUserTests = []test{
	{"UserTeamsRoundTrip", func(t *testing.T, s Store) {
		u, err := s.CreateUser(t.Context(), accounts.User{Username: "ann", Role: accounts.RoleModerator,
			PasswordHash: []byte("h"), CreatedAt: t0, Teams: []string{"appointments", "billing"}})
		noErr(t, "CreateUser", err)
		equal(t, "teams returned", u.Teams, []string{"appointments", "billing"})
		got, err := s.UserByName(t.Context(), "ann")
		noErr(t, "UserByName", err)
		equal(t, "UserByName", got, u)
		noErr(t, "CreateSession", s.CreateSession(t.Context(), "hash-a", u.ID, at(time.Hour)))
		got, err = s.SessionUser(t.Context(), "hash-a", t0)
		noErr(t, "SessionUser", err)
		equal(t, "SessionUser teams", got.Teams, []string{"appointments", "billing"})
		bob := mustCreateUser(t, s, "bob", accounts.RoleAdmin)
		equal(t, "teams of a user in none", bob.Teams, []string(nil))
		list, err := s.ListUsers(t.Context())
		noErr(t, "ListUsers", err)
		equal(t, "ListUsers", list, []accounts.User{u, bob})
	}},
	{"SetTeamsReplaces", func(t *testing.T, s Store) {
		u := mustCreateUser(t, s, "ann", accounts.RoleModerator)
		noErr(t, "SetTeams", s.SetTeams(t.Context(), "ann", []string{"billing"}))
		got, err := s.UserByName(t.Context(), "ann")
		noErr(t, "UserByName", err)
		u.Teams = []string{"billing"}
		equal(t, "after SetTeams", got, u)
		noErr(t, "SetTeams none", s.SetTeams(t.Context(), "ann", nil))
		got, err = s.UserByName(t.Context(), "ann")
		noErr(t, "UserByName", err)
		equal(t, "after SetTeams(nil)", got.Teams, []string(nil))
		wantErr(t, "SetTeams of nobody", s.SetTeams(t.Context(), "nobody", []string{"x"}), errs.ErrNotFound)
	}},
}

var campaignUserTests = []test{
	{"UserCampaignsRoundTrip", func(t *testing.T, s Store) {
		u, err := s.CreateUser(t.Context(), accounts.User{Username: "jo", Role: accounts.RoleJudge,
			PasswordHash: []byte("h"), CreatedAt: t0, Campaigns: []string{"race", "bouncer", "race"}})
		noErr(t, "CreateUser", err)
		equal(t, "campaigns returned", u.Campaigns, []string{"bouncer", "race"})
		got, err := s.UserByName(t.Context(), "jo")
		noErr(t, "UserByName", err)
		equal(t, "UserByName", got, u)
		noErr(t, "CreateSession", s.CreateSession(t.Context(), "hash-j", u.ID, at(time.Hour)))
		got, err = s.SessionUser(t.Context(), "hash-j", t0)
		noErr(t, "SessionUser", err)
		equal(t, "SessionUser campaigns", got.Campaigns, []string{"bouncer", "race"})
		bob := mustCreateUser(t, s, "bob", accounts.RoleAdmin)
		equal(t, "campaigns of a user of every campaign", bob.Campaigns, []string(nil))
		list, err := s.ListUsers(t.Context())
		noErr(t, "ListUsers", err)
		equal(t, "ListUsers", list, []accounts.User{bob, u})
	}},
	{"SetCampaignsReplaces", func(t *testing.T, s Store) {
		u := mustCreateUser(t, s, "jo", accounts.RoleJudge)
		noErr(t, "SetCampaigns", s.SetCampaigns(t.Context(), "jo", []string{"race"}))
		got, err := s.UserByName(t.Context(), "jo")
		noErr(t, "UserByName", err)
		u.Campaigns = []string{"race"}
		equal(t, "after SetCampaigns", got, u)
		noErr(t, "SetCampaigns none", s.SetCampaigns(t.Context(), "jo", nil))
		got, err = s.UserByName(t.Context(), "jo")
		noErr(t, "UserByName", err)
		equal(t, "after SetCampaigns(nil)", got.Campaigns, []string(nil))
		wantErr(t, "SetCampaigns of nobody", s.SetCampaigns(t.Context(), "nobody", []string{"x"}), errs.ErrNotFound)
	}},
	{"SetRoleKeepsTheRest", func(t *testing.T, s Store) {
		u, err := s.CreateUser(t.Context(), accounts.User{Username: "jo", Role: accounts.RoleJudge,
			PasswordHash: []byte("h"), CreatedAt: t0, Teams: []string{"desk"}, Campaigns: []string{"race"}})
		noErr(t, "CreateUser", err)
		noErr(t, "CreateSession", s.CreateSession(t.Context(), "hash-j", u.ID, at(time.Hour)))
		noErr(t, "SetRole", s.SetRole(t.Context(), "jo", accounts.RoleModerator))
		got, err := s.SessionUser(t.Context(), "hash-j", t0)
		noErr(t, "SessionUser after SetRole", err)
		u.Role = accounts.RoleModerator
		equal(t, "after SetRole", got, u)
		wantErr(t, "SetRole of nobody", s.SetRole(t.Context(), "nobody", accounts.RoleAdmin), errs.ErrNotFound)
	}},
}
