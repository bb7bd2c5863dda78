package dashboard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/accounts"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/judge"
)

// routeActions maps every route that needs a login to what it does; accounts' matrix says
// which roles may do that. A route registered without an entry here is for admins only (and
// TestRoleMatrix fails), so a new page is never open to every role by accident.
var routeActions = map[string]accounts.Action{
	"GET /dashboard/entries":                                           accounts.SeeEntries,
	"GET /dashboard/entries/:id":                                       accounts.SeeEntries,
	"GET /dashboard/entries/:id/thumb":                                 accounts.SeeEntries,
	"GET /dashboard/entries/:id/media":                                 accounts.SeeEntries,
	"POST /dashboard/entries/:id/approve":                              accounts.DecideEntries,
	"POST /dashboard/entries/:id/reject":                               accounts.DecideEntries,
	"POST /dashboard/entries/:id/score":                                accounts.ScoreEntries,
	"POST /dashboard/entries/:id/release":                              accounts.SeeEntries,
	"POST /dashboard/entries/:id/recuse":                               accounts.ScoreEntries,
	"GET /dashboard/campaigns/:id/scores":                              accounts.SeeCampaigns,
	"GET /dashboard/campaigns/:id/scores.csv":                          accounts.SeeCampaigns,
	"GET /dashboard/campaigns/:id/recusals.csv":                        accounts.SeeCampaigns,
	"GET /dashboard/campaigns":                                         accounts.SeeCampaigns,
	"GET /dashboard/campaigns/:id":                                     accounts.SeeCampaigns,
	"GET /dashboard/campaigns/:id/ranking":                             accounts.SeeCampaigns,
	"GET /dashboard/conversations":                                     accounts.ReadConversations,
	"GET /dashboard/campaigns/:id/participants/:pid":                   accounts.ReadConversations,
	"GET /dashboard/campaigns/:id/participants/:pid/lines/:line/media": accounts.ReadConversations,
	"POST /dashboard/campaigns/:id/participants/:pid/reply":            accounts.Reply,
	"POST /dashboard/campaigns/:id/participants/:pid/handback":         accounts.HandBack,
	"POST /dashboard/campaigns/:id/participants/:pid/assign":           accounts.Assign,
	"POST /dashboard/campaigns/:id/participants/:pid/verdict":          accounts.GiveVerdicts,
	"POST /dashboard/campaigns/:id/rounds/:round/advance":              accounts.GiveVerdicts,
	"GET /dashboard/campaigns/:id/deliveries":                          accounts.SeeDeliveries,
	"POST /dashboard/campaigns/:id/status":                             accounts.RunCampaigns,
	"POST /dashboard/campaigns/:id/rounds/:round/start":                accounts.RunCampaigns,
	"POST /dashboard/campaigns/:id/rounds/:round/close":                accounts.RunCampaigns,
	"POST /dashboard/campaigns/:id/ranking/winners":                    accounts.RunCampaigns,
	"POST /dashboard/campaigns/:id/broadcast":                          accounts.Broadcast,
	"GET /dashboard/campaigns/:id/broadcasts/:bid":                     accounts.Broadcast,
	"GET /dashboard/inbox":                                             accounts.ReadConversations,
	"GET /dashboard/campaigns/:id/participants":                        accounts.ReadConversations,
	"GET /dashboard/campaigns/:id/broadcasts":                          accounts.Broadcast,
	"GET /dashboard/campaigns/:id/export/:what":                        accounts.RunCampaigns,
	"GET /dashboard/users":                                             accounts.ManageUsers,
	"POST /dashboard/users":                                            accounts.ManageUsers,
	"POST /dashboard/users/:name":                                      accounts.ManageUsers,
	"POST /dashboard/users/:name/password":                             accounts.ManageUsers,
	"POST /dashboard/users/:name/remove":                               accounts.ManageUsers,
	"POST /dashboard/entries/:id/verdict":                              accounts.DecideEntries,
	"GET /dashboard/audit.csv":                                         accounts.ExportAudit,
	"GET /dashboard/campaigns/:id/draws":                               accounts.SeeCampaigns,
	"POST /dashboard/campaigns/:id/draws":                              accounts.RunCampaigns,
	"GET /dashboard/campaigns/:id/draws/:name":                         accounts.SeeCampaigns,
	"POST /dashboard/campaigns/:id/draws/:name/close":                  accounts.RunCampaigns,
	"GET /dashboard/campaigns/:id/draws/:name/publication.json":        accounts.SeeCampaigns,
	"GET /dashboard/campaigns/:id/draws/:name/eligible.txt":            accounts.SeeCampaigns,
	"GET /dashboard/campaigns/:id/participants/:pid/export":            accounts.PersonalData,
	"POST /dashboard/campaigns/:id/participants/:pid/erase":            accounts.PersonalData,
	"POST /dashboard/campaigns/:id/purge":                              accounts.PersonalData,
	"GET /dashboard/numbers":                                           accounts.SeeDeliveries,
	"POST /dashboard/campaigns/:id/broadcast/confirm":                  accounts.Broadcast,
	"POST /dashboard/campaigns/:id/broadcast/edit":                     accounts.Broadcast,
	"POST /dashboard/campaigns/:id/broadcasts/:bid/pause":              accounts.Broadcast,
	"POST /dashboard/campaigns/:id/broadcasts/:bid/resume":             accounts.Broadcast,
	"POST /dashboard/campaigns/:id/broadcasts/:bid/cancel":             accounts.Broadcast,
	"GET /dashboard/campaigns/:id/broadcasts/:bid/recipients.csv":      accounts.Broadcast,
	"GET /dashboard/prices":                                            accounts.Broadcast,
	"POST /dashboard/prices":                                           accounts.Broadcast,
}

