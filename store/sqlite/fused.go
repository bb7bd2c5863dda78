package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/chatcampaigns/campaign/engine"
)

// inboundIDs hands out the ids of stored events. The engine's receive loop works out a
// message's step before the message is stored, and the step names its event (its InboundID,
// its entries' ids), so ids are given out ahead, by this counter, to every insert of an event
// (SaveInbound, Decide, StoreEvents, ReceiveApplied): an id reserved is then never taken by
// AUTOINCREMENT. It starts past every id the file ever gave (sqlite_sequence keeps the highest,
// deleted rows included), as AUTOINCREMENT does.
type inboundIDs struct{ last atomic.Int64 }

// take reserves n consecutive ids and returns the first.
func (a *inboundIDs) take(n int) int64 { return a.last.Add(int64(n)) - int64(n) + 1 }

// atLeast moves the counter past id.
func (a *inboundIDs) atLeast(id int64) {
	for {
		cur := a.last.Load()
		if cur >= id || a.last.CompareAndSwap(cur, id) {
			return
		}
	}
}

// lastInboundID is the highest event id the file has given out.
func lastInboundID(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT MAX(
		COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'inbound'), 0),
		COALESCE((SELECT MAX(id) FROM inbound), 0))`).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("last inbound id: %w", err)
	}
	return id, nil
}

// idTaken says an insert failed on the id: another handle on the file (a second process,
// against the rule) inserted an event under an id this one had reserved.
func idTaken(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// NextInboundIDs reserves n consecutive event ids and returns the first (engine.receiveApplier).
func (db *DB) NextInboundIDs(n int) int64 { return db.ids.take(n) }

// ReceiveApplied stores events and applies their steps in one transaction, the engine's
// receive loop's write (engine.receiveApplier): each item's event is inserted under its
// reserved id with SaveInbound's dedupe (a duplicate stores and applies nothing); its step,
// when it has one, is applied only when the participant has no other event unprocessed and
// the step's version check (beginStep) passes, and the event is then inserted processed.
// Otherwise the event is stored unprocessed, as SaveInbound stores it, and the outcome says
// why. An error means nothing was stored.
//
// A step is written by beginStep and finishStep, as CommitBatch writes it, without a
// savepoint unless it takes codes, places or claims (which can fail after it began).
func (db *DB) ReceiveApplied(ctx context.Context, items []engine.ReceivedStep) ([]engine.ReceiveOutcome, error) {
	out := make([]engine.ReceiveOutcome, len(items))
	err := db.write(ctx, func(tx *wtx) error {
		clear(out) // a group that failed elsewhere runs this again
		for i, it := range items {
			o, err := receiveApplied(ctx, tx, it)
			if err != nil {
				return fmt.Errorf("event %s/%s: %w", it.Inbound.Channel, it.Inbound.PlatformID, err)
			}
			out[i] = o
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: receive %d events: %w", len(items), convert(err))
	}
	var written []engine.Participant
	for i, it := range items {
		switch {
		case it.Step == nil:
		case out[i].Applied && it.Step.Participant.ID != "":
			written = append(written, it.Step.Participant)
		case out[i].NotApplied != nil:
			db.refused(*it.Step, out[i].NotApplied)
		}
	}
	db.routes.committed(written)
	return out, nil
}

// receiveApplied stores one item inside tx. An error leaves the transaction unfit to commit.
func receiveApplied(ctx context.Context, tx *wtx, it engine.ReceivedStep) (engine.ReceiveOutcome, error) {
	var o engine.ReceiveOutcome
	apply := it.Step != nil
	if apply {
		waiting, err := tx.eventsWaiting(ctx, it.Inbound.ParticipantID)
		if err != nil {
			return o, err
		}
		if waiting {
			apply, o.NotApplied = false, engine.ErrEventsWaiting
		}
	}
	id, dup, err := insertInboundAs(ctx, tx, it.ID, it.Inbound, apply)
	if idTaken(err) {
		// The step names an id another writer took: the event goes to the worker under a
		// new one, and its step is worked out again there.
		o.NotApplied = fmt.Errorf("event id %d taken by another writer", it.ID)
		apply = false
		id, dup, err = insertInbound(ctx, tx, it.Inbound)
	}
	if err != nil {
		return o, err
	}
	if dup {
		return engine.ReceiveOutcome{Duplicate: true}, nil
	}
	if !apply {
		return o, nil
	}
	var first *attemptAs
	if it.SendAs != "" {
		ok, err := nothingToOvertake(ctx, tx, it)
		if err != nil {
			return o, err
		}
		if ok {
			first = &attemptAs{owner: it.SendAs, at: it.SendAt}
		}
	}
	ids, why, err := applyStep(ctx, tx, *it.Step, first)
	if err != nil {
		return o, err
	}
	if why != nil {
		// Refused before anything of it was written: the event waits for the worker, as an
		// event stored by SaveInbound does (unprocessed, no skip reason).
		if _, err := tx.ExecContext(ctx, `UPDATE inbound SET processed = 0 WHERE id = ?`, id); err != nil {
			return o, fmt.Errorf("leave event %d to the worker: %w", id, err)
		}
		tx.mayWait(it.Inbound.ParticipantID)
		o.NotApplied = convert(why)
		return o, nil
	}
	o.Applied = true
	o.Sending = ids
	return o, nil
}

// nothingToOvertake says whether the first reply of the step in it may be recorded attempted
// with its insert, to be sent at once (engine.ReceivedStep.SendAs): the step queues replies,
// all pending, and nothing the participant has pending could be overtaken by sending it now,
// but the replies it.Posted lists. It runs before the step is written, so the replies it
// finds pending are all earlier ones.
func nothingToOvertake(ctx context.Context, tx *wtx, it engine.ReceivedStep) (bool, error) {
	s := *it.Step
	if s.Participant.ID == "" || len(s.Outbox) == 0 {
		return false, nil
	}
	for _, o := range s.Outbox {
		if o.Status != "" && o.Status != engine.StatusPending {
			return false, nil
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT id FROM outbox INDEXED BY outbox_unsent
		WHERE participant_seq = (SELECT seq FROM participants WHERE id = ?) AND status = 'pending'`,
		s.Participant.ID)
	if err != nil {
		return false, fmt.Errorf("unsent replies of %s: %w", s.Participant.ID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return false, fmt.Errorf("unsent replies of %s: %w", s.Participant.ID, err)
		}
		if !slices.Contains(it.Posted, id) {
			return false, nil
		}
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("unsent replies of %s: %w", s.Participant.ID, err)
	}
	return true, nil
}

