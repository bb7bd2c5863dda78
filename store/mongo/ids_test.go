package mongo_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/event"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

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

func (c *commandCounter) get(k string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[k]
}

// countedStore opens a fresh database on a client of its own whose commands are counted.
func countedStore(t *testing.T) (*mongo.DB, *commandCounter) {
	t.Helper()
	cc := &commandCounter{n: map[string]int{}}
	uri := os.Getenv("CAMPAIGN_TEST_MONGODB_URI")
	if uri == "" {
		uri = testURI
	}
	cl, err := mongodrv.Connect(options.Client().ApplyURI(uri).SetMonitor(&event.CommandMonitor{Started: cc.started}))
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
