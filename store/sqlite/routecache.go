package sqlite

import (
	"maps"
	"slices"
	"sync"

	"github.com/chatcampaigns/campaign/engine"
)

// maxRouteEntries bounds the addresses routeCache keeps (roughly 300 bytes each with one
// participant); past it an arbitrary entry is dropped for each one added.
const maxRouteEntries = 1 << 17

// routeCache keeps ParticipantsAt's answers in memory, because every inbound webhook asks it
// (Engine.Route) and on a busy number most senders are known. It is written through: every
// participant this DB commits is put into the entry for its address after the transaction
// committed, so an entry is what the table holds for as long as this process is the only
// writer of participants (the multi-process deployments run on MongoDB).
//
// A read that missed stores what it read only when no commit touched its address meanwhile:
// such a commit, landing between the read and the store, would otherwise be hidden by older
// data. Each miss takes a ticket (pending); a commit of a participant at an address the cache
// does not know tears up that address's ticket. (One ticket for all addresses, as before,
// refused most stores under load, where something commits every millisecond, so known
// senders kept missing.)
type routeCache struct {
	mu      sync.Mutex
	tickets uint64
	pending map[routeKey]uint64
	entries map[routeKey][]engine.Participant
}

type routeKey struct{ channel, address string }

func newRouteCache() *routeCache {
	return &routeCache{pending: map[routeKey]uint64{}, entries: map[routeKey][]engine.Participant{}}
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
	if len(c.pending) >= maxRouteEntries {
		// Reads that never came back (cancelled, failed without drop): start over rather than
		// grow; the reads in flight then store nothing, which is always safe.
		clear(c.pending)
	}
	c.tickets++
	c.pending[k] = c.tickets
	return nil, false, c.tickets
}

// put stores what a read found, unless a commit touched the address since get (or a later
// miss of the same address took a newer ticket).
func (c *routeCache) put(channel, address string, ps []engine.Participant, ticket uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := routeKey{channel, address}
	if c.pending[k] != ticket {
		return
	}
	delete(c.pending, k)
	c.add(k, clone(ps))
}

// drop gives back the ticket of a read that failed.
func (c *routeCache) drop(channel, address string, ticket uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if k := (routeKey{channel, address}); c.pending[k] == ticket {
		delete(c.pending, k)
	}
}

func (c *routeCache) add(k routeKey, ps []engine.Participant) {
	if _, ok := c.entries[k]; !ok && len(c.entries) >= maxRouteEntries {
		for old := range c.entries {
			delete(c.entries, old)
			break
		}
	}
	c.entries[k] = ps
}

// committed puts participants just committed into the entries of their addresses, in
// ParticipantsAt's order (most recently updated first, the newest row first among equals).
func (c *routeCache) committed(ps []engine.Participant) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range ps {
		k := routeKey{p.Channel, p.Address}
		cur, ok := c.entries[k]
		if !ok {
			// Not known here: the next ParticipantsAt reads the table, and a read already
			// under way may have missed this commit.
			delete(c.pending, k)
			continue
		}
		// As the table gives it back: times in UTC without a monotonic reading.
		p = cloneParticipant(p)
		p.CreatedAt = fromUnixNano(unixNano(p.CreatedAt))
		p.UpdatedAt = fromUnixNano(unixNano(p.UpdatedAt))
		p.LastInboundAt = fromUnixNano(unixNano(p.LastInboundAt))
		if i := slices.IndexFunc(cur, func(q engine.Participant) bool { return q.ID == p.ID }); i >= 0 {
			cur[i] = p
		} else {
			cur = append([]engine.Participant{p}, cur...)
		}
		slices.SortStableFunc(cur, func(a, b engine.Participant) int { return b.UpdatedAt.Compare(a.UpdatedAt) })
		c.entries[k] = cur
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
