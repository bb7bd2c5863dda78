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
// A read that missed stores what it read only when no commit happened meanwhile (seq): a
// commit landing between the read and the store would otherwise be hidden by older data.
type routeCache struct {
	mu      sync.Mutex
	seq     uint64
	entries map[routeKey][]engine.Participant
}

type routeKey struct{ channel, address string }

func newRouteCache() *routeCache {
	return &routeCache{entries: map[routeKey][]engine.Participant{}}
}

// get returns a copy of the entry for an address, and the sequence number to give put on a
// miss.
func (c *routeCache) get(channel, address string) (ps []engine.Participant, ok bool, seq uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cached, ok := c.entries[routeKey{channel, address}]
	if !ok {
		return nil, false, c.seq
	}
	return clone(cached), true, c.seq
}

// put stores what a read found, unless a commit happened since get.
func (c *routeCache) put(channel, address string, ps []engine.Participant, seq uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if seq != c.seq {
		return
	}
	c.add(routeKey{channel, address}, clone(ps))
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
	c.seq++
	for _, p := range ps {
		k := routeKey{p.Channel, p.Address}
		cur, ok := c.entries[k]
		if !ok {
			// Not known here: the next ParticipantsAt reads the table.
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