// RouteRule is a route and what it does, as the role matrix sees it.
type RouteRule struct {
	Method, Path string
	Action       accounts.Action
}

// RouteRules lists routeActions, by path: for the route-by-role test and the docs.
func RouteRules() []RouteRule {
	var out []RouteRule
	for k, a := range routeActions {
		m, p, _ := strings.Cut(k, " ")
		out = append(out, RouteRule{Method: m, Path: p, Action: a})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}

// forbiddenError is a refusal with a reason the user can act on; the error page shows it.
type forbiddenError struct{ reason string }

func (e forbiddenError) Error() string        { return "forbidden: " + e.reason }
func (e forbiddenError) Is(target error) bool { return target == errForbidden }

// guarded registers routes behind the role matrix: each route first checks that the user's
// role may do what the route does, that the campaign in the URL is one of the user's, and
// that the participant or entry in the URL belongs to it.
type guarded struct {
	r fiber.Router
	d *Dashboard
}

func (d *Dashboard) guard(r fiber.Router) guarded { return guarded{r: r, d: d} }

// Get registers a page.
func (g guarded) Get(path string, h ...fiber.Handler) {
	g.r.Get(path, append([]fiber.Handler{g.d.authorize(fiber.MethodGet + " /dashboard" + path)}, h...)...)
}

// Post registers a form's target.
func (g guarded) Post(path string, h ...fiber.Handler) {
	g.r.Post(path, append([]fiber.Handler{g.d.authorize(fiber.MethodPost + " /dashboard" + path)}, h...)...)
}

// msgUnlisted is the refusal of a route missing from routeActions, to anyone but an admin.
const msgUnlisted = "This page has no place in the role matrix yet; only admins may use it."

func (d *Dashboard) authorize(route string) fiber.Handler {
	action, listed := routeActions[route]
	path := route[strings.IndexByte(route, ' ')+1:]
	inCampaign := strings.HasPrefix(path, "/dashboard/campaigns/:id")
	ofParticipant := strings.Contains(path, "/participants/:pid")
	ofEntry := strings.HasPrefix(path, "/dashboard/entries/:id")
	return func(c *fiber.Ctx) error {
		u := currentUser(c)
		switch {
		case !listed && u.Role != RoleAdmin:
			return fmt.Errorf("dashboard: %s: %w", route, forbiddenError{msgUnlisted})
		case listed && !accounts.Can(u.Role, action):
			return fmt.Errorf("dashboard: %s by %s: %w", route, u.Username, forbiddenError{accounts.Denied(u.Role, action)})
		}
		ctx := c.UserContext()
		if inCampaign {
			if err := mayWorkOn(u, c.Params("id")); err != nil {
				return fmt.Errorf("dashboard: %s: %w", route, err)
			}
		}
		if ofParticipant {
			if err := d.participantOf(ctx, c.Params("id"), c.Params("pid")); err != nil {
				return fmt.Errorf("dashboard: %s: %w", route, err)
			}
		}
		if ofEntry && !u.AllCampaigns() {
			e, err := d.judge.Entry(ctx, c.Params("id"))
			if err != nil {
				return fmt.Errorf("dashboard: %s: entry %s: %w", route, c.Params("id"), err)
			}
			if err := mayWorkOn(u, e.Campaign); err != nil {
				return fmt.Errorf("dashboard: %s: %w", route, err)
			}
		}
		return c.Next()
	}
}

// mayWorkOn refuses a campaign that is not one of a scoped user's.
func mayWorkOn(u *User, campaign string) error {
	if u.SeesCampaign(campaign) {
		return nil
	}
	return forbiddenError{fmt.Sprintf("You work on %s, not on campaign %q: an admin can add it to your account.",
		strings.Join(u.Campaigns, ", "), campaign)}
}

// participantOf makes sure the participant in a URL is one of the campaign's in it: every
// participant route reads and acts on the participant by id alone, so without this a form
// posted under one campaign's URL would move another campaign's participant.
func (d *Dashboard) participantOf(ctx context.Context, campaign, pid string) error {
	if d.conversations == nil {
		return nil
	}
	p, err := d.conversations.Participant(ctx, pid)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		return fmt.Errorf("participant %s: %w", pid, errs.ErrNotFound)
	case err != nil:
		return fmt.Errorf("participant %s: %w", pid, err)
	case p.Campaign != campaign:
		return fmt.Errorf("participant %s of campaign %q, not %q: %w", pid, p.Campaign, campaign, errs.ErrNotFound)
	}
	return nil
}

// entriesFor lists the entries f matches among the campaigns u works on, newest first.
func (d *Dashboard) entriesFor(ctx context.Context, u *User, f judge.Filter) ([]judge.Entry, error) {
	if u.AllCampaigns() || f.Campaign != "" {
		if !u.SeesCampaign(f.Campaign) {
			return nil, nil
		}
		return d.judge.Entries(ctx, f)
	}
	var all []judge.Entry
	for _, id := range u.Campaigns {
		g := f
		g.Campaign = id
		es, err := d.judge.Entries(ctx, g)
		if err != nil {
			return nil, err
		}
		all = append(all, es...)
	}
	slices.SortStableFunc(all, func(a, b judge.Entry) int { return b.CreatedAt.Compare(a.CreatedAt) })
	if f.Limit > 0 && len(all) > f.Limit {
		all = all[:f.Limit]
	}
	return all, nil
}
