package main

import (
	"context"
	"fmt"

	"github.com/chatcampaigns/campaign/adminapi"
	"github.com/chatcampaigns/campaign/audit"
	"github.com/chatcampaigns/campaign/campaigns"
)

// auditedCampaigns records the admin API's launches and status changes in the audit trail,
// by audit.ActorAPI (the admin token names nobody).
type auditedCampaigns struct {
	adminapi.Campaigns
	trail audit.Recorder
}

func (a auditedCampaigns) Launch(ctx context.Context, def *campaigns.Definition, status string) error {
	if err := a.Campaigns.Launch(ctx, def, status); err != nil {
		return err
	}
	return a.record(ctx, audit.Event{Actor: audit.ActorAPI, Action: audit.Launch, Campaign: def.ID,
		Detail: fmt.Sprintf("version %s from %s, %s", def.Version, def.File, status)})
}

func (a auditedCampaigns) SetStatus(ctx context.Context, id, status string) error {
	if err := a.Campaigns.SetStatus(ctx, id, status); err != nil {
		return err
	}
	return a.record(ctx, audit.Event{Actor: audit.ActorAPI, Action: audit.CampaignStatus, Campaign: id, Detail: status})
}

func (a auditedCampaigns) record(ctx context.Context, e audit.Event) error {
	if err := a.trail.Record(ctx, e); err != nil {
		return fmt.Errorf("%s done, but not written to the audit trail: %w", e.Action, err)
	}
	return nil
}
