package accounts

import (
	"fmt"
	"slices"
	"strings"
)

// Action is something a dashboard user may or may not do. The matrix below is the one place
// that says which role may do what; the dashboard maps each of its routes to an Action.
type Action string

// The actions of the dashboard.
const (
	SeeEntries        Action = "see entries and their media"
	DecideEntries     Action = "approve and reject entries"
	ScoreEntries      Action = "score entries against the rubric"
	SeeCampaigns      Action = "see campaigns, their flow and ranking"
	ReadConversations Action = "read conversations and the team queues"
	Reply             Action = "reply as the persona"
	HandBack          Action = "hand a conversation back to the bot"
	Assign            Action = "assign conversations to a moderator"
	GiveVerdicts      Action = "give participants verdicts (shortlist, advance, eliminate, crown)"
	SeeDeliveries     Action = "see the delivery monitor"
	RunCampaigns      Action = "pause, resume and close campaigns, start and close rounds, name the winners, run draws"
	Broadcast         Action = "broadcast to a campaign's participants"
	ManageUsers       Action = "manage users (add, change role, teams and campaigns, reset passwords, remove)"
	ExportAudit       Action = "download the audit trail"
	PersonalData      Action = "export and erase a participant's data (data requests)"
)

// Rule is one row of the role matrix: an action and the roles that may take it.
type Rule struct {
	Action Action
	Roles  []string
}

// matrix is the role matrix. Judges work on entries only: what a participant reads
// (a reply, a hand-back, a verdict that moves them on) is a moderator's. Admins also run
// campaigns, broadcasts and accounts.
var matrix = []Rule{
	{SeeEntries, []string{RoleAdmin, RoleModerator, RoleJudge}},
	{DecideEntries, []string{RoleAdmin, RoleModerator, RoleJudge}},
	{ScoreEntries, []string{RoleAdmin, RoleModerator, RoleJudge}},
	{SeeCampaigns, []string{RoleAdmin, RoleModerator, RoleJudge}},
	{ReadConversations, []string{RoleAdmin, RoleModerator}},
	{Reply, []string{RoleAdmin, RoleModerator}},
	{HandBack, []string{RoleAdmin, RoleModerator}},
	{Assign, []string{RoleAdmin, RoleModerator}},
	{GiveVerdicts, []string{RoleAdmin, RoleModerator}},
	{SeeDeliveries, []string{RoleAdmin, RoleModerator}},
	{RunCampaigns, []string{RoleAdmin}},
	{Broadcast, []string{RoleAdmin}},
	{ManageUsers, []string{RoleAdmin}},
	{ExportAudit, []string{RoleAdmin}},
	{PersonalData, []string{RoleAdmin}},
}

// Roles lists the roles, most rights first.
var Roles = []string{RoleAdmin, RoleModerator, RoleJudge}

// Matrix returns the role matrix, one rule per action.
func Matrix() []Rule {
	out := make([]Rule, len(matrix))
	for i, r := range matrix {
		out[i] = Rule{Action: r.Action, Roles: slices.Clone(r.Roles)}
	}
	return out
}

// Can says whether a role may take an action. An action missing from the matrix is nobody's.
func Can(role string, a Action) bool {
	for _, r := range matrix {
		if r.Action == a {
			return slices.Contains(r.Roles, role)
		}
	}
	return false
}

// Denied says to a user why their role may not take an action, and who may.
func Denied(role string, a Action) string {
	var who []string
	for _, r := range matrix {
		if r.Action == a {
			who = r.Roles
		}
	}
	if len(who) == 0 {
		return fmt.Sprintf("Nobody may %s.", a)
	}
	return fmt.Sprintf("As a %s you may not %s: that takes the role %s.", role, a, strings.Join(who, " or "))
}

// SeesCampaign says whether u may see and act on a campaign's entries, conversations and
// pages: admins and users given no campaigns see every campaign, others only theirs.
func (u User) SeesCampaign(campaign string) bool {
	return u.AllCampaigns() || slices.Contains(u.Campaigns, campaign)
}

// AllCampaigns says whether u sees every campaign: an admin, or a user given none.
func (u User) AllCampaigns() bool {
	return u.Role == RoleAdmin || len(u.Campaigns) == 0
}