// applyStep writes a step whose event is stored processed already (it has no InboundID to
// consume), its first reply attempted when first is not nil (the ids are then the step's
// replies'). why is the ordinary refusal (a stale version, a code taken, a full pool) after
// which nothing of the step is written; err leaves the transaction unfit to commit.
func applyStep(ctx context.Context, tx *wtx, s engine.Step, first *attemptAs) (ids []int64, why, err error) {
	s.InboundID = 0
	if len(s.Codes) == 0 && len(s.Places) == 0 && len(s.Claims) == 0 {
		// As in CommitBatch: only beginStep fails in the ordinary course, writing nothing.
		if err := beginStep(ctx, tx, s); err != nil {
			if !ordinary(err) {
				return nil, nil, err
			}
			return nil, err, nil
		}
		ids, err := finishStepAs(ctx, tx, s, first)
		if err != nil {
			return nil, nil, fmt.Errorf("step for %s: %w", s.Participant.ID, err)
		}
		return ids, nil, nil
	}
	if _, err := tx.ExecContext(ctx, `SAVEPOINT step`); err != nil {
		return nil, nil, err
	}
	why = beginStep(ctx, tx, s)
	if why == nil {
		ids, why = finishStepAs(ctx, tx, s, first)
	}
	if why != nil {
		ids = nil
		if _, err := tx.ExecContext(ctx, `ROLLBACK TO step`); err != nil {
			return nil, nil, errors.Join(why, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `RELEASE step`); err != nil {
		return nil, nil, err
	}
	return ids, why, nil
}

// waitingSet is what the writer knows of the participants with events stored unprocessed:
// each participant in it may have some, one not in it has none. The receive loop applies a
// message with its storing only when its participant has none (ReceiveApplied), and asking
// the file for every message (a probe of inbound_waiting, a query and its row) cost the
// writer as much as the event's insert; a participant found in the set is still asked, and
// leaves it when the answer is none and that answer commits.
//
// Every event stored unprocessed, or given back to the worker, goes through the writer, which
// adds its participant at once (wtx.mayWait): the set may say "may wait" wrongly (a write
// rolled back), never "none" wrongly. It holds what the file held at Open, so a second
// process writing events into the file (which the store forbids: DB.SoleProcess) would go
// unseen. Only the writer's goroutine touches it.
type waitingSet struct {
	// maybe maps each participant to the addition that put it there last (seq).
	maybe map[string]uint64
	seq   uint64
	// loaded is the set's size when it was last read from the file: past twice that (and
	// waitingReload) it is read again between two groups, so that participants whose events
	// the worker has processed since do not pile up.
	loaded int
}

// waitingReload is the least size of the set at which it is read again from the file.
const waitingReload = 4096

// loadWaiting reads the participants with events unprocessed (inbound_waiting, an index of
// the unprocessed events alone).
func loadWaiting(ctx context.Context, c interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}) (waitingSet, error) {
	w := waitingSet{maybe: map[string]uint64{}}
	rows, err := c.QueryContext(ctx, `SELECT DISTINCT participant_id FROM inbound WHERE processed = 0`)
	if err != nil {
		return w, fmt.Errorf("participants with events waiting: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return w, fmt.Errorf("participants with events waiting: %w", err)
		}
		w.maybe[id] = 0
	}
	if err := rows.Err(); err != nil {
		return w, fmt.Errorf("participants with events waiting: %w", err)
	}
	w.loaded = len(w.maybe)
	return w, nil
}

// reloadWaiting reads the set from the file again when it grew past waitingReload and twice
// its size at the last read. It runs between two groups, when the file holds exactly what
// the writer committed.
func (db *DB) reloadWaiting() {
	if n := len(db.waiting.maybe); n < waitingReload || n < 2*db.waiting.loaded {
		return
	}
	w, err := loadWaiting(context.Background(), db.wc)
	if err != nil {
		return // the set as it is stays right, only larger
	}
	w.seq = db.waiting.seq
	db.waiting = w
}

// cleared is a participant found with no event waiting, and the addition to the set it was
// found after: it leaves the set when the transaction commits, unless added again since.
type cleared struct {
	participant string
	seq         uint64
}

// mayWait records that the participant has an event stored unprocessed in this transaction.
func (t *wtx) mayWait(participant string) {
	t.db.waiting.seq++
	t.db.waiting.maybe[participant] = t.db.waiting.seq
}

// eventsWaiting says whether the participant has events stored unprocessed: false at once
// when the set says none, otherwise as the file says.
func (t *wtx) eventsWaiting(ctx context.Context, participant string) (bool, error) {
	seq, maybe := t.db.waiting.maybe[participant]
	if !maybe {
		return false, nil
	}
	var waiting bool
	err := t.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM inbound WHERE participant_id = ? AND processed = 0)`,
		participant).Scan(&waiting)
	if err != nil {
		return false, fmt.Errorf("events waiting: %w", err)
	}
	if !waiting {
		t.cleared = append(t.cleared, cleared{participant, seq})
	}
	return waiting, nil
}

// committed takes the participants found with nothing waiting out of the set, now that what
// they were found in is committed.
func (t *wtx) committed() {
	for _, c := range t.cleared {
		if seq, ok := t.db.waiting.maybe[c.participant]; ok && seq == c.seq {
			delete(t.db.waiting.maybe, c.participant)
		}
	}
	t.cleared = nil
}
