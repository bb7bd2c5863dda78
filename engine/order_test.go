package engine_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
)

// chatty answers "hello" at length and anything else briefly; its persona types 100ms a
// character, so the long answer takes 3.1s and the short one 0.4s.
func chatty() *campaigns.Definition {
	return def("chatty").
		state("chat", "", onText("", "Hello! Good to see you here, Ann.", "hello"), onText("", "Yes.")).
		with(func(d *campaigns.Definition) {
			d.Persona = campaigns.Persona{Name: "Sven", DelayPerChar: 100 * time.Millisecond}
		}).
		build()
}

// typeOut moves the clock in steps of 100ms for up to d, sending what is due at each, as the
// sender's poll would.
func (h *env) typeOut(d time.Duration) []string {
	h.t.Helper()
	before := len(h.sent.all())
	for elapsed := time.Duration(0); elapsed <= d; elapsed += 100 * time.Millisecond {
		if _, err := h.eng.SendDue(h.ctx); err != nil {
			h.t.Fatalf("send due: %v", err)
		}
		h.clock.Advance(100 * time.Millisecond)
	}
	var texts []string
	for _, o := range h.sent.all()[before:] {
		texts = append(texts, o.Text)
	}
	return texts
}

func (h *env) process() {
	h.t.Helper()
	if _, err := h.eng.ProcessPending(h.ctx); err != nil {
		h.t.Fatalf("process: %v", err)
	}
}

// TestRepliesKeepTheOrderOfTheirMessages: a second message 0.2s after the first is answered
// after the first, however much longer the persona types the first answer.
func TestRepliesKeepTheOrderOfTheirMessages(t *testing.T) {
	h := newEnv(t, chatty())
	h.join("chatty", "ann")
	h.receive("chatty", "ann", engine.Inbound{Kind: engine.KindText, Text: "hello"})
	h.process()
	h.clock.Advance(200 * time.Millisecond)
	h.receive("chatty", "ann", engine.Inbound{Kind: engine.KindText, Text: "are you there?"})
	h.process()
	wantTexts(t, h.typeOut(10*time.Second), "Hello! Good to see you here, Ann.", "Yes.")

	// The short answer was typed after the long one went out, not alongside it.
	out := h.sent.all()
	if gap := out[1].DueAt.Sub(out[0].DueAt); gap != 400*time.Millisecond {
		t.Errorf("the second reply is due %v after the first, want its own typing time of 400ms", gap)
	}
	// Once everything went out, a new message is answered after its own typing time only.
	h.clock.Advance(time.Minute)
	start := h.clock.Now()
	h.receive("chatty", "ann", engine.Inbound{Kind: engine.KindText, Text: "ok"})
	h.process()
	wantTexts(t, h.typeOut(time.Second), "Yes.")
	if due := h.sent.all()[2].DueAt.Sub(start); due != 400*time.Millisecond {
		t.Errorf("a reply after a quiet minute is due after %v, want 400ms", due)
	}
}

// flaky fails the first send of the texts in fail with a temporary error, then delivers.
type flaky struct {
	mu   sync.Mutex
	fail map[string]bool
	sent []string
}

type tempErr struct{}

func (tempErr) Error() string   { return "rate limited" }
func (tempErr) Temporary() bool { return true }

func (f *flaky) Send(_ context.Context, out engine.Outbound) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail[out.Text] {
		delete(f.fail, out.Text)
		return "", tempErr{}
	}
	f.sent = append(f.sent, out.Text)
	return "ok", nil
}

func (f *flaky) texts() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.sent...)
}

