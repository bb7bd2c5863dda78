package webchat

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// In a team campaign the web chat has no group chat to be the team, so the page asks first:
// give a new team a name (and get its invite code to share), or join one with its code. The
// browser then talks for its team: what any member sends is the team's, and every member's page
// shows the team's conversation. The rules (names, codes, teams.min and teams.max) are the
// engine's; this file only shows the forms and turns the engine's answers into words.

// party is who a browser talks as in a campaign: itself, or its team.
type party struct {
	// from is the address the engine knows the participant by, name the name it greets.
	from, name, pid string
	// team is set in a team campaign once the browser is in a team.
	team *engine.Team
}

// partyOf resolves who browser talks as in def. In a team campaign a browser without a team
// has no participant yet: pid is "" then.
func (c *Channel) partyOf(ctx context.Context, def *campaigns.Definition, browser string) (party, error) {
	if def.Teams == nil {
		return party{from: browser, pid: engine.ParticipantID(def.ID, ChannelName, browser)}, nil
	}
	t, err := c.eng.TeamOf(ctx, def.ID, ChannelName, browser)
	if errors.Is(err, errs.ErrNotFound) {
		return party{}, nil
	}
	if err != nil {
		return party{}, fmt.Errorf("webchat: team of %s: %w", browser, err)
	}
	return party{from: t.ID, name: t.Name, pid: t.ParticipantID(), team: &t}, nil
}

// notPlaying is the reason a browser of a team campaign cannot send yet, or "".
func notPlaying(def *campaigns.Definition, p party) string {
	switch {
	case def.Teams == nil:
		return ""
	case p.team == nil:
		return "Form a team or join one with its invite code first."
	case !engine.TeamReady(def, *p.team):
		return fmt.Sprintf("Team %s needs at least %d members to play. Share your invite code %s with your crew.",
			p.team.Name, def.Teams.MinSize, p.team.Code)
	}
	return ""
}

// teamView is what the page shows of teams: the forms, or the browser's team.
type teamView struct {
	// Name and Code are the browser's team (empty: the forms are shown).
	Name, Code string
	Members    int
	Min, Max   int
	// Waiting says the team has fewer than Min members.
	Waiting bool
	// Error is the answer to a form that was refused; FormName and FormCode what was typed.
	Error              string
	FormName, FormCode string
}

// MembersText says how many members the team has: "2 of 4 members", "4 of 4 members (full)",
// "1 member" when there is no maximum.
func (v *teamView) MembersText() string {
	switch {
	case v.Max > 0 && v.Members >= v.Max:
		return fmt.Sprintf("%d of %d members (full)", v.Members, v.Max)
	case v.Max > 0:
		return fmt.Sprintf("%d of %d members", v.Members, v.Max)
	case v.Members == 1:
		return "1 member"
	}
	return fmt.Sprintf("%d members", v.Members)
}

func newTeamView(def *campaigns.Definition, p party) *teamView {
	v := &teamView{Min: def.Teams.MinSize, Max: def.Teams.MaxSize}
	if t := p.team; t != nil {
		v.Name, v.Code, v.Members = t.Name, t.Code, len(t.Members)
		v.Waiting = !engine.TeamReady(def, *t)
	}
	return v
}

// teamForm is what the page's team forms post.
type teamForm struct {
	Action string `form:"action"`
	Name   string `form:"name"`
	Code   string `form:"code"`
}

