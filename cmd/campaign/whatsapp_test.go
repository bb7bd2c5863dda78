package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/channels/whatsapp/graphtest"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/judge"
)

const (
	waSecret = "app-secret-for-tests"
	waNumber = "106540352242922"
	waUser   = "31612345678"
)

// waServer runs campaign serve with the WhatsApp channel pointed at a fake Graph API.
func waServer(t *testing.T) (*server, *testClock, *graphtest.Server) {
	graph := graphtest.New(t)
	srv, clock := startServer(t, t.TempDir(), func(c *Config) {
		c.WhatsApp = WhatsAppConfig{APIURL: graph.APIURL, AccessToken: graphtest.Token, AppSecret: waSecret,
			VerifyToken: "verify-me", PhoneNumberID: waNumber}
	})
	// graphtest's payloads carry a fixed platform timestamp; the clock starts there, so the
	// 24-hour window is open as it would be for a message that just arrived.
	clock.mu.Lock()
	clock.now = time.Unix(1767611602, 0).UTC()
	clock.mu.Unlock()
	return srv, clock, graph
}

// postWebhook posts a body to the server's WhatsApp webhook, signed with secret.
func postWebhook(t *testing.T, srv *server, secret string, body []byte) int {
	t.Helper()
	return postSigned(t, srv.URL()+"/webhooks/whatsapp", secret, body)
}

// waitSent advances the clock until the fake Graph API received n messages.
func waitSent(t *testing.T, clock *testClock, graph *graphtest.Server, n int) []graphtest.Message {
	t.Helper()
	var msgs []graphtest.Message
	sent := func() bool {
		msgs = nil
		for _, m := range graph.Sent() {
			if m.Type() != "" { // mark-read requests have no type
				msgs = append(msgs, m)
			}
		}
		return len(msgs) >= n
	}
	if advanceUntil(clock, sent) {
		return msgs
	}
	t.Fatalf("the Graph API received %d messages, want %d", len(graph.Sent()), n)
	return nil
}

