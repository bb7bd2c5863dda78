package engine

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Sent is a reply the platform accepted, for a store that records several at once.
type Sent struct {
	ID         int64
	PlatformID string
	At         time.Time
}

// batchCommitter is a Store that writes several steps in one transaction (store/sqlite). A
// commit costs much more than the statements of one step on an embedded store, so the worker
// commits a batch at once when it can. errs holds one error per step: a failed step is not
// written and the others are; err not nil means none was written.
type batchCommitter interface {
	CommitBatch(ctx context.Context, steps []Step) (errs []error, err error)
}

// batchSentMarker is a Store that records several sent replies in one transaction, each as
// MarkSent would; errs and err as for batchCommitter.
type batchSentMarker interface {
	MarkSentBatch(ctx context.Context, sent []Sent) (errs []error, err error)
}

// batchAttempter is a Store that records the attempts of several replies in one write, each as
// AttemptOutbox would (a reply no longer pending is refused with errs.ErrConflict and not
// attempted); errs and err as for batchCommitter.
type batchAttempter interface {
	AttemptOutboxBatch(ctx context.Context, ids []int64, owner string, at time.Time) (errs []error, err error)
}

// maxCommitBatch bounds the steps (or sent replies) recorded in one transaction. Larger
// batches commit less often but make the webhooks' group commits wait longer for the one
// writer: 25 measured better than 100 on both counts (docs/performance.md).
const maxCommitBatch = 25

// pendingBatch and dueBatch bound the events (replies) one round of the worker (the sender)
// takes. 500 instead of 100 measured no faster and made the webhook p99 seven times longer.
const (
	pendingBatch = 100
	dueBatch     = 100
)

// DefaultSendConcurrency is how many replies are sent at once when Config.SendConcurrency is
// zero: a send waits on the platform far longer than it uses the CPU. With 8 the sender spent
// two thirds of its wall time waiting for its round's last sends. It is a round's size, so
// that on a store one process uses every recipient of a round starts at once, its attempt
// recorded with the others' in one write: with 32 slots for rounds of up to 100, six replies
// in ten waited for a slot and then for a write of their own attempt, each a turn of the
// loaded writer (~3 ms under the closed loop) before its send could start, and a third of the
// writer's requests were those attempts (docs/performance.md, "Where it stands (issue 12,
// eleventh round)"). What may go out twice after a crash is still what was being sent.
const DefaultSendConcurrency = dueBatch

// applyRounds applies the events of the participants this process won, in rounds: round i
// holds the i-th event of every participant, so each participant's events stay in stored
// order while one round, whose events all belong to different participants, is committed in
// one transaction. A step that fails in the batch (a conflict, a full pool, a taken code) is
// applied again on its own, with apply's retries, before the next round.
func (e *Engine) applyRounds(ctx context.Context, bc batchCommitter, queues [][]StoredInbound, until time.Time) (int, error) {
	n := 0
	for round := 0; ; round++ {
		var ins []StoredInbound
		for _, q := range queues {
			if round < len(q) {
				ins = append(ins, q[round])
			}
		}
		if len(ins) == 0 {
			return n, nil
		}
		// As in ProcessPending: stop well before the lease runs out.
		if e.now().After(until.Add(-e.inboundLease / 3)) {
			return n, nil
		}
		start := time.Now()
		k, err := e.applyBatch(ctx, bc, ins)
		n += k
		if k > 0 {
			// The batch's wall time shared out: what one event cost.
			per := time.Since(start) / time.Duration(k)
			for range k {
				e.obs.EventApplied(per)
			}
		}
		if err != nil {
			return n, err
		}
	}
}

// stepBatch is the steps of events of distinct participants, worked out to be written
// together (stepsOf).
type stepBatch struct {
	steps []Step
	ins   []StoredInbound // the event of each step
	from  []int           // each step's event's place among the events given
	// undos take each step's standing back off its ranking board when it is not written.
	undos []func()
	// alone are the events whose step failed or skipped: apply deals with them one by one.
	alone []StoredInbound
}

