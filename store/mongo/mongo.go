// Package mongo owns the scale-out store: everything the engine, the judge and the dashboard
// keep, in MongoDB (go.mongodb.org/mongo-driver/v2), so several `campaign serve` processes can
// share one database. It passes the same conformance suite (store/storetest) as store/sqlite.
//
// It uses only single-document atomic operations, never a multi-document transaction (FerretDB
// v1, which the tests run against, has none, and they cost throughput on a sharded cluster).
// A write that touches several documents is made safe as an intent: the one document that
// decides (the participant, for a step) records in the same atomic update everything the write
// still has to do, with every id fixed in advance, and anyone who finds the intent later
// finishes it; finishing twice has the effect of finishing once. docs/mongodb.md lists the
// collections, their indexes and the crash windows that remain.
//
// Every filter is a bson.D built from typed Go values: a string from the web is only ever a
// value, never a key, so it cannot smuggle in an operator such as $ne or $where.
package mongo

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/chatcampaigns/campaign/accounts"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/judge"
)

var (
	_ engine.Store   = (*DB)(nil)
	_ judge.Store    = (*DB)(nil)
	_ accounts.Users = (*DB)(nil)
)

// Collection names.
const (
	colCounters      = "counters"
	colInbound       = "inbound"
	colParticipants  = "participants"
	colLines         = "lines"
	colEntries       = "entries"
	colOutbox        = "outbox"
	colCodes         = "codes"
	colPlaces        = "places"
	colPoolCodes     = "pool_codes"
	colCodeClaims    = "code_claims"
	colTimers        = "timers"
	colNotifications = "notifications"
	colVersions      = "campaign_versions"
	colStatus        = "campaign_status"
	colFiles         = "campaign_files"
	colUsers         = "users"
	colSessions      = "sessions"
	colClaims        = "claims"
	colTeams         = "teams"
	colTeamMembers   = "team_members"
	colRoundMarks    = "round_marks"
	colChatAliases   = "chat_aliases"
	colGroupRequests = "group_requests"
)

// DB is one MongoDB database. Its methods are safe for concurrent use, by several goroutines
// and by several processes sharing the database.
type DB struct {
	client *mongo.Client
	db     *mongo.Database
	// owned says Close disconnects the client (Open made it).
	owned bool
	// lockIDs says the server is FerretDB v1, whose $inc is a read then a write: two
	// processes incrementing the id counter at once would get the same ids. There, id
	// allocation is serialised by a lease (Claim) on the counter.
	lockIDs bool
	// ids lines up this process's allocations on FerretDB, so that it takes the counter's
	// lease once for all the callers waiting at the time (idLine).
	ids idLine
}

// Open connects to the MongoDB server at uri, checks it answers, creates the indexes of the
// database dbName when they are missing, and finishes writes that a crashed process left half
// done (see Recover).
func Open(ctx context.Context, uri, dbName string) (*DB, error) {
	if uri == "" || dbName == "" {
		return nil, fmt.Errorf("mongo: open: %w: want a URI and a database name", errs.ErrInvalid)
	}
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		return nil, fmt.Errorf("mongo: connect: %w", err)
	}
	db, err := New(ctx, client, dbName)
	if err != nil {
		client.Disconnect(context.WithoutCancel(ctx))
		return nil, err
	}
	db.owned = true
	return db, nil
}

// New is Open on a client the caller owns (and disconnects): tests share one client between
// many databases.
func New(ctx context.Context, client *mongo.Client, dbName string) (*DB, error) {
	if err := client.Ping(ctx, nil); err != nil {
		return nil, fmt.Errorf("mongo: ping: %w", err)
	}
	db := &DB{client: client, db: client.Database(dbName)}
	var info bson.M
	if err := db.db.RunCommand(ctx, d("buildInfo", 1)).Decode(&info); err == nil {
		_, db.lockIDs = info["ferretdbVersion"]
	}
	if err := db.createIndexes(ctx); err != nil {
		return nil, fmt.Errorf("mongo: create indexes in %s: %w", dbName, err)
	}
	if err := db.fillHandoff(ctx); err != nil {
		return nil, fmt.Errorf("mongo: open %s: %w", dbName, err)
	}
	if err := db.Recover(ctx); err != nil {
		return nil, fmt.Errorf("mongo: open %s: %w", dbName, err)
	}
	return db, nil
}