// TestRetriedReplyIsNotOvertaken: a reply refused for a reason that passes (a rate limit) is
// tried again after its backoff, and the participant's later replies wait for it, in the same
// round and in later ones.
func TestRetriedReplyIsNotOvertaken(t *testing.T) {
	d := def("two").state("chat", "", onText("", "")).build()
	d.States["chat"].On[0].Say = says("One.", "Two.", "Three.")
	h := newEnv(t, d)
	h.join("two", "ann")
	f := &flaky{fail: map[string]bool{"One.": true}}
	h.eng.Handle("test", f)
	h.receive("two", "ann", engine.Inbound{Kind: engine.KindText, Text: "go"})
	h.process()
	if _, err := h.eng.SendDue(h.ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.texts(); len(got) != 0 {
		t.Fatalf("sent %q while the first reply waits out its backoff", got)
	}
	// A later step's reply waits too.
	h.receive("two", "ann", engine.Inbound{Kind: engine.KindText, Text: "again"})
	h.process()
	h.clock.Advance(500 * time.Millisecond)
	h.sendPastBackoff(f)
	wantTexts(t, f.texts(), "One.", "Two.", "Three.", "One.", "Two.", "Three.")
}

// sendPastBackoff runs a round of the sender, which must send nothing through f while a
// reply refused once waits out its backoff, then another round past the backoff.
func (h *env) sendPastBackoff(f *flaky) {
	h.t.Helper()
	if _, err := h.eng.SendDue(h.ctx); err != nil {
		h.t.Fatal(err)
	}
	if got := f.texts(); len(got) != 0 {
		h.t.Fatalf("sent %q while the first reply waits out its backoff", got)
	}
	h.clock.Advance(2 * time.Second) // past the backoff (1s and up to a fifth more)
	if _, err := h.eng.SendDue(h.ctx); err != nil {
		h.t.Fatal(err)
	}
}

// blocking is a Sender whose first send waits until released, as a slow platform request would.
type blocking struct {
	started, release chan struct{}
	rec              recorder
	once             sync.Once
}

func (b *blocking) Send(ctx context.Context, out engine.Outbound) (string, error) {
	first := false
	b.once.Do(func() { first = true })
	if first {
		close(b.started)
		<-b.release
	}
	return b.rec.Send(ctx, out)
}

// TestReplyWaitsForOneSentElsewhere: two engines (two processes) share the store. While one
// is still sending a participant's first reply, the other, finding the second reply due,
// leaves it alone instead of sending it alongside; it goes out after the first.
func TestReplyWaitsForOneSentElsewhere(t *testing.T) {
	d := def("two").state("chat", "", onText("", "")).
		with(func(d *campaigns.Definition) { d.Persona.DelayPerChar = 100 * time.Millisecond }).build()
	d.States["chat"].On[0].Say = says("One.", "Two.") // due after 0.4s and 0.8s
	h := newEnv(t, d)
	h.join("two", "ann")
	h.receive("two", "ann", engine.Inbound{Kind: engine.KindText, Text: "go"})
	h.process()

	slow := &blocking{started: make(chan struct{}), release: make(chan struct{})}
	// Two processes on one store: one several processes share (as MongoDB is).
	cfg := h.cfg
	cfg.Store = shared{h.db}
	a := engine.New(cfg)
	a.Handle("test", slow)
	other := &recorder{}
	b := engine.New(cfg)
	b.Handle("test", other)

	h.clock.Advance(400 * time.Millisecond) // "One." is due, "Two." is not
	done := make(chan error, 1)
	go func() { _, err := a.SendDue(h.ctx); done <- err }()
	<-slow.started
	h.clock.Advance(400 * time.Millisecond) // "Two." is due too
	if _, err := b.SendDue(h.ctx); err != nil {
		t.Fatal(err)
	}
	if got := other.texts(); len(got) != 0 {
		t.Fatalf("the second process sent %q while the first still sends the reply before it", got)
	}
	close(slow.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := b.SendDue(h.ctx); err != nil {
		t.Fatal(err)
	}
	wantTexts(t, append(slow.rec.texts(), other.texts()...), "One.", "Two.")
}

// TestAgentAndBroadcastWaitForTyping: an agent's reply or a broadcast made while the persona
// still types an answer goes out after that answer.
func TestAgentAndBroadcastWaitForTyping(t *testing.T) {
	for _, tc := range []struct {
		name string
		say  func(h *env, pid string) error
		want string
	}{
		{"Agent", func(h *env, pid string) error { return h.eng.AgentSay(h.ctx, pid, "chef", "A human here.") }, "A human here."},
		{"Broadcast", func(h *env, _ string) error {
			_, _, err := h.eng.Broadcast(h.ctx, "chatty", "chat", msg("News!"))
			return err
		}, "News!"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newEnv(t, chatty())
			h.join("chatty", "ann")
			h.receive("chatty", "ann", engine.Inbound{Kind: engine.KindText, Text: "hello"})
			h.process()
			h.clock.Advance(200 * time.Millisecond)
			if err := tc.say(h, h.participant("chatty", "ann").ID); err != nil {
				t.Fatal(err)
			}
			wantTexts(t, h.typeOut(10*time.Second), "Hello! Good to see you here, Ann.", tc.want)
		})
	}
}
