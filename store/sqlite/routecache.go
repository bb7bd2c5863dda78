package sqlite

import (
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/chatcampaigns/campaign/engine"
)

// maxRouteEntries bounds the addresses and the participants routeCache keeps (roughly 300
// bytes each with one participant); past it an arbitrary entry is dropped for each one added.
const maxRouteEntries = 1 << 17

// routeCache keeps participants in memory, by address for ParticipantsAt (every inbound
// webhook asks it, in Engine.Route) and by id for Participant (every event the worker applies
// starts with it). It is written through: every participant this DB commits is put into both
// after the transaction committed, so an entry is what the table holds for as long as this
// process is the only writer of participants (the multi-process deployments run on MongoDB).
//
// A read that missed stores what it read only when no commit touched its key meanwhile: such
// a commit, landing between the read and the store, would otherwise be hidden by older data.
// Each miss takes a ticket for its key; a commit there tears it up. (One ticket for every key
// refused most stores under load, where something commits every millisecond.)
type routeCache struct {
	mu      sync.Mutex
	routes  tickets[routeKey]
	ids     tickets[string]
	entries map[routeKey][]engine.Participant
	byID    map[string]engine.Participant
}

type routeKey struct{ channel, address string }

func newRouteCache() *routeCache {
	return &routeCache{entries: map[routeKey][]engine.Participant{}, byID: map[string]engine.Participant{}}
}

// get returns a copy of the entry for an address or, on a miss, the ticket to give put (or
// drop, when the read failed).
func (c *routeCache) get(channel, address string) (ps []engine.Participant, ok bool, ticket uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := routeKey{channel, address}
	if cached, ok := c.entries[k]; ok {
		return clone(cached), true, 0
	}
	return nil, false, c.routes.take(k)
}

// put stores what a read of an address found, by address and by id, unless a commit touched
// the address since get (or a later miss of the same address took a newer ticket).
func (c *routeCache) put(channel, address string, ps []engine.Participant, ticket uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := routeKey{channel, address}
	if c.routes.redeem(k, ticket) {
		// The entry outlives the call: its key must not share the caller's bytes, which may
		// be a request buffer the HTTP server reuses.
		k = routeKey{strings.Clone(channel), strings.Clone(address)}
		kept := clone(ps)
		evictOne(c.entries, k)
		c.entries[k] = kept
		// No commit touched these participants since the read began (it would have torn the
		// ticket), so they are current by id as well: the step that follows a route reads
		// none of them again (Participant). With most participants not kept (1,000,000
		// stored) that second read was a tenth of the server's CPU. Both maps hold the same
		// copy, as committed's do: nothing changes a kept participant in place.
		for _, p := range kept {
			c.keepByID(p)
		}
	}
}

// keepByID keeps p under its id unless a newer version of it is kept.
func (c *routeCache) keepByID(p engine.Participant) {
	if cur, ok := c.byID[p.ID]; !ok || cur.Version < p.Version {
		evictOne(c.byID, p.ID)
		c.byID[p.ID] = p
	}
}

// drop gives back the ticket of a read of an address that failed.
func (c *routeCache) drop(channel, address string, ticket uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.routes.redeem(routeKey{channel, address}, ticket)
}

// participant returns a copy of the participant with id or, on a miss, the ticket to give
// putParticipant (or dropParticipant).
func (c *routeCache) participant(id string) (p engine.Participant, ok bool, ticket uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.byID[id]; ok {
		return cloneParticipant(p), true, 0
	}
	return engine.Participant{}, false, c.ids.take(id)
}

// putParticipant stores what a read by id found, unless a commit touched it since.
func (c *routeCache) putParticipant(p engine.Participant, ticket uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ids.redeem(p.ID, ticket) {
		evictOne(c.byID, p.ID)
		c.byID[p.ID] = cloneParticipant(p)
	}
}

// dropParticipant gives back the ticket of a read by id that failed or found nobody.
func (c *routeCache) dropParticipant(id string, ticket uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ids.redeem(id, ticket)
}

// forget drops what is kept of a participant a write was refused for (a stale version, a
// participant created meanwhile), by id and at their address: the next reads go to the table.
func (c *routeCache) forget(p engine.Participant) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.byID, p.ID)
	c.ids.tear(p.ID)
	k := routeKey{p.Channel, p.Address}
	delete(c.entries, k)
	c.routes.tear(k)
}

// committed puts participants just committed into the entries of their addresses, in
// ParticipantsAt's order (most recently updated first, the newest row first among equals),
// and under their ids. A participant older than the one kept (two commits of one participant
// whose callers reach here in the other order) changes nothing.
func (c *routeCache) committed(ps []engine.Participant) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range ps {
		// As the table gives it back: times in UTC without a monotonic reading.
		p = cloneParticipant(p)
		p.CreatedAt = fromUnixNano(unixNano(p.CreatedAt))
		p.UpdatedAt = fromUnixNano(unixNano(p.UpdatedAt))
		p.LastInboundAt = fromUnixNano(unixNano(p.LastInboundAt))

		c.ids.tear(p.ID)
		c.keepByID(p)

		k := routeKey{p.Channel, p.Address}
		cur, ok := c.entries[k]
		if !ok {
			// Not known here: the next ParticipantsAt reads the table, and a read already
			// under way may have missed this commit.
			c.routes.tear(k)
			continue
		}
		if i := slices.IndexFunc(cur, func(q engine.Participant) bool { return q.ID == p.ID }); i < 0 {
			cur = append([]engine.Participant{p}, cur...)
		} else if cur[i].Version < p.Version {
			cur[i] = p
		}
		slices.SortStableFunc(cur, func(a, b engine.Participant) int { return b.UpdatedAt.Compare(a.UpdatedAt) })
		c.entries[k] = cur
	}
}

// tickets are the reads under way that missed, one per key: the newest read of a key holds
// its ticket until it stores what it read, or a commit of the key tears it up.
type tickets[K comparable] struct {
	last    uint64
	pending map[K]uint64
}

func (t *tickets[K]) take(k K) uint64 {
	if t.pending == nil {
		t.pending = map[K]uint64{}
	}
	if len(t.pending) >= maxRouteEntries {
		// Reads that never came back: start over rather than grow; the reads in flight then
		// store nothing, which is always safe.
		clear(t.pending)
	}
	t.last++
	t.pending[k] = t.last
	return t.last
}

// redeem reports whether ticket is still k's, and gives it up.
func (t *tickets[K]) redeem(k K, ticket uint64) bool {
	if t.pending[k] != ticket || ticket == 0 {
		return false
	}
	delete(t.pending, k)
	return true
}

func (t *tickets[K]) tear(k K) { delete(t.pending, k) }

// evictOne makes room for k in m when m is full and k not in it, by dropping an arbitrary
// entry.
func evictOne[K comparable, V any](m map[K]V, k K) {
	if _, ok := m[k]; ok || len(m) < maxRouteEntries {
		return
	}
	for old := range m {
		delete(m, old)
		return
	}
}

// clone copies participants so that no caller shares their Vars with the cache.
func clone(ps []engine.Participant) []engine.Participant {
	if ps == nil {
		return nil
	}
	out := make([]engine.Participant, len(ps))
	for i, p := range ps {
		out[i] = cloneParticipant(p)
	}
	return out
}

func cloneParticipant(p engine.Participant) engine.Participant {
	p.Vars = maps.Clone(p.Vars)
	if p.Vars == nil {
		p.Vars = map[string]string{}
	}
	return p
}