// Close disconnects from the server when Open connected.
func (db *DB) Close() error {
	if !db.owned {
		return nil
	}
	if err := db.client.Disconnect(context.Background()); err != nil {
		return fmt.Errorf("mongo: close: %w", err)
	}
	return nil
}

func (db *DB) c(name string) *mongo.Collection { return db.db.Collection(name) }

type index struct {
	coll   string
	keys   bson.D
	unique bool
}

// indexes are created at start-up. FerretDB v1 implements neither partial nor sparse indexes,
// so uniqueness that must skip some documents (inbound events without a platform id) is
// expressed through a key that is unique by construction for those documents instead.
var indexes = []index{
	{colInbound, bson.D{{Key: "dedupe", Value: 1}}, true},
	{colInbound, bson.D{{Key: "processed", Value: 1}, {Key: "_id", Value: 1}}, false},
	{colInbound, bson.D{{Key: "step.t", Value: 1}}, false},
	{colParticipants, bson.D{{Key: "channel", Value: 1}, {Key: "address", Value: 1}, {Key: "updated_at", Value: -1}}, false},
	{colParticipants, bson.D{{Key: "campaign", Value: 1}, {Key: "state", Value: 1}}, false},
	{colParticipants, bson.D{{Key: "campaign", Value: 1}, {Key: "def_version", Value: 1}, {Key: "finished", Value: 1}}, false},
	{colParticipants, bson.D{{Key: "created_at", Value: 1}, {Key: "seq", Value: 1}}, false},
	{colParticipants, bson.D{{Key: "step.t", Value: 1}}, false},
	// The inbox and the participants lists, most recently active first (reports.Conversations).
	{colParticipants, bson.D{{Key: "updated_at", Value: -1}, {Key: "_id", Value: -1}}, false},
	{colParticipants, bson.D{{Key: "campaign", Value: 1}, {Key: "updated_at", Value: -1}, {Key: "_id", Value: -1}}, false},
	{colParticipants, bson.D{{Key: "campaign", Value: 1}, {Key: "state", Value: 1}, {Key: "updated_at", Value: -1}, {Key: "_id", Value: -1}}, false},
	// The conversations waiting for a human, per team (reports.Conversations).
	{colParticipants, bson.D{{Key: "handoff", Value: 1}, {Key: "updated_at", Value: -1}, {Key: "_id", Value: -1}}, false},
	{colLines, bson.D{{Key: "participant_id", Value: 1}, {Key: "direction", Value: 1}, {Key: "_id", Value: -1}}, false},
	{colEntries, bson.D{{Key: "campaign", Value: 1}, {Key: "created_at", Value: 1}, {Key: "seq", Value: 1}}, false},
	{colEntries, bson.D{{Key: "campaign", Value: 1}, {Key: "decided_at", Value: 1}}, false},
	{colEntries, bson.D{{Key: "participant_id", Value: 1}, {Key: "created_at", Value: 1}}, false},
	{colOutbox, bson.D{{Key: "campaign", Value: 1}, {Key: "due_at", Value: 1}}, false},
	{colBroadcasts, bson.D{{Key: "campaign", Value: 1}, {Key: "at", Value: -1}}, false},
	// The inbox's "assigned to" filter, and an erase's deletion of a participant's assignment
	// and read marks.
	{colAssignments, bson.D{{Key: "user", Value: 1}, {Key: "_id", Value: 1}}, false},
	{colAssignments, bson.D{{Key: "participant_id", Value: 1}}, false},
	{colReadMarks, bson.D{{Key: "participant_id", Value: 1}}, false},
	{colLines, bson.D{{Key: "participant_id", Value: 1}, {Key: "_id", Value: 1}}, false},
	{colEntries, bson.D{{Key: "campaign", Value: 1}, {Key: "status", Value: 1}, {Key: "created_at", Value: -1}, {Key: "seq", Value: -1}}, false},
	{colEntries, bson.D{{Key: "created_at", Value: -1}, {Key: "seq", Value: -1}}, false},
	{colEntries, bson.D{{Key: "event._id", Value: 1}}, false},
	{colOutbox, bson.D{{Key: "status", Value: 1}, {Key: "due_at", Value: 1}}, false},
	{colOutbox, bson.D{{Key: "participant_id", Value: 1}, {Key: "_id", Value: 1}}, false},
	{colOutbox, bson.D{{Key: "platform_id", Value: 1}}, false},
	{colOutbox, bson.D{{Key: "campaign", Value: 1}, {Key: "_id", Value: -1}}, false},
	{colOutbox, bson.D{{Key: "broadcast_id", Value: 1}, {Key: "status", Value: 1}}, false},
	{colCodes, bson.D{{Key: "campaign", Value: 1}, {Key: "code", Value: 1}}, true},
	{colPlaces, bson.D{{Key: "campaign", Value: 1}, {Key: "pool", Value: 1}, {Key: "slot", Value: 1}}, true},
	{colPoolCodes, bson.D{{Key: "campaign", Value: 1}, {Key: "pool", Value: 1}, {Key: "key", Value: 1}}, true},
	{colPoolCodes, bson.D{{Key: "campaign", Value: 1}, {Key: "pool", Value: 1}, {Key: "claimed", Value: 1}, {Key: "seq", Value: 1}}, false},
	{colCodeClaims, bson.D{{Key: "campaign", Value: 1}, {Key: "pool", Value: 1}, {Key: "key", Value: 1}}, true},
	{colTimers, bson.D{{Key: "key", Value: 1}}, true},
	{colTimers, bson.D{{Key: "active", Value: 1}, {Key: "due_at", Value: 1}, {Key: "_id", Value: 1}}, false},
	{colTimers, bson.D{{Key: "participant_id", Value: 1}, {Key: "active", Value: 1}}, false},
	{colNotifications, bson.D{{Key: "campaign", Value: 1}, {Key: "_id", Value: -1}}, false},
	{colVersions, bson.D{{Key: "id", Value: 1}, {Key: "version", Value: 1}}, true},
	{colUsers, bson.D{{Key: "username", Value: 1}}, true},
	{colClaims, bson.D{{Key: "key", Value: 1}}, true},
	{colTeams, bson.D{{Key: "campaign", Value: 1}, {Key: "code", Value: 1}}, true},
	{colTeams, bson.D{{Key: "campaign", Value: 1}, {Key: "name_key", Value: 1}}, true},
	{colRoundMarks, bson.D{{Key: "campaign", Value: 1}, {Key: "at", Value: 1}}, false},
	{colAudit, bson.D{{Key: "campaign", Value: 1}, {Key: "_id", Value: 1}}, false},
	{colAudit, bson.D{{Key: "participant_id", Value: 1}, {Key: "_id", Value: 1}}, false},
	{colAudit, bson.D{{Key: "entry_id", Value: 1}, {Key: "_id", Value: 1}}, false},
	{colDraws, bson.D{{Key: "campaign", Value: 1}, {Key: "committed_at", Value: 1}}, false},
	{colGroupRequests, bson.D{{Key: "campaign", Value: 1}, {Key: "channel", Value: 1}, {Key: "captain", Value: 1}, {Key: "created_at", Value: -1}}, false},
	// ExpireClaims deletes the leases that ran out.
	{colClaims, bson.D{{Key: "until", Value: 1}}, false},
	// Judging panels (panels.go) and the decisions' markers (judge.go).
	{colSeats, bson.D{{Key: "entry_id", Value: 1}, {Key: "seat", Value: 1}}, true},
	{colSeats, bson.D{{Key: "entry_id", Value: 1}, {Key: "judge", Value: 1}}, true},
	{colSeats, bson.D{{Key: "campaign", Value: 1}, {Key: "judge", Value: 1}}, false},
	{colRecusals, bson.D{{Key: "entry_id", Value: 1}, {Key: "judge", Value: 1}}, true},
	{colRecusals, bson.D{{Key: "campaign", Value: 1}, {Key: "judge", Value: 1}, {Key: "kind", Value: 1}}, false},
}

