package sqlite

import (
	"cmp"
	"slices"
	"strings"
	"sync"

	"github.com/chatcampaigns/campaign/engine"
)

// maxRouteEntries bounds the addresses and the participants routeCache keeps (roughly 280
// bytes for a participant and its address, BenchmarkRouteCacheGC); past it an arbitrary
// entry is dropped for each one added.
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
// Participants are kept packed, each in one string (packed), and an address keeps only the
// ids of its participants, also in one string (routeIDs): a kept engine.Participant, with its
// strings and its Vars map, is some thirty pointers, and with 100,000 kept the garbage
// collector's marking took 150-350 ms a cycle under load, while the webhooks' p99 rose from
// ~25 to ~150 ms. Both maps now hold only strings, whose bytes it never scans.
type routeCache struct {
	mu     sync.Mutex
	routes tickets[string]
	ids    tickets[string]
	// entries maps routeKey(channel, address) to the ids of its participants in
	// ParticipantsAt's order; an id no longer in byID makes the entry a miss.
	entries map[string]routeIDs
	byID    map[string]packed
}

// routeKey is a map key of its own: the concatenation is a new string, so no key shares the
// caller's bytes, which may be a request buffer the HTTP server reuses.
func routeKey(channel, address string) string { return channel + "\x00" + address }

func newRouteCache() *routeCache {
	return &routeCache{entries: map[string]routeIDs{}, byID: map[string]packed{}}
}

// get returns a copy of the entry for an address or, on a miss, the ticket to give put (or
// drop, when the read failed).
func (c *routeCache) get(channel, address string) (ps []engine.Participant, ok bool, ticket uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := routeKey(channel, address)
	if ids, ok := c.entries[k]; ok {
		ps = make([]engine.Participant, 0, ids.len())
		for id := range ids.all() {
			p, ok := c.byID[id]
			if !ok {
				// Dropped to make room: the address is read again.
				delete(c.entries, k)
				return nil, false, c.routes.take(k)
			}
			ps = append(ps, p.unpack())
		}
		return ps, true, 0
	}
	return nil, false, c.routes.take(k)
}

// put stores what a read of an address found, by address and by id, unless a commit touched
// the address since get (or a later miss of the same address took a newer ticket).
func (c *routeCache) put(channel, address string, ps []engine.Participant, ticket uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := routeKey(channel, address)
	if !c.routes.redeem(k, ticket) {
		return
	}
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
		// No commit touched these participants since the read began (it would have torn
		// the ticket), so they are current by id as well: the step that follows a route
		// reads none of them again (Participant). With most participants not kept
		// (1,000,000 stored) that second read was a tenth of the server's CPU.
		c.keepByID(pack(p))
	}
	evictOne(c.entries, k)
	c.entries[k] = packIDs(ids)
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
	c.routes.redeem(routeKey(channel, address), ticket)
}

// participant returns a copy of the participant with id or, on a miss, the ticket to give
// putParticipant (or dropParticipant).
func (c *routeCache) participant(id string) (p engine.Participant, ok bool, ticket uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.byID[id]; ok {
		return p.unpack(), true, 0
	}
	// The ticket's key outlives the call, and id may share a caller's buffer.
	return engine.Participant{}, false, c.ids.take(strings.Clone(id))
}

// putParticipant stores what a read by id found, unless a commit touched it since.
func (c *routeCache) putParticipant(p engine.Participant, ticket uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ids.redeem(p.ID, ticket) {
		c.keepByID(pack(p))
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
	k := routeKey(p.Channel, p.Address)
	delete(c.entries, k)
	c.routes.tear(k)
}

// committed puts participants just committed under their ids and into the entries of their
// addresses, in ParticipantsAt's order (most recently updated first, the newest row first
// among equals). A participant older than the one kept (two commits of one participant whose
// callers reach here in the other order) changes nothing.
func (c *routeCache) committed(ps []engine.Participant) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range ps {
		// Packed as the table gives it back: times in UTC without a monotonic reading.
		c.ids.tear(p.ID)
		c.keepByID(pack(p))

		k := routeKey(p.Channel, p.Address)
		cur, ok := c.entries[k]
		if !ok {
			// Not known here: the next ParticipantsAt reads the table, and a read already
			// under way may have missed this commit.
			c.routes.tear(k)
			continue
		}
		if cur.len() == 1 && cur.has(p.ID) {
			continue // the common case: the order of one cannot change
		}
		ids := slices.Collect(cur.all())
		if !slices.Contains(ids, p.ID) {
			ids = append([]string{p.ID}, ids...)
		}
		// Every id in the entry is kept by id (get drops an entry that misses one), and the
		// ones kept are the newest versions, so their update times give the order.
		slices.SortStableFunc(ids, func(a, b string) int {
			return cmp.Compare(c.byID[b].updatedAtOr0(), c.byID[a].updatedAtOr0())
		})
		c.entries[k] = packIDs(ids)
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
