package dashboard

import "github.com/chatcampaigns/campaign/accounts"

// The dashboard's accounts are those of package accounts; these names keep the dashboard's
// handlers and tests reading as they did.
type (
	User     = accounts.User
	Users    = accounts.Users
	Accounts = accounts.Accounts
)

// Roles a dashboard user can have.
const (
	RoleAdmin     = accounts.RoleAdmin
	RoleModerator = accounts.RoleModerator
	RoleJudge     = accounts.RoleJudge
)

// canJudge says whether a role may decide entries. All roles may for now; the check is
// here so that a role added later does not get that right by accident.
func canJudge(role string) bool {
	return accounts.ValidRole(role)
}
