package main

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/broadcast"
	"github.com/chatcampaigns/campaign/channels/whatsapp/graphtest"
	"github.com/chatcampaigns/campaign/engine"
)

// TestDashboardBroadcastIsPaced: the dashboard's broadcast form starts a paced broadcast, so
// nothing bypasses the pacer: on a number whose limit is not known, 250 (the lowest tier)
// of 260 subscribers outside their window get the template now, the rest wait.
func TestDashboardBroadcastIsPaced(t *testing.T) {
	graph := graphtest.New(t)
	srv, clock := startServer(t, t.TempDir(), func(c *Config) {
		c.Campaigns = []string{"../../campaigns/examples/news.yaml"}
		c.WhatsApp = WhatsAppConfig{APIURL: graph.APIURL, AccessToken: graphtest.Token, AppSecret: waSecret,
			VerifyToken: "verify-me", PhoneNumberID: waNumber}
	})
	ctx := t.Context()
	subscribeNews(t, srv, clock.Now(), 260)
	admin := newClient(t, srv.URL())
	if code, _ := admin.login("admin", srv.adminPassword); code != http.StatusSeeOther {
		t.Fatalf("login: %d", code)
	}
	_, page := admin.do(http.MethodGet, "/dashboard/campaigns/news", "", nil)
	code, _ := admin.postForm("/dashboard/campaigns/news/broadcast", url.Values{"csrf": {csrfOf(t, page)},
		"text": {"Het weekoverzicht"}, "text_en": {"The weekly digest"}, "template": {"weekly"}})
	if code != http.StatusSeeOther {
		t.Fatalf("broadcast form: %d", code)
	}
	bs, err := srv.broadcasts.List(ctx, "news", 0)
	if err != nil || len(bs) != 1 {
		t.Fatalf("paced broadcasts = %v, %v; want the one from the form", bs, err)
	}
	b := bs[0]
	if b.Plan.NeedTemplate != 260 || b.Plan.Limit != broadcast.UnknownLimit || b.Status != broadcast.StatusRunning {
		t.Errorf("broadcast: %d need the template, limit %d, %s; want 260, %d, running", b.Plan.NeedTemplate, b.Plan.Limit, b.Status, broadcast.UnknownLimit)
	}
	waitSent(t, clock, graph, 250)
	time.Sleep(50 * time.Millisecond)
	if n := len(graph.Sent()); n != 250 {
		t.Errorf("the Graph API got %d, want 250 today", n)
	}
	r, err := srv.broadcasts.Report(ctx, b.ID)
	if err != nil || r.Waiting != 10 {
		t.Errorf("report = %+v, %v; want 10 waiting", r, err)
	}
}

// subscribeNews stores n subscribers of the news campaign on WhatsApp who last wrote three
// days before now: outside their window, so they need the template.
func subscribeNews(t *testing.T, srv *server, now time.Time, n int) {
	t.Helper()
	def, _ := srv.engine.Campaign("news")
	for i := range n {
		addr := fmt.Sprintf("+3161%07d", i)
		p := engine.Participant{ID: engine.ParticipantID("news", "whatsapp", addr), Campaign: "news", Channel: "whatsapp",
			Address: addr, State: "subscribed", Vars: map[string]string{"lang": "nl"}, Version: 1, DefVersion: def.Version,
			Entered: 1, LastInboundAt: now.Add(-72 * time.Hour), CreatedAt: now, UpdatedAt: now}
		if err := srv.db.Commit(t.Context(), engine.Step{Participant: p, Created: true}); err != nil {
			t.Fatal(err)
		}
	}
}
