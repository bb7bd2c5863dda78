package dashboard

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/audit"
	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/judge"
)

// Conversations is what the dashboard needs to let a human step into a conversation: the
// moderators' notifications, a participant's transcript, replying as the campaign's persona
// and handing the conversation back to the bot. *engine.Engine satisfies it.
type Conversations interface {
	// Participant returns a participant (errs.ErrNotFound for an unknown one), so the page can
	// say when they opted out or finished.
	Participant(ctx context.Context, id string) (engine.Participant, error)
	Notifications(ctx context.Context, campaign string, limit int) ([]engine.Notification, error)
	Transcript(ctx context.Context, participantID string) ([]engine.Line, error)
	AgentSay(ctx context.Context, participantID, agent, text string) error
	Handback(ctx context.Context, participantID, agent string) error
	// Consent is the participant's recorded answer to the consent question (zero: none).
	Consent(ctx context.Context, participantID string) (engine.Consent, error)
}

var _ Conversations = (*engine.Engine)(nil)

// ParticipantVerdicts are the verdicts a moderator can give a participant (or team) rather than
// one entry: moving them on in a contest or a race.
var participantVerdicts = []string{campaigns.VerdictShortlisted, campaigns.VerdictAdvanced, campaigns.VerdictEliminated, campaigns.VerdictWinner}

// maxReply bounds an agent's reply; WhatsApp takes 4096 characters.
const maxReply = 4096

