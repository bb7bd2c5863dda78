package mongo_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/chatcampaigns/campaign/accounts"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/store/mongo"
	"github.com/chatcampaigns/campaign/store/mongo/mongotest"
	"github.com/chatcampaigns/campaign/store/storetest"
)

// client is shared by every test: one server per test binary, a fresh database per test.
var (
	client *mongodrv.Client
	dbs    atomic.Int64
	// testURI is the server's address, for a test that needs a client of its own.
	testURI string
)

// TestMain starts FerretDB in-process (SQLite handler, temporary directory) unless
// CAMPAIGN_TEST_MONGODB_URI names a server to use instead.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	uri, stop, err := mongotest.Start(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stop()
	testURI = uri
	client, err = mongodrv.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		fmt.Fprintln(os.Stderr, "connect:", err)
		return 1
	}
	defer client.Disconnect(context.Background())
	return m.Run()
}

// MustOpen returns a store on a database no other test uses, dropped when the test ends.
func MustOpen(tb testing.TB) *mongo.DB {
	tb.Helper()
	name := fmt.Sprintf("campaign_test_%d_%d", os.Getpid(), dbs.Add(1))
	db, err := mongo.New(context.Background(), client, name)
	if err != nil {
		tb.Fatalf("New(%s): %v", name, err)
	}
	tb.Cleanup(func() { client.Database(name).Drop(context.Background()) })
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return MustOpen(t) })
}

// TestSharedConformance gives the suite two handles on one database, as two processes have.
func TestSharedConformance(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) (storetest.Store, storetest.Store) {
		a := MustOpen(t)
		b, err := mongo.New(t.Context(), client, a.Name())
		if err != nil {
			t.Fatalf("second handle: %v", err)
		}
		return a, b
	})
}

func TestOpen(t *testing.T) {
	if _, err := mongo.Open(t.Context(), "", "x"); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("Open without a URI: err = %v, want ErrInvalid", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	if _, err := mongo.Open(ctx, "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200", "x"); err == nil {
		t.Error("Open of a server that is not there: err = nil")
	}
}

var t0 = time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)

