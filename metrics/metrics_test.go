package metrics_test

import (
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/chatcampaigns/campaign/metrics"
)

// scrape fetches /metrics from app and parses it as the Prometheus text format.
func scrape(t *testing.T, app *fiber.App) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := app.Test(httptest.NewRequest("GET", "/metrics", nil))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("Content-Type %q, want the text format", ct)
	}
	body, _ := io.ReadAll(resp.Body)
	families, err := (&expfmt.TextParser{}).TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("not the Prometheus text format: %v\n%s", err, body)
	}
	return families
}

// value returns the counter value, or the histogram count, of the family's series whose labels
// include want.
func value(families map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f := families[name]
	if f == nil {
		return 0
	}
next:
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
		}
		if c := m.GetCounter(); c != nil {
			return c.GetValue()
		}
		if h := m.GetHistogram(); h != nil {
			return float64(h.GetSampleCount())
		}
	}
	return 0
}

func TestMetricsEndpoint(t *testing.T) {
	m := metrics.New()
	app := fiber.New()
	app.Get("/metrics", m.Handler())
	app.Use("/webhooks/whatsapp", m.Webhook("whatsapp"))
	app.Post("/webhooks/whatsapp", func(c *fiber.Ctx) error { return c.SendStatus(fiber.StatusOK) })
	app.Get("/webhooks/whatsapp", func(c *fiber.Ctx) error { return fiber.ErrForbidden })

	before := scrape(t, app)
	if got := value(before, "campaign_events_processed_total", nil); got != 0 {
		t.Fatalf("processed before anything happened: %v", got)
	}

	m.Received("whatsapp", false)
	m.Received("whatsapp", false)
	m.Received("whatsapp", true)
	m.EventApplied(3 * time.Millisecond)
	m.ReplySent("whatsapp", 40*time.Millisecond, nil)
	m.ReplySent("whatsapp", time.Second, errors.New("refused"))
	for range 3 {
		if _, err := app.Test(httptest.NewRequest("POST", "/webhooks/whatsapp", nil)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := app.Test(httptest.NewRequest("GET", "/webhooks/whatsapp", nil)); err != nil {
		t.Fatal(err)
	}

	after := scrape(t, app)
	tests := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"campaign_inbound_events_total", map[string]string{"channel": "whatsapp", "duplicate": "false"}, 2},
		{"campaign_inbound_events_total", map[string]string{"channel": "whatsapp", "duplicate": "true"}, 1},
		{"campaign_events_processed_total", nil, 1},
		{"campaign_step_duration_seconds", nil, 1},
		{"campaign_replies_total", map[string]string{"channel": "whatsapp", "result": "sent"}, 1},
		{"campaign_replies_total", map[string]string{"channel": "whatsapp", "result": "failed"}, 1},
		{"campaign_outbox_lag_seconds", nil, 2},
		{"campaign_webhook_duration_seconds", map[string]string{"channel": "whatsapp", "code": "200"}, 3},
		{"campaign_webhook_duration_seconds", map[string]string{"channel": "whatsapp", "code": "403"}, 1},
	}
	for _, tt := range tests {
		if got := value(after, tt.name, tt.labels); got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
	if after["go_goroutines"] == nil {
		t.Error("the Go runtime collector is missing")
	}
}

// BenchmarkObserve is what the engine tells Metrics for each message: one event received, one
// applied, one reply sent.
func BenchmarkObserve(b *testing.B) {
	m := metrics.New()
	b.ReportAllocs()
	for b.Loop() {
		m.Received("whatsapp", false)
		m.EventApplied(time.Millisecond)
		m.ReplySent("whatsapp", 2*time.Millisecond, nil)
	}
}
