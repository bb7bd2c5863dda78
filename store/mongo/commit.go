package mongo

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

type participantDoc struct {
	ID            string `bson:"_id"`
	Seq           int64  `bson:"seq"`
	Campaign      string `bson:"campaign"`
	Channel       string `bson:"channel"`
	Address       string `bson:"address"`
	State         string `bson:"state"`
	Vars          []kv   `bson:"vars"`
	Version       int64  `bson:"version"`
	DefVersion    string `bson:"def_version"`
	Entered       int64  `bson:"entered"`
	Finished      bool   `bson:"finished"`
	LastInboundAt int64  `bson:"last_inbound_at"`
	LastReplyDue  int64  `bson:"last_reply_due"`
	CreatedAt     int64  `bson:"created_at"`
	UpdatedAt     int64  `bson:"updated_at"`
	// Step is the intent of the last committed step while its effects are being written.
	Step *stepDoc `bson:"step,omitempty"`
}

// stepDoc is a committed step's intent: every effect with its id fixed, so that writing it
// again changes nothing. V is the participant version the step produced; effects that change
// earlier rows (cancelling timers and replies) touch only rows older than V, so a slow writer
// finishing an old intent late cannot cancel what a newer step queued.
type stepDoc struct {
	T             string      `bson:"t"`
	V             int64       `bson:"v"`
	At            int64       `bson:"at"`
	Inbound       int64       `bson:"in,omitempty"`
	Lines         []lineDoc   `bson:"lines,omitempty"`
	Entries       []entryDoc  `bson:"entries,omitempty"`
	Outbox        []outboxDoc `bson:"outbox,omitempty"`
	CancelOutbox  bool        `bson:"cancel_outbox,omitempty"`
	CancelTimers  bool        `bson:"cancel_timers,omitempty"`
	Timers        []timerDoc  `bson:"timers,omitempty"`
	Notifications []noteDoc   `bson:"notifications,omitempty"`
	Holds         []holdRef   `bson:"holds,omitempty"`
	Claims        []claimRef  `bson:"claims,omitempty"`
}

// strangerStep is the intent of a step that answers a stranger: only replies, owned by the
// event it consumes.
type strangerStep struct {
	T      string      `bson:"t"`
	Outbox []outboxDoc `bson:"outbox"`
}

type lineDoc struct {
	ID            int64  `bson:"_id"`
	ParticipantID string `bson:"participant_id"`
	Direction     string `bson:"direction"`
	Text          string `bson:"text"`
	MediaKey      string `bson:"media_key"`
	At            int64  `bson:"at"`
}

type noteDoc struct {
	ID            int64  `bson:"_id"`
	Campaign      string `bson:"campaign"`
	ParticipantID string `bson:"participant_id"`
	Text          string `bson:"text"`
	At            int64  `bson:"at"`
}

func toParticipantDoc(p engine.Participant, seq int64) participantDoc {
	vars := make([]kv, 0, len(p.Vars))
	for _, k := range slices.Sorted(maps.Keys(p.Vars)) {
		vars = append(vars, kv{K: k, V: p.Vars[k]})
	}
	return participantDoc{ID: p.ID, Seq: seq, Campaign: p.Campaign, Channel: p.Channel,
		Address: p.Address, State: p.State, Vars: vars, Version: p.Version, DefVersion: p.DefVersion,
		Entered: p.Entered, Finished: p.Finished, LastInboundAt: ns(p.LastInboundAt),
		LastReplyDue: ns(p.LastReplyDue), CreatedAt: ns(p.CreatedAt), UpdatedAt: ns(p.UpdatedAt)}
}

