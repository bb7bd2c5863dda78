package dashboard

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/reports"
)

// recipientsPage is how many recipients a broadcast's page lists at a time.
const recipientsPage = 100

// sentBroadcast is a broadcast of the history as its page shows it.
type sentBroadcast struct {
	reports.Broadcast
	AudienceText string
}

// recordBroadcast keeps a broadcast in the history. The broadcast is queued already, so a
// failure to record it is logged, not shown as a failed send: the admin would send it again.
func (d *Dashboard) recordBroadcast(ctx context.Context, id, campaign string, to engine.Audience, text, tmpl, by string, queued int) {
	if d.reports == nil {
		return
	}
	b := reports.Broadcast{ID: id, Campaign: campaign, Text: text, Audience: to, Template: tmpl, By: by, Queued: queued, At: d.now()}
	if err := d.reports.SaveBroadcast(ctx, b); err != nil {
		d.log.Error("dashboard: broadcast not kept in the history", "broadcast", id, "err", err)
	}
}

// broadcastDetail adds to a broadcast's page what the history knows of it and a page of its
// recipients with how far each reply got.
func (d *Dashboard) broadcastDetail(c *fiber.Ctx, v *broadcastView, id string) error {
	if d.reports == nil {
		return nil
	}
	ctx := c.UserContext()
	switch b, err := d.reports.Broadcast(ctx, id); {
	case errors.Is(err, errs.ErrNotFound):
	case err != nil:
		return fmt.Errorf("dashboard: broadcast %s: %w", id, err)
	default:
		v.Sent = &sentBroadcast{Broadcast: b, AudienceText: reports.AudienceText(b.Audience)}
	}
	after, _ := strconv.ParseInt(c.Query("after"), 10, 64)
	rs, err := d.reports.BroadcastRecipients(ctx, id, after, recipientsPage)
	if err != nil {
		return fmt.Errorf("dashboard: recipients of %s: %w", id, err)
	}
	v.Recipients = rs
	if len(rs) == recipientsPage {
		v.Next = "/dashboard/campaigns/" + v.Campaign.Def.ID + "/broadcasts/" + id + "?after=" + strconv.FormatInt(rs[len(rs)-1].ID, 10)
	}
	return nil
}

// shownDelivery is how far one reply got, in the words of the delivery monitor.
func shownDelivery(o engine.Outbound) string {
	if o.Status == engine.StatusSent && o.Delivery.Status != "" {
		return o.Delivery.Status
	}
	return o.Status
}
