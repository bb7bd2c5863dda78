package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
)

// ErrBusy is Intake.Admit's refusal: the backlog is past what the policy lets in. A webhook
// answers it with 503 and Retry-After; the platforms deliver the message again later.
var ErrBusy = errors.New("busy: too many messages waiting to be processed")

// Defaults of IntakePolicy fields left zero.
const (
	DefaultIntakeTarget     = 100 * time.Millisecond
	DefaultIntakeMinBacklog = 64
	DefaultIntakeWait       = 2 * time.Second
	DefaultIntakeLimit      = 10 * time.Second
	DefaultIntakeMaxBacklog = 50_000
)

// IntakePolicy says how many received but unprocessed events (the backlog) the intake lets
// build up before it slows down. The backlog is measured in seconds of work: its length
// divided by the rate at which the worker consumed events over the last seconds.
//
//   - Up to Target (or MinBacklog events, whichever is more) a message is taken at once.
//   - Past it, the webhook waits in line (first come, first served) up to Wait, and is let in
//     as the worker makes room: one for each event processed while the backlog is under
//     Target. A sender that waits for its answer (a platform's delivery does) so sends no
//     faster than the engine processes.
//   - When the wait runs out, or at once past Limit seconds of work or MaxBacklog events, the
//     webhook is refused (ErrBusy): 503 with Retry-After, the time the backlog needs to get
//     back under Target at the measured rate.
type IntakePolicy struct {
	Target     time.Duration
	MinBacklog int
	Wait       time.Duration
	Limit      time.Duration
	MaxBacklog int
	// Off takes every message at once, whatever the backlog (the behaviour before the policy).
	Off bool
}

func (p IntakePolicy) withDefaults() IntakePolicy {
	if p.Target <= 0 {
		p.Target = DefaultIntakeTarget
	}
	if p.MinBacklog <= 0 {
		p.MinBacklog = DefaultIntakeMinBacklog
	}
	if p.Wait < 0 {
		p.Wait = 0
	} else if p.Wait == 0 {
		p.Wait = DefaultIntakeWait
	}
	if p.Limit <= 0 {
		p.Limit = DefaultIntakeLimit
	}
	if p.MaxBacklog <= 0 {
		p.MaxBacklog = DefaultIntakeMaxBacklog
	}
	return p
}

// rateMemory is how much of the measured rate each new batch leaves standing: the rate is a
// moving average over about the last twenty batches.
const rateMemory = 0.95

// stage is one queue of the path (events for the worker, due replies for the sender) with the
// rate its consumer works at while it has work.
type stage struct {
	queue int
	// done and busy are the decaying sums of items handled and the wall time spent on them.
	done, busy float64
}

func (s *stage) handled(n int, busy time.Duration) {
	s.queue = max(0, s.queue-n)
	if n <= 0 || busy <= 0 {
		return
	}
	s.done = s.done*rateMemory + float64(n)
	s.busy = s.busy*rateMemory + busy.Seconds()
}

// rate is items per second of the consumer's busy time, 0 before anything was measured.
func (s *stage) rate() float64 {
	if s.busy <= 0 {
		return 0
	}
	return s.done / s.busy
}

// seconds is the queue in seconds of work, and whether that is known (a queue whose consumer
// was never measured is not).
func (s *stage) seconds() (float64, bool) {
	if s.queue == 0 {
		return 0, true
	}
	r := s.rate()
	if r <= 0 {
		return 0, false
	}
	return float64(s.queue) / r, true
}

// Intake keeps the backlog and applies an IntakePolicy. Its methods are safe for concurrent
// use.
//
// The backlog is two queues: events received and not yet processed, and replies the worker
// queued, due now, and not yet sent. Each is measured in seconds of work at the rate its
// consumer (the worker, the sender) handled items lately while it had work (busy time, not
// wall time: an idle worker is not a slow one), and the backlog is their sum: a message taken
// in now is answered after both.
//
// The counts are kept in memory: Received, Queued add; Processed, Sent take away; the worker
// and the sender reset their queue to zero when they find nothing to do. Several processes
// sharing a store each count their own share, so there the engine sets both from the store's
// count every second (Engine.CountQueues, SetQueues).
type Intake struct {
	policy IntakePolicy
	// after is the clock waits are timed on (time.After), replaced in tests; the rates need
	// none, as the worker and the sender report the time they took.
	after func(time.Duration) <-chan time.Time

	mu      sync.Mutex
	events  stage
	replies stage
	// queuedReplies counts every reply Queued, never reset: RepliesMark and ResetRepliesSince.
	queuedReplies int64
	refused       int64
	// queue holds the webhooks waiting for room, first come first served: each is let in
	// (its channel closed) by dispatch as the worker makes room. Woken all at once instead,
	// the same few won every time and the unlucky ones ran out of time.
	queue []chan struct{}
}

