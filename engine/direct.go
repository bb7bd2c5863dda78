package engine

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Direct sends: on a store one process uses that stores and applies a webhook's event in one
// write (receiveApplier), a step's reply due at once is sent by the receive loop as soon as
// that write commits, its attempt recorded in the write, instead of waiting for the sender's
// next round to read it, record its attempt in a write of its own and post it. A closed-loop
// participant waited ~14 ms for that after the webhook's answer (docs/performance.md,
// "Direct sends").
//
// What a round guarantees holds here too. A participant's replies go out one at a time, in
// the order queued: a direct send is made only when the participant has no other reply
// pending the send could overtake (the write checks, ReceivedStep.Posted) and no round is
// sending to them; a round leaves the replies a direct send owns, and holds the
// participant's others until that send is finished (posted and recorded). What reads as in
// flight after a crash is what was being sent, or sent and not yet recorded: the attempt
// commits with the step and the post follows at once (one of directSlots × SendConcurrency
// slots, taken before the write; without one the reply goes to the rounds). Sent replies are
// recorded together (MarkSentBatch), as a round's are.

// directSlots is how many times Config.SendConcurrency direct sends may post at once. A post
// takes ~20–50 ms under load (the platform's answer), so at 5,000 messages/s 100 slots were
// full for one message in ten, whose reply then waited for a round: the open loop's end to
// end p99 was 460–550 ms with 100 slots and 143–164 ms with 400 (docs/performance.md,
// "Direct sends"). What may read as in flight after a crash is bounded by the same number.
const directSlots = 4

// sendTurns keeps who is being sent to now, by a direct send or by the sender's round, so
// that neither overtakes the other.
type sendTurns struct {
	mu sync.Mutex
	// direct holds each participant with a direct send not finished: posting, or posted and
	// not yet recorded sent.
	direct map[string]*directTurn
	// round holds the participants the sender's round is sending to now; roundPosted the
	// replies it posted to those it is done with, not yet recorded sent (a direct send may
	// follow them: ReceivedStep.Posted).
	round       map[string]bool
	roundPosted map[string][]int64
	// held holds the participants a round left a reply of because of a direct send: the
	// sender is woken once it finishes.
	held map[string]bool
	// reading says a round read the replies due and has not filtered them yet; left holds
	// the replies a direct send stopped owning meanwhile (read pending, they may have been
	// recorded sent since, or given a backoff).
	reading bool
	left    map[int64]bool
	// slots bounds the direct sends posting at once.
	slots chan struct{}
	// active counts the direct sends posting and the round running, since when one has been
	// (or the last was counted): their busy time, for the intake's rate of replies, is the
	// wall time while any sends, as a round's alone is its wall time.
	active int
	since  time.Time
	// wg counts the direct sends not done, for Run to wait for.
	wg sync.WaitGroup

	// marks are the replies posted and not yet recorded sent; flushing says one direct send
	// is recording them (it takes the ones that come meanwhile too).
	marks    []directMark
	flushing bool
}

// directTurn is one participant's direct send.
type directTurn struct {
	// posting says its replies are being posted (or about to be).
	posting bool
	// owned are the replies being posted, or posted and not yet recorded sent: they read as
	// pending, and a round leaves them alone without waiting for them.
	owned []int64
}

type directMark struct {
	sent Sent
	out  Outbound
}

func newSendTurns(slots int) *sendTurns {
	return &sendTurns{direct: map[string]*directTurn{}, round: map[string]bool{},
		roundPosted: map[string][]int64{}, held: map[string]bool{}, left: map[int64]bool{},
		slots: make(chan struct{}, slots)}
}

// begin takes participant's turn for a direct send and one slot, and returns the replies
// posted to them and not yet recorded sent; ok is false when the participant is being sent to
// or no slot is free.
func (t *sendTurns) begin(participant string) (posted []int64, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	d := t.direct[participant]
	if t.round[participant] || d != nil && d.posting {
		return nil, false
	}
	select {
	case t.slots <- struct{}{}:
	default:
		return nil, false
	}
	if d == nil {
		d = &directTurn{}
		t.direct[participant] = d
	}
	d.posting = true
	// Not posting: every reply owned was posted.
	return append(slices.Clone(d.owned), t.roundPosted[participant]...), true
}

