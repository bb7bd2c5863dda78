package sqlite

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/engine"
)

// TestRouteCacheTickets checks when a read that missed may store what it read: only if no
// commit touched its address in between, whatever else committed.
func TestRouteCacheTickets(t *testing.T) {
	ann := engine.Participant{ID: "p-ann", Channel: "whatsapp", Address: "316"}
	bob := engine.Participant{ID: "p-bob", Channel: "whatsapp", Address: "317"}
	read := []engine.Participant{{ID: "p-ann-old", Channel: "whatsapp", Address: "316"}}
	tests := []struct {
		name string
		// between runs after ann's address missed (with its ticket) and before the read is put.
		between func(c *routeCache, ticket uint64)
		stored  bool
	}{
		{"nothing committed", func(*routeCache, uint64) {}, true},
		{"another address committed", func(c *routeCache, _ uint64) { c.committed([]engine.Participant{bob}) }, true},
		{"this address committed", func(c *routeCache, _ uint64) { c.committed([]engine.Participant{ann}) }, false},
		{"a newer miss of this address", func(c *routeCache, _ uint64) { c.get("whatsapp", "316") }, false},
		{"the ticket given back", func(c *routeCache, ticket uint64) { c.drop("whatsapp", "316", ticket) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newRouteCache()
			_, ok, ticket := c.get("whatsapp", "316")
			if ok {
				t.Fatal("an empty cache had an entry")
			}
			tt.between(c, ticket)
			c.put("whatsapp", "316", read, ticket)
			_, ok, _ = c.get("whatsapp", "316")
			if ok != tt.stored {
				t.Fatalf("stored = %v, want %v", ok, tt.stored)
			}
		})
	}
}

// TestRouteCacheFollowsCommits checks that a known address's entry takes in what commits.
func TestRouteCacheFollowsCommits(t *testing.T) {
	c := newRouteCache()
	_, _, ticket := c.get("whatsapp", "316")
	c.put("whatsapp", "316", nil, ticket)
	ann := engine.Participant{ID: "p-ann", Channel: "whatsapp", Address: "316", State: "start", Version: 1}
	c.committed([]engine.Participant{ann})
	ann.State, ann.Version = "door", 2
	c.committed([]engine.Participant{ann})
	old := ann
	old.State, old.Version = "start", 1
	c.committed([]engine.Participant{old}) // reported late: changes nothing
	got, ok, _ := c.get("whatsapp", "316")
	if !ok || len(got) != 1 || got[0].State != "door" {
		t.Fatalf("entry %+v (known %v), want ann at the door", got, ok)
	}
	// The copy handed out is the caller's own.
	got[0].Vars["x"] = "y"
	again, _, _ := c.get("whatsapp", "316")
	if len(again[0].Vars) != 0 {
		t.Fatalf("a caller's change reached the cache: %v", again[0].Vars)
	}
}

// TestRouteCacheOrder checks an address with several participants (one per campaign): the
// entry gives them most recently updated first and the newest first among equals, as the
// table's ORDER BY updated_at DESC, rowid DESC does, as commits move them.
func TestRouteCacheOrder(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 20, 0, 0, 0, time.UTC)
	at := func(id string, version int64, updated time.Time) engine.Participant {
		return engine.Participant{ID: id, Channel: "whatsapp", Address: "316", Version: version, UpdatedAt: updated}
	}
	c := newRouteCache()
	_, _, ticket := c.get("whatsapp", "316")
	c.put("whatsapp", "316", []engine.Participant{at("a", 1, t0.Add(time.Second)), at("b", 1, t0)}, ticket)
	order := func() string {
		t.Helper()
		ps, ok, _ := c.get("whatsapp", "316")
		if !ok {
			t.Fatal("the address is not kept")
		}
		var ids []string
		for _, p := range ps {
			ids = append(ids, p.ID)
		}
		return strings.Join(ids, ",")
	}
	steps := []struct {
		commit engine.Participant
		want   string
	}{
		{at("b", 2, t0.Add(2*time.Second)), "b,a"},
		{at("a", 2, t0.Add(3*time.Second)), "a,b"},
		{at("c", 1, t0.Add(3*time.Second)), "c,a,b"}, // new, and as recent as a
		{at("b", 1, t0), "c,a,b"},                    // an old version reported late
	}
	for _, s := range steps {
		c.committed([]engine.Participant{s.commit})
		if got := order(); got != s.want {
			t.Fatalf("after %s v%d: %s, want %s", s.commit.ID, s.commit.Version, got, s.want)
		}
	}
	// A participant dropped by id (to make room) makes its address a miss, not a shorter
	// list: the next read goes to the table.
	delete(c.byID, "a")
	if ps, ok, _ := c.get("whatsapp", "316"); ok {
		t.Fatalf("the address gave %d participants with one of them dropped", len(ps))
	}
}

