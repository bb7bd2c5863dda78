package dashboard

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/accounts"
	"github.com/chatcampaigns/campaign/audit"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/reports"
)

// Conversations are assigned to one dashboard user each, the moderator who answers them:
// "assigned to me" in the inbox is a moderator's own worklist, whatever team the conversation
// is handed to. Assigning is open to the roles that read conversations (the matrix's
// accounts.Assign); the assignee must be one of them too, and work on the campaign.

// assignees lists the users a conversation of campaign may be assigned to (every campaign
// when campaign is ""), by name: the moderators and admins who work on it. Without the
// accounts store only u is known.
func (d *Dashboard) assignees(ctx context.Context, campaign string, u *User) ([]string, error) {
	if d.accounts == nil {
		return []string{u.Username}, nil
	}
	us, err := d.accounts.ListUsers(ctx)
	if err != nil {
		return nil, fmt.Errorf("dashboard: users to assign to: %w", err)
	}
	var out []string
	for _, x := range us {
		if assignableTo(x, campaign) == "" {
			out = append(out, x.Username)
		}
	}
	return out, nil
}

// assignableTo says why a conversation of campaign cannot be assigned to x ("" when it can).
func assignableTo(x User, campaign string) string {
	switch {
	case !accounts.Can(x.Role, accounts.ReadConversations):
		return fmt.Sprintf("%s is a %s, who reads no conversations.", x.Username, x.Role)
	case campaign != "" && !x.SeesCampaign(campaign):
		return fmt.Sprintf("%s does not work on campaign %q.", x.Username, campaign)
	}
	return ""
}

// assign assigns the conversation to the user named in the form's "to" (the current user for
// "me"), or to nobody when it is empty, and records it in the audit trail.
func (d *Dashboard) assign(c *fiber.Ctx) error {
	ctx, u := c.UserContext(), currentUser(c)
	campaign, pid := strings.Clone(c.Params("id")), strings.Clone(c.Params("pid"))
	to := strings.ToLower(strings.TrimSpace(c.FormValue("to")))
	if to == "me" {
		to = u.Username
	}
	to = strings.Clone(to)
	back := d.participantBack(c)
	if to != "" {
		x := *u
		if to != u.Username {
			switch found, err := d.users.UserByName(ctx, to); {
			case errors.Is(err, errs.ErrNotFound):
				d.setFlash(c, flash{Message: fmt.Sprintf("Not assigned: there is no user %q.", to), Error: true})
				return c.Redirect(back, fiber.StatusSeeOther)
			case err != nil:
				return fmt.Errorf("dashboard: assign %s to %s: %w", pid, to, err)
			default:
				x = found
			}
		}
		if why := assignableTo(x, campaign); why != "" {
			d.setFlash(c, flash{Message: "Not assigned: " + why, Error: true})
			return c.Redirect(back, fiber.StatusSeeOther)
		}
	}
	was, err := d.reports.Assignment(ctx, pid)
	if err != nil {
		return fmt.Errorf("dashboard: assign %s: %w", pid, err)
	}
	if was.User == to {
		d.setFlash(c, flash{Message: assignedText(to) + " already; nothing changed."})
		return c.Redirect(back, fiber.StatusSeeOther)
	}
	a := reports.Assignment{ParticipantID: pid, Campaign: campaign, User: to, By: u.Username, At: d.now()}
	if err := d.reports.Assign(ctx, a); err != nil {
		return fmt.Errorf("dashboard: assign %s to %q: %w", pid, to, err)
	}
	detail, subject := "to "+to, to
	if to == "" {
		detail, subject = "to nobody", was.User
	}
	if was.User != "" {
		detail += " (was " + was.User + ")"
	}
	if err := d.record(c, audit.Event{Action: audit.AssignConversation, Campaign: campaign, ParticipantID: pid, Subject: subject, Detail: detail}); err != nil {
		return err
	}
	d.setFlash(c, flash{Message: assignedText(to) + "."})
	return c.Redirect(back, fiber.StatusSeeOther)
}

// assignedText says whom a conversation is assigned to, as a sentence's start.
func assignedText(user string) string {
	if user == "" {
		return "Assigned to nobody"
	}
	return "Assigned to " + user
}

// assignView is the assignment on a conversation's page: whom it is assigned to, and the
// users it may be given to (nil when the user may not assign).
type assignView struct {
	reports.Assignment
	Users     []string
	MayAssign bool
	Me        string
}

// assignForm reads a conversation's assignment for its page; nil without the reports store.
func (d *Dashboard) assignForm(ctx context.Context, campaign, pid string, u *User) (*assignView, error) {
	if d.reports == nil {
		return nil, nil
	}
	a, err := d.reports.Assignment(ctx, pid)
	if err != nil {
		return nil, fmt.Errorf("dashboard: assignment of %s: %w", pid, err)
	}
	v := &assignView{Assignment: a, MayAssign: accounts.Can(u.Role, accounts.Assign), Me: u.Username}
	if v.MayAssign {
		if v.Users, err = d.assignees(ctx, campaign, u); err != nil {
			return nil, err
		}
	}
	return v, nil
}