// own notes a reply of participant's direct send about to be posted.
func (t *sendTurns) own(participant string, id int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if d := t.direct[participant]; d != nil {
		d.owned = append(d.owned, id)
	}
}

// end gives participant's slot back once their direct send posted all it will (or was not
// made); wake says the sender should run a round.
func (t *sendTurns) end(participant string) (wake bool) {
	<-t.slots
	t.mu.Lock()
	defer t.mu.Unlock()
	if d := t.direct[participant]; d != nil {
		d.posting = false
	}
	return t.drop(participant)
}

// disown notes a reply of participant's recorded sent, or not posted after all (failed,
// cancelled, given a backoff).
func (t *sendTurns) disown(participant string, id int64) (wake bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if d := t.direct[participant]; d != nil {
		if i := slices.Index(d.owned, id); i >= 0 {
			d.owned = slices.Delete(d.owned, i, i+1)
			if t.reading {
				t.left[id] = true
			}
		}
	}
	return t.drop(participant)
}

// drop forgets participant's direct send once it is finished. Called with mu held.
func (t *sendTurns) drop(participant string) (wake bool) {
	d := t.direct[participant]
	if d == nil || d.posting || len(d.owned) > 0 {
		return false
	}
	delete(t.direct, participant)
	if t.held[participant] {
		delete(t.held, participant)
		return true
	}
	return false
}

// reads is called before a round reads the replies due.
func (t *sendTurns) reads() {
	t.mu.Lock()
	t.reading = true
	t.mu.Unlock()
}

// take keeps of the replies a round read those it may send. It leaves the replies a direct
// send owns, or stopped owning while the round read (read pending, they may be recorded sent
// by now), with nothing to wait for; and the other replies of a participant whose direct send
// is not finished, for a round once it is (held). The participants of the replies kept are
// the round's until done.
func (t *sendTurns) take(due []Outbound) []Outbound {
	t.mu.Lock()
	defer t.mu.Unlock()
	kept := due[:0:0]
	for _, out := range due {
		p := out.ParticipantID
		if p == "" {
			kept = append(kept, out)
			continue
		}
		if t.left[out.ID] {
			continue
		}
		if d := t.direct[p]; d != nil {
			if !slices.Contains(d.owned, out.ID) {
				t.held[p] = true
			}
			continue
		}
		t.round[p] = true
		kept = append(kept, out)
	}
	t.reading = false
	clear(t.left)
	return kept
}

// groupDone gives a participant back once the round posted what it will to them: posted,
// the replies it posted, are recorded sent when the round ends (done). A participant who
// answers at once would otherwise find the round still theirs, and every reply of theirs
// would wait for a round.
func (t *sendTurns) groupDone(participant string, posted []int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.round, participant)
	if len(posted) > 0 {
		t.roundPosted[participant] = append(t.roundPosted[participant], posted...)
	}
}

// done gives the round's participants back once its sent replies are recorded.
func (t *sendTurns) done(due []Outbound) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, out := range due {
		delete(t.round, out.ParticipantID)
		delete(t.roundPosted, out.ParticipantID)
	}
}

// started counts a direct send posting, or a round.
func (t *sendTurns) started(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.active == 0 {
		t.since = now
	}
	t.active++
}

// stopped counts a direct send done posting, or a round done, and returns the busy time
// since the last one.
func (t *sendTurns) stopped(now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	busy := now.Sub(t.since)
	t.since = now
	t.active--
	return busy
}

// directCandidate says whether step's first reply may be sent directly at now: it is due,
// to a participant, on a channel with a sender, and would go out as it is (check).
func (e *Engine) directCandidate(s *Step, now time.Time) bool {
	if e.turns == nil || s == nil || s.Participant.ID == "" || len(s.Outbox) == 0 {
		return false
	}
	out := e.directOut(s, 0, 0)
	if out.DueAt.After(now) {
		return false
	}
	_, _, v := e.check(out, now)
	return v == toSend
}