func (db *DB) createIndexes(ctx context.Context) error {
	byColl := map[string][]mongo.IndexModel{}
	var order []string
	for _, ix := range indexes {
		if byColl[ix.coll] == nil {
			order = append(order, ix.coll)
		}
		m := mongo.IndexModel{Keys: ix.keys}
		if ix.unique {
			m.Options = options.Index().SetUnique(true)
		}
		byColl[ix.coll] = append(byColl[ix.coll], m)
	}
	for _, name := range order {
		// Only the missing ones: FerretDB v1 panics (and drops the connection) when asked to
		// create indexes that exist, which every server but the first would do at start-up.
		have, err := indexNames(ctx, db.c(name))
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		var missing []mongo.IndexModel
		for _, m := range byColl[name] {
			if !have[indexName(m.Keys.(bson.D))] {
				missing = append(missing, m)
			}
		}
		if len(missing) == 0 {
			continue
		}
		if _, err := db.c(name).Indexes().CreateMany(ctx, missing); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	// The counter exists before anyone increments it, so two processes' first increments
	// cannot both try to create it.
	_, err := db.c(colCounters).UpdateOne(ctx, bson.D{{Key: "_id", Value: "seq"}},
		bson.D{{Key: "$setOnInsert", Value: bson.D{{Key: "n", Value: int64(0)}}}},
		options.UpdateOne().SetUpsert(true))
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("counter: %w", err)
	}
	return nil
}

