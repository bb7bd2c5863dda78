package engine_test

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/judge"
	"github.com/chatcampaigns/campaign/store/sqlite"
)

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// recorder is a Sender that keeps what it was asked to send.
type recorder struct {
	mu   sync.Mutex
	sent []engine.Outbound
}

func (r *recorder) Send(_ context.Context, out engine.Outbound) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, out)
	return "rec-" + out.Text[:min(5, len(out.Text))], nil
}

func (r *recorder) texts() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, o := range r.sent {
		out = append(out, o.Text)
	}
	return out
}

type harness struct {
	t     *testing.T
	ctx   context.Context
	clock *clock
	db    *sqlite.DB
	eng   *engine.Engine
	sent  *recorder
	judge *judge.Service
	seq   int
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	def, probs := campaigns.LoadFile("../campaigns/examples/bouncer.yaml")
	if def == nil {
		t.Fatalf("load bouncer: %v", probs)
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h := &harness{t: t, ctx: ctx, clock: &clock{now: time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)}, db: db, sent: &recorder{}}
	h.eng = engine.New(engine.Config{Store: db, Campaigns: []*campaigns.Definition{def}, Now: h.clock.Now, Rand: rand.New(rand.NewPCG(1, 2))})
	h.eng.Handle("test", h.sent)
	h.judge = &judge.Service{Store: db, Now: h.clock.Now}
	return h
}

// send receives an inbound event from participant "ann", processes it, lets the persona type
// and delivers the replies; it returns the texts sent.
func (h *harness) send(in engine.Inbound) []string {
	h.t.Helper()
	h.seq++
	in.Campaign, in.Channel, in.From = "bouncer", "test", "ann"
	if in.PlatformID == "" {
		in.PlatformID = "m" + strings.Repeat("x", h.seq)
	}
	if _, err := h.eng.Receive(h.ctx, in); err != nil {
		h.t.Fatalf("receive: %v", err)
	}
	return h.settle()
}

func (h *harness) settle() []string {
	h.t.Helper()
	before := len(h.sent.texts())
	if _, err := h.eng.ProcessPending(h.ctx); err != nil {
		h.t.Fatalf("process: %v", err)
	}
	h.clock.Advance(time.Minute)
	if _, err := h.eng.SendDue(h.ctx); err != nil {
		h.t.Fatalf("send due: %v", err)
	}
	return h.sent.texts()[before:]
}

func (h *harness) participant() engine.Participant {
	p, err := h.db.Participant(h.ctx, engine.ParticipantID("bouncer", "test", "ann"))
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

func photo() *engine.Media {
	return &engine.Media{Kind: "photo", Key: "bouncer/p/abc.jpg", ThumbKey: "bouncer/p/abc.thumb.jpg", MIME: "image/jpeg", Size: 10}
}

func wantReplies(t *testing.T, got []string, want ...string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("replies = %q, want %d replies starting %q", got, len(want), want)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("reply %d = %q, want it to start with %q", i, got[i], want[i])
		}
	}
}

func TestBouncerApproved(t *testing.T) {
	h := newHarness(t)
	wantReplies(t, h.send(engine.Inbound{Kind: engine.KindJoin}), "Evening. I'm Sven")
	wantReplies(t, h.send(engine.Inbound{Kind: engine.KindText, Text: "let me in"}), "Talk is cheap")
	wantReplies(t, h.send(engine.Inbound{Kind: engine.KindMedia, Media: photo(), Text: "me at the gym"}), "Hmm. Let me show this")
	if got := h.participant().State; got != "judging" {
		t.Fatalf("state after photo = %q, want judging", got)
	}
	entries, err := h.judge.Entries(h.ctx, judge.Filter{Status: judge.StatusPending})
	if err != nil || len(entries) != 1 {
		t.Fatalf("pending entries = %v, %v; want one", entries, err)
	}
	if e := entries[0]; e.MediaKey != photo().Key || e.Caption != "me at the gym" || e.State != "door" {
		t.Errorf("entry = %+v", e)
	}
	if err := h.judge.Decide(h.ctx, judge.Decision{EntryID: entries[0].ID, Verdict: judge.StatusApproved, By: "mod"}); err != nil {
		t.Fatal(err)
	}
	got := h.settle()
	wantReplies(t, got, "You're on the list. Your door code is ")
	code := regexp.MustCompile(`door code is ([A-Z2-9]{6})\.`).FindStringSubmatch(got[0])
	if code == nil {
		t.Fatalf("no door code in %q", got[0])
	}
	p := h.participant()
	if p.State != "guest_list" || p.Vars["code"] != code[1] {
		t.Errorf("participant = %+v, want guest_list with code %s", p, code[1])
	}
}

func TestBouncerRejectedMayTryAgain(t *testing.T) {
	h := newHarness(t)
	h.send(engine.Inbound{Kind: engine.KindJoin})
	h.send(engine.Inbound{Kind: engine.KindMedia, Media: photo()})
	entries, _ := h.judge.Entries(h.ctx, judge.Filter{})
	if err := h.judge.Decide(h.ctx, judge.Decision{EntryID: entries[0].ID, Verdict: judge.StatusRejected, By: "mod"}); err != nil {
		t.Fatal(err)
	}
	wantReplies(t, h.settle(), "The boss says no", "Evening. I'm Sven")
	if got := h.participant().State; got != "door" {
		t.Fatalf("state after rejection = %q, want door", got)
	}
	wantReplies(t, h.send(engine.Inbound{Kind: engine.KindMedia, Media: photo()}), "Hmm.")
}

