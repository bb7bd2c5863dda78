package webchat_test

import (
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/channels/webchat"
	"github.com/chatcampaigns/campaign/engine"
)

// Past the backlog limit a message from the page is refused with 503, Retry-After and a
// sentence the page shows, and nothing is stored; once the backlog empties it goes through.
func TestMessageRefusedPastTheBacklogLimit(t *testing.T) {
	intake := engine.NewIntake(engine.IntakePolicy{MinBacklog: 1, MaxBacklog: 10, Limit: 4 * time.Second})
	intake.Received(10)
	h := MustHarness(t, func(c *webchat.Config) { c.Intake = intake })
	b := h.MustBrowser(t)
	resp := h.Do(t, withBrowser(jsonReq("/play/bouncer/messages", `{"text":"hi"}`), b))
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "4" {
		t.Fatalf("status %d, Retry-After %q; want 503 and 4", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if got, want := errorText(t, resp), "Lots of people are writing right now. Please send that again in a moment."; got != want {
		t.Errorf("error %q, want %q", got, want)
	}
	if n := len(h.eng.Received()); n != 0 {
		t.Errorf("received %d messages while refusing, want none", n)
	}
	intake.Reset(0)
	if resp := h.Do(t, withBrowser(jsonReq("/play/bouncer/messages", `{"text":"hi"}`), b)); resp.StatusCode != 202 {
		t.Fatalf("after the backlog emptied: status %d, want 202", resp.StatusCode)
	}
	if n := len(h.eng.Received()); n != 1 {
		t.Errorf("received %d messages, want 1", n)
	}
}