// indexName is the name MongoDB gives an index by default: each key and its direction, joined
// by underscores.
func indexName(keys bson.D) string {
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('_')
		}
		fmt.Fprintf(&b, "%s_%v", k.Key, k.Value)
	}
	return b.String()
}

// indexNames returns the names of a collection's indexes (none for a collection not created
// yet).
func indexNames(ctx context.Context, c *mongo.Collection) (map[string]bool, error) {
	cur, err := c.Indexes().List(ctx)
	var ce mongo.CommandError
	if errors.As(err, &ce) && ce.Code == 26 {
		// NamespaceNotFound: MongoDB has no indexes to list for a collection not created yet.
		return map[string]bool{}, nil
	}
	if err != nil {
		return nil, err
	}
	var specs []struct {
		Name string `bson:"name"`
	}
	if err := cur.All(ctx, &specs); err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(specs))
	for _, s := range specs {
		out[s.Name] = true
	}
	return out, nil
}

// next reserves n consecutive ids and returns the first. Every numeric id in the database comes
// from this one sequence, so ids increase in the order they were handed out, which is the
// order the engine's interfaces promise (oldest first, transcript in write order).
//
// On FerretDB the increment needs the counter's lease. The callers of one process line up in
// memory for it (idLine) rather than each trying the lease: a try that loses costs an insert,
// a delete and an insert again, all writes, and under load (20 messages/s) such tries were 24
// lease inserts a message, most of FerretDB's writes, which slowed the holder's own
// increment and release and so made the tries more (docs/performance.md, "MongoDB path (issue
// 12, fifth round)"). Whoever leads the line takes the lease once for every caller waiting.
func (db *DB) next(ctx context.Context, n int) (int64, error) {
	if n <= 0 {
		return 0, nil
	}
	if db.lockIDs {
		return db.ids.take(ctx, n, db.reserve)
	}
	return db.increment(ctx, n)
}

// reserve is one increment of n under the counter's lease (FerretDB).
func (db *DB) reserve(ctx context.Context, n int) (int64, error) {
	release, err := db.lockCounter(ctx)
	if err != nil {
		return 0, fmt.Errorf("allocate ids: %w", err)
	}
	defer release()
	return db.increment(ctx, n)
}

// increment adds n to the counter and returns the first of the n ids it reserved.
func (db *DB) increment(ctx context.Context, n int) (int64, error) {
	var doc struct {
		N int64 `bson:"n"`
	}
	err := db.c(colCounters).FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: "seq"}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: int64(n)}}}},
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&doc)
	if err != nil {
		return 0, fmt.Errorf("allocate ids: %w", err)
	}
	return doc.N - int64(n) + 1, nil
}

// idLine is the line of one process's callers waiting for ids. The first to arrive leads: it
// reserves the ids of everyone in line at that moment with one increment (one lease), hands
// each its range in the order they came, and passes the lead to the first of those who came
// meanwhile. A leader's context ending fails only its own call: the others stay in line for
// the next leader. Its zero value is an empty line.
type idLine struct {
	mu      sync.Mutex
	waiting []*idWait
	led     bool
}

// idWait is one caller in line. done is closed, under idLine.mu, once first and err are set
// or lead is: the caller then returns, or leads.
type idWait struct {
	n     int
	first int64
	err   error
	lead  bool
	done  chan struct{}
}

