package engine_test

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
)

// crashObserver counts what the engine reports about the traces of a crash.
type crashObserver struct {
	mu                sync.Mutex
	claims, inFlight  int
	takenBack, twices int
}

func (o *crashObserver) Received(string, bool)                  {}
func (o *crashObserver) EventApplied(time.Duration)             {}
func (o *crashObserver) ReplySent(string, time.Duration, error) {}
func (o *crashObserver) TakenBack(claims, inFlight int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.takenBack++
	o.claims, o.inFlight = claims, inFlight
}
func (o *crashObserver) MaybeTwice(string) { o.mu.Lock(); defer o.mu.Unlock(); o.twices++ }

// inFlightChecker is a Sender that looks, while sending, at what the store says of the reply.
type inFlightChecker struct {
	t  *testing.T
	h  *harness
	ok []bool
}

func (c *inFlightChecker) Send(ctx context.Context, out engine.Outbound) (string, error) {
	rows, err := c.h.db.Outbox(ctx, out.ParticipantID)
	if err != nil {
		c.t.Errorf("outbox: %v", err)
	}
	for _, r := range rows {
		if r.ID == out.ID {
			c.ok = append(c.ok, r.InFlight && r.Attempts == 1 && r.AttemptedBy == "node-1")
		}
	}
	return "wamid.x", nil
}

// TestAttemptIsRecordedBeforeTheSend: a process that dies while the platform handles the send
// leaves a trace in the store, so the next attempt is known to be a possible duplicate.
func TestAttemptIsRecordedBeforeTheSend(t *testing.T) {
	h := newHarness(t)
	h.eng = engine.New(engine.Config{Store: h.db, Campaigns: bouncer(t), Now: h.clock.Now, Rand: rand.New(rand.NewPCG(1, 2)), Owner: "node-1"})
	c := &inFlightChecker{t: t, h: h}
	h.eng.Handle("test", c)
	h.send(engine.Inbound{Kind: engine.KindJoin})
	if len(c.ok) == 0 {
		t.Fatal("nothing sent")
	}
	for i, ok := range c.ok {
		if !ok {
			t.Errorf("send %d: the store did not show the attempt (in flight, 1 attempt, by node-1) during the send", i)
		}
	}
	rows, err := h.db.Outbox(h.ctx, h.participant().ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Status != engine.StatusSent || r.InFlight || r.Attempts != 1 || r.MaybeTwice {
			t.Errorf("after the send: %+v, want sent, 1 attempt, not in flight, not maybe twice", r)
		}
	}
}

// TestRestartTakesBackItsOwnClaimsAtOnce: a process killed after claiming two replies, and
// after handing one of them to the platform, is started again on the same data. The same
// owner sends both at once, not a lease later; only the one in flight at the kill is a
// possible duplicate. Another owner waits for the leases to run out on a store several
// processes share; on one a single process uses it has none to wait for.
func TestRestartTakesBackItsOwnClaimsAtOnce(t *testing.T) {
	for _, tc := range []struct {
		name       string
		owner      string
		shared     bool
		after      time.Duration
		wantSent   int
		wantTwices int
		wantClaims int
	}{
		{"same owner, at once", "node-1", true, time.Second, 2, 1, 2},
		{"another owner, before the lease ran out", "node-2", true, time.Second, 0, 0, 0},
		{"another owner, after the lease ran out", "node-2", true, engine.DefaultSendLease + time.Second, 2, 1, 0},
		{"same owner, one process", "node-1", false, time.Second, 2, 1, 2},
		{"another owner, one process: no lease to wait for", "node-2", false, time.Second, 2, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			ctx := h.ctx
			// Queue replies to two participants without sending them.
			for _, who := range []string{"ann", "bob"} {
				if _, err := h.eng.Receive(ctx, engine.Inbound{Campaign: "bouncer", Channel: "test", From: who, PlatformID: "join-" + who, Kind: engine.KindJoin}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := h.eng.ProcessPending(ctx); err != nil {
				t.Fatal(err)
			}
			h.clock.Advance(time.Minute)
			due, err := h.db.DueOutbox(ctx, h.clock.Now(), 0)
			if err != nil || len(due) < 2 {
				t.Fatalf("due = %d replies, %v; want at least 2", len(due), err)
			}
			due = due[:2]
			// What node-1 left when it was killed: both replies claimed, the first handed to
			// the platform (attempt recorded, no outcome), the second not yet.
			now := h.clock.Now()
			keys := []string{"outbox:" + strconv.FormatInt(due[0].ID, 10), "outbox:" + strconv.FormatInt(due[1].ID, 10)}
			if won, err := h.db.Claim(ctx, "node-1", keys, now, now.Add(engine.DefaultSendLease)); err != nil || len(won) != 2 {
				t.Fatalf("claim: %v %v", won, err)
			}
			if err := h.db.AttemptOutbox(ctx, due[0].ID, "node-1", now); err != nil {
				t.Fatal(err)
			}
			h.clock.Advance(tc.after)

			obs := &crashObserver{}
			sent := &recorder{}
			var store engine.Store = h.db
			if tc.shared {
				store = shared{h.db}
			}
			eng := engine.New(engine.Config{Store: store, Campaigns: bouncer(t), Now: h.clock.Now, Rand: rand.New(rand.NewPCG(1, 2)), Owner: tc.owner, Observer: obs})
			eng.Handle("test", sent)
			eng.TakeBack(ctx)
			if _, err := eng.SendDue(ctx); err != nil {
				t.Fatal(err)
			}
			got := 0
			for _, s := range sent.sent {
				if s.ID == due[0].ID || s.ID == due[1].ID {
					got++
				}
			}
			if got != tc.wantSent || obs.twices != tc.wantTwices || obs.claims != tc.wantClaims || obs.takenBack != 1 {
				t.Errorf("sent %d of the 2 claimed, %d maybe twice, %d leases taken back (reported %d times); want %d, %d, %d (once)",
					got, obs.twices, obs.claims, obs.takenBack, tc.wantSent, tc.wantTwices, tc.wantClaims)
			}
			if tc.wantSent == 0 {
				return
			}
			var rows []engine.Outbound
			for _, d := range due {
				rs, err := h.db.Outbox(ctx, d.ParticipantID)
				if err != nil {
					t.Fatal(err)
				}
				rows = append(rows, rs...)
			}
			for _, r := range rows {
				switch r.ID {
				case due[0].ID:
					if r.Status != engine.StatusSent || !r.MaybeTwice || r.Attempts != 2 || r.InFlight {
						t.Errorf("the reply in flight at the kill: %+v, want sent, maybe twice, 2 attempts", r)
					}
				case due[1].ID:
					if r.Status != engine.StatusSent || r.MaybeTwice || r.Attempts != 1 {
						t.Errorf("the reply claimed, not attempted: %+v, want sent once, 1 attempt", r)
					}
				}
			}
		})
	}
}

func bouncer(t *testing.T) []*campaigns.Definition {
	t.Helper()
	def, probs := campaigns.LoadFile("../campaigns/examples/bouncer.yaml")
	if def == nil {
		t.Fatalf("load bouncer: %v", probs)
	}
	return []*campaigns.Definition{def}
}
