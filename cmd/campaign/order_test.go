package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/channels/whatsapp/graphtest"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/store/mongo/mongotest"
)

// orderCampaign answers "hello" at length (6.5s of typing) and anything else briefly (0.4s):
// a second message 0.2s after "hello" would be answered first if replies did not keep the
// order of the messages that caused them.
const orderCampaign = `id: order
title: Replies in order
languages: [en]
channels: [webchat, whatsapp]
persona:
  name: Sven
  delay:
    per_char: 100ms
start: chat
states:
  chat:
    say: "Evening."
    on:
      - text: [hello]
        say: "Hello! Good to see you here. What brings you to the door tonight?"
      - text: any
        say: "Yes."
`

const longAnswer = "Hello! Good to see you here. What brings you to the door tonight?"

func orderFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "order.yaml")
	if err := os.WriteFile(path, []byte(orderCampaign), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// waitProcessed waits (in real time, the clock standing still) until the participant's
// transcript holds the message text, so the step that answers it has been computed at the
// clock's current time.
func waitProcessed(t *testing.T, srv *server, text string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		ps, err := srv.db.Participants(context.Background(), engine.ParticipantFilter{Campaign: "order"})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			lines, err := srv.engine.Transcript(context.Background(), p.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range lines {
				if l.Direction == engine.In && l.Text == text {
					return
				}
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%q was not processed", text)
}

// TestWhatsAppRepliesKeepOrder: "hello" then, 0.2s later, "are you there?" on WhatsApp; the
// Graph API receives the long answer to "hello" first, with either store.
func TestWhatsAppRepliesKeepOrder(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { whatsAppRepliesKeepOrder(t, "") })
	t.Run("MongoDB", func(t *testing.T) {
		uri, stop, err := mongotest.Start(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(stop)
		whatsAppRepliesKeepOrder(t, uri)
	})
}

func whatsAppRepliesKeepOrder(t *testing.T, mongoURI string) {
	graph := graphtest.New(t)
	srv, clock := startServer(t, t.TempDir(), func(c *Config) {
		c.Campaigns = []string{orderFile(t)}
		c.MongoURI = mongoURI
		c.WhatsApp = WhatsAppConfig{APIURL: graph.APIURL, AccessToken: graphtest.Token, AppSecret: waSecret,
			VerifyToken: "verify-me", PhoneNumberID: waNumber}
	})
	clock.mu.Lock()
	clock.now = time.Unix(1767611602, 0).UTC()
	clock.mu.Unlock()
	if code := postWebhook(t, srv, waSecret, graphtest.TextWebhook(waNumber, waUser, "Ann", "wamid.o1", "hi")); code != 200 {
		t.Fatalf("webhook: %d", code)
	}
	waitSent(t, clock, graph, 1)

	if code := postWebhook(t, srv, waSecret, graphtest.TextWebhook(waNumber, waUser, "Ann", "wamid.o2", "hello")); code != 200 {
		t.Fatalf("webhook: %d", code)
	}
	waitProcessed(t, srv, "hello")
	clock.Advance(200 * time.Millisecond)
	if code := postWebhook(t, srv, waSecret, graphtest.TextWebhook(waNumber, waUser, "Ann", "wamid.o3", "are you there?")); code != 200 {
		t.Fatalf("webhook: %d", code)
	}
	waitProcessed(t, srv, "are you there?")
	sent := waitSent(t, clock, graph, 3)
	var got []string
	for _, m := range sent[1:] {
		got = append(got, m.Text())
	}
	if strings.Join(got, "|") != longAnswer+"|Yes." {
		t.Errorf("the Graph API received %q, want the answer to hello first", got)
	}
}

// TestWebChatRepliesKeepOrder: the same in the web chat; its event stream shows the long
// answer to "hello" first.
func TestWebChatRepliesKeepOrder(t *testing.T) {
	srv, clock := startServer(t, t.TempDir(), func(c *Config) { c.Campaigns = []string{orderFile(t)} })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ann := newClient(t, srv.URL())
	if code, _ := ann.do(http.MethodGet, "/play/order", "", nil); code != 200 {
		t.Fatalf("play page: %d", code)
	}
	events := ann.events(ctx, "order")
	if code, body := ann.postJSON("/play/order/join", map[string]string{}); code >= 300 {
		t.Fatalf("join: %d %s", code, body)
	}
	waitReply(t, clock, events, "Evening.")

	if code, body := ann.postJSON("/play/order/messages", map[string]string{"id": "msg-0001", "text": "hello"}); code >= 300 {
		t.Fatalf("text: %d %s", code, body)
	}
	waitProcessed(t, srv, "hello")
	clock.Advance(200 * time.Millisecond)
	if code, body := ann.postJSON("/play/order/messages", map[string]string{"id": "msg-0002", "text": "are you there?"}); code >= 300 {
		t.Fatalf("text: %d %s", code, body)
	}
	waitProcessed(t, srv, "are you there?")
	var got []string
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for len(got) < 2 {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("event stream closed")
			}
			if ev.Dir == "out" {
				got = append(got, ev.Text)
			}
		case <-tick.C:
			clock.Advance(time.Second)
		case <-deadline:
			t.Fatalf("replies so far: %q", got)
		}
	}
	if strings.Join(got, "|") != longAnswer+"|Yes." {
		t.Errorf("the web chat showed %q, want the answer to hello first", got)
	}
}