func TestDuplicateInboundHasOneEffect(t *testing.T) {
	h := newHarness(t)
	h.send(engine.Inbound{Kind: engine.KindJoin})
	in := engine.Inbound{Kind: engine.KindText, Text: "hello", PlatformID: "same"}
	wantReplies(t, h.send(in), "Talk is cheap")
	wantReplies(t, h.send(in)) // the platform retried: no second reply
	if v := h.participant().Version; v != 2 {
		t.Errorf("version = %d, want 2 (join and one text)", v)
	}
}

func TestUnexpectedInputGetsFallback(t *testing.T) {
	h := newHarness(t)
	h.send(engine.Inbound{Kind: engine.KindJoin})
	h.send(engine.Inbound{Kind: engine.KindMedia, Media: photo()})
	// The bouncer takes photos, videos and voice notes; a document is none of them.
	doc := &engine.Media{Kind: "document", Key: "k.pdf", MIME: "application/pdf"}
	wantReplies(t, h.send(engine.Inbound{Kind: engine.KindMedia, Media: doc}), "I only listen to photos")
	if got := h.participant().State; got != "judging" {
		t.Errorf("state = %q, want judging unchanged", got)
	}
}

func TestSecondVerdictConflictsAndChangesNothing(t *testing.T) {
	h := newHarness(t)
	h.send(engine.Inbound{Kind: engine.KindJoin})
	h.send(engine.Inbound{Kind: engine.KindMedia, Media: photo()})
	entries, _ := h.judge.Entries(h.ctx, judge.Filter{})
	id := entries[0].ID
	if err := h.judge.Decide(h.ctx, judge.Decision{EntryID: id, Verdict: judge.StatusApproved, By: "a"}); err != nil {
		t.Fatal(err)
	}
	h.settle()
	if err := h.judge.Decide(h.ctx, judge.Decision{EntryID: id, Verdict: judge.StatusRejected, By: "b"}); err == nil {
		t.Fatal("second verdict accepted")
	}
	wantReplies(t, h.settle())
	e, _ := h.judge.Entry(h.ctx, id)
	if e.Status != judge.StatusApproved || e.DecidedBy != "a" {
		t.Errorf("entry = %+v, want approved by a", e)
	}
}

func TestRepliesWaitForThePersonaDelay(t *testing.T) {
	h := newHarness(t)
	if _, err := h.eng.Receive(h.ctx, engine.Inbound{Campaign: "bouncer", Channel: "test", From: "ann", PlatformID: "j", Kind: engine.KindJoin}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.eng.ProcessPending(h.ctx); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(500 * time.Millisecond) // below the persona's 800ms minimum
	if _, err := h.eng.SendDue(h.ctx); err != nil {
		t.Fatal(err)
	}
	if got := h.sent.texts(); len(got) != 0 {
		t.Fatalf("sent %q before the persona finished typing", got)
	}
	h.clock.Advance(3 * time.Second)
	if _, err := h.eng.SendDue(h.ctx); err != nil {
		t.Fatal(err)
	}
	if got := h.sent.texts(); len(got) != 1 {
		t.Fatalf("sent %q after the delay, want the greeting", got)
	}
}

func TestReceiveRefusesBadInput(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name string
		in   engine.Inbound
	}{
		{"UnknownCampaign", engine.Inbound{Campaign: "nope", Channel: "test", From: "x", PlatformID: "1", Kind: engine.KindText, Text: "hi"}},
		{"EmptyText", engine.Inbound{Campaign: "bouncer", Channel: "test", From: "x", PlatformID: "2", Kind: engine.KindText, Text: "  "}},
		{"MediaWithoutMedia", engine.Inbound{Campaign: "bouncer", Channel: "test", From: "x", PlatformID: "3", Kind: engine.KindMedia}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := h.eng.Receive(h.ctx, tt.in); err == nil {
				t.Error("accepted")
			}
		})
	}
	if n, _ := h.eng.ProcessPending(h.ctx); n != 0 {
		t.Errorf("%d events stored from bad input", n)
	}
}

// TestFireDueTimersExpiresDeadLeases: leases a dead process left behind are deleted once they
// ran out, a minute at a time by the engine's clock, and live ones are kept.
func TestFireDueTimersExpiresDeadLeases(t *testing.T) {
	h := newHarness(t)
	now := h.clock.Now()
	if _, err := h.db.Claim(h.ctx, "dead", []string{"outbox:1", "outbox:2"}, now, now.Add(30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := h.db.Claim(h.ctx, "alive", []string{"outbox:3"}, now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := h.eng.FireDueTimers(h.ctx); err != nil {
		t.Fatal(err)
	}
	// Nothing had run out yet; within the next minute the engine does not look again.
	h.clock.Advance(45 * time.Second)
	if _, err := h.eng.FireDueTimers(h.ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := h.db.ExpireClaims(h.ctx, h.clock.Now()); err != nil || n != 2 {
		t.Fatalf("expired by hand = %d (%v), want the 2 dead leases still stored", n, err)
	}
	if _, err := h.db.Claim(h.ctx, "dead", []string{"outbox:1"}, h.clock.Now(), h.clock.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(time.Minute)
	if _, err := h.eng.FireDueTimers(h.ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := h.db.ExpireClaims(h.ctx, h.clock.Now()); err != nil || n != 0 {
		t.Errorf("expired by hand after the engine's turn = %d (%v), want 0", n, err)
	}
	if won, err := h.db.Claim(h.ctx, "b", []string{"outbox:3"}, h.clock.Now(), h.clock.Now().Add(time.Hour)); err != nil || len(won) != 0 {
		t.Errorf("the live lease was taken: won %v (%v)", won, err)
	}
}
