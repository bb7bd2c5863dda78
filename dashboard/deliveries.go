package dashboard

import (
	"context"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/engine"
)

// Deliveries is the delivery monitor's view of the store: how far a campaign's replies got,
// and which did not reach their participant and why.
type Deliveries interface {
	DeliveryCounts(ctx context.Context, campaign string) (map[string]int, error)
	Undelivered(ctx context.Context, campaign string, limit int) ([]engine.Outbound, error)
	// MaybeTwice lists the newest replies sent again after an attempt whose outcome was never
	// stored (the server died while sending them): the participant may have them twice.
	MaybeTwice(ctx context.Context, campaign string, limit int) ([]engine.Outbound, error)
}

// deliveryOrder is how the counts are shown: the way a message travels.
var deliveryOrder = []string{"pending", "sent", "delivered", "read", "played", "failed", "cancelled"}

type deliveryCount struct {
	Status string
	Count  int
}

func (d *Dashboard) deliveriesPage(c *fiber.Ctx) error {
	ci, err := d.findCampaign(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	counts, err := d.deliveries.DeliveryCounts(c.UserContext(), ci.Def.ID)
	if err != nil {
		return fmt.Errorf("dashboard: delivery counts of %s: %w", ci.Def.ID, err)
	}
	failed, err := d.deliveries.Undelivered(c.UserContext(), ci.Def.ID, 200)
	if err != nil {
		return fmt.Errorf("dashboard: undelivered of %s: %w", ci.Def.ID, err)
	}
	twice, err := d.deliveries.MaybeTwice(c.UserContext(), ci.Def.ID, 200)
	if err != nil {
		return fmt.Errorf("dashboard: maybe sent twice of %s: %w", ci.Def.ID, err)
	}
	channels, err := d.channelDeliveries(c.UserContext(), ci.Def.ID)
	if err != nil {
		return err
	}
	// Delivered, read and played are only counted where a channel reports them: for a web
	// chat campaign "delivered 0" would say every reply was lost.
	receipts := channels == nil
	for _, ch := range channels {
		receipts = receipts || ch.Receipts
	}
	var rows []deliveryCount
	for _, st := range deliveryOrder {
		if !receipts && (st == "delivered" || st == "read" || st == "played") {
			continue
		}
		rows = append(rows, deliveryCount{Status: st, Count: counts[st]})
	}
	return d.render(c, fiber.StatusOK, "deliveries", map[string]any{"Campaign": ci, "Counts": rows, "Failed": failed, "Twice": twice, "Channels": channels})
}