func (doc participantDoc) participant() engine.Participant {
	vars := make(map[string]string, len(doc.Vars))
	for _, v := range doc.Vars {
		vars[v.K] = v.V
	}
	return engine.Participant{ID: doc.ID, Campaign: doc.Campaign, Channel: doc.Channel,
		Address: doc.Address, State: doc.State, Vars: vars, Version: doc.Version,
		DefVersion: doc.DefVersion, Entered: doc.Entered, Finished: doc.Finished,
		LastInboundAt: fromNS(doc.LastInboundAt), LastReplyDue: fromNS(doc.LastReplyDue),
		CreatedAt: fromNS(doc.CreatedAt), UpdatedAt: fromNS(doc.UpdatedAt)}
}

// Participant returns a participant, or an error wrapping errs.ErrNotFound. If the last step's
// effects are still being written (or their writer died), they are finished first, so what the
// caller computes next starts from a complete step. Vars is never nil.
func (db *DB) Participant(ctx context.Context, id string) (engine.Participant, error) {
	doc, err := db.participantDoc(ctx, id)
	if err != nil {
		return engine.Participant{}, fmt.Errorf("mongo: participant %s: %w", id, convert(err))
	}
	return doc.participant(), nil
}

func (db *DB) participantDoc(ctx context.Context, id string) (participantDoc, error) {
	var doc participantDoc
	if err := db.c(colParticipants).FindOne(ctx, d("_id", id)).Decode(&doc); err != nil {
		return participantDoc{}, err
	}
	if doc.Step != nil {
		if err := db.finish(ctx, doc.ID, doc.Step); err != nil {
			return participantDoc{}, err
		}
		doc.Step = nil
	}
	return doc, nil
}

// Commit writes a step. Without transactions it proceeds in an order that makes the
// participant's compare-and-swap the one moment the step happens:
//
//  1. Finish the participant's previous step if its writer left it unfinished, then refuse a
//     stale version, an existing participant on create, or a consumed event, before anything
//     is written.
//  2. Reserve what can be refused: codes (a unique index on campaign and code) and places (a
//     pool's taken count, incremented only below capacity). On any refusal, release what this
//     call reserved and fail.
//  3. Swap the participant from PrevVersion to the new version (insert it, when Created) in
//     one update that also stores the step's intent. If it fails, release and fail with
//     errs.ErrConflict.
//  4. Write the intent's effects, mark the event processed, remove the intent. A crash here
//     is finished by the next reader of the participant or by Recover, with the same ids.
//
// Errors wrap errs.ErrConflict for a stale version, an existing participant on create or an
// event already processed, engine.ErrCodeTaken for a code issued before in the campaign, and
// engine.ErrPoolFull for a pool at capacity, engine.ErrCodeClaimed for a code handed out before.
func (db *DB) Commit(ctx context.Context, s engine.Step) error {
	p := s.Participant
	var err error
	if p.ID == "" {
		err = db.commitStranger(ctx, s)
	} else {
		err = db.commit(ctx, s, true)
	}
	if err != nil {
		return fmt.Errorf("mongo: commit step for %s: %w", p.ID, convert(err))
	}
	return nil
}

