package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/accounts"
	"github.com/chatcampaigns/campaign/audit"
	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/draw"
	"github.com/chatcampaigns/campaign/errs"
)

// Draws commits to and closes a campaign's verifiable draws; *draw.Service satisfies it.
type Draws interface {
	Commit(ctx context.Context, campaign, name, status string, n int, by string) (draw.Record, error)
	Close(ctx context.Context, campaign, name, by string) (draw.Record, error)
	Draw(ctx context.Context, campaign, name string) (draw.Record, error)
	Draws(ctx context.Context, campaign string) ([]draw.Record, error)
}

var _ Draws = (*draw.Service)(nil)

// maxDrawWinners bounds the winners a form asks for: a draw is for prizes, not a lottery of
// the whole list.
const maxDrawWinners = 1000

func (d *Dashboard) mountDraws(a guarded) {
	a.Get("/campaigns/:id/draws", d.drawsPage)
	a.Post("/campaigns/:id/draws", d.commitDraw)
	a.Get("/campaigns/:id/draws/:name", d.drawPage)
	a.Post("/campaigns/:id/draws/:name/close", d.closeDraw)
	a.Get("/campaigns/:id/draws/:name/publication.json", d.drawPublication)
	a.Get("/campaigns/:id/draws/:name/eligible.txt", d.drawList)
}

func (d *Dashboard) drawsPage(c *fiber.Ctx) error {
	ci, err := d.findCampaign(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	rs, err := d.draws.Draws(c.UserContext(), ci.Def.ID)
	if err != nil {
		return fmt.Errorf("dashboard: draws of %s: %w", ci.Def.ID, err)
	}
	return d.render(c, fiber.StatusOK, "draws", map[string]any{
		"Campaign": ci, "Draws": rs, "Admin": accounts.Can(currentUser(c).Role, accounts.RunCampaigns), "Statuses": campaigns.Verdicts,
	})
}

// commitDraw starts a draw: the form gives its name, how many win and the entry status that
// makes a participant eligible.
func (d *Dashboard) commitDraw(c *fiber.Ctx) error {
	u := currentUser(c)
	if !accounts.Can(u.Role, accounts.RunCampaigns) {
		return fmt.Errorf("dashboard: %s may not start a draw: %w", u.Username, errForbidden)
	}
	ci, err := d.findCampaign(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	back := "/dashboard/campaigns/" + ci.Def.ID + "/draws"
	name := strings.TrimSpace(strings.Clone(c.FormValue("name")))
	status := strings.Clone(c.FormValue("status"))
	n, err := strconv.Atoi(strings.TrimSpace(c.FormValue("winners")))
	if err != nil || n < 1 || n > maxDrawWinners {
		d.setFlash(c, flash{Message: fmt.Sprintf("Say how many win: a whole number from 1 to %d.", maxDrawWinners), Error: true})
		return c.Redirect(back, fiber.StatusSeeOther)
	}
	if status != "" && !slices.Contains(campaigns.Verdicts, status) {
		return fmt.Errorf("dashboard: draw status %q: %w", status, errs.ErrInvalid)
	}
	r, err := d.draws.Commit(c.UserContext(), ci.Def.ID, name, status, n, u.Username)
	switch {
	case errors.Is(err, errs.ErrInvalid):
		d.setFlash(c, flash{Message: "Not started: a draw's name is lowercase letters, digits, - and _ (up to 64).", Error: true})
		return c.Redirect(back, fiber.StatusSeeOther)
	case errors.Is(err, errs.ErrConflict) && r.Name == "":
		msg := "Not started: this campaign has a draw called " + name + " already."
		if _, e := d.draws.Draw(c.UserContext(), ci.Def.ID, name); errors.Is(e, errs.ErrNotFound) {
			msg = "Not started: nobody has an entry with that status yet, so nobody could win."
		}
		d.setFlash(c, flash{Message: msg, Error: true})
		return c.Redirect(back, fiber.StatusSeeOther)
	case err != nil && r.Name == "":
		return fmt.Errorf("dashboard: commit draw: %w", err)
	case err != nil:
		return err
	}
	d.setFlash(c, flash{Message: fmt.Sprintf("Committed: %d participants are in the draw. Publish the commitment now, and close the draw later.", len(r.Eligible))})
	return c.Redirect(back+"/"+r.Name, fiber.StatusSeeOther)
}

func (d *Dashboard) findDraw(c *fiber.Ctx) (CampaignInfo, draw.Record, error) {
	ci, err := d.findCampaign(c.UserContext(), c.Params("id"))
	if err != nil {
		return ci, draw.Record{}, err
	}
	r, err := d.draws.Draw(c.UserContext(), ci.Def.ID, c.Params("name"))
	if err != nil {
		return ci, r, fmt.Errorf("dashboard: draw %q: %w", c.Params("name"), err)
	}
	return ci, r, nil
}

func (d *Dashboard) drawPage(c *fiber.Ctx) error {
	ci, r, err := d.findDraw(c)
	if err != nil {
		return err
	}
	return d.render(c, fiber.StatusOK, "draw", map[string]any{
		"Campaign": ci, "Draw": r, "Publication": r.Publication(), "Admin": accounts.Can(currentUser(c).Role, accounts.RunCampaigns),
		"Participants": d.conversations != nil,
	})
}

// closeDraw reveals the seed and draws the winners.
func (d *Dashboard) closeDraw(c *fiber.Ctx) error {
	u := currentUser(c)
	if !accounts.Can(u.Role, accounts.RunCampaigns) {
		return fmt.Errorf("dashboard: %s may not close a draw: %w", u.Username, errForbidden)
	}
	ci, r, err := d.findDraw(c)
	if err != nil {
		return err
	}
	back := "/dashboard/campaigns/" + ci.Def.ID + "/draws/" + r.Name
	switch r, err := d.draws.Close(c.UserContext(), ci.Def.ID, r.Name, u.Username); {
	case errors.Is(err, errs.ErrConflict):
		d.setFlash(c, flash{Message: "This draw was closed already; its winners stand.", Error: true})
	case err != nil && !r.Closed():
		return fmt.Errorf("dashboard: close draw: %w", err)
	case err != nil:
		return err
	default:
		d.setFlash(c, flash{Message: "Drawn: " + count(len(r.Drawn), "winner", "winners") + ". Publish the result, so anyone can check it."})
	}
	return c.Redirect(back, fiber.StatusSeeOther)
}

// drawPublication is the file a brand publishes: the commitment, and once closed the seed and
// winners; `campaign draw verify` checks it.
func (d *Dashboard) drawPublication(c *fiber.Ctx) error {
	ci, r, err := d.findDraw(c)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(r.Publication(), "", "  ")
	if err != nil {
		return fmt.Errorf("dashboard: publication of %s: %w", r.Name, err)
	}
	if err := d.record(c, audit.Event{Action: audit.Export, Campaign: ci.Def.ID, Subject: "draw " + r.Name,
		Detail: "publication of the draw (" + map[bool]string{true: "closed", false: "commitment"}[r.Closed()] + ")"}); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/json")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="draw-`+ci.Def.ID+`-`+r.Name+`.json"`)
	return c.Send(append(b, '\n'))
}

// drawList is the eligible list as the text that is hashed.
func (d *Dashboard) drawList(c *fiber.Ctx) error {
	_, r, err := d.findDraw(c)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/plain; charset=utf-8")
	return c.SendString(draw.ListText(r.Eligible))
}
