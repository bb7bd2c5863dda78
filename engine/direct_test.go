package engine_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
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

// paced is a Sender that takes a little time for each send, varying, and records each
// recipient's sends in order, and whether two to the same recipient ever overlapped. Each
// send is told on the recipient's channel in got, as the platform delivers it, before the
// sender hears back.
type paced struct {
	mu      sync.Mutex
	rand    *rand.Rand
	sending map[string]bool
	texts   map[string][]string
	overlap []string
	got     map[string]chan struct{}
}

func (p *paced) Send(_ context.Context, out engine.Outbound) (string, error) {
	p.mu.Lock()
	if p.sending[out.To] {
		p.overlap = append(p.overlap, out.To)
	}
	p.sending[out.To] = true
	d := time.Duration(p.rand.IntN(2000)) * time.Microsecond
	p.mu.Unlock()
	time.Sleep(d) // a platform's answer takes a while, and not always as long
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sending[out.To] = false
	p.texts[out.To] = append(p.texts[out.To], out.Text)
	p.got[out.To] <- struct{}{}
	d = time.Duration(p.rand.IntN(1000)) * time.Microsecond
	p.mu.Unlock()
	time.Sleep(d) // the answer on its way back
	p.mu.Lock()
	return "ok", nil
}

func (p *paced) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, ts := range p.texts {
		n += len(ts)
	}
	return n
}

// TestDirectSendsKeepEachParticipantsOrder: participants who each send their next message as
// soon as the answer to the last one reaches them (before the engine heard back from the
// platform, or recorded it) get every answer once, in the order of their messages, never two
// at once, some replies going out directly and others (a participant still being sent to, no
// slot free, a message left to the worker) with the sender's rounds. A few send two at once.
func TestDirectSendsKeepEachParticipantsOrder(t *testing.T) {
	const people, each = 8, 20
	answer := onText("", "got {{n}}")
	answer.Save = &campaigns.Save{Var: "n"}
	h := newEnv(t, def("echo").state("chat", "Hi!", answer).build())
	h.cfg.SendConcurrency = 2 // 8 direct sends at once: some participants find none free
	h.eng = engine.New(h.cfg)
	p := &paced{rand: rand.New(rand.NewPCG(3, 4)), sending: map[string]bool{}, texts: map[string][]string{},
		got: map[string]chan struct{}{}}
	for k := range people {
		p.got[fmt.Sprint("p", k)] = make(chan struct{}, 1+each)
	}
	h.eng.Handle("test", p)
	ctx, cancel := context.WithCancel(h.ctx)
	var wg sync.WaitGroup
	wg.Go(func() { h.eng.Run(ctx) })
	defer wg.Wait()
	defer cancel()
	h.eng.WaitReceiveLoop()
	var senders sync.WaitGroup
	for k := range people {
		from := fmt.Sprint("p", k)
		senders.Go(func() {
			for i := -1; i < each; i++ {
				in := engine.Inbound{Campaign: "echo", Channel: "test", From: from, Kind: engine.KindText,
					Text: fmt.Sprint(i), PlatformID: fmt.Sprint(from, "-", i)}
				if i < 0 {
					in.Kind, in.Text = engine.KindJoin, ""
				}
				if _, err := h.eng.Receive(h.ctx, in); err != nil {
					t.Error(err)
				}
				if k%4 == 0 && i%5 == 0 {
					continue // the next one without waiting for this answer
				}
				select {
				case <-p.got[from]:
				case <-time.After(10 * time.Second):
					t.Errorf("%s got no answer to message %d", from, i)
					return
				}
			}
		})
	}
	senders.Wait()
	want := people * (1 + each)
	deadline := time.Now().Add(20 * time.Second)
	for p.count() < want && time.Now().Before(deadline) {
		h.clock.Advance(time.Second) // for a reply left to the rounds' poll
		time.Sleep(10 * time.Millisecond)
	}
	wantTexts := []string{"Hi!"}
	for i := range each {
		wantTexts = append(wantTexts, fmt.Sprint("got ", i))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for k := range people {
		if got := p.texts[fmt.Sprint("p", k)]; !slices.Equal(got, wantTexts) {
			t.Errorf("p%d got %q, want %q", k, got, wantTexts)
		}
	}
	if len(p.overlap) > 0 {
		t.Errorf("two sends at once to %q", p.overlap)
	}
}
