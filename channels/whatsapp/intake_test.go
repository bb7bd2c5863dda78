package whatsapp_test

import (
	"io"
	"testing"

	"github.com/chatcampaigns/campaign/channels/whatsapp"
	"github.com/chatcampaigns/campaign/channels/whatsapp/graphtest"
	"github.com/chatcampaigns/campaign/engine"
)

// Past the backlog limit a webhook with messages is answered 503 with Retry-After and nothing
// of it is handed over (the platform delivers it again); a webhook of statuses still passes.
func TestWebhookRefusedPastTheBacklogLimit(t *testing.T) {
	intake := engine.NewIntake(engine.IntakePolicy{MinBacklog: 1, MaxBacklog: 10, Limit: 7e9})
	intake.Received(10)
	r := newRig(t, func(c *whatsapp.Config) { c.Intake = intake })
	resp, err := r.app.Test(graphtest.SignedWebhook(appSecret, mustRead(t, "text_unicode_escaped.json")), -1)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "7" {
		t.Fatalf("status %d, Retry-After %q (%s); want 503 and 7", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if got := r.rec.Inbound(); len(got) != 0 {
		t.Errorf("received %d events while refusing, want none", len(got))
	}
	if got := intake.State().Refused; got != 1 {
		t.Errorf("refused %d, want 1", got)
	}
	if got := r.post(t, mustRead(t, "status_delivered.json")); got != 200 {
		t.Errorf("a webhook of statuses: %d, want 200", got)
	}
	// Once the worker caught up, the redelivery is taken.
	intake.Reset(0)
	if got := r.post(t, mustRead(t, "text_unicode_escaped.json")); got != 200 {
		t.Fatalf("after the backlog emptied: %d, want 200", got)
	}
	if got := r.rec.Inbound(); len(got) != 1 {
		t.Errorf("received %d events, want 1", len(got))
	}
}
