package engine_test

import (
	"context"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/store/sqlite"
)

// counting is the SQLite store counting what the sender asks of it; with shared set it poses
// as a store several processes share.
type counting struct {
	*sqlite.DB
	shared bool

	mu                             sync.Mutex
	dueReads, claims, releases     int // claims and releases of replies' leases (keys "outbox:…")
	dueIDReads                     int // DueOutboxIDs calls
	attempts, attemptBatches, many int // AttemptOutbox calls; AttemptOutboxBatch calls and their replies

	// beforeBatch runs before each AttemptOutboxBatch: what changed in the store meanwhile.
	beforeBatch func(ids []int64)
}

func (c *counting) SoleProcess() bool { return !c.shared }

func (c *counting) DueOutbox(ctx context.Context, now time.Time, limit int) ([]engine.Outbound, error) {
	c.mu.Lock()
	c.dueReads++
	c.mu.Unlock()
	return c.DB.DueOutbox(ctx, now, limit)
}

// DueOutboxIDs lists the due replies' ids, as a store several processes share does
// (store/mongo).
func (c *counting) DueOutboxIDs(ctx context.Context, now time.Time, limit int) ([]int64, error) {
	c.mu.Lock()
	c.dueIDReads++
	c.mu.Unlock()
	due, err := c.DB.DueOutbox(ctx, now, limit)
	ids := make([]int64, len(due))
	for i, o := range due {
		ids[i] = o.ID
	}
	return ids, err
}

func outboxKeys(keys []string) int {
	n := 0
	for _, k := range keys {
		if strings.HasPrefix(k, "outbox:") {
			n++
		}
	}
	return n
}

func (c *counting) Claim(ctx context.Context, owner string, keys []string, now, until time.Time) ([]string, error) {
	c.mu.Lock()
	c.claims += outboxKeys(keys)
	c.mu.Unlock()
	return c.DB.Claim(ctx, owner, keys, now, until)
}

func (c *counting) Release(ctx context.Context, owner string, keys []string) error {
	c.mu.Lock()
	c.releases += outboxKeys(keys)
	c.mu.Unlock()
	return c.DB.Release(ctx, owner, keys)
}

func (c *counting) AttemptOutbox(ctx context.Context, id int64, owner string, at time.Time) error {
	c.mu.Lock()
	c.attempts++
	c.mu.Unlock()
	return c.DB.AttemptOutbox(ctx, id, owner, at)
}

func (c *counting) AttemptOutboxBatch(ctx context.Context, ids []int64, owner string, at time.Time) ([]error, error) {
	c.mu.Lock()
	c.attemptBatches++
	c.many += len(ids)
	c.mu.Unlock()
	if c.beforeBatch != nil {
		c.beforeBatch(ids)
	}
	return c.DB.AttemptOutboxBatch(ctx, ids, owner, at)
}

// threeRepliesDue is a campaign of one step whose three players each have a reply due.
func threeRepliesDue(t *testing.T) (*env, []string) {
	t.Helper()
	d := def("one").state("chat", "", onText("", "Yes.")).build()
	h := newEnv(t, d)
	people := []string{"ann", "bob", "cy"}
	for _, who := range people {
		h.join("one", who)
	}
	for _, who := range people {
		h.receive("one", who, engine.Inbound{Kind: engine.KindText, Text: "go"})
	}
	processAll(h)
	h.clock.Advance(time.Minute)
	return h, people
}