// NewIntake returns an Intake applying policy.
func NewIntake(policy IntakePolicy) *Intake {
	return &Intake{policy: policy.withDefaults(), after: time.After}
}

// Received counts n events stored and waiting to be processed.
func (in *Intake) Received(n int) {
	in.mu.Lock()
	in.events.queue += n
	in.mu.Unlock()
}

// Processed counts n events the worker consumed in busy wall time, and wakes waiters.
func (in *Intake) Processed(n int, busy time.Duration) {
	in.mu.Lock()
	in.events.handled(n, busy)
	in.dispatch(n)
	in.mu.Unlock()
}

// Queued counts n replies due now that a step queued.
func (in *Intake) Queued(n int) {
	in.mu.Lock()
	in.replies.queue += n
	in.queuedReplies += int64(n)
	in.mu.Unlock()
}

// Sent counts n replies the sender dealt with (sent, failed or left for a retry) in busy wall
// time, and wakes waiters.
func (in *Intake) Sent(n int, busy time.Duration) {
	in.mu.Lock()
	in.replies.handled(n, busy)
	in.dispatch(n)
	in.mu.Unlock()
}

// Reset sets the events waiting to n (what the store holds: events stored before a start, or
// a count that drifted, such as a paused campaign's events, counted when received and not when
// resumed). ResetRepliesSince clears the due replies counted before a read of the sender's
// that found none.
func (in *Intake) Reset(n int) {
	in.mu.Lock()
	in.events.queue = max(0, n)
	in.dispatch(len(in.queue))
	in.mu.Unlock()
}

// RepliesMark is taken before the sender reads the due replies, for ResetRepliesSince.
func (in *Intake) RepliesMark() int64 {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.queuedReplies
}

// ResetRepliesSince says a read that began at mark found no reply due: only the replies
// counted since mark may be due, those whose step was committed (and counted) during the
// read. Set to zero instead, as it was, they were lost, and a sender reading on every commit
// lost many.
func (in *Intake) ResetRepliesSince(mark int64) {
	in.mu.Lock()
	in.replies.queue = int(max(0, in.queuedReplies-mark))
	in.dispatch(len(in.queue))
	in.mu.Unlock()
}

// dispatch lets in up to n waiting webhooks, the longest waiting first, while the policy
// says there is room: n is the work just done, so the backlog stays about level while
// webhooks wait. Called with mu held.
func (in *Intake) dispatch(n int) {
	for ; n > 0 && len(in.queue) > 0; n-- {
		if ok, _ := in.decide(); !ok {
			return
		}
		close(in.queue[0])
		in.queue = in.queue[1:]
	}
}

// leave takes a waiter out of the queue, reporting false when dispatch let it in meanwhile.
// Called with mu held.
func (in *Intake) leave(ch chan struct{}) bool {
	for i, c := range in.queue {
		if c == ch {
			in.queue = append(in.queue[:i], in.queue[i+1:]...)
			return true
		}
	}
	return false
}

// SetQueues sets both queues to what a store shared by several processes counts (events
// unprocessed, replies due): each process's own count is only its share.
func (in *Intake) SetQueues(events, replies int) {
	in.mu.Lock()
	in.events.queue, in.replies.queue = max(0, events), max(0, replies)
	in.dispatch(len(in.queue))
	in.mu.Unlock()
}

// IntakeState is what /metrics shows of the intake.
type IntakeState struct {
	// Events and Replies are the queues counted: events received and not processed, replies
	// due and not sent. EventRate and ReplyRate are what the worker and the sender handle per
	// second of busy time lately.
	Events, Replies      int
	EventRate, ReplyRate float64
	// Seconds is the backlog in seconds of work (+Inf while a queue's rate is unknown).
	Seconds float64
	// Refused counts the messages refused with ErrBusy.
	Refused int64
}

// State returns the queues, rates and refusals now.
func (in *Intake) State() IntakeState {
	in.mu.Lock()
	defer in.mu.Unlock()
	s, known := in.seconds()
	if !known {
		s = math.Inf(1)
	}
	return IntakeState{Events: in.events.queue, Replies: in.replies.queue, EventRate: in.events.rate(),
		ReplyRate: in.replies.rate(), Seconds: s, Refused: in.refused}
}

// seconds is the backlog in seconds of work, and whether it is known. Called with mu held.
func (in *Intake) seconds() (float64, bool) {
	a, ka := in.events.seconds()
	b, kb := in.replies.seconds()
	return a + b, ka && kb
}

