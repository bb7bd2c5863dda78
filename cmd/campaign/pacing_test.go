package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/chatcampaigns/campaign/broadcast"
	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/channels/whatsapp/graphtest"
	"github.com/chatcampaigns/campaign/engine"
)

// TestDashboardBroadcastIsPaced: the dashboard's broadcast form shows the plan (priced from
// the --price-table file) and its Confirm starts a paced broadcast, so nothing bypasses the
// pacer: on a number whose limit is not known, 250 (the lowest tier) of 260 subscribers
// outside their window get the template now, the rest wait.
func TestDashboardBroadcastIsPaced(t *testing.T) {
	graph := graphtest.New(t)
	prices := filepath.Join(t.TempDir(), "prices.csv")
	if err := os.WriteFile(prices, []byte("currency,EUR\nNL,marketing,0.11\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	srv, clock := startServer(t, data, func(c *Config) {
		c.Campaigns = []string{"../../campaigns/examples/news.yaml"}
		c.WhatsApp = WhatsAppConfig{APIURL: graph.APIURL, AccessToken: graphtest.Token, AppSecret: waSecret,
			VerifyToken: "verify-me", PhoneNumberID: waNumber}
		c.PriceTable = prices
	})
	ctx := t.Context()
	subscribeNews(t, srv, clock.Now(), 260)
	admin := newClient(t, srv.URL())
	if code, _ := admin.login("admin", srv.adminPassword); code != http.StatusSeeOther {
		t.Fatalf("login: %d", code)
	}
	_, page := admin.do(http.MethodGet, "/dashboard/campaigns/news", "", nil)
	form := url.Values{"csrf": {csrfOf(t, page)}, "text": {"Het weekoverzicht"}, "text_en": {"The weekly digest"}, "template": {"weekly"}}
	code, plan := admin.postForm("/dashboard/campaigns/news/broadcast", form)
	if code != http.StatusOK {
		t.Fatalf("broadcast form: %d", code)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(plan))
	if err != nil {
		t.Fatal(err)
	}
	for sel, want := range map[string]string{".need-template": "260", ".in-window": "0", "tr.cost-total td.total": "28.60",
		// The limit is not read yet: the pacer keeps to 250 and counts what it sent.
		".used": "0", ".allowed-today": "250"} {
		if got := strings.TrimSpace(doc.Find(sel).Text()); got != want {
			t.Errorf("plan %s = %q, want %q", sel, got, want)
		}
	}
	if !strings.Contains(doc.Find("p.limit-unknown").Text(), "250 a day") {
		t.Errorf("the plan does not say the limit is not known: %q", doc.Find("main").Text())
	}
	if bs, _ := srv.broadcasts.List(ctx, "news", 0); len(bs) != 0 {
		t.Fatalf("the plan started %d broadcasts", len(bs))
	}
	confirm := url.Values{}
	doc.Find("form.confirm-broadcast input[type=hidden]").Each(func(_ int, s *goquery.Selection) {
		n, _ := s.Attr("name")
		v, _ := s.Attr("value")
		confirm.Set(n, v)
	})
	if code, _ := admin.postForm("/dashboard/campaigns/news/broadcast/confirm", confirm); code != http.StatusSeeOther {
		t.Fatalf("confirm: %d", code)
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
	// Its page, and the command line's report through the admin API, say the same.
	code, body := admin.do(http.MethodGet, "/dashboard/campaigns/news/broadcasts/"+b.ID, "", nil)
	page2, _ := goquery.NewDocumentFromReader(strings.NewReader(body))
	if code != http.StatusOK || strings.TrimSpace(page2.Find(".broadcast-status").Text()) != "running" ||
		strings.TrimSpace(page2.Find(".count-waiting").Text()) != "10" {
		t.Errorf("broadcast page: %d\n%s", code, page2.Find("main").Text())
	}
	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"broadcast", "report", b.ID, "--server", srv.URL(), "--data", data}, &out, &errOut, func(string) string { return "" }); code != 0 ||
		!strings.Contains(squash(out.String()), "waiting 10") {
		t.Errorf("campaign broadcast report: exit %d\n%s%s", code, out.String(), errOut.String())
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

// TestWhatsAppBroadcastPacedAgainstTheGraphAPI is the done-when end to end: campaign serve
// with WhatsApp on the fake Graph API, a number whose messaging limit the platform says is
// 250: 600 subscribers outside their window go over three days; the number's quality drops
// (the quality webhook, then the read it asks for) and the broadcast pauses; resumed, it goes
// on; the server restarts on the same data and finishes it; a 131050 refusal is kept as the
// person's marketing stop; nobody gets it twice.
func TestWhatsAppBroadcastPacedAgainstTheGraphAPI(t *testing.T) {
	graph := graphtest.New(t)
	display := "15550001111"
	graph.AddPhoneNumber(waNumber, graphtest.PhoneNumber{Display: display, Limit: "TIER_250", Quality: "GREEN"})
	data := t.TempDir()
	var clock *testClock
	config := func(c *Config) {
		c.Campaigns = []string{"../../campaigns/examples/news.yaml"}
		c.WhatsApp = WhatsAppConfig{APIURL: graph.APIURL, AccessToken: graphtest.Token, AppSecret: waSecret,
			VerifyToken: "verify-me", PhoneNumberID: waNumber, RateLimit: 1000}
		c.NumberCheck = time.Hour // read at start, then hourly
		if clock != nil {
			c.Now = clock.Now // the restarted server keeps the test's time
		}
	}
	srv, clk := startServer(t, data, config)
	clock = clk
	ctx := t.Context()
	for deadline := time.Now().Add(10 * time.Second); ; {
		if h, err := srv.db.NumberHealth(ctx, "whatsapp", waNumber); err == nil && h.Limit == 250 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the server never read the number's limit")
		}
		time.Sleep(10 * time.Millisecond)
	}
	subscribeNews(t, srv, clock.Now(), 600)
	b, err := srv.broadcasts.Start(ctx, broadcast.Request{Campaign: "news", Message: campaigns.Message{
		Text: campaigns.Text{"nl": "Het weekoverzicht", "en": "The weekly digest"}, Template: "weekly"}, By: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	if b.Plan.Number.Limit != 250 || len(b.Plan.Days) != 3 || b.Plan.AllowedToday != 250 {
		t.Fatalf("plan: limit %d, %d days, %d today; want 250 read from the Graph API, three days, 250", b.Plan.Number.Limit, len(b.Plan.Days), b.Plan.AllowedToday)
	}
	waitSent(t, clock, graph, 250)

	// The quality drops: the webhook, and the read it asks for, pause the broadcast.
	graph.SetQuality(waNumber, "YELLOW")
	if code := postWebhook(t, srv, waSecret, graphtest.QualityUpdateWebhook(display, "DOWNGRADE", "TIER_250", "", clock.Now())); code != 200 {
		t.Fatalf("quality webhook: %d", code)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		got, err := srv.broadcasts.Get(ctx, b.ID)
		if err == nil && got.Status == broadcast.StatusPaused {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the broadcast did not pause on the quality drop: %+v", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
	clock.Advance(25 * time.Hour)
	if err := srv.broadcasts.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(waitSent(t, clock, graph, 250)); n != 250 {
		t.Fatalf("paused, yet %d sent", n)
	}
	if err := srv.broadcasts.Resume(ctx, b.ID, "ann"); err != nil {
		t.Fatal(err)
	}
	if err := srv.broadcasts.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	waitSent(t, clock, graph, 500)
	// Every send recorded before the restart: a reply in flight at a stop goes again after
	// it (the engine's documented window), which is not what this test is about.
	if !advanceUntil(clock, func() bool {
		r, err := srv.engine.BroadcastReport(ctx, b.ID)
		return err == nil && r.Pending == 0 && r.Sent == 500
	}) {
		t.Fatal("the 500 sends were never all recorded")
	}

	// A restart on the same data: the new server finishes the broadcast the next day.
	srv.Close()
	srv, _ = startServer(t, data, config)
	clock.Advance(25 * time.Hour)
	// One of the last day's refuses marketing (131050): kept as their preference.
	graph.FailNext(131050, http.StatusBadRequest)
	if err := srv.broadcasts.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	sent := waitSent(t, clock, graph, 599)
	if !advanceUntil(clock, func() bool {
		r, err := srv.broadcasts.Report(ctx, b.ID)
		return err == nil && r.Failed[broadcast.FailOptOut] == 1
	}) {
		r, _ := srv.broadcasts.Report(ctx, b.ID)
		t.Fatalf("report = %+v, want one refused with 131050", r)
	}
	rs, err := srv.broadcasts.Recipients(ctx, b.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Status == broadcast.RecipientFailed {
			if stopped, err := srv.db.StoppedMarketing(ctx, "whatsapp", []string{r.Address}); err != nil || !stopped[r.Address] {
				t.Errorf("%s refused with 131050, yet marketing not stopped: %v, %v", r.Address, stopped, err)
			}
		}
	}
	seen := map[string]bool{}
	for _, m := range sent {
		if seen[m.To()] {
			t.Fatalf("%s got the broadcast twice", m.To())
		}
		seen[m.To()] = true
	}
	if got, _ := srv.broadcasts.Get(ctx, b.ID); got.Status != broadcast.StatusDone || len(seen) != 599 {
		t.Errorf("after the restart: %s, %d reached; want done, 599 (one refused)", got.Status, len(seen))
	}
}
