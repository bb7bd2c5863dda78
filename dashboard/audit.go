package dashboard

import (
	"context"
	"encoding/csv"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/accounts"
	"github.com/chatcampaigns/campaign/audit"
)

// Trail is the audit trail as the dashboard uses it: it records what users do here (verdicts
// and scores are recorded by the judge) and shows an entry's or a participant's history.
// *audit.Log satisfies it.
type Trail interface {
	audit.Recorder
	audit.Lister
}

var _ Trail = (*audit.Log)(nil)

// historyLimit bounds the history shown on one page; the export has all of it.
const historyLimit = 200

// record adds an event by the logged-in user to the trail, when there is one.
func (d *Dashboard) record(c *fiber.Ctx, e audit.Event) error {
	if d.trail == nil {
		return nil
	}
	if e.Actor == "" {
		e.Actor = currentUser(c).Username
	}
	if e.At.IsZero() {
		e.At = d.now()
	}
	if err := d.trail.Record(c.UserContext(), e); err != nil {
		return fmt.Errorf("dashboard: %s done, but not written to the audit trail: %w", e.Action, err)
	}
	return nil
}

// history is what the trail says about an entry or a participant, oldest first; nil without
// a trail.
func (d *Dashboard) history(ctx context.Context, q audit.Query) ([]audit.Event, error) {
	if d.trail == nil {
		return nil, nil
	}
	q.Limit = historyLimit
	es, err := d.trail.AuditEvents(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("dashboard: history: %w", err)
	}
	return es, nil
}

// auditExport sends admins the trail as CSV (audit.WriteCSV), all of it or one campaign's
// (?campaign=ID), streamed page by page. The download is itself recorded.
func (d *Dashboard) auditExport(c *fiber.Ctx) error {
	u := currentUser(c)
	if !accounts.Can(u.Role, accounts.ExportAudit) {
		return fmt.Errorf("dashboard: %s may not export the audit trail: %w", u.Username, errForbidden)
	}
	campaign := c.Query("campaign")
	if campaign != "" {
		if _, err := d.findCampaign(c.UserContext(), campaign); err != nil {
			return err
		}
	}
	campaign = strings.Clone(campaign)
	what := "the whole audit trail"
	if campaign != "" {
		what = "the audit trail of " + campaign
	}
	if err := d.record(c, audit.Event{Action: audit.Export, Campaign: campaign, Subject: "audit", Detail: what + " as CSV"}); err != nil {
		return err
	}
	name := "audit.csv"
	if campaign != "" {
		name = "audit-" + campaign + ".csv"
	}
	trail := d.trail
	// Streamed like the other exports: a failure midway ends the file with a line saying it
	// is cut short instead of letting it look whole.
	d.streamCSV(c, name, func(ctx context.Context, w *csv.Writer) error {
		return audit.WriteRows(ctx, w, trail, audit.Query{Campaign: campaign})
	})
	return nil
}
