package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/channels/messenger/messengertest"
	"github.com/chatcampaigns/campaign/channels/metahook"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/judge"
)

const (
	fbSecret = "messenger-app-secret"
	fbPSID   = "6543210987654321"
)

// onMessenger copies an example campaign into a temporary folder with messenger added to its
// channels (the examples run on WhatsApp and the web chat).
func onMessenger(t *testing.T, example, channels string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../../campaigns/examples", example))
	if err != nil {
		t.Fatal(err)
	}
	with := strings.Replace(string(b), channels, strings.TrimSuffix(channels, "]")+", messenger]", 1)
	if with == string(b) {
		t.Fatalf("%s has no %q", example, channels)
	}
	path := filepath.Join(t.TempDir(), example)
	if err := os.WriteFile(path, []byte(with), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// fbServer runs campaign serve with the Messenger channel pointed at a fake Send API, the
// clock at messengertest's webhook time so the 24-hour window is open.
func fbServer(t *testing.T, campaign string) (*server, *testClock, *messengertest.Server) {
	t.Helper()
	api := messengertest.New(t)
	srv, clock := startServer(t, t.TempDir(), func(c *Config) {
		c.Campaigns = []string{campaign}
		c.Messenger = MessengerConfig{APIURL: api.APIURL, PageToken: messengertest.Token, AppSecret: fbSecret, VerifyToken: "verify-fb"}
	})
	clock.mu.Lock()
	clock.now = time.UnixMilli(fbTime).UTC()
	clock.mu.Unlock()
	return srv, clock, api
}

const fbTime = 1767611520000

func postMessenger(t *testing.T, srv *server, secret string, body []byte) int {
	t.Helper()
	return postSigned(t, srv.URL()+"/webhooks/messenger", secret, body)
}

// postSigned posts a body signed as Meta signs it (X-Hub-Signature-256) and returns the status.
func postSigned(t *testing.T, url, secret string, body []byte) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(metahook.SignatureHeader, metahook.Sign(secret, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// fbWaitSent advances the clock until the fake Send API accepted n messages.
func fbWaitSent(t *testing.T, clock *testClock, api *messengertest.Server, n int) []messengertest.Message {
	t.Helper()
	if !advanceUntil(clock, func() bool { return len(api.Sent()) >= n }) {
		t.Fatalf("the Send API received %d messages, want %d", len(api.Sent()), n)
	}
	return api.Sent()
}

// waitRecorded waits until the store recorded the participant's reply the platform accepted as
// platformID as sent, and returns the participant's outbox. A fake platform has the message as
// soon as the sender's request reached it, before the engine stored its id (MarkSent, after
// the round's other sends): a delivery report posted in between finds no reply to update, as
// one for a message sent by another system would, and is dropped.
func waitRecorded(t *testing.T, srv *server, participant, platformID string) []engine.Outbound {
	t.Helper()
	var out []engine.Outbound
	var err error
	for deadline := time.Now().Add(10 * time.Second); ; {
		out, err = srv.db.Outbox(context.Background(), participant)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out {
			if o.PlatformID == platformID && o.Status == engine.StatusSent {
				return out
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the reply sent as %q is not recorded as sent: outbox %+v", platformID, out)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// advanceUntil moves the clock a second at a time, giving the server a moment after each,
// until done holds (true) or ten seconds of real time passed (false).
func advanceUntil(clock *testClock, done func() bool) bool {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		if done() {
			return true
		}
		clock.Advance(time.Second)
		time.Sleep(10 * time.Millisecond)
	}
	return done()
}

// TestMessengerBouncerEndToEnd plays the bouncer on Messenger through campaign serve: the
// handshake, a forged webhook refused, a redelivered message answered once, a photo fetched
// from its URL into S3 as an entry, the verdict's door code, and a delivery receipt.
func TestMessengerBouncerEndToEnd(t *testing.T) {
	srv, clock, api := fbServer(t, onMessenger(t, "bouncer.yaml", "channels: [webchat, whatsapp]"))

	resp, err := http.Get(srv.URL() + "/webhooks/messenger?hub.mode=subscribe&hub.verify_token=verify-fb&hub.challenge=77")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "77" {
		t.Fatalf("handshake: %d %q", resp.StatusCode, body)
	}

	hello := messengertest.Webhook(fbPSID, fbTime, messengertest.Text("m_hello", "Hi Sven"))
	if code := postMessenger(t, srv, "forged", hello); code != http.StatusUnauthorized {
		t.Errorf("forged: %d, want 401", code)
	}
	if n, _ := srv.engine.ProcessPending(context.Background()); n != 0 {
		t.Errorf("%d events stored from a forged webhook", n)
	}
	for range 2 {
		if code := postMessenger(t, srv, fbSecret, hello); code != 200 {
			t.Fatalf("webhook: %d", code)
		}
	}
	sent := fbWaitSent(t, clock, api, 1)
	if sent[0].To() != fbPSID || sent[0].Type() != "RESPONSE" || !strings.Contains(sent[0].Text(), "nobody gets past this door") {
		t.Fatalf("greeting = %s", sent[0].Raw)
	}

	link := api.AddAttachment("photo-1", "image/png", testPNG(t))
	if code := postMessenger(t, srv, fbSecret, messengertest.Webhook(fbPSID, fbTime+1000, messengertest.Image("m_photo", link))); code != 200 {
		t.Fatalf("photo webhook: %d", code)
	}
	sent = fbWaitSent(t, clock, api, 2)
	if !strings.Contains(sent[1].Text(), "Let me show this to the boss") {
		t.Fatalf("after the photo: %s", sent[1].Raw)
	}
	judges := &judge.Service{Store: srv.db, Wake: srv.engine.Wake, Now: clock.Now}
	entries, err := judges.Entries(context.Background(), judge.Filter{Status: judge.StatusPending})
	if err != nil || len(entries) != 1 || entries[0].MIME != "image/png" {
		t.Fatalf("entries = %+v, %v", entries, err)
	}
	if err := judges.Decide(context.Background(), judge.Decision{EntryID: entries[0].ID, Verdict: judge.StatusApproved, By: "mod"}); err != nil {
		t.Fatal(err)
	}
	sent = fbWaitSent(t, clock, api, 3)
	if doorCode.FindStringSubmatch(sent[2].Text()) == nil {
		t.Fatalf("no door code in %s", sent[2].Raw)
	}
	if len(sent) != 3 {
		t.Errorf("%d messages sent, want 3", len(sent))
	}

	pid := engine.ParticipantID("bouncer", "messenger", fbPSID)
	waitRecorded(t, srv, pid, sent[2].ID)
	receipt := messengertest.Webhook(fbPSID, fbTime+5000, map[string]any{"delivery": map[string]any{"mids": []string{sent[2].ID}, "watermark": fbTime + 5000}})
	if code := postMessenger(t, srv, fbSecret, receipt); code != 200 {
		t.Fatalf("receipt: %d", code)
	}
	out, err := srv.db.Outbox(context.Background(), pid)
	if err != nil || len(out) != 3 {
		t.Fatalf("outbox = %+v, %v", out, err)
	}
	if out[2].Delivery.Status != "delivered" {
		t.Errorf("door code delivery = %q, want delivered", out[2].Delivery.Status)
	}
}

// TestMessengerAgentReplyAfterTheWindow: on Messenger a chef's reply from the dashboard still
// goes out two days after the participant's last message, tagged HUMAN_AGENT; the bot's
// reply after the handback does not (nothing promotional outside the window): it is recorded
// as not sent, with the reason.
func TestMessengerAgentReplyAfterTheWindow(t *testing.T) {
	srv, clock, api := fbServer(t, onMessenger(t, "fridge.yaml", "channels: [whatsapp]"))
	ctx := context.Background()
	postMessenger(t, srv, fbSecret, messengertest.Webhook(fbPSID, fbTime, messengertest.Text("m_1", "hoi")))
	fbWaitSent(t, clock, api, 1)
	link := api.AddAttachment("fridge-1", "image/png", testPNG(t))
	postMessenger(t, srv, fbSecret, messengertest.Webhook(fbPSID, fbTime+1000, messengertest.Image("m_2", link)))
	sent := fbWaitSent(t, clock, api, 2)
	if !strings.Contains(sent[1].Text(), "chefs") {
		t.Fatalf("after the photo: %s", sent[1].Raw)
	}

	clock.Advance(48 * time.Hour)
	pid := engine.ParticipantID("fridge", "messenger", fbPSID)
	if err := srv.engine.AgentSay(ctx, pid, "admin", "Maak een shakshuka!"); err != nil {
		t.Fatal(err)
	}
	sent = fbWaitSent(t, clock, api, 3)
	if sent[2].Text() != "Maak een shakshuka!" || sent[2].Type() != "MESSAGE_TAG" || sent[2].Tag() != "HUMAN_AGENT" {
		t.Fatalf("agent reply = %s, want it tagged HUMAN_AGENT", sent[2].Raw)
	}
	if err := srv.engine.Handback(ctx, pid, "admin"); err != nil {
		t.Fatal(err)
	}
	var out []engine.Outbound
	advanceUntil(clock, func() bool {
		out, _ = srv.db.Outbox(ctx, pid)
		return len(out) > 3 && out[len(out)-1].Status != engine.StatusPending
	})
	if last := out[len(out)-1]; len(out) < 4 || last.Status != engine.StatusFailed || last.Error != engine.WindowClosed {
		t.Fatalf("the bot's goodbye after 48 hours = %+v, want failed with %q", out, engine.WindowClosed)
	}
	if n := len(api.Sent()); n != 3 {
		t.Errorf("%d messages reached Messenger, want 3", n)
	}
}