// TestRouteCachePendingBounded checks that reads which never came back do not pile up.
func TestRouteCachePendingBounded(t *testing.T) {
	c := newRouteCache()
	for i := range maxRouteEntries + 10 {
		c.get("whatsapp", strconv.Itoa(i))
	}
	if n := len(c.routes.pending); n > maxRouteEntries {
		t.Fatalf("%d reads pending, want at most %d", n, maxRouteEntries)
	}
}

// TestParticipantCache checks the cache by id: a read (by id or by address) stores what it
// found unless the participant committed meanwhile, a commit is kept even for a participant
// never read, an older commit never replaces a newer one, and a refused write makes the next
// read go to the table.
func TestParticipantCache(t *testing.T) {
	at := func(state string, version int64) engine.Participant {
		return engine.Participant{ID: "p-ann", Channel: "whatsapp", Address: "316", State: state, Version: version}
	}
	tests := []struct {
		name  string
		run   func(c *routeCache)
		state string // "" when nothing is kept
	}{
		{"read", func(c *routeCache) {
			_, _, ticket := c.participant("p-ann")
			c.putParticipant(at("start", 1), ticket)
		}, "start"},
		{"read while it committed", func(c *routeCache) {
			_, _, ticket := c.participant("p-ann")
			c.committed([]engine.Participant{at("door", 2)})
			c.putParticipant(at("start", 1), ticket)
		}, "door"},
		{"read that failed", func(c *routeCache) {
			_, _, ticket := c.participant("p-ann")
			c.dropParticipant("p-ann", ticket)
			c.putParticipant(at("start", 1), ticket)
		}, ""},
		{"read by its address", func(c *routeCache) {
			_, _, ticket := c.get("whatsapp", "316")
			c.put("whatsapp", "316", []engine.Participant{at("start", 1)}, ticket)
		}, "start"},
		{"read by its address while it committed", func(c *routeCache) {
			_, _, ticket := c.get("whatsapp", "316")
			c.committed([]engine.Participant{at("door", 2)})
			c.put("whatsapp", "316", []engine.Participant{at("start", 1)}, ticket)
		}, "door"},
		{"read by its address, then by id, then committed", func(c *routeCache) {
			_, _, ticket := c.participant("p-ann")
			_, _, route := c.get("whatsapp", "316")
			c.put("whatsapp", "316", []engine.Participant{at("start", 1)}, route)
			c.committed([]engine.Participant{at("door", 2)})
			c.putParticipant(at("start", 1), ticket) // the read by id came back late
		}, "door"},
		{"read by its address while a write was refused", func(c *routeCache) {
			_, _, ticket := c.get("whatsapp", "316")
			c.forget(at("", 0))
			c.put("whatsapp", "316", []engine.Participant{at("start", 1)}, ticket)
		}, ""},
		{"committed, never read", func(c *routeCache) {
			c.committed([]engine.Participant{at("start", 1)})
		}, "start"},
		{"commits reported out of order", func(c *routeCache) {
			c.committed([]engine.Participant{at("door", 2)})
			c.committed([]engine.Participant{at("start", 1)})
		}, "door"},
		{"a write refused", func(c *routeCache) {
			_, _, ticket := c.get("whatsapp", "316") // ann's address is known too
			c.put("whatsapp", "316", nil, ticket)
			c.committed([]engine.Participant{at("start", 1)})
			c.forget(at("", 0))
		}, ""},
		{"a write refused while a read was under way", func(c *routeCache) {
			_, _, ticket := c.participant("p-ann")
			c.forget(at("", 0))
			c.putParticipant(at("start", 1), ticket)
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newRouteCache()
			tt.run(c)
			got, ok, _ := c.participant("p-ann")
			if _, routed, _ := c.get("whatsapp", "316"); routed && tt.state == "" {
				t.Fatal("ann's address is still kept")
			}
			if !ok && tt.state != "" {
				t.Fatalf("nothing kept, want ann in %q", tt.state)
			}
			if ok && got.State != tt.state {
				t.Fatalf("kept ann in %q, want %q", got.State, tt.state)
			}
		})
	}
}
