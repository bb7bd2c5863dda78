package engine_test

import (
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
)

// TestAgentWindow: on a channel with an agent window (Messenger's HUMAN_AGENT tag, 7 days) a
// dashboard agent's reply goes out after the 24-hour window closed, carrying who wrote it; the
// persona's does not, and neither does an agent's past the agent window: both are recorded
// as failed with the window reason, never sent.
func TestAgentWindow(t *testing.T) {
	d := def("f").
		state("chef", "A chef will answer.",
			&campaigns.Transition{Kind: campaigns.OnHandback, Say: says("Enjoy!"), Goto: "done"}).
		final("done", "").
		with(func(d *campaigns.Definition) { d.States["chef"].Handoff = "chefs" }).build()
	h := newEnvWith(t, map[string]time.Duration{"whatsapp": 24 * time.Hour}, d)
	h.cfg.AgentWindows = map[string]time.Duration{"whatsapp": 7 * 24 * time.Hour}
	h.eng = engine.New(h.cfg)
	h.eng.Handle("whatsapp", h.sent)
	h.receive("f", "ann", engine.Inbound{Kind: engine.KindJoin, Channel: "whatsapp", Name: "Ann"})
	h.settleOut()
	p, err := h.db.Participant(h.ctx, engine.ParticipantID("f", "whatsapp", "ann"))
	if err != nil || p.State != "chef" {
		t.Fatalf("participant %+v, %v: want ann in chef", p, err)
	}

	h.clock.Advance(3 * 24 * time.Hour)
	if err := h.eng.AgentSay(h.ctx, p.ID, "chef Bo", "Make an omelette."); err != nil {
		t.Fatal(err)
	}
	out := h.settleOut()
	if len(out) != 1 || out[0].Text != "Make an omelette." || out[0].Agent != "chef Bo" {
		t.Fatalf("agent reply after 3 days: %+v, want it sent with its agent", out)
	}
	if err := h.eng.Handback(h.ctx, p.ID, "chef Bo"); err != nil {
		t.Fatal(err)
	}
	if got := h.settleOut(); len(got) != 0 {
		t.Fatalf("the persona's reply after 3 days went out: %+v", got)
	}
	h.clock.Advance(5 * 24 * time.Hour)
	if err := h.eng.AgentSay(h.ctx, p.ID, "chef Bo", "Still hungry?"); err != nil {
		t.Fatal(err)
	}
	if got := h.settleOut(); len(got) != 0 {
		t.Fatalf("agent reply after 8 days went out: %+v", got)
	}
	rows, _ := h.db.Outbox(h.ctx, p.ID)
	var failed int
	for _, r := range rows {
		if r.Status == engine.StatusFailed && r.Error == engine.WindowClosed {
			failed++
		}
	}
	if failed != 2 {
		t.Errorf("outbox = %+v, want the persona's and the late agent's replies failed with %q", rows, engine.WindowClosed)
	}
}
