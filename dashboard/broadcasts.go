package dashboard

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// Broadcaster sends one message to every participant of a campaign in a state, and reports
// how far it got; *engine.Engine satisfies it.
type Broadcaster interface {
	// Broadcast queues msg for the unfinished participants of campaign in state (every state
	// when empty) and returns the broadcast's id and how many were queued; errs.ErrInvalid for
	// an empty message, errs.ErrNotFound for an unknown campaign.
	Broadcast(ctx context.Context, campaign, state string, msg campaigns.Message) (id string, queued int, err error)
	// BroadcastReport counts a broadcast's replies by status; errs.ErrNotFound for an unknown
	// broadcast.
	BroadcastReport(ctx context.Context, id string) (engine.BroadcastReport, error)
}

var _ Broadcaster = (*engine.Engine)(nil)

// maxBroadcast bounds a broadcast's text, as an agent's reply is bounded.
const maxBroadcast = maxReply

// broadcastForm is what the campaign page offers for a broadcast.
type broadcastForm struct {
	States    []string
	Templates []string
}

func broadcastFormOf(def *campaigns.Definition) broadcastForm {
	var f broadcastForm
	for _, name := range def.Order {
		if st := def.States[name]; st != nil && !st.Final {
			f.States = append(f.States, name)
		}
	}
	for k := range def.Templates {
		f.Templates = append(f.Templates, k)
	}
	slices.Sort(f.Templates)
	return f
}

// broadcast queues an admin's message to a campaign's participants and shows its progress.
func (d *Dashboard) broadcast(c *fiber.Ctx) error {
	u := currentUser(c)
	if u.Role != RoleAdmin {
		return fmt.Errorf("dashboard: %s may not broadcast: %w", u.Username, errForbidden)
	}
	ctx := c.UserContext()
	ci, err := d.findCampaign(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	def := ci.Def
	back := "/dashboard/campaigns/" + def.ID
	state, text, tmpl := strings.Clone(c.FormValue("state")), strings.TrimSpace(c.FormValue("text")), strings.Clone(c.FormValue("template"))
	if state != "" && !slices.Contains(broadcastFormOf(def).States, state) {
		return fmt.Errorf("dashboard: broadcast to %s: %w: state %q", def.ID, errs.ErrInvalid, state)
	}
	if _, ok := def.Templates[tmpl]; tmpl != "" && !ok {
		return fmt.Errorf("dashboard: broadcast to %s: %w: template %q", def.ID, errs.ErrInvalid, tmpl)
	}
	switch {
	case text == "":
		d.setFlash(c, flash{Message: "Type the message first.", Error: true})
		return c.Redirect(back, fiber.StatusSeeOther)
	case len([]rune(text)) > maxBroadcast:
		d.setFlash(c, flash{Message: fmt.Sprintf("A broadcast can be at most %d characters.", maxBroadcast), Error: true})
		return c.Redirect(back, fiber.StatusSeeOther)
	}
	lang := ""
	if len(def.Languages) > 0 {
		lang = def.Languages[0]
	}
	msg := campaigns.Message{Text: campaigns.Text{lang: strings.Clone(text)}, Template: tmpl}
	id, queued, err := d.broadcaster.Broadcast(ctx, def.ID, state, msg)
	if err != nil {
		return fmt.Errorf("dashboard: broadcast to %s: %w", def.ID, err)
	}
	if queued == 0 {
		msg := "Nobody to send to: no participant is in that state."
		if state == "" {
			msg = "Nobody to send to: no participant is playing (those who finished, opted out or have not agreed to take part yet are left out)."
		}
		d.setFlash(c, flash{Message: msg, Error: true})
		return c.Redirect(back, fiber.StatusSeeOther)
	}
	d.setFlash(c, flash{Message: fmt.Sprintf("Broadcast queued for %s.", count(queued, "participant", "participants"))})
	return c.Redirect(back+"/broadcasts/"+id, fiber.StatusSeeOther)
}

// broadcastView is a broadcast's progress and delivery report.
type broadcastView struct {
	Campaign CampaignInfo
	Report   engine.BroadcastReport
	// Done counts replies that will not change any more (sent, failed, cancelled); Percent
	// is Done of Total.
	Done, Percent int
}

func (d *Dashboard) broadcastPage(c *fiber.Ctx) error {
	ctx := c.UserContext()
	ci, err := d.findCampaign(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	id := c.Params("bid")
	r, err := d.broadcaster.BroadcastReport(ctx, id)
	if err != nil {
		return fmt.Errorf("dashboard: broadcast %s: %w", id, err)
	}
	if r.Campaign != ci.Def.ID {
		return fmt.Errorf("dashboard: broadcast %s of %s: %w", id, ci.Def.ID, errs.ErrNotFound)
	}
	v := broadcastView{Campaign: ci, Report: r, Done: r.Sent + r.Failed + r.Cancelled}
	if r.Total > 0 {
		v.Percent = v.Done * 100 / r.Total
	}
	return d.render(c, fiber.StatusOK, "broadcast", v)
}