func (d *Dashboard) participantPage(c *fiber.Ctx) error {
	ci, err := d.findCampaign(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	pid := c.Params("pid")
	lines, err := d.conversations.Transcript(c.UserContext(), pid)
	if err != nil {
		return fmt.Errorf("dashboard: transcript of %s: %w", pid, err)
	}
	if len(lines) == 0 {
		return fmt.Errorf("dashboard: participant %s: %w", pid, errs.ErrNotFound)
	}
	consent, err := d.conversations.Consent(c.UserContext(), pid)
	if err != nil && !errors.Is(err, errs.ErrNotFound) {
		return fmt.Errorf("dashboard: consent of %s: %w", pid, err)
	}
	// Closed says, when they opted out or finished, why verdicts and replies will be refused.
	closed, location := "", ""
	// Handoff is the team that has the conversation, and since when: what the queue showed.
	var handoff map[string]any
	side := &participantSide{}
	switch p, err := d.conversations.Participant(c.UserContext(), pid); {
	case errors.Is(err, errs.ErrNotFound):
	case err != nil:
		return fmt.Errorf("dashboard: participant %s: %w", pid, err)
	default:
		if err := d.sidePanel(c, side, p); err != nil {
			return err
		}
		if r := refused(engine.Closed(p)); r != "" {
			closed = strings.ToUpper(r[:1]) + r[1:]
		} else if team := p.Vars["handoff"]; team != "" {
			since := engine.HandedOffAt(p)
			handoff = map[string]any{"Team": team, "Since": since, "Waited": waitedFor(d.now().Sub(since)), "Queue": d.queue != nil}
		}
		if p.Vars["lat"] != "" && p.Vars["lng"] != "" {
			location = p.Vars["lat"] + "," + p.Vars["lng"]
		}
	}
	verdicts, err := d.participantVerdictsOf(c.UserContext(), pid)
	if err != nil {
		return err
	}
	history, err := d.history(c.UserContext(), audit.Query{ParticipantID: pid})
	if err != nil {
		return err
	}
	assign, err := d.assignForm(c.UserContext(), ci.Def.ID, pid, currentUser(c))
	if err != nil {
		return err
	}
	// One key for the verdict forms of this page: submitting one twice is one verdict, and a
	// moderator who wants to decide again reloads the page first.
	return d.render(c, fiber.StatusOK, "participant", map[string]any{
		"Campaign": ci, "ParticipantID": pid, "Lines": lines, "Verdicts": verdicts, "History": history,
		"DecisionKey": rand.Text(), "Consent": consent, "AsksConsent": !ci.Def.Consent.IsZero(),
		"Closed": closed, "Handoff": handoff, "Location": location, "Side": side,
		"MayHandleData": d.mayHandleData(currentUser(c)), "Assign": assign,
	})
}

func (d *Dashboard) participantBack(c *fiber.Ctx) string {
	return "/dashboard/campaigns/" + c.Params("id") + "/participants/" + c.Params("pid")
}

// reply sends an agent's message to the participant as the persona, at once.
func (d *Dashboard) reply(c *fiber.Ctx) error {
	text := strings.TrimSpace(c.FormValue("text"))
	switch {
	case text == "":
		d.setFlash(c, flash{Message: "Type a reply first.", Error: true})
	case len([]rune(text)) > maxReply:
		d.setFlash(c, flash{Message: fmt.Sprintf("A reply can be at most %d characters.", maxReply), Error: true})
	default:
		err := d.conversations.AgentSay(c.UserContext(), c.Params("pid"), currentUser(c).Username, text)
		switch {
		case errors.Is(err, engine.ErrOptedOut):
			d.setFlash(c, flash{Message: "Not sent: this participant opted out, and nothing reaches them any more. The reply is kept in the conversation as not sent.", Error: true})
		case err != nil:
			return fmt.Errorf("dashboard: reply to %s: %w", c.Params("pid"), err)
		default:
			d.setFlash(c, flash{Message: "Reply sent."})
		}
	}
	return c.Redirect(d.participantBack(c), fiber.StatusSeeOther)
}

// handback returns the conversation to the bot.
func (d *Dashboard) handback(c *fiber.Ctx) error {
	pid := strings.Clone(c.Params("pid"))
	// Said at once, rather than "Handed back" for an event the engine would skip.
	switch p, err := d.conversations.Participant(c.UserContext(), pid); {
	case errors.Is(err, errs.ErrNotFound):
		return err
	case err != nil:
		return fmt.Errorf("dashboard: hand back %s: %w", pid, err)
	case refused(engine.Closed(p)) != "":
		d.setFlash(c, flash{Message: "Not handed back: " + refused(engine.Closed(p)), Error: true})
		return c.Redirect(d.participantBack(c), fiber.StatusSeeOther)
	case p.Vars["handoff"] == "":
		d.setFlash(c, flash{Message: "Not handed back: this conversation is not handed to a human; the bot answers it already.", Error: true})
		return c.Redirect(d.participantBack(c), fiber.StatusSeeOther)
	}
	if err := d.conversations.Handback(c.UserContext(), pid, currentUser(c).Username); err != nil {
		return fmt.Errorf("dashboard: hand back %s: %w", pid, err)
	}
	d.setFlash(c, flash{Message: "Handed back to the bot."})
	return c.Redirect(d.participantBack(c), fiber.StatusSeeOther)
}

// participantVerdict advances, eliminates, shortlists or crowns a participant or team.
//
// With Verdicts, only a verdict the participant's state takes is given (the page offers those),
// and a participant whose latest entry is pending gets it as the verdict on that entry, so the
// entry leaves the queue with it instead of waiting there for a verdict that moves nothing.
func (d *Dashboard) participantVerdict(c *fiber.Ctx) error {
	v := strings.Clone(c.FormValue("verdict"))
	offered := participantVerdicts
	if d.verdicts != nil {
		offered = campaigns.Verdicts
	}
	if !slices.Contains(offered, v) {
		return fmt.Errorf("dashboard: verdict %q: %w", v, errs.ErrInvalid)
	}
	key := c.FormValue("key")
	if key == "" {
		return fmt.Errorf("dashboard: verdict without a decision key (reload the page): %w", errs.ErrInvalid)
	}
	ctx, pid := c.UserContext(), strings.Clone(c.Params("pid"))
	if d.verdicts != nil {
		vs, err := d.stateVerdicts(ctx, pid)
		if err != nil {
			return err
		}
		if why := notOffered(v, vs); why != "" {
			d.setFlash(c, flash{Message: "Verdict not given: " + why, Error: true})
			return c.Redirect(d.participantBack(c), fiber.StatusSeeOther)
		}
		if e, ok, err := d.pendingEntryOf(ctx, c.Params("id"), pid); err != nil {
			return err
		} else if ok {
			return d.decideEntry(c, e.ID, v, d.participantBack(c))
		}
	}
	err := d.judge.DecideParticipant(ctx, c.Params("id"), pid, v, currentUser(c).Username, key)
	switch {
	case refused(err) != "":
		d.setFlash(c, flash{Message: "Verdict not given: " + refused(err), Error: true})
	case errors.Is(err, errs.ErrConflict):
		d.setFlash(c, flash{Message: "That verdict was given already (the form was sent twice); nothing changed."})
	case err != nil:
		return fmt.Errorf("dashboard: %s %s: %w", v, c.Params("pid"), err)
	default:
		d.setFlash(c, flash{Message: "Verdict given: " + v + "."})
	}
	return c.Redirect(d.participantBack(c), fiber.StatusSeeOther)
}

// pendingEntryOf returns the participant's latest entry when it waits for a verdict and
// belongs to campaign.
func (d *Dashboard) pendingEntryOf(ctx context.Context, campaign, pid string) (judge.Entry, bool, error) {
	p, err := d.conversations.Participant(ctx, pid)
	if errors.Is(err, errs.ErrNotFound) {
		return judge.Entry{}, false, nil
	}
	if err != nil {
		return judge.Entry{}, false, fmt.Errorf("dashboard: participant %s: %w", pid, err)
	}
	id := p.Vars["entry"]
	if id == "" {
		return judge.Entry{}, false, nil
	}
	e, err := d.judge.Entry(ctx, id)
	if errors.Is(err, errs.ErrNotFound) {
		return judge.Entry{}, false, nil
	}
	if err != nil {
		return judge.Entry{}, false, fmt.Errorf("dashboard: entry %s of %s: %w", id, pid, err)
	}
	return e, e.Status == judge.StatusPending && e.ParticipantID == pid && e.Campaign == campaign, nil
}

// participantVerdictsOf is the verdicts a participant's page offers.
func (d *Dashboard) participantVerdictsOf(ctx context.Context, pid string) ([]string, error) {
	if d.verdicts == nil {
		return participantVerdicts, nil
	}
	return d.stateVerdicts(ctx, pid)
}

// refused says, for a moderator, why a verdict or reply was refused because of what the
// participant did: "" when err is not such a refusal.
func refused(err error) string {
	switch {
	case errors.Is(err, engine.ErrOptedOut):
		return "this participant opted out, and nothing reaches them any more."
	case errors.Is(err, engine.ErrFinished):
		return "this participant has finished; nothing moves them into another state."
	case errors.Is(err, engine.ErrAwaitingConsent):
		return "this participant has not agreed to take part (yet): they are asked the consent question. Decide once they agree."
	}
	return ""
}