// directOut is step's reply i as the sender reads it back, under id.
func (e *Engine) directOut(s *Step, i int, id int64) Outbound {
	out := s.Outbox[i]
	out.ID = id
	out.ParticipantID = s.Participant.ID
	out.Status = StatusPending
	out.LastInboundAt = s.Participant.LastInboundAt
	return out
}

// sendDirect posts the replies of step (ids, as the store queued them) due now, in order;
// the first one's attempt is recorded. It runs on its own goroutine, holding the
// participant's turn and a slot.
func (e *Engine) sendDirect(ctx context.Context, s *Step, ids []int64) {
	defer e.turns.wg.Done()
	p := s.Participant.ID
	t := e.turns
	timeout := e.sendLease - e.sendLease/4
	attempted := new(error) // the first reply's: recorded with the step
	// The step's replies due now were counted in the intake's backlog (written): they are
	// taken off as this send deals with them, those it leaves stay for the rounds.
	handled := 0
	t.started(time.Now())
	for i, id := range ids {
		out := e.directOut(s, i, id)
		if i > 0 && out.DueAt.After(e.now()) {
			// A persona's delay: the rounds send it when due.
			break
		}
		if ctx.Err() != nil {
			// Shutting down: what is not posted goes to the next start, the first given
			// back rather than left reading as in flight.
			if attempted != nil {
				if err := e.store.RetryOutbox(context.WithoutCancel(ctx), id, notSentStopped, out.DueAt, e.now()); err != nil {
					e.log.Warn("give back a reply attempted and not sent: it will read as in flight", "outbox", id, "err", err)
				}
			}
			break
		}
		t.own(p, id)
		sent, retried, err := e.deliver(ctx, out, timeout, attempted)
		attempted = nil
		handled++
		if err != nil && ctx.Err() == nil {
			// (A shutdown cuts sends off: the reply stays in flight for the next start.)
			e.log.Error("direct send", "outbox", id, "err", err)
		}
		if sent != nil {
			e.queueMark(ctx, directMark{sent: *sent, out: out})
		} else if t.disown(p, id) {
			e.wakeSender()
		}
		if err != nil || retried {
			// Held up: the rest waits for it in the rounds.
			break
		}
	}
	e.intake.Sent(handled, t.stopped(time.Now()))
	if t.end(p) {
		e.wakeSender()
	}
}

// queueMark records a reply posted by a direct send as sent, together with those of other
// direct sends: the first caller finding nobody recording records all that come until none
// is left.
func (e *Engine) queueMark(ctx context.Context, m directMark) {
	t := e.turns
	t.mu.Lock()
	t.marks = append(t.marks, m)
	if t.flushing {
		t.mu.Unlock()
		return
	}
	t.flushing = true
	t.mu.Unlock()
	// Recorded even when ctx ended: a send the platform accepted and not recorded reads as
	// in flight, and the next start would send it again.
	rctx := context.WithoutCancel(ctx)
	for {
		t.mu.Lock()
		batch := t.marks
		t.marks = nil
		if len(batch) == 0 {
			t.flushing = false
			t.mu.Unlock()
			return
		}
		t.mu.Unlock()
		e.recordSent(rctx, batch)
	}
}

// recordSent records a batch of replies posted as sent (markSentAll) and gives each
// participant's turn back.
func (e *Engine) recordSent(ctx context.Context, batch []directMark) {
	sent := make([]Sent, len(batch))
	for i, m := range batch {
		sent[i] = m.sent
	}
	// New makes direct sends only on a store that records sent replies in batches.
	results := e.markSentAll(ctx, e.store.(batchSentMarker), sent)
	wake := false
	for i, m := range batch {
		if ferr := e.finish(results[i], m.out, "sent"); ferr != nil {
			// Left pending in flight: a round sends it again, marked MaybeTwice, as it does
			// a round's own reply whose record failed.
			e.log.Error("record a reply sent", "outbox", m.sent.ID, "err", ferr)
		}
		wake = e.turns.disown(m.out.ParticipantID, m.sent.ID) || wake
	}
	if wake {
		e.wakeSender()
	}
}
