package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// claimDoc is a lease on a piece of work. The unique index on key decides who holds it: taking
// a key is an insert, the one write that is atomic on MongoDB and on FerretDB v1 alike. The
// _id is new for every lease, so a takeover that deletes an expired lease by what it read
// (FerretDB deletes the documents a filter matched, by _id) can never delete the lease that
// replaced it.
type claimDoc struct {
	ID    bson.ObjectID `bson:"_id"`
	Key   string        `bson:"key"`
	Owner string        `bson:"owner"`
	Until int64         `bson:"until"`
}

// Claim takes leases on keys for owner until until. A key is won when nobody holds it, when
// its lease ran out by now, or when owner holds it already (the lease is taken anew). Taking
// over deletes the expired (or own) lease and inserts a new one; when several callers do so
// at once, the unique index lets exactly one insert succeed. It returns the keys won, in the
// order given.
func (db *DB) Claim(ctx context.Context, owner string, keys []string, now, until time.Time) ([]string, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	taken, err := db.insertClaims(ctx, owner, keys, until)
	if err != nil {
		return nil, fmt.Errorf("mongo: claim %d keys: %w", len(keys), convert(err))
	}
	var retry []string
	for _, k := range keys {
		if !taken[k] {
			retry = append(retry, k)
		}
	}
	if len(retry) > 0 {
		_, err := db.c(colClaims).DeleteMany(ctx, d("key", d("$in", retry),
			"$or", bson.A{d("until", d("$lt", ns(now))), d("owner", owner)}))
		if err != nil {
			return nil, fmt.Errorf("mongo: claim %d keys: expire leases: %w", len(keys), convert(err))
		}
		again, err := db.insertClaims(ctx, owner, retry, until)
		if err != nil {
			return nil, fmt.Errorf("mongo: claim %d keys: %w", len(keys), convert(err))
		}
		for k, ok := range again {
			taken[k] = ok
		}
	}
	var won []string
	for _, k := range keys {
		if taken[k] {
			won = append(won, k)
		}
	}
	return won, nil
}

// insertClaims inserts one lease per key and reports which inserts succeeded; a key already
// held is a lost insert, not an error.
func (db *DB) insertClaims(ctx context.Context, owner string, keys []string, until time.Time) (map[string]bool, error) {
	docs := make([]any, len(keys))
	for i, k := range keys {
		docs[i] = claimDoc{ID: bson.NewObjectID(), Key: k, Owner: owner, Until: ns(until)}
	}
	taken := make(map[string]bool, len(keys))
	for _, k := range keys {
		taken[k] = true
	}
	_, err := db.c(colClaims).InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err == nil {
		return taken, nil
	}
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil || len(bwe.WriteErrors) == 0 {
		return nil, err
	}
	for _, we := range bwe.WriteErrors {
		if we.Code != 11000 {
			return nil, err
		}
		taken[keys[we.Index]] = false
	}
	return taken, nil
}

// Release gives up owner's leases on keys; keys owner does not hold are left alone.
func (db *DB) Release(ctx context.Context, owner string, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	_, err := db.c(colClaims).DeleteMany(ctx, d("key", d("$in", keys), "owner", owner))
	if err != nil {
		return fmt.Errorf("mongo: release %d keys: %w", len(keys), convert(err))
	}
	return nil
}

// ExpireClaims deletes the leases that ran out by now and returns how many. An expired lease is
// free for anyone to take already; deleting it only keeps a holder that died from leaving its
// leases behind for ever (a reply's "outbox:<id>" is never claimed again once sent).
func (db *DB) ExpireClaims(ctx context.Context, now time.Time) (int, error) {
	res, err := db.c(colClaims).DeleteMany(ctx, d("until", d("$lt", ns(now))))
	if err != nil {
		return 0, fmt.Errorf("mongo: expire claims: %w", convert(err))
	}
	return int(res.DeletedCount), nil
}

// RetryOutbox leaves a pending reply pending, due again at due, with the reason of the failed
// attempt, which it closes; it counts one more attempt when none was recorded (AttemptOutbox). Only the holder of the reply's lease calls it. It
// returns errs.ErrNotFound for an unknown reply and errs.ErrConflict for one no longer pending.
func (db *DB) RetryOutbox(ctx context.Context, id int64, reason string, due, at time.Time) error {
	matched, err := db.closeAttempt(ctx, d("_id", id, "status", engine.StatusPending),
		d("error", reason, "due_at", ns(due), "updated_at", ns(at)))
	if err == nil && !matched {
		var doc outboxDoc
		err = db.c(colOutbox).FindOne(ctx, d("_id", id), options.FindOne().SetProjection(d("status", 1))).Decode(&doc)
		if err == nil {
			err = fmt.Errorf("%w: reply is %s, not pending", errs.ErrConflict, doc.Status)
		}
	}
	if err != nil {
		return fmt.Errorf("mongo: retry outbox %d: %w", id, convert(err))
	}
	return nil
}

// TakeBack deletes every lease owner holds and counts the pending replies owner's last attempt
// left in flight (engine.Store). Two operations: a lease deleted here and a count missed by a
// failure between them changes nothing but the count.
func (db *DB) TakeBack(ctx context.Context, owner string) (claims, inFlight int, err error) {
	res, err := db.c(colClaims).DeleteMany(ctx, d("owner", owner))
	if err != nil {
		return 0, 0, fmt.Errorf("mongo: take back leases of %s: %w", owner, convert(err))
	}
	n, err := db.c(colOutbox).CountDocuments(ctx, d("status", engine.StatusPending, "in_flight", true, "attempted_by", owner))
	if err != nil {
		return 0, 0, fmt.Errorf("mongo: take back leases of %s: count in flight: %w", owner, convert(err))
	}
	return int(res.DeletedCount), int(n), nil
}