// commit commits s; with finish false it stops after the swap, as a process that crashed
// there would (tests use it to check recovery).
func (db *DB) commit(ctx context.Context, s engine.Step, finish bool) error {
	p := s.Participant
	cur, err := db.participantDoc(ctx, p.ID)
	switch {
	case err != nil && !errIsNotFound(err):
		return err
	case s.Created && err == nil:
		return fmt.Errorf("%w: participant exists", errs.ErrConflict)
	case !s.Created && err != nil:
		return fmt.Errorf("%w: participant is not at version %d: it does not exist", errs.ErrConflict, s.PrevVersion)
	case !s.Created && cur.Version != s.PrevVersion:
		return fmt.Errorf("%w: participant is not at version %d", errs.ErrConflict, s.PrevVersion)
	}
	if s.InboundID != 0 {
		if err := db.checkUnprocessed(ctx, s.InboundID); err != nil {
			return err
		}
	}

	n := len(s.Lines) + len(s.Entries) + len(s.Outbox) + len(s.Timers) + len(s.Notifications) + 1
	id, err := db.next(ctx, n)
	if err != nil {
		return err
	}
	at := ns(p.UpdatedAt)
	st := &stepDoc{T: token(), V: p.Version, At: at, Inbound: s.InboundID,
		CancelOutbox: s.CancelOutbox, CancelTimers: s.CancelTimers}
	seq := id
	id++
	for _, l := range s.Lines {
		st.Lines = append(st.Lines, lineDoc{ID: id, ParticipantID: p.ID, Direction: string(l.Direction),
			Text: l.Text, MediaKey: l.MediaKey, At: ns(l.At)})
		id++
	}
	for _, e := range s.Entries {
		e.ParticipantID = p.ID
		st.Entries = append(st.Entries, toEntryDoc(e, id))
		id++
	}
	for _, o := range s.Outbox {
		o.ParticipantID = p.ID
		st.Outbox = append(st.Outbox, toOutboxDoc(o, id, p.Version))
		id++
	}
	for _, t := range s.Timers {
		t.ParticipantID = p.ID
		st.Timers = append(st.Timers, toTimerDoc(t, id, p.Version))
		id++
	}
	for _, nt := range s.Notifications {
		st.Notifications = append(st.Notifications, noteDoc{ID: id, Campaign: nt.Campaign,
			ParticipantID: p.ID, Text: nt.Text, At: ns(nt.At)})
		id++
	}

	// Reservations are released with a context that outlives the caller's, so a cancelled
	// request does not leave a code or a place taken.
	release := func() { db.release(context.WithoutCancel(ctx), p.Campaign, s.Codes, st) }
	if err := db.reserveCodes(ctx, p, s.Codes, st.T); err != nil {
		release()
		return err
	}
	if err := db.takePlaces(ctx, p.ID, s.Places, st); err != nil {
		release()
		return err
	}
	if err := db.claimCodes(ctx, p.ID, s.Claims, st); err != nil {
		release()
		return err
	}

	doc := toParticipantDoc(p, seq)
	doc.Step = st
	if s.Created {
		_, err = db.c(colParticipants).InsertOne(ctx, doc)
		if mongo.IsDuplicateKeyError(err) {
			err = fmt.Errorf("%w: participant exists", errs.ErrConflict)
		}
	} else {
		var res *mongo.UpdateResult
		res, err = db.c(colParticipants).UpdateOne(ctx,
			d("_id", p.ID, "version", s.PrevVersion, "step", d("$exists", false)),
			d("$set", d("campaign", doc.Campaign, "channel", doc.Channel, "address", doc.Address,
				"state", doc.State, "vars", doc.Vars, "version", doc.Version, "def_version", doc.DefVersion,
				"entered", doc.Entered, "finished", doc.Finished, "last_inbound_at", doc.LastInboundAt,
				"last_reply_due", doc.LastReplyDue, "updated_at", doc.UpdatedAt, "step", st)))
		if err == nil && res.MatchedCount == 0 {
			err = fmt.Errorf("%w: participant is not at version %d", errs.ErrConflict, s.PrevVersion)
		}
	}
	if err != nil {
		// A network error leaves it unknown whether the swap happened. If it did, the intent
		// holds this call's token and the reservations belong to the step; otherwise they go.
		var now participantDoc
		ferr := db.c(colParticipants).FindOne(context.WithoutCancel(ctx), d("_id", p.ID)).Decode(&now)
		if ferr == nil && now.Step != nil && now.Step.T == st.T {
			return db.finish(ctx, p.ID, st)
		}
		if ferr == nil || errIsNotFound(ferr) {
			release()
		}
		return err
	}
	if !finish {
		return nil
	}
	return db.finish(ctx, p.ID, st)
}

