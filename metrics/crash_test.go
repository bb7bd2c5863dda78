package metrics_test

import (
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/metrics"
)

// TestCrashMetrics: what a restart took back and the replies that may have gone out twice
// show on /metrics, at 0 before anything happened (so a dashboard can alert on a rise).
func TestCrashMetrics(t *testing.T) {
	m := metrics.New()
	app := fiber.New()
	app.Get("/metrics", m.Handler())
	before := scrape(t, app)
	for _, name := range []string{"campaign_takeback_leases_total", "campaign_takeback_in_flight_total"} {
		if before[name] == nil {
			t.Errorf("%s missing before any takeback", name)
		}
	}
	m.TakenBack(7, 3)
	m.MaybeTwice("whatsapp")
	m.MaybeTwice("whatsapp")
	after := scrape(t, app)
	for _, tt := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"campaign_takeback_leases_total", nil, 7},
		{"campaign_takeback_in_flight_total", nil, 3},
		{"campaign_replies_maybe_twice_total", map[string]string{"channel": "whatsapp"}, 2},
	} {
		if got := value(after, tt.name, tt.labels); got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
}
