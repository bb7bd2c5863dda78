package dashboard

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/accounts"
	"github.com/chatcampaigns/campaign/audit"
	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// CampaignInfo is a loaded campaign as the dashboard lists it.
type CampaignInfo struct {
	Def    *campaigns.Definition
	Status string
	// Counts is the number of participants in each state.
	Counts map[string]int
}

// Campaigns is what the campaign pages need: the loaded campaigns with their status and
// participants per state, and a way to pause, resume or close one.
type Campaigns interface {
	CampaignList(ctx context.Context) ([]CampaignInfo, error)
	// Campaign returns one campaign, or an error wrapping errs.ErrNotFound. The pages of one
	// campaign use it, so they count the participants of that campaign only.
	Campaign(ctx context.Context, id string) (CampaignInfo, error)
	SetStatus(ctx context.Context, id, status string) error
}

// campaignStatuses an admin can switch a campaign to from the dashboard.
var campaignStatuses = map[string]string{"live": "Campaign is live.", "paused": "Campaign paused: messages wait until it is resumed.", "closed": "Campaign closed."}

type campaignRow struct {
	ID, Title, Version, Status string
	// Shown is the status as marketers read it: a live campaign outside its schedule shows
	// "scheduled" or "ended".
	Shown        string
	Participants int
}

// shownStatus is a campaign's status as the pages show it, and a sentence on its schedule:
// "live" is only said of a campaign that takes newcomers now.
func shownStatus(ci CampaignInfo, now time.Time) (shown, note string) {
	s := ci.Def.Schedule
	if ci.Status != engine.StatusLive {
		return ci.Status, ""
	}
	switch s.Phase(now) {
	case campaigns.PhaseScheduled:
		return "scheduled", "Opens to participants on " + s.Format(s.Start) + "."
	case campaigns.PhaseEnded:
		until := "until the campaign is closed"
		if !s.HardStop.IsZero() {
			until = "until " + s.Format(s.HardStop)
		}
		return "ended", "Closed to newcomers on " + s.Format(s.End) + "; those who joined before play on " + until + "."
	case campaigns.PhaseStopped:
		return "ended", "Ended on " + s.Format(s.HardStop) + ": nobody is answered any more."
	}
	if !s.End.IsZero() {
		return ci.Status, "Open to newcomers until " + s.Format(s.End) + "."
	}
	return ci.Status, ""
}

type flowState struct {
	Name        string
	Count       int
	Final       bool
	Start       bool
	Handoff     string
	Transitions []flowTransition
}

// consentCounts are the participants of a campaign with consent who are not playing yet.
type consentCounts struct {
	Asked, Declined int
}

type flowTransition struct {
	On, Goto string
	End      bool // the transition ends the participant's run (`end: true`)
}

func (d *Dashboard) campaignsPage(c *fiber.Ctx) error {
	list, err := d.campaigns.CampaignList(c.UserContext())
	if err != nil {
		return fmt.Errorf("dashboard: list campaigns: %w", err)
	}
	rows := make([]campaignRow, 0, len(list))
	for _, ci := range list {
		if !currentUser(c).SeesCampaign(ci.Def.ID) {
			continue
		}
		n := 0
		for _, k := range ci.Counts {
			n += k
		}
		shown, _ := shownStatus(ci, d.now())
		rows = append(rows, campaignRow{ID: ci.Def.ID, Title: ci.Def.Title, Version: ci.Def.Version, Status: ci.Status, Shown: shown, Participants: n})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].ID < rows[j].ID })
	return d.render(c, fiber.StatusOK, "campaigns", rows)
}

func (d *Dashboard) campaignPage(c *fiber.Ctx) error {
	return d.showCampaign(c, fiber.StatusOK, broadcastDraft{})
}

