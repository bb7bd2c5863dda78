package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// receiveApplier is a Store that stores a webhook's event and applies its step in one write
// (store/sqlite, used by one process). On the path before it a message took two turns of
// the one writer (SaveInbound, then the worker's CommitBatch), a read of the pending events
// in between and an UPDATE marking the event processed; here it takes one turn and none of
// the rest (docs/performance.md, "One write per message in").
//
// NextInboundIDs reserves n consecutive event ids and returns the first: a step names its
// event (Step.InboundID, the ids of its entries) before the event is stored. Every event the
// store keeps takes its id from the same sequence, so a reserved id is never taken by
// another insert.
//
// ReceiveApplied stores items in order in one transaction and returns one outcome per item.
// An event stored before is a duplicate, and nothing of it is stored or applied. An item's
// step is applied only when its participant has no other unprocessed event (theirs are
// applied in order by the worker) and its participant's version is still Step.PrevVersion;
// its event is then stored processed. Otherwise the event is stored unprocessed, as
// SaveInbound stores it, for the worker. err not nil means nothing was stored.
type receiveApplier interface {
	NextInboundIDs(n int) int64
	ReceiveApplied(ctx context.Context, items []ReceivedStep) ([]ReceiveOutcome, error)
}

// ReceivedStep is one event for receiveApplier: the event, its reserved id, and the step it
// makes when applied at once (nil: the event is only stored).
//
// SendAs, when not empty, asks for the attempt of the step's first reply to be recorded in
// the same write, by owner SendAs at SendAt, as AttemptOutbox records it (the receive loop
// then sends it at once: direct.go). The store does so only when the step is applied, all
// of its replies are queued pending, and the participant has no other reply pending but
// those listed in Posted (sent already, their record on its way): any other could be
// overtaken.
type ReceivedStep struct {
	ID      int64
	Inbound Inbound
	Step    *Step
	SendAs  string
	SendAt  time.Time
	Posted  []int64
}

// ReceiveOutcome is what receiveApplier did with one ReceivedStep.
type ReceiveOutcome struct {
	// Duplicate: the event was stored before; nothing was stored or applied.
	Duplicate bool
	// Applied: the event is stored processed and its step written.
	Applied bool
	// NotApplied is why a step given was not applied (ErrEventsWaiting, a stale version, a
	// code taken, ...); the event is stored unprocessed, for the worker.
	NotApplied error
	// Sending is the ids of the step's replies, in the order queued, when the first one's
	// attempt was recorded (ReceivedStep.SendAs); nil otherwise.
	Sending []int64
}

// ErrEventsWaiting is why a step was not applied with its event: the participant has events
// stored before it still to be processed, and those come first.
var ErrEventsWaiting = errors.New("participant has events waiting to be processed")

// maxFusedBatch bounds the events the receive loop stores and applies in one write. Every
// webhook waiting at the moment goes into the write (they wait for it anyway); the bound keeps
// one write from holding the writer long.
const maxFusedBatch = 100

// fusedRequest is one Receive handed to the receive loop. Requests are reused
// (fusedRequests): done is answered once per use, and read before the request is put back.
type fusedRequest struct {
	in   Inbound
	done chan fusedAnswer
}

type fusedAnswer struct {
	duplicate bool
	err       error
	// notTaken: the loop ended before it took the request; nothing was stored.
	notTaken bool
}

// fusedRequests are the requests of Receives done, with their answer channel: two
// allocations a message fewer.
var fusedRequests = sync.Pool{New: func() any { return &fusedRequest{done: make(chan fusedAnswer, 1)} }}

// fusedLoop is the receive loop of one Run: requests are queued while it runs; stopped is
// closed once it takes no more.
//
// The queue is a slice under a lock and a wake-up, not a channel the loop receives from: a
// webhook that found the loop busy with a write parked on an unbuffered send, was woken when
// the loop took it, and parked again at once waiting for the answer. Queued, it parks once,
// for the answer, and the loop takes all that wait in one go (docs/performance.md, "The
// webhook's hand-offs").
type fusedLoop struct {
	mu     sync.Mutex
	queue  []*fusedRequest
	closed bool
	// wake has a token when the queue may have requests the loop has not seen.
	wake    chan struct{}
	stopped chan struct{}
}

// put queues r, false when the loop ended (r was not taken).
func (l *fusedLoop) put(r *fusedRequest) bool {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return false
	}
	l.queue = append(l.queue, r)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
	return true
}