// processAll applies every event pending.
func processAll(h *env) {
	h.t.Helper()
	for {
		n, err := h.eng.ProcessPending(h.ctx)
		if err != nil {
			h.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// calls is what the sender asked of the store.
type calls struct {
	DueReads, DueIDReads, Claims, Releases, Attempts, AttemptBatches, BatchedReplies int
}

func (c *counting) calls() calls {
	c.mu.Lock()
	defer c.mu.Unlock()
	return calls{c.dueReads, c.dueIDReads, c.claims, c.releases, c.attempts, c.attemptBatches, c.many}
}

// TestSenderOnASoleProcessStore: on a store one process uses, a round of the sender reads the
// due replies once, takes no lease on them, and starts a recipient's sends only with one of
// SendConcurrency slots free, the attempts of the recipients starting together recorded in
// one write just before their sends (one starting alone records its own); a recipient's later replies record their own, each
// before its send. On a store several processes share, every reply is still claimed and
// released, and the replies are read in full once, under the leases: before, only their ids
// (on FerretDB a full read was three scans, the ids one).
func TestSenderOnASoleProcessStore(t *testing.T) {
	d := def("two").state("chat", "", onText("", "")).build()
	d.States["chat"].On[0].Say = says("One.", "Two.")
	people := []string{"ann", "bob", "cy", "dee"}
	for _, tc := range []struct {
		name   string
		shared bool
		want   calls
	}{
		// 4 recipients, 3 slots: three start together (one batch), the fourth alone (its own attempt).
		{"one process", false, calls{DueReads: 1, Attempts: len(people) + 1, AttemptBatches: 1, BatchedReplies: 3}},
		{"shared", true, calls{DueReads: 1, DueIDReads: 1, Claims: 2 * len(people), Releases: 2 * len(people), Attempts: 2 * len(people)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newEnv(t, d)
			for _, who := range people {
				h.join("two", who)
			}
			for _, who := range people {
				h.receive("two", who, engine.Inbound{Kind: engine.KindText, Text: "go"})
			}
			processAll(h)
			h.clock.Advance(time.Minute)

			store := &counting{DB: h.db, shared: tc.shared}
			cfg := h.cfg
			cfg.Store, cfg.SendConcurrency = store, 3
			eng := engine.New(cfg)
			sent := &recorder{}
			eng.Handle("test", sent)
			n, err := eng.SendDue(h.ctx)
			if err != nil || n != 2*len(people) {
				t.Fatalf("SendDue = %d, %v; want %d replies", n, err, 2*len(people))
			}
			if got := store.calls(); got != tc.want {
				t.Errorf("one round asked the store %+v, want %+v", got, tc.want)
			}
			// Each recipient's replies in order, each once, recorded sent with one attempt.
			for _, who := range people {
				var got []string
				for _, o := range sent.all() {
					if o.To == who {
						got = append(got, o.Text)
					}
				}
				wantTexts(t, got, "One.", "Two.")
				rows, err := h.db.Outbox(h.ctx, h.participant("two", who).ID)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range rows {
					if r.Status != engine.StatusSent || r.Attempts != 1 || r.InFlight || r.MaybeTwice {
						t.Errorf("%s's %q: %+v, want sent after one attempt", who, r.Text, r)
					}
				}
				lines, err := h.db.Transcript(h.ctx, h.participant("two", who).ID)
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, l := range lines {
					if l.Direction == engine.Out {
						out = append(out, l.Text)
					}
				}
				wantTexts(t, out, "One.", "Two.")
			}

			// A round with nothing due reads once and writes nothing.
			before := store.calls()
			if n, err := eng.SendDue(h.ctx); err != nil || n != 0 {
				t.Fatalf("second SendDue = %d, %v; want nothing to send", n, err)
			}
			after := store.calls()
			if tc.shared {
				before.DueIDReads++
			} else {
				before.DueReads++
			}
			if after != before {
				t.Errorf("a round with nothing due asked %+v, want %+v", after, before)
			}
		})
	}
}

// TestSoleProcessSendsInFlightAgainAtOnce: a process dies with one reply handed to the
// platform (its attempt recorded, no outcome) and the lease on another left behind (as a build
// that still leased replies would). Started again on the file under another name (a second
// start on the folder gets a random one), it has no lease to wait for: both replies go out in
// its first round, the one in flight marked maybe sent twice, the other once.
func TestSoleProcessSendsInFlightAgainAtOnce(t *testing.T) {
	h := newEnv(t, bouncer(t)...)
	ctx := h.ctx
	for _, who := range []string{"ann", "bob"} {
		h.receive("bouncer", who, engine.Inbound{Kind: engine.KindJoin})
	}
	processAll(h)
	h.clock.Advance(time.Minute)
	due, err := h.db.DueOutbox(ctx, h.clock.Now(), 0)
	if err != nil || len(due) < 2 {
		t.Fatalf("due = %d replies, %v; want at least 2", len(due), err)
	}
	now := h.clock.Now()
	if err := h.db.AttemptOutbox(ctx, due[0].ID, "node-1", now); err != nil {
		t.Fatal(err)
	}
	if _, err := h.db.Claim(ctx, "node-1", []string{"outbox:" + strconv.FormatInt(due[1].ID, 10)}, now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	h.db.Close()

	db, err := sqlite.Open(ctx, h.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h.clock.Advance(time.Second)
	obs := &crashObserver{}
	sent := &recorder{}
	eng := engine.New(engine.Config{Store: db, Campaigns: bouncer(t), Now: h.clock.Now, Rand: rand.New(rand.NewPCG(1, 2)), Owner: "node-2", Observer: obs})
	eng.Handle("test", sent)
	eng.TakeBack(ctx)
	if _, err := eng.SendDue(ctx); err != nil {
		t.Fatal(err)
	}
	got := map[int64]int{}
	for _, s := range sent.sent {
		got[s.ID]++
	}
	if got[due[0].ID] != 1 || got[due[1].ID] != 1 || obs.twices != 1 {
		t.Errorf("first round after the restart sent the reply in flight %d times and the leased one %d times, %d maybe twice; want 1, 1, 1",
			got[due[0].ID], got[due[1].ID], obs.twices)
	}
	for _, d := range due[:2] {
		rows, err := db.Outbox(ctx, d.ParticipantID)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			switch {
			case r.ID == due[0].ID && (r.Status != engine.StatusSent || !r.MaybeTwice || r.Attempts != 2 || r.InFlight):
				t.Errorf("the reply in flight at the kill: %+v, want sent, maybe twice, 2 attempts", r)
			case r.ID == due[1].ID && (r.Status != engine.StatusSent || r.MaybeTwice || r.Attempts != 1):
				t.Errorf("the reply leased, not attempted: %+v, want sent once, 1 attempt", r)
			}
		}
	}
}

// cancelling is a Sender that shuts the engine down (cancels its context) during its first
// send, as a SIGTERM in the middle of a round does.
type cancelling struct {
	cancel context.CancelFunc
	once   sync.Once
	rec    recorder
}

func (c *cancelling) Send(ctx context.Context, out engine.Outbound) (string, error) {
	first := false
	c.once.Do(func() { first = true })
	if first {
		c.cancel()
		return "", ctx.Err()
	}
	return c.rec.Send(ctx, out)
}

// TestRoundStoppedLeavesInFlightOnlyWhatItSent: the round stops (a shutdown) during its first
// send. A recipient is attempted only with a send slot free (one here), so the replies
// after the first were never attempted: pending, not in flight, and the next start sends them once
// without counting them as possible duplicates. The one whose send was cut off stays in
// flight: the platform may have it.
func TestRoundStoppedLeavesInFlightOnlyWhatItSent(t *testing.T) {
	h, people := threeRepliesDue(t)
	store := &counting{DB: h.db}
	ctx, cancel := context.WithCancel(h.ctx)
	defer cancel()
	cfg := h.cfg
	cfg.Store, cfg.SendConcurrency, cfg.Owner = store, 1, "node-1"
	eng := engine.New(cfg)
	snd := &cancelling{cancel: cancel}
	eng.Handle("test", snd)
	if _, err := eng.SendDue(ctx); err == nil {
		t.Fatal("SendDue cut off by the shutdown returned no error")
	}
	if got := store.calls(); got.Attempts != 1 || got.AttemptBatches != 0 {
		t.Fatalf("the round asked %+v, want the first send's one attempt only", got)
	}
	inFlight := 0
	for _, who := range people {
		rows, err := h.db.Outbox(h.ctx, h.participant("one", who).ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.Text != "Yes." {
				continue
			}
			if r.Status != engine.StatusPending {
				t.Errorf("%s's reply: %+v, want pending", who, r)
			}
			if r.InFlight {
				inFlight++
			} else if r.Attempts != 0 {
				t.Errorf("%s's reply attempted and not in flight: %+v", who, r)
			}
		}
	}
	if inFlight != 1 {
		t.Errorf("%d replies in flight after the shutdown, want the 1 whose send was cut off", inFlight)
	}

	obs := &crashObserver{}
	cfg.Observer = obs
	again := engine.New(cfg)
	sent := &recorder{}
	again.Handle("test", sent)
	again.TakeBack(h.ctx)
	if _, err := again.SendDue(h.ctx); err != nil {
		t.Fatal(err)
	}
	if len(sent.all()) != len(people) || obs.inFlight != 1 || obs.twices != 1 {
		t.Errorf("after the restart: %d sent, %d in flight taken back, %d maybe twice; want 3, 1, 1", len(sent.all()), obs.inFlight, obs.twices)
	}
}

// TestReplyFinishedBeforeItsBatchedAttemptIsNotSent: a reply read as due and finished
// elsewhere before the round records its attempt (cancelled: the participant opted out) is
// refused by the batch of attempts and not sent; the round's other replies go out.
func TestReplyFinishedBeforeItsBatchedAttemptIsNotSent(t *testing.T) {
	h, people := threeRepliesDue(t)
	store := &counting{DB: h.db}
	var cancelled int64
	store.beforeBatch = func(ids []int64) {
		cancelled = ids[1]
		if err := h.db.MarkCancelled(h.ctx, cancelled, engine.NotSentOptedOut, h.clock.Now()); err != nil {
			t.Error(err)
		}
	}
	cfg := h.cfg
	cfg.Store, cfg.SendConcurrency = store, len(people) // all start together
	eng := engine.New(cfg)
	sent := &recorder{}
	eng.Handle("test", sent)
	if _, err := eng.SendDue(h.ctx); err != nil {
		t.Fatal(err)
	}
	if got := store.calls(); got.AttemptBatches != 1 || got.BatchedReplies != len(people) {
		t.Fatalf("the round asked %+v, want the 3 attempts in one batch", got)
	}
	if len(sent.all()) != len(people)-1 {
		t.Errorf("%d replies sent, want %d", len(sent.all()), len(people)-1)
	}
	for _, o := range sent.all() {
		if o.ID == cancelled {
			t.Errorf("the reply cancelled before its attempt was sent: %+v", o)
		}
	}
}