// stepsOf works out the steps of events of distinct participants, to be written together, the
// worker's (applyBatch) and the receive loop's (receiveBatch) alike. Each step's standing
// goes on its ranking board at once (pending), so the later steps of the batch count it in
// their {{rank}}; once the store answered, written is called for each step written and the
// undo of each step that was not.
func (e *Engine) stepsOf(ctx context.Context, ins []StoredInbound) stepBatch {
	b := stepBatch{steps: make([]Step, 0, len(ins)), ins: make([]StoredInbound, 0, len(ins))}
	for i, in := range ins {
		step, skip, err := e.step(ctx, in, map[string]bool{})
		if err != nil || skip != "" {
			// Rare; apply computes the step again and deals with it as it always did.
			b.alone = append(b.alone, in)
			continue
		}
		b.steps = append(b.steps, step)
		b.ins = append(b.ins, in)
		b.from = append(b.from, i)
		def, _ := e.Campaign(step.Participant.Campaign)
		b.undos = append(b.undos, e.boards.pending(def, step.Participant))
	}
	return b
}

// written is what follows a step's commit: its standing on the ranking board, its replies
// announced to the channels that show them coming, and counted in the intake's backlog.
func (e *Engine) written(s Step) {
	e.announce(s)
	e.queued(s)
}

