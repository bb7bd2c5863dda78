package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/chatcampaigns/campaign/engine"
)

// warmBatch is how many addresses one read of warmRoutes asks for: one read transaction and
// one statement for all of them (SQLite takes 32,766 parameters; two an address).
const warmBatch = 256

// warmRoutes fills the route cache, right after Open, with the participants of the addresses
// that were active last, as many as the cache keeps. After a restart (a deploy, a crash in
// the middle of a spike) the people writing are mostly those who wrote just before, and
// every one of their first messages otherwise read their participant cold: a read
// transaction that, under the writes, starts with an empty page cache and walks the address
// index and the table from the file (about 50 µs of CPU a message; docs/performance.md,
// "Where it stands (issue 12, ninth round)"). It runs alongside the server, which serves
// meanwhile.
//
// It is the read a miss of ParticipantsAt makes, for many addresses at once and under the
// same rule: the tickets of a batch's addresses are taken before their rows are read, and
// what was read is kept only where no commit touched the address since (routeCache.put). An
// address the cache knows already, or that a webhook is reading at the moment, is left to
// that.
func (db *DB) warmRoutes(ctx context.Context) (warmed int, err error) {
	keys, err := db.recentAddresses(ctx, maxRouteEntries)
	if err != nil {
		return 0, err
	}
	for len(keys) > 0 && ctx.Err() == nil {
		batch := keys[:min(warmBatch, len(keys))]
		keys = keys[len(batch):]
		n, err := db.warmBatch(ctx, batch)
		warmed += n
		if err != nil {
			return warmed, err
		}
	}
	return warmed, ctx.Err()
}

// recentAddresses returns the distinct addresses of the newest limit participants of every
// campaign, newest first.
func (db *DB) recentAddresses(ctx context.Context, limit int) ([]routeKey, error) {
	q, args, err := db.everyCampaign(ctx, nil, nil, limit)
	if err != nil || q == "" {
		return nil, err
	}
	rows, err := db.rq.QueryContext(ctx, `SELECT channel, address FROM (`+q+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("recent addresses: %w", convert(err))
	}
	defer rows.Close()
	seen := map[routeKey]bool{}
	var keys []routeKey
	for rows.Next() {
		var k routeKey
		if err := rows.Scan(&k.channel, &k.address); err != nil {
			return nil, fmt.Errorf("recent addresses: %w", convert(err))
		}
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("recent addresses: %w", convert(err))
	}
	return keys, nil
}

// warmBatch reads every participant at the addresses in keys the cache does not know and
// keeps them; it returns how many addresses it kept.
func (db *DB) warmBatch(ctx context.Context, keys []routeKey) (int, error) {
	tickets := db.routes.takeUnknown(keys)
	if len(tickets) == 0 {
		return 0, nil
	}
	found := make(map[routeKey][]engine.Participant, len(tickets))
	err := func() error {
		var args []any
		for k := range tickets {
			args = append(args, k.channel, k.address)
		}
		// In ParticipantsAt's order within each address.
		rows, err := db.r.QueryContext(ctx, `SELECT `+participantColumns+` FROM participants
			WHERE (channel, address) IN (VALUES (?, ?)`+strings.Repeat(", (?, ?)", len(tickets)-1)+`)
			ORDER BY channel, address, updated_at DESC, rowid DESC`, args...)
		if err != nil {
			return convert(err)
		}
		defer rows.Close()
		for rows.Next() {
			p, err := scanParticipant(rows)
			if err != nil {
				return convert(err)
			}
			k := routeKey{p.Channel, p.Address}
			found[k] = append(found[k], p)
		}
		return convert(rows.Err())
	}()
	if db.warmHook != nil {
		db.warmHook()
	}
	kept := 0
	for k, ticket := range tickets {
		ps, ok := found[k]
		if err != nil || !ok {
			// Failed, or nobody there any more (erased since the addresses were listed).
			db.routes.drop(k.channel, k.address, ticket)
			continue
		}
		if db.routes.put(k.channel, k.address, ps, ticket) {
			kept++
		}
	}
	if err != nil {
		return kept, fmt.Errorf("warm %d addresses: %w", len(tickets), err)
	}
	return kept, nil
}

// Warmed waits until the route cache's filling after Open is over and returns how many
// addresses it kept and why it stopped early, if it did: a failed read (the addresses not
// kept are read as webhooks ask for them, as without it), or context.Canceled when the store
// was closed first. ctx bounds the wait.
func (db *DB) Warmed(ctx context.Context) (int, error) {
	select {
	case <-db.warmDone:
		return int(db.warmed.Load()), db.warmErr
	case <-ctx.Done():
		return int(db.warmed.Load()), ctx.Err()
	}
}
