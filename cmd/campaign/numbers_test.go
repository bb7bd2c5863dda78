package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/broadcast"
	"github.com/chatcampaigns/campaign/channels/whatsapp"
	"github.com/chatcampaigns/campaign/channels/whatsapp/graphtest"
)

// TestWhatsAppNumberHealth: campaign serve reads the sending number's facts at start, a
// quality webhook changes them at once (and tells the OnHealth handlers), a user_preferences
// webhook records a stop, and the dashboard's numbers page shows it all.
func TestWhatsAppNumberHealth(t *testing.T) {
	graph := graphtest.New(t)
	graph.AddPhoneNumber(waNumber, graphtest.PhoneNumber{Display: "+1 555-000-1111", Limit: "TIER_2K"})
	srv, clock := startServer(t, t.TempDir(), func(c *Config) {
		c.WhatsApp = WhatsAppConfig{APIURL: graph.APIURL, AccessToken: graphtest.Token, AppSecret: waSecret,
			VerifyToken: "verify-me", PhoneNumberID: waNumber}
		c.NumberCheck = time.Hour
	})
	ctx := t.Context()
	var h broadcast.NumberHealth
	read := func() bool {
		var err error
		h, err = srv.db.NumberHealth(ctx, whatsapp.ChannelName, waNumber)
		return err == nil
	}
	if !advanceUntil(clock, read) {
		t.Fatalf("the number was not read at start (%d reads)", graph.NumberReads())
	}
	if h.Limit != 2000 || h.Quality != broadcast.QualityGreen || h.Throughput != 80 || h.Status != "CONNECTED" {
		t.Fatalf("read at start %+v, want limit 2000, green, 80/s, connected", h)
	}

	var mu sync.Mutex
	var told []broadcast.NumberHealth
	srv.wa.OnHealth(func(_ context.Context, h broadcast.NumberHealth) {
		mu.Lock()
		defer mu.Unlock()
		told = append(told, h)
	})
	// The platform flags the number: its webhook says so, and so does the read the webhook
	// triggers, whichever of the two is stored last.
	graph.SetQuality(waNumber, "RED")
	graph.SetStatus(waNumber, "FLAGGED")
	if code := postWebhook(t, srv, waSecret, graphtest.QualityUpdateWebhook("15550001111", "FLAGGED", "TIER_2K", "", clock.Now())); code != 200 {
		t.Fatalf("quality webhook answered %d", code)
	}
	h, _ = srv.db.NumberHealth(ctx, whatsapp.ChannelName, waNumber)
	if h.Quality != broadcast.QualityRed || h.Event != "FLAGGED" || h.Status != "FLAGGED" {
		t.Errorf("after the quality webhook %+v, want red, flagged", h)
	}
	mu.Lock()
	if len(told) == 0 || told[0].Quality != broadcast.QualityRed {
		t.Errorf("the OnHealth handler was told %+v, want the red rating", told)
	}
	mu.Unlock()

	if code := postWebhook(t, srv, waSecret, graphtest.UserPreferencesWebhook(waNumber, waUser, "Bo", true, clock.Now())); code != 200 {
		t.Fatalf("user_preferences webhook answered %d", code)
	}
	prefs := srv.db.(interface {
		StoppedMarketing(ctx context.Context, channel string, addresses []string) (map[string]bool, error)
	})
	stopped, err := prefs.StoppedMarketing(ctx, whatsapp.ChannelName, []string{waUser, "447911123456"})
	if err != nil || !stopped[waUser] || len(stopped) != 1 {
		t.Errorf("StoppedMarketing = %v, %v; want only %s", stopped, err, waUser)
	}

	admin := newClient(t, srv.URL())
	if code, _ := admin.login("admin", srv.adminPassword); code != http.StatusSeeOther {
		t.Fatalf("login: %d", code)
	}
	code, page := admin.do(http.MethodGet, "/dashboard/numbers", "", nil)
	if code != 200 {
		t.Fatalf("numbers page: %d", code)
	}
	for _, want := range []string{"555-000-1111", "2,000 people a day", "low (red)", "FLAGGED"} {
		if !strings.Contains(page, want) {
			t.Errorf("the numbers page does not show %q", want)
		}
	}
	if !strings.Contains(page, `href="/dashboard/numbers"`) {
		t.Errorf("the menu does not lead to the numbers page")
	}
}

func TestNumberCheckIntervalFlag(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	cfg, err := configFromFlags(nil, io.Discard, getenv)
	if err != nil || cfg.NumberCheck != time.Hour {
		t.Fatalf("default: %v, %v; want 1h", cfg.NumberCheck, err)
	}
	env["CAMPAIGN_NUMBER_CHECK_INTERVAL"] = "15m"
	if cfg, err = configFromFlags(nil, io.Discard, getenv); err != nil || cfg.NumberCheck != 15*time.Minute {
		t.Fatalf("from the environment: %v, %v; want 15m", cfg.NumberCheck, err)
	}
	if cfg, err = configFromFlags([]string{"--number-check-interval", "0s"}, io.Discard, getenv); err != nil || cfg.NumberCheck != 0 {
		t.Fatalf("the flag over the environment: %v, %v; want 0s", cfg.NumberCheck, err)
	}
	if _, err = configFromFlags([]string{"--number-check-interval", "-1m"}, io.Discard, getenv); err == nil {
		t.Errorf("a negative interval was taken")
	}
	env["CAMPAIGN_NUMBER_CHECK_INTERVAL"] = "often"
	if _, err = configFromFlags(nil, io.Discard, getenv); err == nil || !strings.Contains(err.Error(), "CAMPAIGN_NUMBER_CHECK_INTERVAL") {
		t.Errorf("a bad CAMPAIGN_NUMBER_CHECK_INTERVAL: %v, want an error naming it", err)
	}
}
