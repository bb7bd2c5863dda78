package engine_test

import (
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
)

// TestHandedOffQueue: the conversations a human has are listed longest waiting first, each
// with its team and the time it was handed off; a handback takes it off the queue.
func TestHandedOffQueue(t *testing.T) {
	d := def("desk").
		state("menu", "Appointments or billing?",
			&campaigns.Transition{Kind: campaigns.OnText, Keywords: []string{"appointments"}, Goto: "appointments"},
			&campaigns.Transition{Kind: campaigns.OnText, Keywords: []string{"billing"}, Goto: "billing"}).
		state("appointments", "A colleague will answer.",
			&campaigns.Transition{Kind: campaigns.OnHandback, Goto: "menu"}).
		state("billing", "A colleague will answer.",
			&campaigns.Transition{Kind: campaigns.OnHandback, Goto: "menu"}).
		with(func(d *campaigns.Definition) {
			d.States["appointments"].Handoff = "appointments"
			d.States["billing"].Handoff = "billing"
		}).build()
	h := newEnv(t, d)
	for _, who := range []struct{ from, dept string }{{"ann", "billing"}, {"bob", "appointments"}, {"cid", "billing"}} {
		h.receive("desk", who.from, engine.Inbound{Kind: engine.KindJoin, Name: who.from})
		h.settle()
		h.text("desk", who.from, who.dept)
		h.clock.Advance(time.Minute)
	}
	before, _ := h.eng.HandedOff(h.ctx)
	// Ann writes again while she waits: she stays first in the queue, waiting since her hand-off.
	h.text("desk", "ann", "hello?")
	q, err := h.eng.HandedOff(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(before) == 0 || !engine.HandedOffAt(q[0]).Equal(engine.HandedOffAt(before[0])) || engine.HandedOffAt(q[0]).IsZero() {
		t.Fatalf("Ann's hand-off time moved when she wrote: %v, then %v", before, q)
	}
	var got []string
	for i, p := range q {
		got = append(got, p.Address+" "+p.Vars["handoff"])
		if i > 0 && !engine.HandedOffAt(q[i-1]).Before(engine.HandedOffAt(p)) {
			t.Errorf("%s handed off at %v, not before %s at %v", q[i-1].Address, engine.HandedOffAt(q[i-1]), p.Address, engine.HandedOffAt(p))
		}
	}
	want := []string{"ann billing", "bob appointments", "cid billing"}
	if len(got) != len(want) {
		t.Fatalf("queue = %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("queue = %q, want %q", got, want)
		}
	}
	if err := h.eng.Handback(h.ctx, q[0].ID, "agent"); err != nil {
		t.Fatal(err)
	}
	h.settle()
	q, _ = h.eng.HandedOff(h.ctx)
	if len(q) != 2 || q[0].Address != "bob" {
		t.Fatalf("after Ann's handback the queue is %+v", q)
	}
	if p := h.wantState("desk", "ann", "menu"); p.Vars["handoff_at"] != "" {
		t.Errorf("handoff_at left after the handback: %v", p.Vars)
	}
}
