package mongo_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/event"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/store/mongo"
)

// commandCounter counts the commands a client sends, by command and collection ("insert
// claims", "findAndModify counters").
type commandCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *commandCounter) started(_ context.Context, e *event.CommandStartedEvent) {
	coll, _ := e.Command.Lookup(e.CommandName).StringValueOK()
	c.mu.Lock()
	c.n[e.CommandName+" "+coll]++
	c.mu.Unlock()
}

func (c *commandCounter) reset() {
	c.mu.Lock()
	c.n = map[string]int{}
	c.mu.Unlock()
}

func (c *commandCounter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.n {
		n += v
	}
	return n
}

func (c *commandCounter) get(k string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[k]
}

// countedStore opens a fresh database on a client of its own whose commands are counted.
func countedStore(t *testing.T) (*mongo.DB, *commandCounter) {
	t.Helper()
	cc := &commandCounter{n: map[string]int{}}
	cl, err := mongodrv.Connect(options.Client().ApplyURI(testURI).SetMonitor(&event.CommandMonitor{Started: cc.started}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Disconnect(context.Background()) })
	name := fmt.Sprintf("campaign_test_%d_%d", os.Getpid(), dbs.Add(1))
	db, err := mongo.New(t.Context(), cl, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Database(name).Drop(context.Background()) })
	cc.reset()
	return db, cc
}

// Ids asked for at once by many goroutines of one process are distinct and consecutive per
// call, and the process takes the counter's lease (FerretDB) once per increment: its callers
// wait for each other in memory instead of trying the lease again and again, which cost three
// round trips a try and, under load, most of FerretDB's writes (24 lease inserts a message
// at 20 messages/s, docs/performance.md, "MongoDB path (issue 12, fifth round)").
func TestIDsAtOnceTakeTheCounterOnce(t *testing.T) {
	db, cc := countedStore(t)
	const callers = 24
	type got struct{ first, n int64 }
	var (
		mu  sync.Mutex
		all []got
		wg  sync.WaitGroup
	)
	for i := range callers {
		n := i%3 + 1
		wg.Go(func() {
			first, err := db.NextIDs(t.Context(), n)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			all = append(all, got{first, int64(n)})
			mu.Unlock()
		})
	}
	wg.Wait()
	sort.Slice(all, func(i, j int) bool { return all[i].first < all[j].first })
	for i := 1; i < len(all); i++ {
		if all[i].first < all[i-1].first+all[i-1].n {
			t.Fatalf("ids overlap: %+v and %+v", all[i-1], all[i])
		}
	}
	incs, leases := cc.get("findAndModify counters"), cc.get("insert claims")
	t.Logf("%d callers: %d increments, %d lease inserts, %d lease deletes", callers, incs, leases, cc.get("delete claims"))
	if incs == 0 || incs > callers {
		t.Errorf("%d increments of the counter for %d callers", incs, callers)
	}
	if leases > incs {
		t.Errorf("%d lease inserts for %d increments: the process competed with itself for the counter", leases, incs)
	}
}

// DueOutboxIDs lists what DueOutbox lists, by id, in one read of the outbox (the sender's
// first read of a round on a shared store: engine.dueIDReader).
func TestDueOutboxIDsIsOneRead(t *testing.T) {
	db, cc := countedStore(t)
	ctx := t.Context()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	var out []engine.Outbound
	for i, due := range []time.Duration{-time.Minute, time.Hour, 0, -time.Second} {
		out = append(out, engine.Outbound{ParticipantID: fmt.Sprintf("p%d", i), Campaign: "c", Channel: "webchat",
			To: fmt.Sprintf("u%d", i), Text: "hi", DueAt: now.Add(due)})
	}
	if err := db.Enqueue(ctx, out); err != nil {
		t.Fatal(err)
	}
	full, err := db.DueOutbox(ctx, now, 2)
	if err != nil || len(full) != 2 {
		t.Fatalf("DueOutbox = %+v, %v; want two", full, err)
	}
	cc.reset()
	ids, err := db.DueOutboxIDs(ctx, now, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2 || ids[0] != full[0].ID || ids[1] != full[1].ID {
		t.Errorf("DueOutboxIDs = %v, want the ids of %+v", ids, full)
	}
	if n, all := cc.get("find outbox"), cc.total(); n != 1 || all != 1 {
		t.Errorf("DueOutboxIDs sent %d finds on the outbox and %d commands in all, want one", n, all)
	}
}

// Backlog, what the intake reads every second, is two counts; it agrees with QueueStats.
func TestBacklogIsTwoCounts(t *testing.T) {
	db, cc := countedStore(t)
	ctx := t.Context()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	if err := db.Enqueue(ctx, []engine.Outbound{
		{ParticipantID: "p1", Campaign: "c", Channel: "webchat", To: "u1", Text: "hi", DueAt: now.Add(-time.Second)},
		{ParticipantID: "p2", Campaign: "c", Channel: "webchat", To: "u2", Text: "hi", DueAt: now.Add(time.Hour)},
	}); err != nil {
		t.Fatal(err)
	}
	qs, err := db.QueueStats(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	cc.reset()
	events, due, err := db.Backlog(ctx, now)
	if err != nil || events != qs.Inbound || due != qs.OutboxDue || due != 1 {
		t.Errorf("Backlog = %d, %d, %v; want %d events and %d due (QueueStats %+v)", events, due, err, qs.Inbound, qs.OutboxDue, qs)
	}
	if n := cc.total(); n != 2 {
		t.Errorf("Backlog sent %d commands, want 2", n)
	}
}
