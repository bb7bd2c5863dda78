package webchat_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/channels/webchat"
	"github.com/chatcampaigns/campaign/engine"
)

// TestOutsideSchedule: outside its schedule the page says so, with the dates in the
// campaign's time zone, instead of offering a chat nobody answers, and the endpoints refuse
// what a stranger sends. Someone who joined before the end plays on until the hard stop.
func TestOutsideSchedule(t *testing.T) {
	def, probs := campaigns.Parse("summer.yaml", []byte(`id: summer
title: Summer
schedule:
  start: 2026-07-01
  end: 2026-09-01
  hard_stop: 2026-09-03
  timezone: Europe/Amsterdam
start: a
states:
  a:
    say: hi
    on:
      - text: any
        say: ok
`))
	if def == nil {
		t.Fatal(probs)
	}
	ams, _ := time.LoadLocation("Europe/Amsterdam")
	var now time.Time
	h := MustHarness(t, func(c *webchat.Config) { c.Now = func() time.Time { return now } })
	h.eng.defs["summer"] = def
	browser := func() string {
		resp := h.Do(t, httptest.NewRequest("GET", "/play/summer", nil))
		return cookie(resp, "webchat_id").Value
	}
	page := func(b string) *goquery.Document {
		t.Helper()
		resp := h.Do(t, withBrowser(httptest.NewRequest("GET", "/play/summer", nil), b))
		if resp.StatusCode != 200 {
			t.Fatalf("page: status %d", resp.StatusCode)
		}
		doc, err := goquery.NewDocumentFromReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return doc
	}
	wantNotice := func(b, want string) {
		t.Helper()
		doc := page(b)
		if got := strings.TrimSpace(doc.Find("#notice").Text()); got != want {
			t.Errorf("notice %q, want %q", got, want)
		}
		for _, sel := range []string{"#composer", "#text", "#photo", "script"} {
			if doc.Find(sel).Length() != 0 {
				t.Errorf("the page offers %s although nobody would answer", sel)
			}
		}
		n := len(h.eng.Received())
		for _, req := range []string{"/play/summer/join", "/play/summer/messages"} {
			resp := h.Do(t, withBrowser(jsonReq(req, `{"id":"m-12345678","text":"hello"}`), b))
			if resp.StatusCode != 403 {
				t.Errorf("%s: status %d, want 403", req, resp.StatusCode)
			} else if got := errorText(t, resp); got != want {
				t.Errorf("%s: error %q, want the notice", req, got)
			}
		}
		if len(h.eng.Received()) != n {
			t.Error("a message nobody would answer was taken")
		}
	}
	wantChat := func(b string) {
		t.Helper()
		doc := page(b)
		if doc.Find("#notice").Length() != 0 || doc.Find("#composer").Length() != 1 {
			t.Errorf("the page does not offer the chat: notice %q", doc.Find("#notice").Text())
		}
		if resp := h.Do(t, withBrowser(jsonReq("/play/summer/messages", `{"text":"hello"}`), b)); resp.StatusCode != 202 {
			t.Errorf("message: status %d, want 202", resp.StatusCode)
		}
	}

	now = time.Date(2026, 6, 30, 12, 0, 0, 0, ams)
	wantNotice(browser(), "Sorry, this campaign has not started yet. It opens on Wednesday 1 July 2026, 00:00 (Europe/Amsterdam).")

	now = time.Date(2026, 8, 31, 23, 0, 0, 0, ams)
	player := browser()
	wantChat(player)
	h.eng.SetTranscript(engine.ParticipantID("summer", webchat.ChannelName, player), []engine.Line{{Direction: engine.Out, Text: "hi"}})

	now = time.Date(2026, 9, 1, 0, 0, 0, 0, ams)
	wantNotice(browser(), "Sorry, this campaign has ended. It closed on Tuesday 1 September 2026, 00:00 (Europe/Amsterdam).")
	wantChat(player) // joined before the end: plays on

	now = time.Date(2026, 9, 3, 0, 0, 0, 0, ams)
	wantNotice(browser(), "Sorry, this campaign has ended. It closed on Thursday 3 September 2026, 00:00 (Europe/Amsterdam).")
	wantReadOnly(t, h, player, "summer", "Sorry, this campaign has ended. It closed on Thursday 3 September 2026, 00:00 (Europe/Amsterdam).")
}