// take returns the first of n consecutive ids, reserved with reserve, in line with the other
// callers of the process.
func (l *idLine) take(ctx context.Context, n int, reserve func(context.Context, int) (int64, error)) (int64, error) {
	w := &idWait{n: n, done: make(chan struct{})}
	l.mu.Lock()
	l.waiting = append(l.waiting, w)
	leads := !l.led
	if leads {
		l.led, w.lead = true, true
	}
	l.mu.Unlock()
	if !leads {
		select {
		case <-w.done:
		case <-ctx.Done():
			l.mu.Lock()
			if i := slices.Index(l.waiting, w); i >= 0 && !w.lead {
				l.waiting = slices.Delete(l.waiting, i, i+1)
				l.mu.Unlock()
				return 0, ctx.Err()
			}
			l.mu.Unlock()
			<-w.done // being served, or made the leader: either comes at once
		}
		if !w.lead {
			return w.first, w.err
		}
	}
	l.mu.Lock()
	batch := l.waiting
	l.waiting = nil
	l.mu.Unlock()
	total := 0
	for _, b := range batch {
		total += b.n
	}
	first, err := reserve(ctx, total)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil && ctx.Err() != nil {
		// This caller's context ended, not the others': they wait for the next leader.
		w.err = err
		l.waiting = append(slices.DeleteFunc(batch, func(b *idWait) bool { return b == w }), l.waiting...)
	} else {
		for _, b := range batch {
			b.first, b.err = first, err
			first += int64(b.n)
			if b != w {
				close(b.done)
			}
		}
	}
	if len(l.waiting) > 0 {
		l.waiting[0].lead = true
		close(l.waiting[0].done)
	} else {
		l.led = false
	}
	return w.first, w.err
}

// counterLease bounds how long a process that died holding the id counter's lock holds up
// everyone else's writes.
const counterLease = 5 * time.Second

// lockCounter takes the lease on the id counter, waiting for it, and returns its release.
// Only used on FerretDB (see DB.lockIDs); on MongoDB the $inc is atomic by itself.
func (db *DB) lockCounter(ctx context.Context) (release func(), err error) {
	owner := token()
	keys := []string{"counter:seq"}
	for wait := 100 * time.Microsecond; ; wait = min(2*wait, 10*time.Millisecond) {
		now := time.Now()
		won, err := db.Claim(ctx, owner, keys, now, now.Add(counterLease))
		if err != nil {
			return nil, err
		}
		if len(won) == 1 {
			return func() { db.Release(context.WithoutCancel(ctx), owner, keys) }, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// token names one Commit call's reservations (codes, places) so that they can be told from
// everyone else's and released if the call loses. It is an identifier, not a decision, so it
// comes from crypto/rand rather than an injected source.
func token() string { return rand.Text() }

// convert turns driver errors into the project's error kinds at the boundary.
func convert(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mongo.ErrNoDocuments):
		return fmt.Errorf("%w: %w", errs.ErrNotFound, err)
	case mongo.IsDuplicateKeyError(err):
		return fmt.Errorf("%w: %w", errs.ErrConflict, err)
	}
	return err
}

// insertAll inserts docs, treating a document whose unique key is already taken as written:
// it was written by an earlier attempt at the same intent, since every id in an intent is fixed
// before the intent is stored.
func insertAll(ctx context.Context, c *mongo.Collection, docs []any) error {
	if len(docs) == 0 {
		return nil
	}
	_, err := c.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err == nil {
		return nil
	}
	var bwe mongo.BulkWriteException
	if errors.As(err, &bwe) && bwe.WriteConcernError == nil && len(bwe.WriteErrors) > 0 {
		for _, we := range bwe.WriteErrors {
			if we.Code != 11000 {
				return err
			}
		}
		return nil
	}
	return err
}

// ns stores the zero time as 0 and every other time as UTC unix nanoseconds, which keeps the
// precision of what the engine writes (a BSON date keeps only milliseconds).
func ns(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNS(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// kv is one variable. Variables are stored as a list of pairs, not as a subdocument, so a name
// can never become a field name (one starting with $ or holding a dot would be refused or
// read as a path).
type kv struct {
	K string `bson:"k"`
	V string `bson:"v"`
}

func d(pairs ...any) bson.D {
	out := make(bson.D, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, bson.E{Key: pairs[i].(string), Value: pairs[i+1]})
	}
	return out
}
