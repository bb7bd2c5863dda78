package dashboard

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/accounts"
	"github.com/chatcampaigns/campaign/errs"
)

// The admins' users page: the same accounts `campaign user` manages, with the same rules
// (package accounts): who may log in, with which role, for which teams and campaigns.

const usersPath = "/dashboard/users"

type userRow struct {
	accounts.User
	Teams string
	// Campaigns are the campaigns to tick, with the user's ticked.
	Campaigns []campaignTick
	Self      bool
}

type campaignTick struct {
	ID      string
	Checked bool
}

func (d *Dashboard) usersPage(c *fiber.Ctx) error {
	ctx := c.UserContext()
	users, err := d.accounts.ListUsers(ctx)
	if err != nil {
		return fmt.Errorf("dashboard: users: %w", err)
	}
	ids, err := d.campaignIDs(c)
	if err != nil {
		return err
	}
	me := currentUser(c)
	rows := make([]userRow, 0, len(users))
	for _, u := range users {
		r := userRow{User: u, Teams: strings.Join(u.Teams, ", "), Self: u.Username == me.Username}
		// A user's campaigns that are no longer loaded stay ticked, so saving keeps them.
		for _, id := range accounts.Norm(append(slices.Clone(ids), u.Campaigns...)) {
			r.Campaigns = append(r.Campaigns, campaignTick{ID: id, Checked: slices.Contains(u.Campaigns, id)})
		}
		rows = append(rows, r)
	}
	var fresh []campaignTick
	for _, id := range ids {
		fresh = append(fresh, campaignTick{ID: id})
	}
	return d.render(c, fiber.StatusOK, "users", map[string]any{"Users": rows, "Roles": accounts.Roles, "Campaigns": fresh})
}

// campaignIDs lists the loaded campaigns' ids, sorted.
func (d *Dashboard) campaignIDs(c *fiber.Ctx) ([]string, error) {
	if d.campaigns == nil {
		return nil, nil
	}
	list, err := d.campaigns.CampaignList(c.UserContext())
	if err != nil {
		return nil, fmt.Errorf("dashboard: users: campaigns: %w", err)
	}
	var ids []string
	for _, ci := range list {
		ids = append(ids, ci.Def.ID)
	}
	return accounts.Norm(ids), nil
}

// formList reads a form field that may be repeated (checkboxes) or hold a comma-separated
// list (a text field), as copies.
func formList(c *fiber.Ctx, key string) []string {
	var out []string
	for _, v := range c.Request().PostArgs().PeekMulti(key) {
		for _, s := range strings.Split(string(v), ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// userRefusal is the flash for a change the rules refused; ok false for any other error.
func userRefusal(err error, name string) (string, bool) {
	switch {
	case errors.Is(err, accounts.ErrLastAdmin):
		return fmt.Sprintf("%s is the only admin: make another user admin first.", name), true
	case errors.Is(err, errs.ErrNotFound):
		return fmt.Sprintf("There is no user %q (any more).", name), true
	case errors.Is(err, errs.ErrConflict):
		return fmt.Sprintf("A user %q exists already.", name), true
	case errors.Is(err, errs.ErrInvalid):
		msg := err.Error()
		if _, reason, ok := strings.Cut(msg, errs.ErrInvalid.Error()+": "); ok {
			msg = reason
		}
		return "Not saved: " + msg + ".", true
	}
	return "", false
}

// usersDone flashes the outcome of a change and goes back to the users page.
func (d *Dashboard) usersDone(c *fiber.Ctx, err error, name, done string) error {
	if err != nil {
		msg, ok := userRefusal(err, name)
		if !ok {
			return err
		}
		d.setFlash(c, flash{Message: msg, Error: true})
	} else {
		d.setFlash(c, flash{Message: done})
	}
	return c.Redirect(usersPath, fiber.StatusSeeOther)
}

// recordRole tells the audit trail of a change of who may do what. The change is stored
// already, so a trail that fails is logged rather than shown as a failed change.
func (d *Dashboard) recordRole(c *fiber.Ctx, ch accounts.RoleChange) {
	ch.By, ch.At = currentUser(c).Username, d.now()
	if err := d.roleChanges.RecordRoleChange(c.UserContext(), ch); err != nil {
		d.log.Error("dashboard: record role change", "user", ch.Username, "err", err)
	}
}

func (d *Dashboard) addUser(c *fiber.Ctx) error {
	n := accounts.NewUser{
		Username:  strings.ToLower(strings.TrimSpace(c.FormValue("username"))),
		Password:  strings.Clone(c.FormValue("password")),
		Role:      strings.Clone(c.FormValue("role")),
		Teams:     formList(c, "teams"),
		Campaigns: formList(c, "campaign"),
	}
	n.Username = strings.Clone(n.Username)
	u, err := accounts.Add(c.UserContext(), d.accounts, n)
	if err == nil {
		d.recordRole(c, accounts.RoleChange{Username: u.Username, To: u.Role, Campaigns: u.Campaigns})
	}
	return d.usersDone(c, err, n.Username, fmt.Sprintf("User %s added as %s.", n.Username, n.Role))
}

// editUser saves a user's role, teams and campaigns.
func (d *Dashboard) editUser(c *fiber.Ctx) error {
	ctx := c.UserContext()
	name := strings.Clone(c.Params("name"))
	before, err := d.accounts.UserByName(ctx, name)
	if err != nil {
		return d.usersDone(c, err, name, "")
	}
	role, teams, camps := strings.Clone(c.FormValue("role")), formList(c, "teams"), accounts.Norm(formList(c, "campaign"))
	// The role first: it is the change that can be refused (the last admin) after checking.
	if err := accounts.CheckNames(teams, camps); err != nil {
		return d.usersDone(c, fmt.Errorf("dashboard: edit user %s: %w", name, err), name, "")
	}
	if _, err := accounts.ChangeRole(ctx, d.accounts, name, role); err != nil {
		return d.usersDone(c, err, name, "")
	}
	if err := accounts.SetUserTeams(ctx, d.accounts, name, teams); err != nil {
		return d.usersDone(c, err, name, "")
	}
	if err := accounts.SetUserCampaigns(ctx, d.accounts, name, camps); err != nil {
		return d.usersDone(c, err, name, "")
	}
	if before.Role != role || !slices.Equal(before.Campaigns, camps) {
		d.recordRole(c, accounts.RoleChange{Username: name, From: before.Role, To: role, Campaigns: camps})
	}
	return d.usersDone(c, nil, name, fmt.Sprintf("User %s saved.", name))
}

func (d *Dashboard) resetPassword(c *fiber.Ctx) error {
	name := strings.Clone(c.Params("name"))
	err := accounts.ChangePassword(c.UserContext(), d.accounts, name, strings.Clone(c.FormValue("password")))
	return d.usersDone(c, err, name, fmt.Sprintf("Password of %s changed; their sessions are logged out.", name))
}

func (d *Dashboard) removeUser(c *fiber.Ctx) error {
	ctx := c.UserContext()
	name := strings.Clone(c.Params("name"))
	u, err := d.accounts.UserByName(ctx, name)
	if err == nil {
		err = accounts.RemoveUser(ctx, d.accounts, name)
	}
	if err == nil {
		d.recordRole(c, accounts.RoleChange{Username: name, From: u.Role})
	}
	return d.usersDone(c, err, name, fmt.Sprintf("User %s removed.", name))
}