func (db *DB) checkUnprocessed(ctx context.Context, id int64) error {
	var in inboundDoc
	err := db.c(colInbound).FindOne(ctx, d("_id", id),
		options.FindOne().SetProjection(d("processed", 1))).Decode(&in)
	if err != nil {
		return fmt.Errorf("inbound %d: %w", id, convert(err))
	}
	if in.Processed {
		return fmt.Errorf("inbound %d: %w", id, engine.ErrProcessed)
	}
	return nil
}

type codeDoc struct {
	Campaign      string `bson:"campaign"`
	Code          string `bson:"code"`
	ParticipantID string `bson:"participant_id"`
	Token         string `bson:"t"`
	IssuedAt      int64  `bson:"issued_at"`
}

func (db *DB) reserveCodes(ctx context.Context, p engine.Participant, codes []string, tok string) error {
	for _, code := range codes {
		_, err := db.c(colCodes).InsertOne(ctx, codeDoc{Campaign: p.Campaign, Code: code,
			ParticipantID: p.ID, Token: tok, IssuedAt: ns(p.UpdatedAt)})
		if mongo.IsDuplicateKeyError(err) {
			return fmt.Errorf("code %s: %w", code, engine.ErrCodeTaken)
		}
		if err != nil {
			return fmt.Errorf("code %s: %w", code, err)
		}
	}
	return nil
}

// holdRef names one place a step took: a slot document of its pool.
type holdRef struct {
	Campaign string `bson:"campaign"`
	Pool     string `bson:"pool"`
	Slot     int64  `bson:"slot"`
}

// placeDoc is one taken place of a pool. A pool of capacity n has slots 0 to n-1, and a unique
// index on (campaign, pool, slot) lets each be inserted once: taking a place is an insert, the
// one write that is atomic on every server this store runs on. (A counter incremented under a
// "taken < capacity" filter is atomic on MongoDB but not on FerretDB v1, whose conditional
// updates read, then write by _id.) t is the token of the step that took it; confirmed is set
// once that step committed, so a place held by a step that died before committing can be told
// apart.
type placeDoc struct {
	Campaign      string `bson:"campaign"`
	Pool          string `bson:"pool"`
	Slot          int64  `bson:"slot"`
	Token         string `bson:"t"`
	ParticipantID string `bson:"participant_id"`
	At            int64  `bson:"at"`
	Confirmed     bool   `bson:"confirmed"`
}

// takePlaces takes one place per entry. Probing starts at the number of places taken, so
// without contention the first insert succeeds; a slot taken by a concurrent step moves the
// probe on, and a pool is full when every slot below its capacity is taken.
func (db *DB) takePlaces(ctx context.Context, participantID string, places []engine.Place, st *stepDoc) error {
	for _, pl := range places {
		filter := d("campaign", pl.Campaign, "pool", pl.Pool)
		taken, err := db.c(colPlaces).CountDocuments(ctx, filter)
		if err != nil {
			return fmt.Errorf("pool %s: %w", pl.Pool, err)
		}
		capacity := int64(pl.Capacity)
		got := false
		for i := int64(0); i < capacity && taken < capacity; i++ {
			slot := (taken + i) % capacity
			_, err := db.c(colPlaces).InsertOne(ctx, placeDoc{Campaign: pl.Campaign, Pool: pl.Pool,
				Slot: slot, Token: st.T, ParticipantID: participantID, At: st.At})
			if mongo.IsDuplicateKeyError(err) {
				continue
			}
			if err != nil {
				return fmt.Errorf("pool %s: %w", pl.Pool, err)
			}
			st.Holds = append(st.Holds, holdRef{Campaign: pl.Campaign, Pool: pl.Pool, Slot: slot})
			got = true
			break
		}
		if !got {
			return fmt.Errorf("pool %s: %w", pl.Pool, engine.ErrPoolFull)
		}
	}
	return nil
}

