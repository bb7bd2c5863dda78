package mongo

import (
	"context"
	"fmt"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/chatcampaigns/campaign/judge"
)

var (
	_ judge.Leases = (*DB)(nil)
	_ judge.Panels = (*DB)(nil)
)

// Collections of the judging panels.
const (
	// colSeats holds one document per seat of an entry's panel; unique indexes on (entry_id,
	// seat) and (entry_id, judge) decide between two processes seating at once, since an
	// insert is the one write atomic on every server this store runs on.
	colSeats = "panel_seats"
	// colRecusals holds the conflicts and abstentions, unique per (entry_id, judge).
	colRecusals = "panel_recusals"
)

type seatDoc struct {
	ID       bson.ObjectID `bson:"_id"`
	EntryID  string        `bson:"entry_id"`
	Seat     int           `bson:"seat"`
	Campaign string        `bson:"campaign"`
	Judge    string        `bson:"judge"`
	At       int64         `bson:"at"`
}

type recusalDoc struct {
	ID       bson.ObjectID `bson:"_id"`
	EntryID  string        `bson:"entry_id"`
	Judge    string        `bson:"judge"`
	Campaign string        `bson:"campaign"`
	Kind     string        `bson:"kind"`
	Reason   string        `bson:"reason"`
	At       int64         `bson:"at"`
}

// Holders returns who holds each of keys at now (judge.Leases); expired leases are absent.
func (db *DB) Holders(ctx context.Context, keys []string, now time.Time) (map[string]judge.Holder, error) {
	out := map[string]judge.Holder{}
	if len(keys) == 0 {
		return out, nil
	}
	var docs []claimDoc
	if err := find(ctx, db.c(colClaims), d("key", d("$in", keys), "until", d("$gte", ns(now))), options.Find(), &docs); err != nil {
		return nil, fmt.Errorf("mongo: holders of %d keys: %w", len(keys), err)
	}
	for _, doc := range docs {
		// Two documents for one key exist only for an instant of a takeover; the later wins.
		if h, ok := out[doc.Key]; !ok || fromNS(doc.Until).After(h.Until) {
			out[doc.Key] = judge.Holder{Owner: doc.Owner, Until: fromNS(doc.Until)}
		}
	}
	return out, nil
}

// Panels returns the seats and recusals of entries, by entry id (judge.Panels).
func (db *DB) Panels(ctx context.Context, entryIDs []string) (map[string]judge.Panel, error) {
	out := map[string]judge.Panel{}
	if len(entryIDs) == 0 {
		return out, nil
	}
	var seats []seatDoc
	if err := find(ctx, db.c(colSeats), d("entry_id", d("$in", entryIDs)), options.Find(), &seats); err != nil {
		return nil, fmt.Errorf("mongo: panels of %d entries: %w", len(entryIDs), err)
	}
	sort.Slice(seats, func(i, j int) bool {
		if seats[i].EntryID != seats[j].EntryID {
			return seats[i].EntryID < seats[j].EntryID
		}
		return seats[i].Seat < seats[j].Seat
	})
	for _, s := range seats {
		p := out[s.EntryID]
		p.Seats = append(p.Seats, judge.Seat{Campaign: s.Campaign, EntryID: s.EntryID, N: s.Seat, Judge: s.Judge, At: fromNS(s.At)})
		out[s.EntryID] = p
	}
	var recs []recusalDoc
	if err := find(ctx, db.c(colRecusals), d("entry_id", d("$in", entryIDs)), options.Find(), &recs); err != nil {
		return nil, fmt.Errorf("mongo: recusals of %d entries: %w", len(entryIDs), err)
	}
	sort.Slice(recs, func(i, j int) bool {
		a, b := recs[i], recs[j]
		if a.EntryID != b.EntryID {
			return a.EntryID < b.EntryID
		}
		if a.At != b.At {
			return a.At < b.At
		}
		return a.Judge < b.Judge
	})
	for _, r := range recs {
		p := out[r.EntryID]
		p.Recusals = append(p.Recusals, judge.Recusal{Campaign: r.Campaign, EntryID: r.EntryID, Judge: r.Judge,
			Kind: r.Kind, Reason: r.Reason, At: fromNS(r.At)})
		out[r.EntryID] = p
	}
	return out, nil
}

// AddSeat stores a seat; errs.ErrConflict when the seat number or the judge is taken on the
// entry (judge.Panels).
func (db *DB) AddSeat(ctx context.Context, s judge.Seat) error {
	_, err := db.c(colSeats).InsertOne(ctx, seatDoc{ID: bson.NewObjectID(), EntryID: s.EntryID, Seat: s.N,
		Campaign: s.Campaign, Judge: s.Judge, At: ns(s.At)})
	if err != nil {
		return fmt.Errorf("mongo: seat %s on entry %s: %w", s.Judge, s.EntryID, convert(err))
	}
	return nil
}

// Recuse stores a recusal; errs.ErrConflict when the judge recused on the entry before
// (judge.Panels).
func (db *DB) Recuse(ctx context.Context, r judge.Recusal) error {
	_, err := db.c(colRecusals).InsertOne(ctx, recusalDoc{ID: bson.NewObjectID(), EntryID: r.EntryID, Judge: r.Judge,
		Campaign: r.Campaign, Kind: r.Kind, Reason: r.Reason, At: ns(r.At)})
	if err != nil {
		return fmt.Errorf("mongo: recusal of %s from entry %s: %w", r.Judge, r.EntryID, convert(err))
	}
	return nil
}

// Loads counts each judge's seats in a campaign, less those they declared a conflict on
// (judge.Panels). Judges are few: a count per judge uses the (campaign, judge) indexes.
func (db *DB) Loads(ctx context.Context, campaign string, judges []string) (map[string]int, error) {
	out := make(map[string]int, len(judges))
	for _, j := range judges {
		n, err := db.c(colSeats).CountDocuments(ctx, d("campaign", campaign, "judge", j))
		if err != nil {
			return nil, fmt.Errorf("mongo: load of %s in %s: %w", j, campaign, convert(err))
		}
		var recs []recusalDoc
		if err := find(ctx, db.c(colRecusals), d("campaign", campaign, "judge", j, "kind", judge.RecuseConflict),
			options.Find().SetProjection(d("entry_id", 1)), &recs); err != nil {
			return nil, fmt.Errorf("mongo: load of %s in %s: %w", j, campaign, err)
		}
		if len(recs) > 0 {
			ids := make([]string, len(recs))
			for i, r := range recs {
				ids[i] = r.EntryID
			}
			off, err := db.c(colSeats).CountDocuments(ctx, d("judge", j, "entry_id", d("$in", ids)))
			if err != nil {
				return nil, fmt.Errorf("mongo: load of %s in %s: %w", j, campaign, convert(err))
			}
			n -= off
		}
		out[j] = int(n)
	}
	return out, nil
}