// TestFiltersAreData checks that strings from the web (a participant id in a URL, a username
// in a login form) are only ever compared as values: operator-shaped input finds nothing, and
// stored operator-shaped names and variables come back as they went in.
func TestFiltersAreData(t *testing.T) {
	db := MustOpen(t)
	ctx := t.Context()
	u, err := db.CreateUser(ctx, accounts.User{Username: "alice", Role: accounts.RoleAdmin, PasswordHash: []byte("h"), CreatedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateSession(ctx, "token-hash", u.ID, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	p := engine.Participant{ID: "p1", Campaign: "c", Channel: "webchat", Address: "a", State: "s",
		Vars: map[string]string{"$where": "1", "a.b": "{\"$ne\": \"\"}"}, Version: 1, CreatedAt: t0, UpdatedAt: t0}
	if err := db.Commit(ctx, engine.Step{Participant: p, Created: true,
		Entries: []engine.Entry{{ID: "e1", Campaign: "c", Kind: "photo", CreatedAt: t0}}}); err != nil {
		t.Fatal(err)
	}
	hostile := []string{`{"$ne": ""}`, `{"$gt": ""}`, "$where", "$ne", `{"$where": "true"}`, "", ".*", "a.b"}
	for _, s := range hostile {
		t.Run(s, func(t *testing.T) {
			if _, err := db.Participant(ctx, s); !errors.Is(err, errs.ErrNotFound) {
				t.Errorf("Participant(%q): err = %v, want ErrNotFound", s, err)
			}
			if _, err := db.UserByName(ctx, s); !errors.Is(err, errs.ErrNotFound) {
				t.Errorf("UserByName(%q): err = %v, want ErrNotFound", s, err)
			}
			if _, err := db.SessionUser(ctx, s, t0); !errors.Is(err, errs.ErrNotFound) {
				t.Errorf("SessionUser(%q): err = %v, want ErrNotFound", s, err)
			}
			if _, err := db.Entry(ctx, s); !errors.Is(err, errs.ErrNotFound) {
				t.Errorf("Entry(%q): err = %v, want ErrNotFound", s, err)
			}
			if ps, err := db.ParticipantsAt(ctx, "webchat", s); err != nil || len(ps) != 0 {
				t.Errorf("ParticipantsAt(%q) = %v, %v; want nothing", s, ps, err)
			}
			if lines, err := db.Transcript(ctx, s); err != nil || len(lines) != 0 {
				t.Errorf("Transcript(%q) = %v, %v; want nothing", s, lines, err)
			}
			// The same strings stored as values come back unchanged.
			name := "user " + s
			if _, err := db.CreateUser(ctx, accounts.User{Username: name, Role: accounts.RoleJudge, CreatedAt: t0}); err != nil {
				t.Fatalf("CreateUser(%q): %v", name, err)
			}
			if got, err := db.UserByName(ctx, name); err != nil || got.Username != name {
				t.Errorf("UserByName(%q) = %+v, %v", name, got, err)
			}
		})
	}
	got, err := db.Participant(ctx, "p1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Vars["$where"] != "1" || got.Vars["a.b"] != `{"$ne": ""}` {
		t.Errorf("Vars = %v, want the operator-shaped names and values back", got.Vars)
	}
}

func join(t *testing.T, db *mongo.DB, from string) (engine.Participant, int64) {
	t.Helper()
	in := engine.Inbound{Channel: "webchat", PlatformID: "join-" + from, Campaign: "c", From: from,
		ParticipantID: engine.ParticipantID("c", "webchat", from), Kind: engine.KindJoin, At: t0}
	id, _, err := db.SaveInbound(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	return engine.Participant{ID: in.ParticipantID, Campaign: "c", Channel: "webchat", Address: from,
		State: "start", Vars: map[string]string{}, Version: 1, CreatedAt: t0, UpdatedAt: t0}, id
}

// TestCrashAfterSwapIsFinished leaves a step committed but its effects unwritten, as a process
// dying right after the participant's compare-and-swap would, and checks that the next reader
// of the participant, or Recover, writes them exactly once and consumes the event.
func TestCrashAfterSwapIsFinished(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reach func(t *testing.T, db *mongo.DB, p engine.Participant)
	}{
		{"ByNextReader", func(t *testing.T, db *mongo.DB, p engine.Participant) {
			if _, err := db.Participant(t.Context(), p.ID); err != nil {
				t.Fatal(err)
			}
		}},
		{"ByRecover", func(t *testing.T, db *mongo.DB, p engine.Participant) {
			if err := db.Recover(t.Context()); err != nil {
				t.Fatal(err)
			}
		}},
		{"ByReplayedEvent", func(t *testing.T, db *mongo.DB, p engine.Participant) {
			// The event is still pending, so a worker applies it again from the version it
			// sees; the store finishes the first step and refuses the replay.
			pending, err := db.PendingInbound(t.Context(), 0)
			if err != nil || len(pending) != 1 {
				t.Fatalf("pending = %v, %v; want the event", pending, err)
			}
			replay := p
			replay.Version++
			err = db.Commit(t.Context(), engine.Step{InboundID: pending[0].ID, Participant: replay, PrevVersion: p.Version,
				Outbox: []engine.Outbound{{ParticipantID: p.ID, Campaign: "c", Channel: "webchat", To: p.Address, Text: "again", DueAt: t0}}})
			if !errors.Is(err, errs.ErrConflict) {
				t.Fatalf("replay: err = %v, want ErrConflict", err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := MustOpen(t)
			ctx := t.Context()
			p, id := join(t, db, "u1")
			err := db.CommitAndCrash(ctx, engine.Step{InboundID: id, Participant: p, Created: true,
				Lines:         []engine.Line{{Direction: engine.In, Text: "hi", At: t0}},
				Outbox:        []engine.Outbound{{ParticipantID: p.ID, Campaign: "c", Channel: "webchat", To: p.Address, Text: "Welcome", DueAt: t0}},
				Timers:        []engine.Timer{{Key: "t1", Campaign: "c", Transition: "x", DueAt: t0}},
				Notifications: []engine.Notification{{Campaign: "c", Text: "new", At: t0}},
				Codes:         []string{"CODE01"},
				Places:        []engine.Place{{Campaign: "c", Pool: "guests", Capacity: 1}},
			})
			if err != nil {
				t.Fatal(err)
			}
			if due, _ := db.DueOutbox(ctx, t0, 0); len(due) != 0 {
				t.Fatalf("before recovery: due = %+v, want nothing written yet", due)
			}
			tc.reach(t, db, p)
			for range 2 { // finishing again changes nothing
				if err := db.Recover(ctx); err != nil {
					t.Fatal(err)
				}
			}
			due, err := db.DueOutbox(ctx, t0, 0)
			if err != nil || len(due) != 1 || due[0].Text != "Welcome" {
				t.Errorf("due = %+v, %v; want the welcome once", due, err)
			}
			lines, err := db.Transcript(ctx, p.ID)
			if err != nil || len(lines) != 1 {
				t.Errorf("transcript = %+v, %v; want one line", lines, err)
			}
			timers, err := db.DueTimers(ctx, t0, 0)
			if err != nil || len(timers) != 1 {
				t.Errorf("timers = %+v, %v; want one", timers, err)
			}
			notes, err := db.Notifications(ctx, "c", 0)
			if err != nil || len(notes) != 1 {
				t.Errorf("notifications = %+v, %v; want one", notes, err)
			}
			if pending, _ := db.PendingInbound(ctx, 0); len(pending) != 0 {
				t.Errorf("pending = %+v, want the event consumed", pending)
			}
			if n, _ := db.PoolTaken(ctx, "c", "guests"); n != 1 {
				t.Errorf("places taken = %d, want 1", n)
			}
			q, _ := join(t, db, "u2")
			err = db.Commit(ctx, engine.Step{Participant: q, Created: true, Codes: []string{"CODE01"}})
			if !errors.Is(err, engine.ErrCodeTaken) {
				t.Errorf("reissuing the crashed step's code: err = %v, want ErrCodeTaken", err)
			}
		})
	}
}

// TestConcurrentCommitsOneWinner races steps from the same version of one participant: exactly
// one may commit. It needs a real MongoDB (CAMPAIGN_TEST_MONGODB_URI): FerretDB v1 evaluates an
// update's filter and writes the document in two steps, so it can let two swaps through.
func TestConcurrentCommitsOneWinner(t *testing.T) {
	if os.Getenv("CAMPAIGN_TEST_MONGODB_URI") == "" {
		t.Skip("needs a MongoDB server (CAMPAIGN_TEST_MONGODB_URI); FerretDB v1 updates are not atomic")
	}
	db := MustOpen(t)
	ctx := t.Context()
	p, id := join(t, db, "u1")
	if err := db.Commit(ctx, engine.Step{InboundID: id, Participant: p, Created: true}); err != nil {
		t.Fatal(err)
	}
	const racers = 8
	var wg sync.WaitGroup
	var won, lost atomic.Int64
	for i := range racers {
		wg.Go(func() {
			next := p
			next.Version++
			next.State = fmt.Sprintf("s%d", i)
			err := db.Commit(ctx, engine.Step{Participant: next, PrevVersion: p.Version,
				Outbox: []engine.Outbound{{ParticipantID: p.ID, Campaign: "c", Channel: "webchat", To: p.Address, Text: next.State, DueAt: t0}}})
			switch {
			case err == nil:
				won.Add(1)
			case errors.Is(err, errs.ErrConflict):
				lost.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if won.Load() != 1 || lost.Load() != racers-1 {
		t.Fatalf("won %d, lost %d; want 1 and %d", won.Load(), lost.Load(), racers-1)
	}
	due, err := db.DueOutbox(ctx, t0, 0)
	if err != nil || len(due) != 1 {
		t.Errorf("due = %+v, %v; want only the winner's reply", due, err)
	}
}

// Broadcasts read and write number health and marketing preferences through these.
var _ storetest.NumberStore = (*mongo.DB)(nil)
