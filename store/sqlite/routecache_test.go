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
	ann := engine.Participant{ID: "p-ann", Channel: "whatsapp", Address: "316", State: "start"}
	c.committed([]engine.Participant{ann})
	ann.State = "door"
	c.committed([]engine.Participant{ann})
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
	if n := len(c.pending); n > maxRouteEntries {
		t.Fatalf("%d reads pending, want at most %d", n, maxRouteEntries)
	}
}
