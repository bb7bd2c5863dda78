package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/engine"
)

// create commits new participants, several at a time as the writer groups them.
func create(t *testing.T, db *DB, ps ...engine.Participant) {
	t.Helper()
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Go(func() {
			if err := db.Commit(t.Context(), engine.Step{Participant: p, Created: true}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// inCampaign is a new participant on the web chat, last active at updated.
func inCampaign(campaign, from string, updated time.Time) engine.Participant {
	return engine.Participant{
		ID: engine.ParticipantID(campaign, "webchat", from), Campaign: campaign, Channel: "webchat",
		Address: from, State: "start", Vars: map[string]string{}, Version: 1, CreatedAt: t0, UpdatedAt: updated,
	}
}

// reopen closes db and opens its file again without filling the route cache, so that a test
// can set warmHook first.
func reopen(t *testing.T, db *DB, path string) *DB {
	t.Helper()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := open(t.Context(), path, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestWarmAfterRestart: after a restart the route cache holds every address that was active,
// each with all its participants in ParticipantsAt's order, over more than one batch.
func TestWarmAfterRestart(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "campaign.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	// Ann plays two campaigns from one address, the newer step in "c"; Tom two whose last
	// steps came at the same time (the newer row first).
	ps := []engine.Participant{inCampaign("c", "ann", t0.Add(2*time.Minute)), inCampaign("d", "ann", t0.Add(time.Minute)),
		inCampaign("c", "tom", t0), inCampaign("d", "tom", t0)}
	for i := range warmBatch + 10 {
		ps = append(ps, inCampaign("c", fmt.Sprint("p", i), t0.Add(time.Duration(i)*time.Second)))
	}
	create(t, db, ps...)
	db = reopen(t, db, path)
	db.startWarm()
	n, err := db.Warmed(ctx)
	if err != nil || n != warmBatch+12 {
		t.Fatalf("warmed %d addresses (%v), want %d", n, err, warmBatch+12)
	}
	for _, from := range []string{"ann", "tom", "p0", fmt.Sprint("p", warmBatch+9)} {
		want, err := db.participants(ctx, `WHERE channel = ? AND address = ? ORDER BY updated_at DESC, rowid DESC`, "webchat", from)
		if err != nil {
			t.Fatal(err)
		}
		got, ok, _ := db.routes.get("webchat", from)
		if !ok {
			t.Fatalf("%s's address is not kept", from)
		}
		ids := func(ps []engine.Participant) []string {
			var out []string
			for _, p := range ps {
				out = append(out, fmt.Sprint(p.ID, "@", p.Version, "/", p.UpdatedAt.UnixNano()))
			}
			return out
		}
		if !slices.Equal(ids(got), ids(want)) || len(got) == 0 {
			t.Errorf("%s: kept %v, the table has %v", from, ids(got), ids(want))
		}
		for _, p := range want {
			if _, ok, _ := db.routes.participant(p.ID); !ok {
				t.Errorf("%s is not kept by id", p.ID)
			}
		}
	}
	if got, _, _ := db.routes.get("webchat", "ann"); len(got) != 2 || got[0].Campaign != "c" {
		t.Errorf("ann's participants %+v, want both, the newer (c) first", got)
	}
}

// TestWarmKeepsNothingACommitChanged: a participant that commits between the warm read and
// its keeping is not kept as read, so the next route reads the table and finds the commit.
// Others of the same batch are kept.
func TestWarmKeepsNothingACommitChanged(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "campaign.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ann, bob := inCampaign("c", "ann", t0), inCampaign("c", "bob", t0)
	create(t, db, ann, bob)
	db = reopen(t, db, path)
	var once sync.Once
	db.warmHook = func() {
		once.Do(func() {
			// Between the read and the keeping, ann takes a step, through the writer as
			// a webhook's would: her cache entry (none yet) learns nothing of it.
			next := ann
			next.State, next.Version, next.UpdatedAt = "door", 2, t0.Add(time.Minute)
			if err := db.Commit(ctx, engine.Step{Participant: next, PrevVersion: 1}); err != nil {
				t.Error(err)
			}
		})
	}
	db.startWarm()
	if n, err := db.Warmed(ctx); err != nil || n != 1 {
		t.Fatalf("warmed %d addresses (%v), want 1 (bob)", n, err)
	}
	if _, ok, _ := db.routes.get("webchat", "bob"); !ok {
		t.Error("bob, whom nothing changed, is not kept")
	}
	got, err := db.ParticipantsAt(ctx, "webchat", "ann")
	if err != nil || len(got) != 1 || got[0].State != "door" || got[0].Version != 2 {
		t.Fatalf("ann routes to %+v (%v), want her step at the door", got, err)
	}
}

// TestWarmEmptyAndClosed: a fresh file has nothing to keep; a store closed while it fills
// stops and says so (campaign serve logs nothing then).
func TestWarmEmptyAndClosed(t *testing.T) {
	ctx := t.Context()
	db := openTest(t)
	if n, err := db.Warmed(ctx); err != nil || n != 0 {
		t.Fatalf("an empty store warmed %d (%v)", n, err)
	}

	path := filepath.Join(t.TempDir(), "campaign.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	create(t, db, inCampaign("c", "ann", t0), inCampaign("c", "bob", t0))
	db = reopen(t, db, path)
	// What Close does first, while a batch is being read.
	db.warmHook = func() { db.warmStop() }
	db.startWarm()
	if _, err := db.Warmed(context.Background()); !errors.Is(err, context.Canceled) {
		t.Fatalf("closed while filling: %v, want context.Canceled", err)
	}
}
