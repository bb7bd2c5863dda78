package webchat_test

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
)

// TestCampaignNotOnTheWebChat: the link of a campaign that runs elsewhere says so, and how to
// join it there, instead of "has ended or the link is mistyped".
func TestCampaignNotOnTheWebChat(t *testing.T) {
	h := MustHarness(t)
	for _, file := range []string{"news", "fridge"} {
		h.MustExample(t, file)
	}
	// A service desk the patient writes to: its first message has no template, so the brand
	// cannot write first and an opt-in form could not greet anyone.
	desk, probs := campaigns.Parse("desk.yaml", []byte("id: desk\nchannels: [whatsapp]\nstart: menu\nstates:\n  menu:\n    say: Hello!\n    final: true\n"))
	if probs.HasErrors() {
		t.Fatal(probs)
	}
	h.eng.defs[desk.ID] = desk
	tests := []struct {
		path string
		want []string
	}{
		{"/play/news", []string{"Stadsnieuws / City news", "runs on WhatsApp", "NIEUWS"}},
		{"/play/fridge", []string{"runs on WhatsApp", `href="/optin/fridge"`}},
		{"/play/desk", []string{"runs on WhatsApp", "send any message to the campaign's WhatsApp number"}},
		{"/play/nope", []string{"mistyped"}},
	}
	for _, tt := range tests {
		resp := h.Do(t, httptest.NewRequest("GET", tt.path, nil))
		b, _ := io.ReadAll(resp.Body)
		body := string(b)
		if resp.StatusCode != 404 {
			t.Errorf("%s: status %d, want 404", tt.path, resp.StatusCode)
		}
		for _, w := range tt.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: page lacks %q:\n%s", tt.path, w, body)
			}
		}
		if tt.path == "/play/news" && strings.Contains(body, "<strong>NEWS</strong>") {
			t.Errorf("%s: without a browser language, the first language's keyword: %s", tt.path, body)
		}
		if tt.path == "/play/desk" && strings.Contains(body, "optin") {
			t.Errorf("%s: points at a sign-up form that cannot greet anyone:\n%s", tt.path, body)
		}
		if tt.path != "/play/nope" && strings.Contains(body, "has ended") {
			t.Errorf("%s: says the campaign has ended:\n%s", tt.path, body)
		}
	}
}

// TestElsewhereKeywordInTheVisitorsLanguage: the page of a campaign with keywords by language
// names the keyword of the browser's language (NEWS for an English browser, not NIEUWS).
func TestElsewhereKeywordInTheVisitorsLanguage(t *testing.T) {
	h := MustHarness(t)
	h.MustExample(t, "news")
	for lang, want := range map[string]string{"en-US,en;q=0.9": "<strong>NEWS</strong>", "nl-BE": "<strong>NIEUWS</strong>", "de": "<strong>NIEUWS</strong>"} {
		req := httptest.NewRequest("GET", "/play/news", nil)
		req.Header.Set("Accept-Language", lang)
		b, _ := io.ReadAll(h.Do(t, req).Body)
		if !strings.Contains(string(b), want) {
			t.Errorf("Accept-Language %s: page lacks %s:\n%s", lang, want, b)
		}
	}
}

// TestTypingCue: a reply the engine queued (still "typing") is announced to the open pages as a
// "typing" event, before the reply itself; it is no chat line.
func TestTypingCue(t *testing.T) {
	h := MustHarness(t)
	base := h.MustServe(t)
	b := h.MustBrowser(t)
	s := MustStream(t, base, b)
	s.UntilReady(t)
	due := time.Date(2026, 5, 1, 21, 0, 3, 0, time.UTC)
	h.channel.Queued(engine.Outbound{ID: 9, ParticipantID: pid(b), Channel: "webchat", Text: "Evening.", DueAt: due})
	if ev := s.Next(t); ev.Name != "typing" || ev.At != "2026-05-01T21:00:03Z" || ev.Text != "" {
		t.Errorf("after Queued: %+v, want a typing event until the reply is due", ev)
	}
	h.channel.Send(context.Background(), engine.Outbound{ID: 9, ParticipantID: pid(b), Channel: "webchat", Text: "Evening.", DueAt: due})
	if ev := s.Next(t); ev.Name != "" || ev.ID != "o9" {
		t.Errorf("the reply: %+v", ev)
	}
}