// take moves up to maxFusedBatch queued requests, oldest first, to batch (none: the queue
// is empty).
func (l *fusedLoop) take(batch []*fusedRequest) []*fusedRequest {
	l.mu.Lock()
	n := min(len(l.queue), maxFusedBatch)
	batch = append(batch, l.queue[:n]...)
	rest := copy(l.queue, l.queue[n:])
	clear(l.queue[rest:])
	l.queue = l.queue[:rest]
	l.mu.Unlock()
	return batch
}

// close takes no more requests and returns those queued and not taken.
func (l *fusedLoop) close() []*fusedRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	left := l.queue
	l.queue = nil
	return left
}

// receiveLoop makes the receive loop Receive hands events to, when the store can store and
// apply them in one write; nil otherwise.
func (e *Engine) receiveLoop() (receiveApplier, *fusedLoop) {
	ra, ok := e.store.(receiveApplier)
	if sp, sole := e.store.(soleProcess); !ok || !sole || !sp.SoleProcess() {
		// Where several processes share the store, the worker leases participants before it
		// applies their events (ProcessPending); this loop takes no lease.
		return nil, nil
	}
	l := &fusedLoop{wake: make(chan struct{}, 1), stopped: make(chan struct{})}
	e.fused.Store(l)
	return ra, l
}

// receiveFused hands in to the receive loop and waits for the outcome of its write. ok is
// false when no loop runs (Run not started, or ended before it took in): the caller stores the
// event the old way. Once queued, the answer is awaited even if ctx ends, so that nil always
// means stored (as store/sqlite's write).
func (e *Engine) receiveFused(ctx context.Context, in Inbound) (duplicate, ok bool, err error) {
	l := e.fused.Load()
	if l == nil {
		return false, false, nil
	}
	if err := ctx.Err(); err != nil {
		return false, true, fmt.Errorf("engine: receive %s/%s: %w", in.Channel, in.PlatformID, err)
	}
	r := fusedRequests.Get().(*fusedRequest)
	r.in = in
	if !l.put(r) {
		r.in = Inbound{}
		fusedRequests.Put(r)
		return false, false, nil
	}
	a := <-r.done
	r.in = Inbound{}
	fusedRequests.Put(r)
	if a.notTaken {
		return false, false, nil
	}
	return a.duplicate, true, a.err
}

// runFused is the receive loop: it takes every Receive waiting (up to maxFusedBatch) and
// stores them, applying their steps, in one write. It runs until ctx ends; a batch it took
// is always written and answered, and a Receive queued and not taken by then is told so (it
// stores its event the old way).
func (e *Engine) runFused(ctx context.Context, ra receiveApplier, l *fusedLoop) {
	defer close(l.stopped)
	defer e.fused.CompareAndSwap(l, nil)
	defer func() {
		for _, r := range l.close() {
			r.done <- fusedAnswer{notTaken: true}
		}
	}()
	// A batch taken is finished whatever ctx does: its webhooks wait for the answer.
	wctx := context.WithoutCancel(ctx)
	var batch []*fusedRequest
	for {
		select {
		case <-l.wake:
		case <-ctx.Done():
			return
		}
		// All that is queued is taken, a batch at a time, before waiting again: the token
		// stands for every request queued since the last one was taken.
		for {
			if ctx.Err() != nil {
				return
			}
			batch = l.take(batch[:0])
			if len(batch) == 0 {
				break
			}
			e.receiveBatch(wctx, ctx, ra, batch)
			clear(batch)
		}
	}
}