// applyBatch applies events of distinct participants, committing their steps together.
func (e *Engine) applyBatch(ctx context.Context, bc batchCommitter, ins []StoredInbound) (int, error) {
	b := e.stepsOf(ctx, ins)
	steps, batched, undos, alone := b.steps, b.ins, b.undos, b.alone
	n := 0
	// The chunks go to the store at once rather than one after the other: on the embedded
	// store they land in the same group commit (or consecutive ones) instead of each waiting
	// a turn of the one writer, which was most of the worker's wall time under load
	// (docs/performance.md, "Where the time waits").
	for _, c := range inChunks(len(steps), func(lo, hi int) ([]error, error) { return bc.CommitBatch(ctx, steps[lo:hi]) }) {
		chunk, ins, chunkUndos := steps[c.lo:c.hi], batched[c.lo:c.hi], undos[c.lo:c.hi]
		if c.err != nil {
			e.log.Warn("batch commit failed, applying one by one", "steps", len(chunk), "err", c.err)
			alone = append(alone, ins...)
			for _, undo := range chunkUndos {
				undo()
			}
		}
		for i, err := range c.results {
			switch {
			case err == nil:
				n++
				e.written(chunk[i])
			case errors.Is(err, ErrProcessed):
				e.log.Debug("event processed elsewhere", "inbound", ins[i].ID, "participant", ins[i].ParticipantID)
				chunkUndos[i]()
				n++
			default:
				chunkUndos[i]()
				alone = append(alone, ins[i])
			}
		}
	}
	for _, in := range alone {
		if err := e.apply(ctx, in); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// sendGroups sends the claimed replies with up to e.sendConcurrency at once. Each group is one
// recipient's replies in queue order and is sent by one goroutine in that order, stopping at
// a reply left to be tried again. Sent replies are recorded in one transaction at the end
// when the store can (batchSentMarker), otherwise each as it goes.
//
// sole says no other process sends from the store (soleProcess): then no lease bounds the
// round, and on a store that can (batchAttempter) a group starts only when one of
// sendConcurrency send slots is free, the attempts of the groups starting together recorded
// in one turn of the writer instead of one each: what reads as in flight after a crash is what
// was being sent (or sent and not yet recorded). A reply so attempted is sent even once the
// round is past the point where it would leave later replies to the next round (its attempt
// is recorded: left unsent, it would read as in flight); one the round stops before (a failed
// write, a shutdown) is given back as not sent (RetryOutbox, due as before), so that it does
// not read as a possible duplicate.
func (e *Engine) sendGroups(ctx context.Context, groups [][]Outbound, until time.Time, sole bool) (int, error) {
	bm, batch := e.store.(batchSentMarker)
	ba, slotted := e.store.(batchAttempter)
	slotted = slotted && sole
	var (
		mu       sync.Mutex
		n        int
		firstErr error
		sent     []Sent
		sentOut  []Outbound
		unsent   []Outbound // attempted with the others, then not sent
	)
	// sendGroup sends one recipient's replies in order; attempted holds the answer of its
	// first reply's attempt when that was recorded with others (nil: each records its own).
	sendGroup := func(group []Outbound, attempted *error) {
		var posted []int64
		if p := group[0].ParticipantID; e.turns != nil && p != "" {
			// The participant's next reply may go directly once theirs here are posted.
			defer func() { e.turns.groupDone(p, posted) }()
		}
		for j, out := range group {
			if j > 0 {
				attempted = nil
			}
			mu.Lock()
			stop := firstErr != nil
			if stop && attempted != nil && *attempted == nil {
				unsent = append(unsent, out)
			}
			mu.Unlock()
			// Leave what the lease may not cover to the next round, which claims it anew.
			if stop || attempted == nil && e.now().After(until.Add(-e.sendLease/2)) {
				return
			}
			timeout := until.Add(-e.sendLease / 4).Sub(e.now())
			if sole {
				// No lease to outrun: each send is cut off as a round's first is.
				timeout = e.sendLease - e.sendLease/4
			}
			var s *Sent
			var retried bool
			var err error
			if batch {
				s, retried, err = e.deliver(ctx, out, timeout, attempted)
			} else {
				retried, err = e.send(ctx, out, timeout, attempted)
			}
			mu.Lock()
			switch {
			case err != nil:
				if firstErr == nil {
					firstErr = err
				}
			case s != nil:
				sent = append(sent, *s)
				sentOut = append(sentOut, out)
				posted = append(posted, out.ID)
			default:
				n++
			}
			mu.Unlock()
			// A reply to be tried again later holds up the recipient's later ones: they must
			// not overtake it.
			if err != nil || retried {
				return
			}
		}
	}
	var wg sync.WaitGroup
	if !slotted {
		work := make(chan int)
		for range min(e.sendConcurrency, len(groups)) {
			wg.Go(func() {
				for gi := range work {
					sendGroup(groups[gi], nil)
				}
			})
		}
		for gi := range groups {
			work <- gi
		}
		close(work)
	}
	// On one process: a group starts only with a send slot free, and the attempts of the
	// groups about to start are recorded together, as many as there are slots free (all of
	// them at the round's start, then those that came free meanwhile). No reply is attempted
	// long before its send, so what reads as in flight after a crash is what was being sent;
	// and no group waits for another's slowest send, as waves of SendConcurrency did (12 %
	// fewer replies/s in the closed loop, docs/performance.md "Attempts as slots free up").
	slots := make(chan struct{}, e.sendConcurrency)
	for gi := 0; slotted && gi < len(groups); {
		mu.Lock()
		stop := firstErr != nil
		mu.Unlock()
		if stop {
			break
		}
		slots <- struct{}{}
		k := 1
	more:
		for gi+k < len(groups) {
			select {
			case slots <- struct{}{}:
				k++
			default:
				break more
			}
		}
		starting := groups[gi : gi+k]
		first := e.attemptFirsts(ctx, ba, starting)
		for j, g := range starting {
			var attempted *error
			if first != nil {
				attempted = first[j]
			}
			wg.Go(func() {
				defer func() { <-slots }()
				sendGroup(g, attempted)
			})
		}
		gi += k
	}
	wg.Wait()
	for _, out := range unsent {
		// Even when ctx ended (a shutdown): an attempt left open reads as a send in flight.
		err := e.store.RetryOutbox(context.WithoutCancel(ctx), out.ID, notSentStopped, out.DueAt, e.now())
		if err != nil {
			e.log.Warn("give back a reply attempted and not sent: it will read as in flight", "outbox", out.ID, "err", err)
		}
	}
	// Recorded even when ctx ended (a shutdown): a send the platform accepted and not recorded
	// reads as in flight, and the next start would send it again.
	rctx := context.WithoutCancel(ctx)
	for i, rerr := range e.markSentAll(rctx, bm, sent) {
		if ferr := e.finish(rerr, sentOut[i], "sent"); ferr != nil {
			return n, errors.Join(firstErr, ferr)
		}
		n++
	}
	return n, firstErr
}

// markSentAll records replies sent in chunks of maxCommitBatch written at once
// (MarkSentBatch), and returns the store's answer for each. A chunk whose write failed is
// recorded one by one instead; a reply left unrecorded is sent again (marked MaybeTwice) once
// found in flight, which is the window SendDue documents.
func (e *Engine) markSentAll(ctx context.Context, bm batchSentMarker, sent []Sent) []error {
	results := make([]error, len(sent))
	for _, c := range inChunks(len(sent), func(lo, hi int) ([]error, error) { return bm.MarkSentBatch(ctx, sent[lo:hi]) }) {
		if c.err != nil || len(c.results) != c.hi-c.lo {
			for i := c.lo; i < c.hi; i++ {
				results[i] = e.store.MarkSent(ctx, sent[i].ID, sent[i].PlatformID, sent[i].At)
			}
			continue
		}
		copy(results[c.lo:], c.results)
	}
	return results
}

// notSentStopped is the reason on a reply whose attempt was recorded with its round's others
// and that was not sent because the round stopped; it goes out in a later round.
const notSentStopped = "not sent: the sender's round stopped before it"

// attemptFirsts records in one write the attempts of the first reply of each group that is to
// go to the platform, and returns for each group the answer (nil where the group's first reply
// records its own attempt: one to be cancelled or failed without a send, one in flight at a
// crash, whose send again deliver reports, or all of them when the write failed).
func (e *Engine) attemptFirsts(ctx context.Context, ba batchAttempter, groups [][]Outbound) []*error {
	now := e.now()
	var ids []int64
	var at []int
	for gi, g := range groups {
		if out := g[0]; !out.InFlight {
			if _, _, v := e.check(out, now); v == toSend {
				ids = append(ids, out.ID)
				at = append(at, gi)
			}
		}
	}
	if len(ids) < 2 {
		// One statement on its own needs no batch (and no savepoint).
		return nil
	}
	results, err := ba.AttemptOutboxBatch(ctx, ids, e.owner, now)
	if err != nil || len(results) != len(ids) {
		e.log.Warn("record a round's attempts together failed, recording each before its send", "replies", len(ids), "err", err)
		return nil
	}
	first := make([]*error, len(groups))
	for k, gi := range at {
		first[gi] = &results[k]
	}
	return first
}

// chunk is one call of inChunks' fn: items lo to hi, and what the store answered.
type chunk struct {
	lo, hi  int
	results []error
	err     error
}

// inChunks calls fn for consecutive chunks of at most maxCommitBatch of n items, all at once,
// and returns their answers in order. Chunks hold different participants' steps (or replies),
// so the order in which the store commits them does not matter.
func inChunks(n int, fn func(lo, hi int) ([]error, error)) []chunk {
	var cs []chunk
	for lo := 0; lo < n; lo += maxCommitBatch {
		cs = append(cs, chunk{lo: lo, hi: min(n, lo+maxCommitBatch)})
	}
	if len(cs) == 1 {
		cs[0].results, cs[0].err = fn(cs[0].lo, cs[0].hi)
		return cs
	}
	var wg sync.WaitGroup
	for i := range cs {
		wg.Go(func() { cs[i].results, cs[i].err = fn(cs[i].lo, cs[i].hi) })
	}
	wg.Wait()
	return cs
}
