package metrics_test

import (
	"errors"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/metrics"
)

// gauge returns the gauge value of the family's first series with labels including want.
func gauge(t *testing.T, app *fiber.App, name string, want map[string]string) float64 {
	t.Helper()
	f := scrape(t, app)[name]
	if f == nil {
		t.Fatalf("%s missing from /metrics", name)
	}
next:
	for _, m := range f.GetMetric() {
		for _, l := range m.GetLabel() {
			if v, ok := want[l.GetName()]; ok && v != l.GetValue() {
				continue next
			}
		}
		if g := m.GetGauge(); g != nil {
			return g.GetValue()
		}
		return m.GetCounter().GetValue()
	}
	t.Fatalf("%s has no series %v", name, want)
	return 0
}

func TestQueuesOnMetrics(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	q := metrics.Queues{
		QueueStats: engine.QueueStats{Inbound: 120, OldestInbound: now.Add(-1500 * time.Millisecond), OutboxPending: 7, OutboxDue: 5},
		Intake:     engine.IntakeState{Events: 100, Replies: 5, EventRate: 1000, ReplyRate: 500, Seconds: 0.11, Refused: 3},
		Now:        now,
	}
	var fail error
	m := metrics.New()
	m.WatchQueues(func() (metrics.Queues, error) { return q, fail })
	app := fiber.New()
	app.Get("/metrics", m.Handler())
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"campaign_inbound_backlog", nil, 120},
		{"campaign_inbound_oldest_unprocessed_seconds", nil, 1.5},
		{"campaign_outbox_pending", nil, 7},
		{"campaign_outbox_due", nil, 5},
		{"campaign_intake_backlog", map[string]string{"queue": "events"}, 100},
		{"campaign_intake_backlog", map[string]string{"queue": "replies"}, 5},
		{"campaign_intake_rate", map[string]string{"queue": "events"}, 1000},
		{"campaign_intake_backlog_seconds", nil, 0.11},
		{"campaign_webhook_refused_total", nil, 3},
	} {
		if got := gauge(t, app, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	// A store that cannot be read leaves its figures out; the intake's stay.
	fail = errors.New("disk on fire")
	families := scrape(t, app)
	if families["campaign_inbound_backlog"] != nil {
		t.Error("campaign_inbound_backlog shown although the store could not be read")
	}
	if families["campaign_webhook_refused_total"] == nil {
		t.Error("campaign_webhook_refused_total missing when the store could not be read")
	}
}