// receiveBatch stores a batch of received events in one write, applying the step of each
// participant's first event of the batch when the store can (receiveApplier); the others,
// and every event whose step could not be worked out or written, are stored unprocessed and
// left to the worker, as Receive without the loop stores them.
//
// run is Run's context, which the batch's direct sends stop on (ctx, the batch's, does not
// end: a batch taken is written and answered).
func (e *Engine) receiveBatch(ctx, run context.Context, ra receiveApplier, batch []*fusedRequest) {
	start := time.Now()
	first := ra.NextInboundIDs(len(batch))
	items := make([]ReceivedStep, len(batch))
	ins := make([]StoredInbound, 0, len(batch)) // the events whose step is worked out now
	at := make([]int, 0, len(batch))            // and their place in items
	seen := newSeen(len(batch))
	for i, r := range batch {
		items[i] = ReceivedStep{ID: first + int64(i), Inbound: r.in}
		// A participant's later events of the batch wait for the first (and the worker):
		// their step depends on what it does. A paused campaign's events wait for its resume.
		if seen.has(ins, r.in.ParticipantID) || e.Status(r.in.Campaign) == StatusPaused {
			continue
		}
		seen.add(r.in.ParticipantID)
		ins = append(ins, StoredInbound{ID: items[i].ID, Inbound: r.in})
		at = append(at, i)
	}
	sb := e.stepsOf(ctx, ins)
	undo := make([]func(), len(items))
	now := e.now()
	for k, j := range sb.from {
		i := at[j]
		items[i].Step = &sb.steps[k]
		undo[i] = sb.undos[k]
		if e.directCandidate(items[i].Step, now) {
			if posted, ok := e.turns.begin(items[i].Step.Participant.ID); ok {
				items[i].SendAs, items[i].SendAt, items[i].Posted = e.owner, now, posted
			}
		}
	}
	outcomes, err := ra.ReceiveApplied(ctx, items)
	// A direct send the write did not record goes to the rounds.
	wake := false
	for i := range items {
		if items[i].SendAs != "" && (err != nil || outcomes[i].Sending == nil) {
			wake = e.turns.end(items[i].Step.Participant.ID) || wake
		}
	}
	if wake {
		e.wakeSender()
	}
	if err != nil {
		// Nothing was stored: each event goes the old way, in order.
		e.log.Warn("store and apply received events failed, storing them one by one", "events", len(items), "err", err)
		for i, r := range batch {
			if undo[i] != nil {
				undo[i]()
			}
			_, dup, err := e.store.SaveInbound(ctx, r.in)
			r.done <- e.received(r.in, dup, false, err)
		}
		e.Wake()
		return
	}
	applied, left, direct := 0, 0, 0
	for i, o := range outcomes {
		switch {
		case o.Applied:
			applied++
			if o.Sending != nil {
				direct++
			}
			e.written(*items[i].Step)
		case undo[i] != nil:
			undo[i]()
		}
		if !o.Duplicate && !o.Applied {
			left++
		}
		if o.NotApplied != nil {
			e.log.Debug("received event left to the worker", "participant", items[i].Inbound.ParticipantID, "why", o.NotApplied)
		}
	}
	if applied > 0 {
		per := time.Since(start) / time.Duration(applied)
		for range applied {
			e.obs.EventApplied(per)
		}
		if applied > direct {
			e.wakeSender()
		}
	}
	for i, r := range batch {
		o := outcomes[i]
		r.done <- e.received(r.in, o.Duplicate, o.Applied, nil)
	}
	if left > 0 {
		e.Wake()
	}
	// After the answers: posted first, the replies made the webhooks' answers wait for a core
	// (closed loop, webhook p50 26–28 ms against 22–23).
	for i, o := range outcomes {
		if o.Applied && o.Sending != nil {
			e.turns.wg.Add(1)
			go e.sendDirect(run, items[i].Step, o.Sending)
		}
	}
}

// seen is the participants of a batch's events whose step is worked out now. A batch holds
// a few events (two on average under a closed loop of 128 senders): a look through them
// costs less than a map built for every batch, which only a large batch gets.
type seen map[string]bool

const seenByMap = 16

func newSeen(n int) seen {
	if n <= seenByMap {
		return nil
	}
	return make(seen, n)
}

// has says one of ins (the events taken so far) is participant's.
func (s seen) has(ins []StoredInbound, participant string) bool {
	if s != nil {
		return s[participant]
	}
	for i := range ins {
		if ins[i].ParticipantID == participant {
			return true
		}
	}
	return false
}

func (s seen) add(participant string) {
	if s != nil {
		s[participant] = true
	}
}

// received counts an event Receive stored (or not, err) and returns its answer: an event
// applied at once is never in the events backlog; one stored unprocessed is, unless its
// campaign is paused.
func (e *Engine) received(in Inbound, dup, applied bool, err error) fusedAnswer {
	if err != nil {
		return fusedAnswer{err: fmt.Errorf("engine: receive %s/%s: %w", in.Channel, in.PlatformID, err)}
	}
	e.obs.Received(in.Channel, dup)
	if !dup && !applied && e.Status(in.Campaign) != StatusPaused {
		e.intake.Received(1)
	}
	return fusedAnswer{duplicate: dup}
}