// showCampaign renders the campaign page with status, its broadcast form filled with draft.
func (d *Dashboard) showCampaign(c *fiber.Ctx, status int, draft broadcastDraft) error {
	ci, err := d.findCampaign(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	def := ci.Def
	var states []flowState
	for _, name := range def.Order {
		st := def.States[name]
		fs := flowState{Name: name, Count: ci.Counts[name], Final: st.Final, Start: name == def.Start, Handoff: st.Handoff}
		for _, t := range st.On {
			fs.Transitions = append(fs.Transitions, flowTransition{On: triggerLabel(t), Goto: t.Goto, End: t.End})
		}
		states = append(states, fs)
	}
	var consent *consentCounts
	if !def.Consent.IsZero() {
		consent = &consentCounts{Asked: ci.Counts[engine.StateConsent], Declined: ci.Counts[engine.StateDeclined]}
	}
	var notes []engine.Notification
	// Notifications lead into conversations: shown to those who may read them.
	mayRead := d.conversations != nil && accounts.Can(currentUser(c).Role, accounts.ReadConversations)
	if mayRead {
		if notes, err = d.conversations.Notifications(c.UserContext(), def.ID, 50); err != nil {
			return fmt.Errorf("dashboard: notifications of %s: %w", def.ID, err)
		}
	}
	rounds, err := d.rankings(c.UserContext(), def)
	if err != nil {
		return err
	}
	pools, err := d.poolRows(c.UserContext(), def)
	if err != nil {
		return err
	}
	u := currentUser(c)
	ov, err := d.campaignOverview(c.UserContext(), ci, u)
	if err != nil {
		return err
	}
	shown, scheduleNote := shownStatus(ci, d.now())
	return d.render(c, status, "campaign", map[string]any{
		"Campaign": ci, "Shown": shown, "ScheduleNote": scheduleNote, "States": states, "Admin": accounts.Can(u.Role, accounts.RunCampaigns), "Notifications": notes,
		"Rounds": rounds, "MayPurge": d.mayHandleData(u) && ci.Status == "closed", "MayAdvance": mayAdvance(u), "Participants": mayRead, "Consent": consent, "Pools": pools,
		"Broadcast": (d.broadcaster != nil || d.plans != nil) && accounts.Can(u.Role, accounts.Broadcast), "BroadcastForm": d.broadcastFormFor(def), "Draft": draft,
		"RoundControls": roundControlsFor(d.rounds != nil && accounts.Can(u.Role, accounts.RunCampaigns), def),
		"Ranked":        d.ranking != nil && def.Ranking != nil,
		"Overview":      ov,
		"Deliveries":    d.deliveries != nil && accounts.Can(u.Role, accounts.SeeDeliveries),
		"Draws":         d.draws != nil, "AuditExport": d.trail != nil && accounts.Can(u.Role, accounts.ExportAudit),
	})
}

// roundControlsFor is the admins' round form, when they may use it.
func roundControlsFor(may bool, def *campaigns.Definition) []roundControl {
	if !may {
		return nil
	}
	return roundControls(def)
}

func (d *Dashboard) findCampaign(ctx context.Context, id string) (CampaignInfo, error) {
	ci, err := d.campaigns.Campaign(ctx, id)
	if err != nil {
		return CampaignInfo{}, fmt.Errorf("dashboard: campaign %q: %w", id, err)
	}
	return ci, nil
}

// setCampaignStatus pauses, resumes or closes a campaign; only admins may.
func (d *Dashboard) setCampaignStatus(c *fiber.Ctx) error {
	u := currentUser(c)
	if u.Role != RoleAdmin {
		return fmt.Errorf("dashboard: %s may not change a campaign's status: %w", u.Username, errForbidden)
	}
	// Copies: the engine keeps the status (and may key by the id) after Fiber reused the
	// request's buffers; kept as they were, a paused campaign read "/das" a few pages later.
	id, status := strings.Clone(c.Params("id")), strings.Clone(c.FormValue("status"))
	msg, ok := campaignStatuses[status]
	if !ok {
		return fmt.Errorf("dashboard: status %q: %w", status, errs.ErrInvalid)
	}
	if err := d.campaigns.SetStatus(c.UserContext(), id, status); err != nil {
		return fmt.Errorf("dashboard: set status of %s: %w", id, err)
	}
	if err := d.record(c, audit.Event{Action: audit.CampaignStatus, Campaign: id, Detail: status}); err != nil {
		return err
	}
	d.setFlash(c, flash{Message: msg})
	return c.Redirect("/dashboard/campaigns/"+id, fiber.StatusSeeOther)
}

// triggerLabel says in a few words what fires a transition.
func triggerLabel(t *campaigns.Transition) string {
	switch t.Kind {
	case campaigns.OnText:
		switch {
		case t.AnyText:
			return "any text"
		case t.Pattern != nil:
			return "text like /" + t.Pattern.String() + "/"
		}
		return "text " + strings.Join(t.Keywords, ", ")
	case campaigns.OnMedia:
		if len(t.Media) == 0 {
			return "any media"
		}
		return strings.Join(t.Media, " or ")
	case campaigns.OnChoice:
		if len(t.Choices) == 0 {
			return "any choice"
		}
		return "choice " + strings.Join(t.Choices, ", ")
	case campaigns.OnTimeout:
		return "after " + campaigns.FormatDuration(t.After)
	case campaigns.OnVerdict:
		return "verdict " + t.Verdict
	case campaigns.OnLocation:
		if t.Area != nil {
			return "location " + t.Area.String()
		}
		return "any location"
	case campaigns.OnRound:
		if t.Round != "" {
			return "round " + t.Round + " " + t.RoundEvent
		}
		return "round " + t.RoundEvent
	}
	return string(t.Kind)
}