// handleTeam forms or joins a team from the page's forms. Success sends the browser back to
// the chat (303), which now talks for the team; a refusal shows the page again with the reason
// and what was typed.
func (c *Channel) handleTeam(ctx *fiber.Ctx) error {
	def, ok := c.campaign(ctx)
	if !ok {
		return c.page.render(ctx, fiber.StatusNotFound, "notfound.html", pageView{Title: "Chat not found"})
	}
	if def.Teams == nil {
		return ctx.Redirect(playPath(def.ID), fiber.StatusSeeOther)
	}
	browser, err := c.browserID(ctx, true)
	if err != nil {
		return err
	}
	var f teamForm
	if err := ctx.BodyParser(&f); err != nil {
		f = teamForm{}
	}
	f = teamForm{Action: strings.Clone(f.Action), Name: strings.Clone(f.Name), Code: strings.Clone(f.Code)}
	rctx, cancel := context.WithTimeout(ctx.UserContext(), receiveTimeout)
	defer cancel()
	switch f.Action {
	case "form":
		_, err = c.eng.FormTeam(rctx, def.ID, ChannelName, browser, f.Name)
	case "join":
		_, err = c.eng.JoinTeam(rctx, def.ID, ChannelName, browser, f.Code)
	default:
		err = fmt.Errorf("%w: unknown action %q", errs.ErrInvalid, f.Action)
	}
	if err == nil {
		if f.Action == "join" {
			// The pages of the members already in say how many they are now.
			if p, perr := c.partyOf(rctx, def, browser); perr == nil && p.team != nil {
				c.hub.signal(p.pid, event{name: "team", Text: newTeamView(def, p).MembersText(), At: nowRFC3339()})
			}
		}
		return ctx.Redirect(playPath(def.ID), fiber.StatusSeeOther)
	}
	status, msg := teamRefusal(def, f, err)
	if status == fiber.StatusInternalServerError {
		c.log.Error("webchat: team", "campaign", def.ID, "action", f.Action, "err", err)
	}
	p, perr := c.partyOf(rctx, def, browser)
	if perr != nil {
		c.log.Error("webchat: team", "campaign", def.ID, "err", perr)
	}
	tv := newTeamView(def, p)
	tv.Error, tv.FormName, tv.FormCode = msg, f.Name, f.Code
	return c.renderChat(ctx, status, def, tv, p.pid)
}

// teamRefusal words why a team form was refused, for the person who sent it.
func teamRefusal(def *campaigns.Definition, f teamForm, err error) (int, string) {
	var nameErr *engine.TeamNameError
	switch {
	case errors.Is(err, engine.ErrTeamFull):
		return fiber.StatusConflict, fmt.Sprintf("That team is full: it has its %d members already. Form a team of your own instead.", def.Teams.MaxSize)
	case errors.Is(err, engine.ErrTeamNameTaken):
		return fiber.StatusConflict, fmt.Sprintf("There is a team called %q already. Pick another name, or ask that team for its invite code.", strings.TrimSpace(f.Name))
	case errors.Is(err, engine.ErrInTeam):
		return fiber.StatusConflict, "You are in a team already."
	case errors.Is(err, engine.ErrTeamsClosed):
		return fiber.StatusConflict, "This campaign is not running right now, so no teams can form."
	case errors.Is(err, errs.ErrNotFound) && f.Action == "join":
		if strings.TrimSpace(f.Code) == "" {
			return fiber.StatusBadRequest, "Type the invite code your team shared with you."
		}
		if utf8.RuneCountInString(f.Code) > 4*engine.TeamCodeLen {
			// Not repeated back: it is no mistyped code, and it could be a page long.
			return fiber.StatusNotFound, fmt.Sprintf("That is not an invite code: a code has %d letters and digits.", engine.TeamCodeLen)
		}
		return fiber.StatusNotFound, fmt.Sprintf("There is no team with the invite code %q. Check the code with your team (it has %d letters and digits).", strings.TrimSpace(f.Code), engine.TeamCodeLen)
	case errors.As(err, &nameErr):
		return fiber.StatusBadRequest, nameErr.Reason
	case errors.Is(err, errs.ErrInvalid):
		return fiber.StatusBadRequest, "Form a team with a name, or join one with its invite code."
	}
	return fiber.StatusInternalServerError, "Something went wrong. Please try again."
}

func playPath(campaign string) string { return "/play/" + url.PathEscape(campaign) }

// relay shows what a member sent on the pages of the other members of their team (the
// sender's page has it already, under the same id). Only the live pages get it: a page that
// opens later reads it from the transcript.
func (c *Channel) relay(p party, id, text, media string) {
	if p.team == nil {
		return
	}
	c.hub.relay(p.pid, event{ID: "c" + id, Dir: string(engine.In), Text: text, Media: media, At: nowRFC3339()})
}
