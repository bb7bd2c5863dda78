package engine_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/judge"
	"github.com/chatcampaigns/campaign/store/sqlite"
)

// The tests in this file's package build definitions in Go, so they do not depend on the YAML
// parser: def starts a campaign, state adds a state with its transitions, and the on* helpers
// make transitions.

type defBuilder struct{ d *campaigns.Definition }

func def(id string) *defBuilder {
	return &defBuilder{d: &campaigns.Definition{
		ID: id, Title: id, Languages: []string{"en"}, Version: id + "-v1",
		States: map[string]*campaigns.State{}, Pools: map[string]*campaigns.Pool{},
		Templates: map[string]*campaigns.Template{},
	}}
}

// state adds a state saying say on entry; the first state added is the start state.
func (b *defBuilder) state(name, say string, on ...*campaigns.Transition) *defBuilder {
	st := &campaigns.State{Name: name, On: on}
	if say != "" {
		st.Say = []campaigns.Message{msg(say)}
	}
	for i, t := range on {
		t.Name = fmt.Sprintf("%s/%d", name, i)
	}
	b.d.States[name] = st
	b.d.Order = append(b.d.Order, name)
	if b.d.Start == "" {
		b.d.Start = name
	}
	return b
}

func (b *defBuilder) final(name, say string) *defBuilder {
	b.state(name, say)
	b.d.States[name].Final = true
	return b
}

func (b *defBuilder) with(f func(d *campaigns.Definition)) *defBuilder {
	f(b.d)
	return b
}

func (b *defBuilder) build() *campaigns.Definition { return b.d }

func txt(s string) campaigns.Text    { return campaigns.Text{"en": s} }
func msg(s string) campaigns.Message { return campaigns.Message{Text: txt(s)} }
func says(ss ...string) []campaigns.Message {
	var out []campaigns.Message
	for _, s := range ss {
		out = append(out, msg(s))
	}
	return out
}

// onText fires on the keywords (any text when none), says say and goes to next ("" stays).
func onText(next, say string, keywords ...string) *campaigns.Transition {
	t := &campaigns.Transition{Kind: campaigns.OnText, Keywords: keywords, AnyText: len(keywords) == 0, Goto: next}
	if say != "" {
		t.Say = says(say)
	}
	return t
}

func onMedia(next string, collect bool) *campaigns.Transition {
	return &campaigns.Transition{Kind: campaigns.OnMedia, Collect: collect, Goto: next}
}

func onAfter(d time.Duration, next, say string) *campaigns.Transition {
	return &campaigns.Transition{Kind: campaigns.OnTimeout, After: d, Goto: next, Say: says(say)}
}

// env is an engine on a real SQLite store in a temporary directory, with a settable clock and
// senders that record what they are asked to send on the channels "test" and "whatsapp".
type env struct {
	t     *testing.T
	ctx   context.Context
	clock *clock
	db    *sqlite.DB
	path  string
	eng   *engine.Engine
	sent  *recorder
	judge *judge.Service
	seq   int
	cfg   engine.Config
	// since is how many replies were sent before the first receive since the last settle:
	// the receive loop may send a reply directly, before settle is called.
	since    int
	received bool
}

var t0 = time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)

func newEnv(t *testing.T, defs ...*campaigns.Definition) *env {
	t.Helper()
	return newEnvWith(t, nil, defs...)
}

func newEnvWith(t *testing.T, windows map[string]time.Duration, defs ...*campaigns.Definition) *env {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h := &env{t: t, ctx: context.Background(), clock: &clock{now: t0}, db: db, path: path, sent: &recorder{}}
	// One send at a time: the tests compare the replies of several participants in one order.
	h.cfg = engine.Config{Store: db, Campaigns: defs, Now: h.clock.Now, Rand: rand.New(rand.NewPCG(1, 2)), Windows: windows,
		SendConcurrency: 1}
	h.eng = engine.New(h.cfg)
	h.eng.Handle("test", h.sent)
	h.eng.Handle("whatsapp", h.sent)
	h.judge = &judge.Service{Store: db, Now: h.clock.Now}
	return h
}

// roundsOnly makes the engine again, leaving every reply to the sender's rounds (no direct
// sends from the receive loop).
func (h *env) roundsOnly() {
	h.cfg.NoDirectSends = true
	h.eng = engine.New(h.cfg)
	h.eng.Handle("test", h.sent)
	h.eng.Handle("whatsapp", h.sent)
}

// receive stores an event from `from` on channel "test" (unless in says otherwise).
func (h *env) receive(campaign, from string, in engine.Inbound) {
	h.t.Helper()
	h.seq++
	in.Campaign, in.From = campaign, from
	if in.Channel == "" {
		in.Channel = "test"
	}
	if in.PlatformID == "" {
		in.PlatformID = fmt.Sprintf("m%d", h.seq)
	}
	if !h.received {
		h.since, h.received = len(h.sent.all()), true
	}
	if _, err := h.eng.Receive(h.ctx, in); err != nil {
		h.t.Fatalf("receive: %v", err)
	}
}

// text sends a text and returns the replies sent after it settled.
func (h *env) text(campaign, from, text string) []string {
	h.t.Helper()
	h.receive(campaign, from, engine.Inbound{Kind: engine.KindText, Text: text})
	return h.settle()
}

func (h *env) join(campaign, from string) []string {
	h.t.Helper()
	h.receive(campaign, from, engine.Inbound{Kind: engine.KindJoin})
	return h.settle()
}

// settle processes what is pending, lets a minute pass and sends what is due; it returns the
// texts sent.
func (h *env) settle() []string {
	h.t.Helper()
	out := h.settleOut()
	var texts []string
	for _, o := range out {
		texts = append(texts, o.Text)
	}
	return texts
}

func (h *env) settleOut() []engine.Outbound {
	h.t.Helper()
	h.eng.WaitDirectSends()
	before := len(h.sent.all())
	if h.received {
		before, h.received = h.since, false
	}
	for {
		n, err := h.eng.ProcessPending(h.ctx)
		if err != nil {
			h.t.Fatalf("process: %v", err)
		}
		if n == 0 {
			break
		}
	}
	h.clock.Advance(time.Minute)
	if _, err := h.eng.SendDue(h.ctx); err != nil {
		h.t.Fatalf("send due: %v", err)
	}
	return h.sent.all()[before:]
}

// wait lets d pass, fires the timers due and settles.
func (h *env) wait(d time.Duration) []string {
	h.t.Helper()
	h.clock.Advance(d)
	if _, err := h.eng.FireDueTimers(h.ctx); err != nil {
		h.t.Fatalf("fire timers: %v", err)
	}
	return h.settle()
}

func (h *env) participant(campaign, from string) engine.Participant {
	h.t.Helper()
	p, err := h.db.Participant(h.ctx, engine.ParticipantID(campaign, "test", from))
	if err != nil {
		h.t.Fatalf("participant %s/%s: %v", campaign, from, err)
	}
	return p
}

func (h *env) wantState(campaign, from, state string) engine.Participant {
	h.t.Helper()
	p := h.participant(campaign, from)
	if p.State != state {
		h.t.Fatalf("%s is in %q, want %q", from, p.State, state)
	}
	return p
}

func (r *recorder) all() []engine.Outbound {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]engine.Outbound(nil), r.sent...)
}

func wantTexts(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("replies = %q, want %q", got, want)
	}
}