func TestWhatsAppBouncerEndToEnd(t *testing.T) {
	srv, clock, graph := waServer(t)

	// The verification handshake.
	resp, err := http.Get(srv.URL() + "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "1158201444" {
		t.Fatalf("handshake: %d %q", resp.StatusCode, body)
	}

	// Forged and malformed webhooks are refused and store nothing.
	hello := graphtest.TextWebhook(waNumber, waUser, "Ann", "wamid.1", "Hi Sven")
	if code := postWebhook(t, srv, "not-the-secret", hello); code != http.StatusUnauthorized {
		t.Errorf("forged signature: %d, want 401", code)
	}
	if code := postWebhook(t, srv, waSecret, []byte(`{"object":`)); code != http.StatusBadRequest {
		t.Errorf("malformed JSON: %d, want 400", code)
	}
	if n, _ := srv.engine.ProcessPending(context.Background()); n != 0 {
		t.Errorf("%d events stored from refused webhooks", n)
	}

	// The first message greets; the platform's retry of it has no second effect.
	for range 2 {
		if code := postWebhook(t, srv, waSecret, hello); code != 200 {
			t.Fatalf("text webhook: %d", code)
		}
	}
	sent := waitSent(t, clock, graph, 1)
	if sent[0].To() != "+"+waUser || !strings.Contains(sent[0].Text(), "nobody gets past this door") {
		t.Fatalf("greeting = %s to %s", sent[0].Text(), sent[0].To())
	}

	// The message was marked read with the typing indicator, once despite the retry.
	for deadline := time.Now().Add(5 * time.Second); len(graph.Reads()) == 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if reads := graph.Reads(); len(reads) != 1 || !strings.Contains(string(reads[0].Raw), `"message_id":"wamid.1"`) || !strings.Contains(string(reads[0].Raw), "typing_indicator") {
		t.Errorf("read receipts = %v, want one for wamid.1 with the typing indicator", reads)
	}

	// A photo is fetched from the Graph API, checked, stored in S3 and becomes an entry.
	graph.AddMedia("media-1", "image/png", testPNG(t))
	if code := postWebhook(t, srv, waSecret, graphtest.ImageWebhook(waNumber, waUser, "Ann", "wamid.2", "media-1", "image/png", testPNG(t), "me")); code != 200 {
		t.Fatalf("image webhook: %d", code)
	}
	sent = waitSent(t, clock, graph, 2)
	if !strings.Contains(sent[1].Text(), "Let me show this to the boss") {
		t.Fatalf("after the photo: %q", sent[1].Text())
	}
	judges := &judge.Service{Store: srv.db, Wake: srv.engine.Wake, Now: clock.Now}
	entries, err := judges.Entries(context.Background(), judge.Filter{Status: judge.StatusPending})
	if err != nil || len(entries) != 1 {
		t.Fatalf("entries = %v, %v", entries, err)
	}
	mod := newClient(t, srv.URL())
	mod.login("admin", srv.adminPassword)
	if code, body := mod.do(http.MethodGet, "/dashboard/entries/"+entries[0].ID+"/media", "", nil); code != 200 || !strings.HasPrefix(body, "\x89PNG") {
		t.Errorf("stored photo: %d, want the PNG back from S3", code)
	}

	// The verdict reaches the participant on WhatsApp.
	if err := judges.Decide(context.Background(), judge.Decision{EntryID: entries[0].ID, Verdict: judge.StatusApproved, By: "mod"}); err != nil {
		t.Fatal(err)
	}
	sent = waitSent(t, clock, graph, 3)
	if doorCode.FindStringSubmatch(sent[2].Text()) == nil {
		t.Fatalf("no door code in %q", sent[2].Text())
	}
	if len(sent) != 3 {
		t.Errorf("%d messages sent, want exactly 3 (greeting, judging, code)", len(sent))
	}

	// Delivery reports update the monitor, and never downgrade. A report is posted once the
	// store has the reply's id, as Meta's come after the Send API's answer.
	pid := engine.ParticipantID("bouncer", "whatsapp", waUser)
	waitRecorded(t, srv, pid, sent[2].ID)
	for _, st := range []string{"delivered", "read", "delivered"} {
		if code := postWebhook(t, srv, waSecret, graphtest.StatusWebhook(waNumber, sent[2].ID, st, waUser)); code != 200 {
			t.Fatalf("status webhook: %d", code)
		}
	}
	out, err := srv.db.Outbox(context.Background(), pid)
	if err != nil {
		t.Fatal(err)
	}
	last := out[len(out)-1]
	if last.PlatformID != sent[2].ID || last.Delivery.Status != "read" {
		t.Errorf("last reply %s: delivery %q, want read", fmt.Sprint(last.PlatformID), last.Delivery.Status)
	}

	// /metrics counts what happened, in the Prometheus text format.
	resp, err = http.Get(srv.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`campaign_inbound_events_total{channel="whatsapp",duplicate="true"} 1`,
		`campaign_replies_total{channel="whatsapp",result="sent"} 3`,
		`campaign_webhook_duration_seconds_count{channel="whatsapp",code="401"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// The delivery monitor shows what did not arrive, and why.
	postWebhook(t, srv, waSecret, graphtest.StatusWebhook(waNumber, sent[1].ID, "failed", waUser))
	_, page := mod.do(http.MethodGet, "/dashboard/campaigns/bouncer/deliveries", "", nil)
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(page))
	if got := doc.Find(".count-read").Text(); got != "1" {
		t.Errorf("read count = %q, want 1", got)
	}
	if got := doc.Find("tr.failed .reason").Text(); got != "Message undeliverable (code 131026)" {
		t.Errorf("undelivered reason = %q", got)
	}
}

// TestWhatsAppOptInSendsTemplate: a visitor leaves their number on the fridge campaign's form;
// the brand writes first, so the greeting goes out as the approved template with their name.
func TestWhatsAppOptInSendsTemplate(t *testing.T) {
	graph := graphtest.New(t)
	srv, clock := startServer(t, t.TempDir(), func(c *Config) {
		c.Campaigns = []string{"../../campaigns/examples/fridge.yaml"}
		c.WhatsApp = WhatsAppConfig{APIURL: graph.APIURL, AccessToken: graphtest.Token, AppSecret: waSecret,
			VerifyToken: "verify-me", PhoneNumberID: waNumber}
	})
	visitor := newClient(t, srv.URL())
	// The fridge runs on WhatsApp only: there is no web chat to play it in.
	if code, _ := visitor.do(http.MethodGet, "/play/fridge", "", nil); code != 404 {
		t.Errorf("web chat of a WhatsApp-only campaign: %d, want 404", code)
	}
	if _, home := visitor.do(http.MethodGet, "/", "", nil); strings.Contains(home, "/play/fridge") {
		t.Error("the home page offers a campaign that cannot be played in the web chat")
	}
	if code, page := visitor.do(http.MethodGet, "/optin/fridge", "", nil); code != 200 || !strings.Contains(page, "WhatsApp number") {
		t.Fatalf("form: %d", code)
	}
	form := "name=Ann&phone=%2B31+6+1234+5678&consent=yes"
	if code, page := visitor.do(http.MethodPost, "/optin/fridge", "application/x-www-form-urlencoded", strings.NewReader(form)); code != 200 || !strings.Contains(page, "Thanks, Ann") {
		t.Fatalf("submit: %d %s", code, page)
	}
	sent := waitSent(t, clock, graph, 1)
	tmpl, _ := sent[0].Body["template"].(map[string]any)
	if sent[0].Type() != "template" || tmpl["name"] != "fridge_welcome" || sent[0].To() != "+31612345678" {
		t.Fatalf("first message = %s, want the fridge_welcome template to +31612345678", sent[0].Raw)
	}
	if !strings.Contains(string(sent[0].Raw), `"Ann"`) {
		t.Errorf("template without the name parameter: %s", sent[0].Raw)
	}
}

// TestWhatsAppHandOffToChef: the fridge photo hands the conversation to the chefs; a chef
// answers from the dashboard as the persona and hands back; the bot takes over again.
func TestWhatsAppHandOffToChef(t *testing.T) {
	graph := graphtest.New(t)
	srv, clock := startServer(t, t.TempDir(), func(c *Config) {
		c.Campaigns = []string{"../../campaigns/examples/fridge.yaml"}
		c.WhatsApp = WhatsAppConfig{APIURL: graph.APIURL, AccessToken: graphtest.Token, AppSecret: waSecret,
			VerifyToken: "verify-me", PhoneNumberID: waNumber}
	})
	clock.mu.Lock()
	clock.now = time.Unix(1767611602, 0).UTC()
	clock.mu.Unlock()
	if code := postWebhook(t, srv, waSecret, graphtest.TextWebhook(waNumber, waUser, "Ann", "wamid.h1", "hoi")); code != 200 {
		t.Fatalf("webhook: %d", code)
	}
	waitSent(t, clock, graph, 1)
	graph.AddMedia("fridge-1", "image/png", testPNG(t))
	postWebhook(t, srv, waSecret, graphtest.ImageWebhook(waNumber, waUser, "Ann", "wamid.h2", "fridge-1", "image/png", testPNG(t), ""))
	sent := waitSent(t, clock, graph, 2)
	if !strings.Contains(sent[1].Text(), "chefs") {
		t.Fatalf("after the photo: %q", sent[1].Text())
	}

	chef := newClient(t, srv.URL())
	chef.login("admin", srv.adminPassword)
	_, page := chef.do(http.MethodGet, "/dashboard/campaigns/fridge", "", nil)
	pid := engine.ParticipantID("fridge", "whatsapp", waUser)
	conv := "/dashboard/campaigns/fridge/participants/" + pid
	if !strings.Contains(page, conv) {
		t.Fatalf("campaign page has no notification linking to the conversation:\n%s", page)
	}
	// The chefs' queue holds Ann, since the photo handed her off.
	_, page = chef.do(http.MethodGet, "/dashboard/conversations", "", nil)
	if !strings.Contains(page, `data-team="chefs"`) || !strings.Contains(page, conv) || !strings.Contains(page, "Ann") {
		t.Fatalf("the chefs' queue does not list Ann:\n%s", page)
	}
	_, page = chef.do(http.MethodGet, conv, "", nil)
	csrf := csrfOf(t, page)
	if code, _ := chef.postForm(conv+"/reply", url.Values{"csrf": {csrf}, "text": {"Maak een shakshuka!"}}); code != http.StatusSeeOther {
		t.Fatalf("reply: %d", code)
	}
	sent = waitSent(t, clock, graph, 3)
	if sent[2].Text() != "Maak een shakshuka!" {
		t.Fatalf("agent reply on WhatsApp = %q", sent[2].Text())
	}
	if code, _ := chef.postForm(conv+"/handback", url.Values{"csrf": {csrf}}); code != http.StatusSeeOther {
		t.Fatalf("handback: %d", code)
	}
	sent = waitSent(t, clock, graph, 4)
	if sent[3].Type() != "interactive" || !strings.Contains(sent[3].Text(), "Eet smakelijk") {
		t.Errorf("after the hand-back: %s, want the goodbye with buttons", sent[3].Raw)
	}
	if _, page = chef.do(http.MethodGet, "/dashboard/conversations", "", nil); strings.Contains(page, conv) {
		t.Errorf("Ann is still in the chefs' queue after the hand-back:\n%s", page)
	}
}

// TestWhatsAppOptInAgainAfterStop: someone who sent STOP and fills in the brand's form again
// has opted in again: the greeting goes out anew. A second submit of the same form does not
// greet twice. (The form's event was keyed by the number alone, so the new opt-in was taken
// for a duplicate and the page promised a message that never came.)
func TestWhatsAppOptInAgainAfterStop(t *testing.T) {
	graph := graphtest.New(t)
	srv, clock := startServer(t, t.TempDir(), func(c *Config) {
		c.Campaigns = []string{"../../campaigns/examples/fridge.yaml"}
		c.WhatsApp = WhatsAppConfig{APIURL: graph.APIURL, AccessToken: graphtest.Token, AppSecret: waSecret,
			VerifyToken: "verify-me", PhoneNumberID: waNumber}
	})
	clock.mu.Lock()
	clock.now = time.Unix(1767611602, 0).UTC() // graphtest's webhooks' time: the window is open
	clock.mu.Unlock()
	visitor := newClient(t, srv.URL())
	optIn := func() {
		t.Helper()
		form := "name=Ann&phone=%2B" + waUser + "&consent=yes"
		if code, page := visitor.do(http.MethodPost, "/optin/fridge", "application/x-www-form-urlencoded", strings.NewReader(form)); code != 200 || !strings.Contains(page, "Thanks, Ann") {
			t.Fatalf("submit: %d %s", code, page)
		}
	}
	// The greeting: the template, or its text once STOP opened the 24-hour window.
	templates := func(msgs []graphtest.Message) int {
		n := 0
		for _, m := range msgs {
			if m.Type() == "template" || strings.HasPrefix(m.Text(), "Hoi Ann!") {
				n++
			}
		}
		return n
	}
	optIn()
	waitSent(t, clock, graph, 1)
	if code := postWebhook(t, srv, waSecret, graphtest.TextWebhook(waNumber, waUser, "Ann", "wamid.stop1", "STOP")); code != 200 {
		t.Fatalf("STOP: %d", code)
	}
	waitSent(t, clock, graph, 2) // the goodbye
	optIn()
	sent := waitSent(t, clock, graph, 3)
	if n := templates(sent); n != 2 {
		t.Fatalf("%d greetings after opting in again, want 2", n)
	}
	optIn()
	for range 5 {
		clock.Advance(time.Minute)
		time.Sleep(20 * time.Millisecond)
	}
	if n := templates(waitSent(t, clock, graph, 3)); n != 2 {
		t.Errorf("the same form sent twice greeted %d times, want once more", n-1)
	}
}

// TestWhatsAppRepliesFromTheNumberWrittenTo: the bouncer answers on any number. A stranger who
// writes to a second business number of the account gets every reply from that number (the
// chat and the 24-hour window they have), a broadcast and an agent's reply too, not from the
// server's default; the desk, which names its own number, sends from it.
func TestWhatsAppRepliesFromTheNumberWrittenTo(t *testing.T) {
	const numberB, deskNumber, bob = "106540352242933", "106540352242977", "31687654321"
	graph := graphtest.New(t)
	srv, clock := startServer(t, t.TempDir(), func(c *Config) {
		c.Campaigns = []string{"../../campaigns/examples/bouncer.yaml", "../../campaigns/examples/desk.yaml"}
		c.WhatsApp = WhatsAppConfig{APIURL: graph.APIURL, AccessToken: graphtest.Token, AppSecret: waSecret,
			VerifyToken: "verify-me", PhoneNumberID: waNumber}
	})
	clock.mu.Lock()
	clock.now = time.Unix(1767611602, 0).UTC()
	clock.mu.Unlock()
	from := func(m graphtest.Message) string { return m.PhoneNumberID + " " + m.To() }

	if code := postWebhook(t, srv, waSecret, graphtest.TextWebhook(numberB, waUser, "Ann", "wamid.b1", "Hi Sven")); code != 200 {
		t.Fatalf("webhook: %d", code)
	}
	sent := waitSent(t, clock, graph, 1)
	if got, want := from(sent[0]), numberB+" +"+waUser; got != want || !strings.Contains(sent[0].Text(), "nobody gets past this door") {
		t.Fatalf("greeting %q sent from %s, want from %s", sent[0].Text(), got, want)
	}
	for deadline := time.Now().Add(5 * time.Second); len(graph.Reads()) == 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if reads := graph.Reads(); len(reads) != 1 || reads[0].PhoneNumberID != numberB {
		t.Errorf("read receipts = %v, want one on %s", reads, numberB)
	}

	ctx := context.Background()
	if _, _, err := srv.engine.BroadcastTo(ctx, "bouncer", engine.Audience{}, campaigns.Message{Text: campaigns.Text{"en": "Doors open at ten."}}); err != nil {
		t.Fatal(err)
	}
	sent = waitSent(t, clock, graph, 2)
	if got, want := from(sent[1]), numberB+" +"+waUser; got != want {
		t.Errorf("broadcast %q sent from %s, want from %s", sent[1].Text(), got, want)
	}
	if err := srv.engine.AgentSay(ctx, engine.ParticipantID("bouncer", "whatsapp", waUser), "admin", "Come in."); err != nil {
		t.Fatal(err)
	}
	sent = waitSent(t, clock, graph, 3)
	if got, want := from(sent[2]), numberB+" +"+waUser; got != want || sent[2].Text() != "Come in." {
		t.Errorf("agent reply %q sent from %s, want from %s", sent[2].Text(), got, want)
	}

	// A campaign with its own phone_number_id sends from it.
	if code := postWebhook(t, srv, waSecret, graphtest.TextWebhook(deskNumber, bob, "Bob", "wamid.d1", "hello")); code != 200 {
		t.Fatalf("webhook: %d", code)
	}
	sent = waitSent(t, clock, graph, 4)
	if got, want := from(sent[3]), deskNumber+" +"+bob; got != want || !strings.Contains(sent[3].Text(), "service desk") {
		t.Errorf("desk greeting %q sent from %s, want from %s", sent[3].Text(), got, want)
	}
}
