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
	"github.com/chatcampaigns/campaign/store/sqlite"
)

// echoed answers every text with "ok"; a minute's silence after joining moves them on to
// "late", where a text is answered "late".
func echoed() *campaigns.Definition {
	return def("echo").
		state("chat", "Hi!", onText("", "ok"), onAfter(time.Minute, "late", "Too slow.")).
		state("late", "", onText("", "late")).
		build()
}

// plainEcho is echoed without the timer, for tests whose clock runs on.
func plainEcho() *campaigns.Definition {
	return def("echo").state("chat", "Hi!", onText("", "ok")).build()
}

// inLines are the texts a participant sent, as their transcript holds them, in order.
func inLines(t *testing.T, db *sqlite.DB, id string) []string {
	t.Helper()
	lines, err := db.Transcript(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range lines {
		if l.Direction == engine.In {
			out = append(out, l.Text)
		}
	}
	return out
}

func pendingCount(t *testing.T, db *sqlite.DB) int {
	t.Helper()
	p, err := db.PendingInbound(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	return len(p)
}

// TestReceiveBeforeRunOnlyStores: before Run, Receive stores the event for the worker, as it
// always did.
func TestReceiveBeforeRunOnlyStores(t *testing.T) {
	h := newEnv(t, echoed())
	h.receive("echo", "ann", engine.Inbound{Kind: engine.KindJoin})
	if n := pendingCount(t, h.db); n != 1 {
		t.Fatalf("%d events pending after Receive, want 1", n)
	}
	if got := h.eng.Intake().State().Events; got != 1 {
		t.Errorf("events backlog %d, want 1", got)
	}
	wantTexts(t, h.settle(), "Hi!")
}

// TestReceiveAppliesInTheSameWrite: with the receive loop running, Receive returns once the
// event is stored and its step applied: nothing waits for the worker, the reply is queued
// (and counted in the replies backlog, not the events'), and a duplicate changes nothing.
// (Without direct sends: with them the reply is sent at once, TestDirectSend.)
func TestReceiveAppliesInTheSameWrite(t *testing.T) {
	h := newEnv(t, echoed())
	h.roundsOnly()
	ctx, cancel := context.WithCancel(h.ctx)
	defer cancel()
	stopped := h.eng.ReceiveLoop(ctx)
	h.receive("echo", "ann", engine.Inbound{Kind: engine.KindJoin, PlatformID: "j1"})
	if n := pendingCount(t, h.db); n != 0 {
		t.Fatalf("%d events pending after Receive, want none", n)
	}
	p := h.wantState("echo", "ann", "chat")
	out, err := h.db.Outbox(h.ctx, p.ID)
	if err != nil || len(out) != 1 || out[0].Text != "Hi!" {
		t.Fatalf("outbox %+v (%v), want Hi! queued", out, err)
	}
	if s := h.eng.Intake().State(); s.Events != 0 || s.Replies != 1 {
		t.Errorf("backlog %d events %d replies, want 0 and 1", s.Events, s.Replies)
	}
	dup, err := h.eng.Receive(h.ctx, engine.Inbound{Campaign: "echo", Channel: "test", From: "ann", PlatformID: "j1", Kind: engine.KindJoin})
	if err != nil || !dup {
		t.Fatalf("the same event again: duplicate %v, %v; want a duplicate", dup, err)
	}
	if p2 := h.participant("echo", "ann"); p2.Version != p.Version {
		t.Errorf("a duplicate moved the participant from version %d to %d", p.Version, p2.Version)
	}
	wantTexts(t, h.settle(), "Hi!")

	// Once the loop stopped, Receive stores the old way.
	cancel()
	<-stopped
	h.receive("echo", "ann", engine.Inbound{Kind: engine.KindText, Text: "hello"})
	if n := pendingCount(t, h.db); n != 1 {
		t.Errorf("%d events pending after the loop stopped, want 1", n)
	}
}

// TestReceiveWaitsBehindStoredEvents: an event stored before and not yet processed (a timer's,
// a verdict) comes first; the message arriving after it is stored for the worker, which
// applies both in order.
func TestReceiveWaitsBehindStoredEvents(t *testing.T) {
	h := newEnv(t, echoed())
	ctx, cancel := context.WithCancel(h.ctx)
	defer cancel()
	h.eng.ReceiveLoop(ctx)
	h.receive("echo", "ann", engine.Inbound{Kind: engine.KindJoin})
	wantTexts(t, h.settle(), "Hi!")
	// The timer fires: its event is stored, not processed yet.
	h.clock.Advance(time.Minute)
	if _, err := h.eng.FireDueTimers(h.ctx); err != nil {
		t.Fatal(err)
	}
	if n := pendingCount(t, h.db); n != 1 {
		t.Fatalf("%d events pending after the timer fired, want its one", n)
	}
	h.receive("echo", "ann", engine.Inbound{Kind: engine.KindText, Text: "hello"})
	if n := pendingCount(t, h.db); n != 2 {
		t.Fatalf("%d events pending, want the timer's and the message behind it", n)
	}
	h.wantState("echo", "ann", "chat")
	wantTexts(t, h.settle(), "Too slow.", "late")
}

// TestReceiveTogetherKeepsEachParticipantsOrder: several messages of one participant arriving
// at once: the first is applied with the write, the others are stored behind it and applied
// by the worker, in order; another participant's message in the same write is applied too.
func TestReceiveTogetherKeepsEachParticipantsOrder(t *testing.T) {
	h := newEnv(t, echoed())
	h.join("echo", "ann")
	h.join("echo", "bob")
	text := func(from, s string) engine.Inbound {
		return engine.Inbound{Campaign: "echo", Channel: "test", From: from, PlatformID: from + "-" + s, Kind: engine.KindText, Text: s}
	}
	dups, errs := h.eng.ReceiveTogether(h.ctx, []engine.Inbound{text("ann", "a"), text("bob", "x"), text("ann", "b"),
		text("ann", "c"), text("bob", "x")})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
	if want := []bool{false, false, false, false, true}; !slices.Equal(dups, want) {
		t.Errorf("duplicates %v, want %v", dups, want)
	}
	ann := h.participant("echo", "ann").ID
	if got := inLines(t, h.db, ann); !slices.Equal(got, []string{"a"}) {
		t.Errorf("ann's lines before the worker ran: %q, want only the first", got)
	}
	if got := inLines(t, h.db, h.participant("echo", "bob").ID); !slices.Equal(got, []string{"x"}) {
		t.Errorf("bob's lines: %q, want x once", got)
	}
	if got := h.eng.Intake().State().Events; got != 2 {
		t.Errorf("events backlog %d, want ann's 2 left to the worker", got)
	}
	h.settle()
	if got := inLines(t, h.db, ann); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("ann's lines: %q, want a, b, c", got)
	}
}

// TestRunAppliesEachMessageOnceInOrder: the whole engine running, participants writing at
// once, each message delivered twice by the platform: every message is applied once, each
// participant's in the order they sent them, and answered once.
func TestRunAppliesEachMessageOnceInOrder(t *testing.T) {
	const people, each = 6, 15
	h := newEnv(t, plainEcho())
	ctx, cancel := context.WithCancel(h.ctx)
	var wg sync.WaitGroup
	wg.Go(func() { h.eng.Run(ctx) })
	defer wg.Wait()
	defer cancel()
	var senders sync.WaitGroup
	for p := range people {
		from := fmt.Sprint("p", p)
		send := func(in engine.Inbound) bool {
			in.Campaign, in.Channel, in.From = "echo", "test", from
			dup, err := h.eng.Receive(h.ctx, in)
			if err != nil {
				t.Error(err)
			}
			return dup
		}
		senders.Go(func() {
			send(engine.Inbound{Kind: engine.KindJoin, PlatformID: from + "-join"})
			for i := range each {
				in := engine.Inbound{Kind: engine.KindText, Text: fmt.Sprint(i), PlatformID: fmt.Sprint(from, "-", i)}
				if send(in) {
					t.Errorf("%s's message %d first delivered: a duplicate", from, i)
				}
				// The platform delivers it again, at once or a little later.
				if !send(in) {
					t.Errorf("%s's message %d delivered again: not a duplicate", from, i)
				}
			}
		})
	}
	senders.Wait()
	want := people * (1 + each)
	deadline := time.Now().Add(20 * time.Second)
	for len(h.sent.all()) < want && time.Now().Before(deadline) {
		h.clock.Advance(time.Second) // what is typed becomes due
		time.Sleep(10 * time.Millisecond)
	}
	if got := len(h.sent.all()); got != want {
		t.Fatalf("%d replies sent, want %d", got, want)
	}
	var wantLines []string
	for i := range each {
		wantLines = append(wantLines, fmt.Sprint(i))
	}
	for p := range people {
		id := h.participant("echo", fmt.Sprint("p", p)).ID
		if got := inLines(t, h.db, id); !slices.Equal(got, wantLines) {
			t.Errorf("p%d's lines %q, want %q", p, got, wantLines)
		}
	}
	if n := pendingCount(t, h.db); n != 0 {
		t.Errorf("%d events still pending", n)
	}
}

// TestRestartAfterReceiveApplied: the process ends right after the receive loop's write,
// before the sender or the worker ran: after a restart every reply goes out once, the events
// left to the worker are applied once, and nothing applied before is applied again.
func TestRestartAfterReceiveApplied(t *testing.T) {
	h := newEnv(t, echoed())
	h.roundsOnly()
	ctx, cancel := context.WithCancel(h.ctx)
	stopped := h.eng.ReceiveLoop(ctx)
	h.receive("echo", "ann", engine.Inbound{Kind: engine.KindJoin})
	text := func(s string) engine.Inbound {
		return engine.Inbound{Campaign: "echo", Channel: "test", From: "ann", PlatformID: "ann-" + s, Kind: engine.KindText, Text: s}
	}
	if _, errs := h.eng.ReceiveTogether(h.ctx, []engine.Inbound{text("a"), text("b")}); errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	cancel()
	<-stopped
	if err := h.db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err := sqlite.Open(h.ctx, h.path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sent := &recorder{}
	eng := engine.New(engine.Config{Store: db, Campaigns: []*campaigns.Definition{echoed()}, Now: h.clock.Now, Rand: rand.New(rand.NewPCG(1, 2))})
	eng.Handle("test", sent)
	for {
		n, err := eng.ProcessPending(h.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	h.clock.Advance(time.Minute)
	if _, err := eng.SendDue(h.ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := sent.texts(), []string{"Hi!", "ok", "ok"}; !slices.Equal(got, want) {
		t.Errorf("sent after the restart %q, want %q", got, want)
	}
	if got := inLines(t, db, engine.ParticipantID("echo", "test", "ann")); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("lines %q, want a, b once each", got)
	}
}

// heldWrites is the SQLite store whose ReceiveApplied waits, once entered (entered gets a
// value), until release is closed: the receive loop is then busy with a write.
type heldWrites struct {
	*sqlite.DB
	entered chan struct{}
	release chan struct{}
}

func (s *heldWrites) ReceiveApplied(ctx context.Context, items []engine.ReceivedStep) ([]engine.ReceiveOutcome, error) {
	s.entered <- struct{}{}
	<-s.release
	return s.DB.ReceiveApplied(ctx, items)
}

// TestReceiveQueuedWhenTheLoopEnds: a Receive that queued while the loop was busy with a
// write, and was not taken before the loop ended, stores its event the old way (for the
// worker); the write under way finishes and is answered. Both Receives return without error,
// and the worker applies what was left to it.
func TestReceiveQueuedWhenTheLoopEnds(t *testing.T) {
	h := newEnv(t, plainEcho())
	h.join("echo", "ann")
	h.join("echo", "bob")
	h.settle()
	store := &heldWrites{DB: h.db, entered: make(chan struct{}, 1), release: make(chan struct{})}
	cfg := h.cfg
	cfg.Store = store
	eng := engine.New(cfg)
	eng.Handle("test", h.sent)
	ctx, cancel := context.WithCancel(h.ctx)
	stopped := eng.ReceiveLoop(ctx)
	text := func(from, s string) engine.Inbound {
		return engine.Inbound{Campaign: "echo", Channel: "test", From: from, PlatformID: from + "-" + s, Kind: engine.KindText, Text: s}
	}
	errs := make(chan error, 2)
	go func() { _, err := eng.Receive(h.ctx, text("ann", "first")); errs <- err }()
	<-store.entered // the loop writes ann's message
	go func() { _, err := eng.Receive(h.ctx, text("bob", "queued")); errs <- err }()
	for deadline := time.Now().Add(10 * time.Second); eng.QueuedReceives() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("bob's Receive never queued")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	close(store.release)
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("Receive: %v", err)
		}
	}
	<-stopped
	if got := inLines(t, h.db, h.participant("echo", "ann").ID); !slices.Contains(got, "first") {
		t.Errorf("ann's lines %q: the write under way was not finished", got)
	}
	if n := pendingCount(t, h.db); n != 1 {
		t.Fatalf("%d events pending, want bob's, stored the old way", n)
	}
	h.settle()
	if got := inLines(t, h.db, h.participant("echo", "bob").ID); !slices.Contains(got, "queued") {
		t.Errorf("bob's lines %q: his message was lost", got)
	}
}
