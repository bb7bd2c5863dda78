package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/chatcampaigns/campaign/channels/whatsapp/graphtest"
	"github.com/chatcampaigns/campaign/engine"
)

// churn sends many requests of every kind the server takes, with bodies, paths, queries and
// headers unlike each other, so that any string still pointing into a request buffer Fiber
// reuses is overwritten by the time the test reads it back.
func churn(t *testing.T, srv *server, mod *client, csrf string, round int) {
	t.Helper()
	visitor := newClient(t, srv.URL())
	api := &http.Client{}
	for i := range 40 {
		junk := strings.Repeat(fmt.Sprintf("/dashboard-%d-%d-", round, i), 1+i%5)
		mod.do(http.MethodGet, "/dashboard/campaigns", "", nil)
		mod.do(http.MethodGet, "/dashboard/campaigns/news?x="+url.QueryEscape(junk), "", nil)
		mod.do(http.MethodGet, "/dashboard/entries?status="+url.QueryEscape(junk), "", nil)
		mod.postForm("/dashboard/campaigns/nosuch"+fmt.Sprint(i)+"/status", url.Values{"csrf": {csrf}, "status": {junk}, "back": {junk}})
		mod.postForm("/dashboard/entries/e"+fmt.Sprint(i)+"/reject", url.Values{"csrf": {csrf}, "back": {junk}, "reason": {junk + junk}})
		visitor.do(http.MethodGet, "/play/bouncer", "", nil)
		visitor.postJSON("/play/bouncer/messages", map[string]string{"id": fmt.Sprintf("churn-%d-%04d", round, i), "text": junk})
		visitor.postForm("/play/bouncer/messages", url.Values{"id": {fmt.Sprintf("churnf-%d-%04d", round, i)}, "text": {junk}})
		visitor.postForm("/optin/fridge", url.Values{"name": {junk[:min(len(junk), 50)]}, "phone": {"+31 6 0000 " + fmt.Sprintf("%04d", i)}, "consent": {"yes"}})
		postWebhook(t, srv, waSecret, graphtest.TextWebhook(waNumber, fmt.Sprintf("3160000%04d", i), junk, fmt.Sprintf("wamid.churn.%d.%d", round, i), junk))
		req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/api/campaigns/xx"+junk[1:10]+"/status", strings.NewReader(`{"status":"`+junk+`"}`))
		req.Header.Set("Authorization", "Bearer "+srv.adminToken)
		req.Header.Set("Content-Type", "application/json")
		if resp, err := api.Do(req); err == nil {
			resp.Body.Close()
		}
		http.Get(srv.URL() + "/webhooks/whatsapp?hub.mode=" + url.QueryEscape(junk) + "&hub.challenge=" + url.QueryEscape(junk))
	}
}

