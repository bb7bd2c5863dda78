package engine_test

import (
	"context"
	"testing"

	"github.com/chatcampaigns/campaign/engine"
)

// TestDirectSend: with the receive loop running, a reply due at once goes out as soon as its
// step is written, without the worker or a round of the sender, its attempt recorded with the
// step and its sending recorded after; it is never in the replies backlog, and a duplicate
// sends nothing.
func TestDirectSend(t *testing.T) {
	h := newEnv(t, plainEcho())
	ctx, cancel := context.WithCancel(h.ctx)
	defer cancel()
	h.eng.ReceiveLoop(ctx)
	h.receive("echo", "ann", engine.Inbound{Kind: engine.KindJoin, PlatformID: "j1"})
	h.eng.WaitDirectSends()
	wantTexts(t, h.sent.texts(), "Hi!")
	p := h.wantState("echo", "ann", "chat")
	out, err := h.db.Outbox(h.ctx, p.ID)
	if err != nil || len(out) != 1 {
		t.Fatalf("outbox %+v (%v), want one reply", out, err)
	}
	if o := out[0]; o.Status != engine.StatusSent || o.Attempts != 1 || o.InFlight || o.MaybeTwice {
		t.Errorf("reply %s, %d attempts, in flight %v, maybe twice %v; want sent after 1 attempt", o.Status, o.Attempts, o.InFlight, o.MaybeTwice)
	}
	if s := h.eng.Intake().State(); s.Events != 0 || s.Replies != 0 {
		t.Errorf("backlog %d events %d replies, want none", s.Events, s.Replies)
	}
	if dup, err := h.eng.Receive(h.ctx, engine.Inbound{Campaign: "echo", Channel: "test", From: "ann", PlatformID: "j1", Kind: engine.KindJoin}); err != nil || !dup {
		t.Fatalf("the same event again: duplicate %v, %v; want a duplicate", dup, err)
	}
	// Each message answered at once, in order, and nothing left to a round.
	for range 3 {
		h.receive("echo", "ann", engine.Inbound{Kind: engine.KindText, Text: "hello"})
		h.eng.WaitDirectSends()
	}
	wantTexts(t, h.sent.texts(), "Hi!", "ok", "ok", "ok")
	if n, err := h.eng.SendDue(h.ctx); err != nil || n != 0 {
		t.Errorf("a round after the direct sends sent %d (%v), want none", n, err)
	}
}

// TestDirectSendWaitsForARetriedReply: a reply refused for a reason that passes holds up the
// participant's later ones: the next message's reply is not sent directly past it, but goes
// out after it, once its backoff is over.
func TestDirectSendWaitsForARetriedReply(t *testing.T) {
	h := newEnv(t, plainEcho())
	f := &flaky{fail: map[string]bool{"Hi!": true}}
	h.eng.Handle("test", f)
	ctx, cancel := context.WithCancel(h.ctx)
	defer cancel()
	h.eng.ReceiveLoop(ctx)
	h.receive("echo", "ann", engine.Inbound{Kind: engine.KindJoin})
	h.eng.WaitDirectSends()
	h.receive("echo", "ann", engine.Inbound{Kind: engine.KindText, Text: "hello"})
	h.eng.WaitDirectSends()
	h.sendPastBackoff(f)
	wantTexts(t, f.texts(), "Hi!", "ok")
}

// TestNoDirectSends: with Config.NoDirectSends every reply waits for the sender's round.
func TestNoDirectSends(t *testing.T) {
	h := newEnv(t, plainEcho())
	h.roundsOnly()
	ctx, cancel := context.WithCancel(h.ctx)
	defer cancel()
	h.eng.ReceiveLoop(ctx)
	h.receive("echo", "ann", engine.Inbound{Kind: engine.KindJoin})
	h.eng.WaitDirectSends()
	if got := h.sent.texts(); len(got) != 0 {
		t.Fatalf("sent %q before a round", got)
	}
	if n, err := h.eng.SendDue(h.ctx); err != nil || n != 1 {
		t.Fatalf("a round sent %d (%v), want the reply", n, err)
	}
	wantTexts(t, h.sent.texts(), "Hi!")
}