// release gives back what a losing step reserved; only documents carrying its token go.
func (db *DB) release(ctx context.Context, campaign string, codes []string, st *stepDoc) {
	if len(codes) > 0 {
		db.c(colCodes).DeleteMany(ctx, d("campaign", campaign, "code", d("$in", codes), "t", st.T))
	}
	for _, h := range st.Holds {
		db.c(colPlaces).DeleteOne(ctx, d("campaign", h.Campaign, "pool", h.Pool, "slot", h.Slot, "t", st.T))
	}
	for _, c := range st.Claims {
		db.c(colCodeClaims).DeleteOne(ctx, d("campaign", c.Campaign, "pool", c.Pool, "key", c.Key, "t", st.T))
	}
}

// finish writes a committed step's effects and removes its intent. Every write is idempotent,
// so any number of callers may finish the same intent, at once or one after the other.
func (db *DB) finish(ctx context.Context, participantID string, st *stepDoc) error {
	if st.CancelOutbox {
		_, err := db.c(colOutbox).UpdateMany(ctx,
			d("participant_id", participantID, "status", engine.StatusPending, "ver", d("$lt", st.V)),
			d("$set", d("status", engine.StatusCancelled, "error", engine.NotSentOptedOut, "updated_at", st.At)))
		if err != nil {
			return fmt.Errorf("cancel outbox: %w", err)
		}
	}
	if st.CancelTimers {
		_, err := db.c(colTimers).UpdateMany(ctx,
			d("participant_id", participantID, "active", true, "ver", d("$lt", st.V)),
			d("$set", d("active", false)))
		if err != nil {
			return fmt.Errorf("cancel timers: %w", err)
		}
	}
	for _, w := range []struct {
		coll string
		docs []any
	}{
		{colLines, anys(st.Lines)},
		{colEntries, anys(st.Entries)},
		{colOutbox, anys(st.Outbox)},
		{colTimers, anys(st.Timers)},
		{colNotifications, anys(st.Notifications)},
	} {
		if err := insertAll(ctx, db.c(w.coll), w.docs); err != nil {
			return fmt.Errorf("write %s: %w", w.coll, err)
		}
	}
	for _, h := range st.Holds {
		_, err := db.c(colPlaces).UpdateOne(ctx, d("campaign", h.Campaign, "pool", h.Pool, "slot", h.Slot, "t", st.T),
			d("$set", d("confirmed", true)))
		if err != nil {
			return fmt.Errorf("confirm place in %s: %w", h.Pool, err)
		}
	}
	if err := db.confirmClaims(ctx, st); err != nil {
		return err
	}
	if st.Inbound != 0 {
		// The event may already be marked by an earlier finisher: that is this step's mark.
		_, err := db.c(colInbound).UpdateOne(ctx, d("_id", st.Inbound, "processed", false),
			d("$set", d("processed", true)))
		if err != nil {
			return fmt.Errorf("mark inbound %d: %w", st.Inbound, err)
		}
	}
	_, err := db.c(colParticipants).UpdateOne(ctx, d("_id", participantID, "step.t", st.T),
		d("$unset", d("step", "")))
	if err != nil {
		return fmt.Errorf("clear intent: %w", err)
	}
	return nil
}

