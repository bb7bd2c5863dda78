package sqlite

import (
	"slices"
	"strings"
	"sync"

	"github.com/chatcampaigns/campaign/engine"
)

// maxRouteEntries bounds the addresses and the participants routeCache keeps (roughly 200
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
//
// Participants are kept packed, each in one string (packed): a kept engine.Participant, with
// its strings and its Vars map, is some thirty pointers, and with 100,000 kept the garbage
// collector's marking took 150-350 ms a cycle, during which the webhooks' p99 rose from ~30
// to ~150 ms. A packed string holds no pointer for it to follow.
type routeCache struct {
	mu      sync.Mutex
	routes  tickets[routeKey]
	ids     tickets[string]
	entries map[routeKey][]packed
	byID    map[string]packed
}

type routeKey struct{ channel, address string }

func newRouteCache() *routeCache {
	return &routeCache{entries: map[routeKey][]packed{}, byID: map[string]packed{}}
}

// get returns a copy of the entry for an address or, on a miss, the ticket to give put (or
// drop, when the read failed).
func (c *routeCache) get(channel, address string) (ps []engine.Participant, ok bool, ticket uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := routeKey{channel, address}
	if cached, ok := c.entries[k]; ok {
		return unpackAll(cached), true, 0
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
		kept := make([]packed, len(ps))
		for i, p := range ps {
			kept[i] = pack(p)
		}
		evictOne(c.entries, k)
		c.entries[k] = kept
		// No commit touched these participants since the read began (it would have torn the
		// ticket), so they are current by id as well: the step that follows a route reads
		// none of them again (Participant). With most participants not kept (1,000,000
		// stored) that second read was a tenth of the server's CPU. Both maps hold the same
		// packed string, as committed's do.
		for _, p := range kept {
			c.keepByID(p)
		}
	}
}

// keepByID keeps p under its id unless a newer version of it is kept.
func (c *routeCache) keepByID(p packed) {
	id := p.id()
	if cur, ok := c.byID[id]; !ok || cur.version() < p.version() {
		evictOne(c.byID, id)
		c.byID[id] = p
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
		return p.unpack(), true, 0
	}
	return engine.Participant{}, false, c.ids.take(id)
}

// putParticipant stores what a read by id found, unless a commit touched it since.
func (c *routeCache) putParticipant(p engine.Participant, ticket uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ids.redeem(p.ID, ticket) {
		evictOne(c.byID, p.ID)
		c.byID[p.ID] = pack(p)
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
		// Packed as the table gives it back: times in UTC without a monotonic reading.
		kept := pack(p)
		c.ids.tear(p.ID)
		c.keepByID(kept)

		k := routeKey{p.Channel, p.Address}
		cur, ok := c.entries[k]
		if !ok {
			// Not known here: the next ParticipantsAt reads the table, and a read already
			// under way may have missed this commit.
			c.routes.tear(k)
			continue
		}
		if i := slices.IndexFunc(cur, func(q packed) bool { return q.id() == p.ID }); i < 0 {
			cur = append([]packed{kept}, cur...)
		} else if cur[i].version() < kept.version() {
			cur[i] = kept
		}
		slices.SortStableFunc(cur, func(a, b packed) int { return cmpInt64(b.updatedAt(), a.updatedAt()) })
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

// unpackAll gives each caller participants of their own.
func unpackAll(ps []packed) []engine.Participant {
	out := make([]engine.Participant, len(ps))
	for i, p := range ps {
		out[i] = p.unpack()
	}
	return out
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