// wantReadOnly: the page of someone who played shows the notice above their conversation (a
// door code, a win), with nothing to send it with, and the endpoints refuse what it sends.
func wantReadOnly(t *testing.T, h *harness, b, campaign, notice string) {
	t.Helper()
	resp := h.Do(t, withBrowser(httptest.NewRequest("GET", "/play/"+campaign, nil), b))
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(doc.Find("#notice").Text()); got != notice {
		t.Errorf("notice %q, want %q", got, notice)
	}
	if doc.Find("#messages").Length() != 1 || doc.Find("script").Length() != 1 {
		t.Error("the page does not show the conversation the participant had")
	}
	if v, _ := doc.Find("body").Attr("data-readonly"); v != "true" {
		t.Errorf("body data-readonly = %q, want true (the page then sends no join)", v)
	}
	for _, sel := range []string{"#composer", "#text", "#photo"} {
		if doc.Find(sel).Length() != 0 {
			t.Errorf("the page offers %s although nobody would answer", sel)
		}
	}
	if resp := h.Do(t, withBrowser(jsonReq("/play/"+campaign+"/messages", `{"id":"m-87654321","text":"hello"}`), b)); resp.StatusCode != 403 {
		t.Errorf("message: status %d, want 403", resp.StatusCode)
	}
}

// TestPausedAndClosed: paused, the page says that messages wait and still takes them (they
// are answered once the campaign is live again); closed, a stranger gets only the notice and
// someone who played keeps their conversation to read, under the notice. Found on the tour: a
// paused campaign's page looked like a chat that never answered, and closing one took the
// door code off the page of everyone who had one.
func TestPausedAndClosed(t *testing.T) {
	h := MustHarness(t)
	player := h.MustBrowser(t)
	h.eng.SetTranscript(engine.ParticipantID("bouncer", webchat.ChannelName, player), []engine.Line{{Direction: engine.Out, Text: "Your door code is K7Q2XM."}})

	h.eng.SetStatus("bouncer", engine.StatusPaused)
	for _, b := range []string{player, h.MustBrowser(t)} {
		resp := h.Do(t, withBrowser(httptest.NewRequest("GET", "/play/bouncer", nil), b))
		doc, err := goquery.NewDocumentFromReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if got := doc.Find("#note").Text(); !strings.Contains(got, "paused") || !strings.Contains(got, "kept") {
			t.Errorf("paused page's note %q, want it to say the chat is paused and messages are kept", got)
		}
		if doc.Find("#notice").Length() != 0 || doc.Find("#composer").Length() != 1 {
			t.Error("a paused campaign's page does not offer the chat")
		}
		if resp := h.Do(t, withBrowser(jsonReq("/play/bouncer/messages", `{"text":"hello?"}`), b)); resp.StatusCode != 202 {
			t.Errorf("message to a paused campaign: status %d, want 202 (kept for later)", resp.StatusCode)
		}
	}

	h.eng.SetStatus("bouncer", engine.StatusClosed)
	wantReadOnly(t, h, player, "bouncer", engine.NotRunning)
	resp := h.Do(t, withBrowser(httptest.NewRequest("GET", "/play/bouncer", nil), h.MustBrowser(t)))
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Find("#notice").Text() != engine.NotRunning || doc.Find("script").Length() != 0 {
		t.Errorf("a stranger's page of a closed campaign: notice %q, %d scripts", doc.Find("#notice").Text(), doc.Find("script").Length())
	}
}