// TestTypingCueForALatePage: a page that connects after the reply was queued (the greeting's
// cue usually comes before the page's stream) gets the cue right after the history.
func TestTypingCueForALatePage(t *testing.T) {
	h := MustHarness(t)
	base := h.MustServe(t)
	b := h.MustBrowser(t)
	h.channel.Queued(engine.Outbound{ID: 3, ParticipantID: pid(b), Channel: "webchat", DueAt: time.Now().Add(3 * time.Second)})
	s := MustStream(t, base, b)
	s.UntilReady(t)
	if ev := s.Next(t); ev.Name != "typing" {
		t.Errorf("first event after the history: %+v, want typing", ev)
	}
	// Once the reply went out, a new page gets no cue.
	h.channel.Send(context.Background(), engine.Outbound{ID: 3, ParticipantID: pid(b), Channel: "webchat", Text: "Evening."})
	if ev := s.Next(t); ev.ID != "o3" {
		t.Errorf("reply: %+v", ev)
	}
	h.eng.SetTranscript(pid(b), []engine.Line{{ID: 1, Direction: engine.Out, Text: "Evening."}})
	s2 := MustStream(t, base, b)
	s2.UntilReady(t)
	h.channel.Send(context.Background(), engine.Outbound{ID: 4, ParticipantID: pid(b), Channel: "webchat", Text: "next"})
	if ev := s2.Next(t); ev.Name != "" || ev.ID != "o4" {
		t.Errorf("after the reply a new page got %+v, want no typing cue", ev)
	}
}

// TestKeptFieldsSurviveLaterRequests: what the channel hands the engine (text, ids, the
// browser, a caption) reads the same after many other requests, in an app without Immutable.
func TestKeptFieldsSurviveLaterRequests(t *testing.T) {
	h := MustHarness(t)
	b := h.MustBrowser(t)
	h.Do(t, withBrowser(jsonReq("/play/bouncer/messages", `{"id":"kept-0001","text":"Let me in"}`), b))
	form := httptest.NewRequest("POST", "/play/bouncer/messages", strings.NewReader("id=kept-0002&text=form+text"))
	form.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	h.Do(t, withBrowser(form, b))
	h.Do(t, withBrowser(uploadReq(t, "kept-0003", "my caption", fakePNG(64)), b))
	for i := range 30 {
		// Short and long values: a buffer is reused only for what fits in it.
		junk := fmt.Sprintf("%02d", i) + strings.Repeat("q", i%12)
		id := fmt.Sprintf("junkid-%04d", i)
		other := h.MustBrowser(t)
		h.Do(t, withBrowser(jsonReq("/play/bouncer/messages", `{"id":"j`+id+`","text":"`+junk+`"}`), other))
		f := httptest.NewRequest("POST", "/play/bouncer/messages", strings.NewReader("id=f"+id+"&text="+junk))
		f.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		h.Do(t, withBrowser(f, other))
		h.Do(t, withBrowser(uploadReq(t, "u"+id, junk, fakePNG(64+i)), other))
	}
	got := h.eng.Received()
	want := []struct{ id, text string }{{"kept-0001", "Let me in"}, {"kept-0002", "form text"}, {"kept-0003", "my caption"}}
	for i, w := range want {
		if i >= len(got) || got[i].PlatformID != w.id || got[i].Text != w.text || got[i].From != b || got[i].ParticipantID != pid(b) {
			t.Errorf("event %d after many requests: %+v, want %s %q from %s", i, got[min(i, len(got)-1)], w.id, w.text, b)
		}
	}
}
