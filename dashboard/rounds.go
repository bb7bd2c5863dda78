package dashboard

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/audit"
	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/errs"
)

// Rounds starts and closes a race's rounds by hand; *engine.Engine satisfies it. A round with
// a date (or a time after launch) starts by itself then; an admin may start it earlier, close
// it early, or run one that has no date at all. Errors wrap errs.ErrNotFound for an unknown
// campaign or round.
type Rounds interface {
	StartRound(ctx context.Context, campaign, round string) error
	CloseRound(ctx context.Context, campaign, round string) error
}

// roundControl is one round as the admins' round form shows it.
type roundControl struct {
	Name string
	// Starts says when it starts by itself, or that it is started by hand.
	Starts string
}

// roundControls lists def's rounds for the campaign page.
func roundControls(def *campaigns.Definition) []roundControl {
	var rcs []roundControl
	for _, rd := range def.Rounds {
		rc := roundControl{Name: rd.Name, Starts: "has no start date"}
		if !rd.Starts.IsZero() {
			rc.Starts = "starts by itself on " + def.Schedule.Format(rd.Starts)
		}
		rcs = append(rcs, rc)
	}
	return rcs
}

// roundAction starts or closes a round for every team still in the race.
func (d *Dashboard) roundAction(start bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		u := currentUser(c)
		if u.Role != RoleAdmin {
			return fmt.Errorf("dashboard: %s may not start or close a round: %w", u.Username, errForbidden)
		}
		ctx := c.UserContext()
		ci, err := d.findCampaign(ctx, c.Params("id"))
		if err != nil {
			return err
		}
		round := strings.Clone(c.Params("round"))
		act, verb := d.rounds.CloseRound, "closed"
		if start {
			act, verb = d.rounds.StartRound, "started"
		}
		switch err := act(ctx, ci.Def.ID, round); {
		case errors.Is(err, errs.ErrNotFound):
			return fmt.Errorf("dashboard: round %q of %s: %w", round, ci.Def.ID, err)
		case err != nil:
			return fmt.Errorf("dashboard: round %s of %s: %w", round, ci.Def.ID, err)
		}
		if err := d.record(c, audit.Event{Action: audit.Round, Campaign: ci.Def.ID, Subject: round, Detail: verb + " by hand"}); err != nil {
			return err
		}
		msg := fmt.Sprintf("Round %s %s: every team still in the race hears it.", round, verb)
		d.setFlash(c, flash{Message: msg})
		return c.Redirect("/dashboard/campaigns/"+ci.Def.ID, fiber.StatusSeeOther)
	}
}
