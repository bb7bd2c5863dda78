package engine_test

import (
	"context"
	"sync"
	"testing"

	"github.com/chatcampaigns/campaign/engine"
)

// announcer is a Sender that is also told of replies as soon as they are queued.
type announcer struct {
	recorder
	mu     sync.Mutex
	queued []engine.Outbound
}

func (a *announcer) Queued(out engine.Outbound) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.queued = append(a.queued, out)
}

// TestQueuedRepliesAreAnnounced: a channel that asks for it hears of a reply when it is
// queued, before the persona's delay has run (the web chat shows "typing…" meanwhile).
func TestQueuedRepliesAreAnnounced(t *testing.T) {
	h := newHarness(t)
	a := &announcer{}
	h.eng.Handle("test", a)
	ctx := context.Background()
	if _, err := h.eng.Receive(ctx, engine.Inbound{Campaign: "bouncer", Channel: "test", From: "ann", PlatformID: "j1", Kind: engine.KindJoin}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.eng.ProcessPending(ctx); err != nil {
		t.Fatal(err)
	}
	a.mu.Lock()
	queued := append([]engine.Outbound(nil), a.queued...)
	a.mu.Unlock()
	if len(queued) != 1 || queued[0].ParticipantID != engine.ParticipantID("bouncer", "test", "ann") || !queued[0].DueAt.After(h.clock.Now()) {
		t.Fatalf("announced %+v, want the greeting, due after now (%s)", queued, h.clock.Now())
	}
	if len(a.texts()) != 0 {
		t.Errorf("sent before its delay: %q", a.texts())
	}
}
