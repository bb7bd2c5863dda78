package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/chatcampaigns/campaign/broadcast"
	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/channels/whatsapp"
	"github.com/chatcampaigns/campaign/dashboard"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// BroadcastConfig is how broadcasts are paced (--broadcast-frequency-cap).
type BroadcastConfig struct {
	// FrequencyCap bounds the broadcasts one person gets across every campaign, like 2/168h.
	FrequencyCap broadcast.FrequencyCap
}

// broadcastFlags reads the broadcast settings: the environment first, so a flag overrides it.
func broadcastFlags(fs *flag.FlagSet, c *BroadcastConfig, getenv func(string) string) error {
	if v := getenv("CAMPAIGN_BROADCAST_FREQUENCY_CAP"); v != "" {
		if err := c.FrequencyCap.Set(v); err != nil {
			return fmt.Errorf("CAMPAIGN_BROADCAST_FREQUENCY_CAP: %w", err)
		}
	}
	fs.Var(&c.FrequencyCap, "broadcast-frequency-cap", "at most N broadcasts to one person per period, across campaigns, like 2/168h (default none; env CAMPAIGN_BROADCAST_FREQUENCY_CAP)")
	return nil
}

// pacer builds the broadcast Service on the server's store and engine and tells the engine's
// sender to report marketing refusals to it.
func pacer(cfg Config, db store, eng *engine.Engine, owner string, audit broadcast.Config) *broadcast.Service {
	c := audit
	c.Store, c.Engine, c.Outcomes, c.Notify = db, eng, db, db
	if n, ok := db.(broadcast.Numbers); ok {
		c.Numbers = n
	}
	c.Now, c.Log, c.FrequencyCap = cfg.Now, cfg.Log, cfg.Broadcast.FrequencyCap
	c.Leases, c.Owner = db, owner
	c.CampaignNumber = func(campaign string) string {
		if d, ok := eng.Campaign(campaign); ok {
			return d.WhatsAppNumber
		}
		return ""
	}
	c.DefaultNumber = map[string]string{whatsapp.ChannelName: cfg.WhatsApp.PhoneNumberID}
	svc := broadcast.New(c)
	eng.OnMarketingRefusal(svc.Refused)
	return svc
}

// pacedBroadcaster is the dashboard's broadcast form going through the pacer: a broadcast is
// started (its recipients stored, released at the pace the number allows) rather than queued
// at once. The form records the audit line itself, so the request carries no By.
type pacedBroadcaster struct {
	svc *broadcast.Service
	eng *engine.Engine
}

var _ dashboard.Broadcaster = pacedBroadcaster{}

func (p pacedBroadcaster) BroadcastTo(ctx context.Context, campaign string, to engine.Audience, msg campaigns.Message) (string, int, error) {
	b, err := p.svc.Start(ctx, broadcast.Request{Campaign: campaign, Audience: to, Message: msg})
	if errors.Is(err, broadcast.ErrNobody) {
		return "", 0, nil
	}
	if err != nil {
		return "", 0, err
	}
	return b.ID, b.Plan.InWindow + b.Plan.NeedTemplate, nil
}

// BroadcastReport counts the broadcast's replies; one none of whose recipients was released
// yet (the number's limit is used up today) has a report of its plan, nothing sent.
func (p pacedBroadcaster) BroadcastReport(ctx context.Context, id string) (engine.BroadcastReport, error) {
	r, err := p.eng.BroadcastReport(ctx, id)
	if !errors.Is(err, errs.ErrNotFound) {
		return r, err
	}
	b, berr := p.svc.Get(ctx, id)
	if berr != nil {
		return r, err
	}
	return engine.BroadcastReport{ID: id, Campaign: b.Request.Campaign}, nil
}