func anys[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// commitStranger writes a step without a participant: replies to a stranger, and the event it
// consumes, which owns the intent.
func (db *DB) commitStranger(ctx context.Context, s engine.Step) error {
	if s.Created || len(s.Lines) > 0 || len(s.Entries) > 0 || len(s.Codes) > 0 || len(s.Places) > 0 ||
		len(s.Claims) > 0 || len(s.Timers) > 0 || len(s.Notifications) > 0 {
		return fmt.Errorf("%w: a step without a participant may only queue replies", errs.ErrInvalid)
	}
	first, err := db.next(ctx, len(s.Outbox))
	if err != nil {
		return err
	}
	st := &strangerStep{T: token()}
	for i, o := range s.Outbox {
		o.ParticipantID = ""
		st.Outbox = append(st.Outbox, toOutboxDoc(o, first+int64(i), 0))
	}
	if s.InboundID == 0 {
		return insertAll(ctx, db.c(colOutbox), anys(st.Outbox))
	}
	var in inboundDoc
	if err := db.c(colInbound).FindOne(ctx, d("_id", s.InboundID)).Decode(&in); err != nil {
		return fmt.Errorf("inbound %d: %w", s.InboundID, convert(err))
	}
	if in.Step != nil {
		if err := db.finishStranger(ctx, in.ID, in.Step); err != nil {
			return err
		}
		return fmt.Errorf("inbound %d: %w", s.InboundID, engine.ErrProcessed)
	}
	res, err := db.c(colInbound).UpdateOne(ctx,
		d("_id", s.InboundID, "processed", false, "step", d("$exists", false)), d("$set", d("step", st)))
	if err != nil {
		return err
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("inbound %d: %w", s.InboundID, engine.ErrProcessed)
	}
	return db.finishStranger(ctx, s.InboundID, st)
}

func (db *DB) finishStranger(ctx context.Context, inboundID int64, st *strangerStep) error {
	if err := insertAll(ctx, db.c(colOutbox), anys(st.Outbox)); err != nil {
		return fmt.Errorf("write outbox: %w", err)
	}
	_, err := db.c(colInbound).UpdateOne(ctx, d("_id", inboundID, "step.t", st.T),
		d("$set", d("processed", true), "$unset", d("step", "")))
	if err != nil {
		return fmt.Errorf("mark inbound %d: %w", inboundID, err)
	}
	return nil
}

// Recover finishes every write a process left half done: steps whose effects were not all
// written, verdicts whose event was not stored, timers claimed but not turned into events.
// Open runs it; a deployment of several processes should also run it now and then (every
// minute is plenty), because a crashed process's leftovers are otherwise finished only when
// someone next touches the participant. It is safe to run at any time, alongside the writers
// it finishes for.
func (db *DB) Recover(ctx context.Context) error {
	var ps []participantDoc
	if err := find(ctx, db.c(colParticipants), d("step", d("$exists", true)), nil, &ps); err != nil {
		return fmt.Errorf("recover steps: %w", err)
	}
	for _, p := range ps {
		if err := db.finish(ctx, p.ID, p.Step); err != nil {
			return fmt.Errorf("recover step of %s: %w", p.ID, err)
		}
	}
	var ins []inboundDoc
	if err := find(ctx, db.c(colInbound), d("step", d("$exists", true)), nil, &ins); err != nil {
		return fmt.Errorf("recover replies to strangers: %w", err)
	}
	for _, in := range ins {
		if err := db.finishStranger(ctx, in.ID, in.Step); err != nil {
			return fmt.Errorf("recover reply to inbound %d: %w", in.ID, err)
		}
	}
	var es []entryDoc
	if err := find(ctx, db.c(colEntries), d("event", d("$exists", true)), nil, &es); err != nil {
		return fmt.Errorf("recover verdicts: %w", err)
	}
	for _, e := range es {
		if err := db.finishVerdict(ctx, e.ID, *e.Event); err != nil {
			return fmt.Errorf("recover verdict on %s: %w", e.ID, err)
		}
	}
	var ts []timerDoc
	if err := find(ctx, db.c(colTimers), d("firing", d("$exists", true)), nil, &ts); err != nil {
		return fmt.Errorf("recover timers: %w", err)
	}
	for _, t := range ts {
		if _, err := db.storeAll(ctx, t.Firing); err != nil {
			return fmt.Errorf("recover timer %d: %w", t.ID, err)
		}
		if _, err := db.c(colTimers).UpdateOne(ctx, d("_id", t.ID), d("$unset", d("firing", ""))); err != nil {
			return fmt.Errorf("recover timer %d: %w", t.ID, err)
		}
	}
	return db.recoverReleases(ctx)
}