// campaignStatusOnPage reads the status a campaign's dashboard page shows, and whether it
// offers "Make live".
func campaignStatusOnPage(t *testing.T, mod *client, id string) (status string, makeLive bool) {
	t.Helper()
	code, page := mod.do(http.MethodGet, "/dashboard/campaigns/"+id, "", nil)
	if code != 200 {
		t.Fatalf("campaign page of %s: %d", id, code)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	return doc.Find("strong.status").Text(), strings.Contains(page, "Make live")
}

// TestKeptValuesSurviveLaterRequests: whatever the server keeps from a request (a campaign's
// status and id from the dashboard or the admin API, a launched definition's file name, a
// webhook's or a form's fields) reads the same after many other requests. Fiber hands out
// strings that point into buffers it reuses for the next request: a value kept without a copy
// turned a paused campaign's status into "/das" and made it answer messages again.
func TestKeptValuesSurviveLaterRequests(t *testing.T) {
	graph := graphtest.New(t)
	srv, _ := startServer(t, t.TempDir(), func(c *Config) {
		c.Campaigns = []string{"../../campaigns/examples/bouncer.yaml", "../../campaigns/examples/news.yaml", "../../campaigns/examples/fridge.yaml"}
		c.WhatsApp = WhatsAppConfig{APIURL: graph.APIURL, AccessToken: graphtest.Token, AppSecret: waSecret,
			VerifyToken: "verify-me", PhoneNumberID: waNumber}
	})
	mod := newClient(t, srv.URL())
	if code, _ := mod.login("admin", srv.adminPassword); code != http.StatusSeeOther {
		t.Fatalf("login: %d", code)
	}
	_, page := mod.do(http.MethodGet, "/dashboard/campaigns/bouncer", "", nil)
	csrf := csrfOf(t, page)

	// The admin API: a definition launched under a file name, a status set by id.
	src := strings.Replace(mustRead(t, "../../campaigns/examples/bouncer.yaml"), "id: bouncer", "id: doorman", 1)
	req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/api/campaigns?file=doorman-launched.yaml&status=live", strings.NewReader(src))
	req.Header.Set("Authorization", "Bearer "+srv.adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("launch over the API: %v %v", resp, err)
	}
	resp.Body.Close()
	req, _ = http.NewRequest(http.MethodPost, srv.URL()+"/api/campaigns/doorman/status", strings.NewReader(`{"status":"paused"}`))
	req.Header.Set("Authorization", "Bearer "+srv.adminToken)
	req.Header.Set("Content-Type", "application/json")
	if resp, err = http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("status over the API: %v %v", resp, err)
	}
	resp.Body.Close()

	// A webhook's and a form's fields, stored.
	if code := postWebhook(t, srv, waSecret, graphtest.TextWebhook(waNumber, waUser, "Ann Webhook", "wamid.kept.1", "NEWS")); code != 200 {
		t.Fatalf("webhook: %d", code)
	}
	if code, page := newClient(t, srv.URL()).postForm("/optin/fridge", url.Values{"name": {"Bea Form"}, "phone": {"+31 6 9999 8888"}, "consent": {"yes"}}); code != 200 {
		t.Fatalf("opt-in: %d %s", code, page)
	}

	for round, want := range []string{engine.StatusPaused, engine.StatusClosed} {
		if code, _ := mod.postForm("/dashboard/campaigns/bouncer/status", url.Values{"csrf": {csrf}, "status": {want}}); code != http.StatusSeeOther {
			t.Fatalf("set status %s: %d", want, code)
		}
		churn(t, srv, mod, csrf, round)

		if got := srv.engine.Status("bouncer"); got != want {
			t.Errorf("after %s and more requests the engine says bouncer is %q", want, got)
		}
		if got, live := campaignStatusOnPage(t, mod, "bouncer"); got != want || !live {
			t.Errorf("after %s the dashboard shows status %q (Make live offered: %v)", want, got, live)
		}
		for _, d := range srv.engine.Campaigns() {
			if srv.engine.Status(d.ID) == "" {
				t.Errorf("campaign %s lost its status", d.ID)
			}
		}
		if got := srv.engine.Status("doorman"); got != engine.StatusPaused {
			t.Errorf("doorman, paused over the API, is %q", got)
		}
		if d, ok := srv.engine.Campaign("doorman"); !ok || d.File != "doorman-launched.yaml" {
			t.Errorf("doorman's file name after many requests = %q", d.File)
		}
	}
	for _, want := range []struct{ address, name, campaign string }{
		{waUser, "Ann Webhook", "news"},
		{"31699998888", "Bea Form", "fridge"},
	} {
		p := waitParticipant(t, srv, want.address, want.campaign)
		if p.Vars["name"] != want.name {
			t.Errorf("participant %s after many requests is called %q, want %q", want.address, p.Vars["name"], want.name)
		}
	}
}

// waitParticipant waits until the worker made the participant of a stored event.
func waitParticipant(t *testing.T, srv *server, address, campaign string) engine.Participant {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ps, err := srv.db.ParticipantsAt(context.Background(), "whatsapp", address)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			if p.Campaign == campaign {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no participant %s in %s; have %+v", address, campaign, ps)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
