package engine_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/engine"
)

// gate is a Sender that holds every send to one recipient until released and reports the
// others as they go.
type gate struct {
	hold     string
	held     chan struct{} // closed when the held send started
	release  chan struct{}
	others   chan engine.Outbound
	heldOnce sync.Once
}

func (g *gate) Send(ctx context.Context, out engine.Outbound) (string, error) {
	if out.To == g.hold {
		g.heldOnce.Do(func() { close(g.held) })
		select {
		case <-g.release:
		case <-ctx.Done():
			return "", ctx.Err()
		}
		return "held-" + out.To, nil
	}
	g.others <- out
	return "sent-" + out.To, nil
}

// TestReplyDoesNotWaitForAnotherRecipientsSlowSend: while one participant's reply is still
// being sent (a slow platform request), a reply queued for someone else goes out at once. In
// rounds it waited for the round's slowest send.
func TestReplyDoesNotWaitForAnotherRecipientsSlowSend(t *testing.T) {
	d := def("echo").state("chat", "", onText("", "Yes.")).build()
	h := newEnv(t, d)
	h.join("echo", "ann")
	h.join("echo", "bob")
	g := &gate{hold: "ann", held: make(chan struct{}), release: make(chan struct{}), others: make(chan engine.Outbound, 10)}
	cfg := h.cfg
	cfg.SendConcurrency = 4
	eng := engine.New(cfg)
	eng.Handle("test", g)
	h.eng = eng

	ctx, cancel := context.WithCancel(h.ctx)
	done := make(chan struct{})
	go func() { eng.Run(ctx); close(done) }()
	defer func() { close(g.release); cancel(); <-done }()

	h.receive("echo", "ann", engine.Inbound{Kind: engine.KindText, Text: "hi"})
	select {
	case <-g.held:
	case <-time.After(10 * time.Second):
		t.Fatal("ann's reply was never sent")
	}
	h.receive("echo", "bob", engine.Inbound{Kind: engine.KindText, Text: "hi"})
	select {
	case out := <-g.others:
		if out.To != "bob" || out.Text != "Yes." {
			t.Fatalf("sent %q to %s, want Yes. to bob", out.Text, out.To)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("bob's reply waited for ann's send to finish")
	}
}