// decide says whether a message may be taken now (ok), must be refused at once (refuse), or
// may wait (neither). Called with mu held.
func (in *Intake) decide() (ok, refuse bool) {
	p := in.policy
	if p.Off || in.events.queue+in.replies.queue < p.MinBacklog {
		return true, false
	}
	s, known := in.seconds()
	if known && s <= p.Target.Seconds() {
		return true, false
	}
	// A rate not measured yet (a start with a stored backlog) is no reason to refuse: the
	// webhook waits for the first work to be done.
	return false, in.events.queue >= p.MaxBacklog || (known && s > p.Limit.Seconds())
}

// retryAfter is how long the backlog needs to get back under the target, in whole seconds, at
// least one. Called with mu held.
func (in *Intake) retryAfter() time.Duration {
	s, known := in.seconds()
	s -= in.policy.Target.Seconds()
	if !known || s > in.policy.Limit.Seconds() {
		s = in.policy.Limit.Seconds()
	}
	return time.Duration(max(1, math.Ceil(s))) * time.Second
}

// Admit returns nil when a message may be taken in now, after waiting for room as the policy
// says, or ErrBusy and the Retry-After to answer with. A ctx that ends while waiting returns
// its error.
func (in *Intake) Admit(ctx context.Context) (retryAfter time.Duration, err error) {
	in.mu.Lock()
	ok, refuse := in.decide()
	switch {
	case ok && len(in.queue) == 0:
		in.mu.Unlock()
		return 0, nil
	case ok:
		// Room, but others wait longer: they go first, and this one joins the line.
		in.dispatch(1)
	case refuse || in.policy.Wait == 0:
		return in.refuse()
	}
	ch := make(chan struct{})
	in.queue = append(in.queue, ch)
	in.mu.Unlock()
	deadline := in.after(in.policy.Wait)
	select {
	case <-ch:
		return 0, nil
	case <-deadline:
	case <-ctx.Done():
	}
	in.mu.Lock()
	if !in.leave(ch) {
		in.mu.Unlock()
		return 0, nil // let in while the wait ran out
	}
	if err := ctx.Err(); err != nil {
		in.mu.Unlock()
		return 0, err
	}
	return in.refuse()
}

// refuse counts a refusal and unlocks mu.
func (in *Intake) refuse() (time.Duration, error) {
	in.refused++
	d := in.retryAfter()
	in.mu.Unlock()
	return d, ErrBusy
}

// IsBusy reports whether err is Admit's refusal.
func IsBusy(err error) bool { return errors.Is(err, ErrBusy) }

// QueueStats is what waits in a store's queues: unprocessed inbound events (all campaigns,
// paused ones included) and the time the oldest of them was received, and pending replies,
// of which Due are due now.
type QueueStats struct {
	Inbound       int
	OldestInbound time.Time
	OutboxPending int
	OutboxDue     int
}

// queueCounter is a Store that counts its queues cheaply (store/sqlite).
type queueCounter interface {
	QueueStats(ctx context.Context, now time.Time) (QueueStats, error)
}

// CountQueues sets the intake's backlog from the store's count of its queues, on a store shared
// by several processes (MongoDB); Run calls it every second there. Each process then
// applies back-pressure to the whole backlog, measured in seconds of work at the rate its own
// worker and sender handle it: with several processes that overstates the seconds (the others
// work too), so the intake slows down earlier than it must, never later.
func (e *Engine) CountQueues(ctx context.Context) error {
	qc, ok := e.store.(queueCounter)
	if !ok {
		return nil
	}
	var events, due int
	if bc, ok := e.store.(backlogCounter); ok {
		var err error
		if events, due, err = bc.Backlog(ctx, e.now()); err != nil {
			return fmt.Errorf("engine: count queues: %w", err)
		}
	} else {
		s, err := qc.QueueStats(ctx, e.now())
		if err != nil {
			return fmt.Errorf("engine: count queues: %w", err)
		}
		events, due = s.Inbound, s.OutboxDue
	}
	e.intake.SetQueues(events, due)
	return nil
}

// backlogCounter is a queueCounter that counts only what the intake needs every second (events
// unprocessed, replies due), without QueueStats' oldest event and pending replies, which only
// /metrics shows: on FerretDB v1 each count is a full scan (store/mongo).
type backlogCounter interface {
	Backlog(ctx context.Context, now time.Time) (events, due int, err error)
}

// Intake is the engine's intake policy and backlog count, for the channels to ask before
// they store a message (Admit) and for /metrics.
func (e *Engine) Intake() *Intake { return e.intake }

// QueueStats returns what waits in the store's queues, or, on a store that cannot count them,
// the backlog this process counted (Intake) and zeros.
func (e *Engine) QueueStats(ctx context.Context) (QueueStats, error) {
	if qc, ok := e.store.(queueCounter); ok {
		s, err := qc.QueueStats(ctx, e.now())
		if err != nil {
			return QueueStats{}, fmt.Errorf("engine: queue stats: %w", err)
		}
		return s, nil
	}
	return QueueStats{Inbound: e.intake.State().Events}, nil
}
