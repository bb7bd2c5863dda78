package sqlite

import (
	"strconv"
	"testing"

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
