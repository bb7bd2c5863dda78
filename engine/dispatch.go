package engine

import (
	"context"
	"errors"
	"sync"
	"time"
)

// On a store one process uses at a time (soleProcess: store/sqlite) the sender takes no leases
// and works in no rounds. Replies are dispatched the moment they are due and a send slot is
// free, and each sent reply is recorded with the others that finished meanwhile (one batch per
// turn of the store's writer), off the participant's path: the platform has the reply before
// its record is committed. In rounds (claim, attempts, sends, the round's record, release:
// four turns of the one writer, then the slowest of the round's sends) a reply queued during a
// round waited for that round and then its own, most of what a participant waited for under
// load (docs/performance.md, "Where the time waits").
//
// What keeps a reply from going out twice here is the dispatcher's memory: a reply dispatched
// is skipped by every later pass until its outcome is stored. Order per recipient is kept as
// in rounds: a recipient with a reply being sent gets none other until it is; one whose reply
// was sent and is being recorded may get the next.

// dispatcher is the sole-process sender's state, guarded by mu.
type dispatcher struct {
	mu sync.Mutex
	// held are the replies dispatched and not yet recorded: sending (true) or sent and being
	// recorded (false).
	held map[int64]bool
	// busy are the recipients (sendKey) with a reply being sent.
	busy map[string]bool
	// elsewhere are the replies another process held the lease on when last tried (ErrHeld),
	// with when to try again; their recipients' later replies wait with them.
	elsewhere map[int64]time.Time
	// sending counts the groups being sent: at most Engine.sendConcurrency.
	sending int
	// toRecord are sent replies waiting for their record; recording says a goroutine is
	// writing a batch of them (the next batch is whatever gathered meanwhile).
	toRecord  []sentReply
	recording bool
	// busySince is when the sender last reported handled replies to the intake, or when it
	// became busy (the zero time while idle): the intake's reply rate is per busy second.
	busySince time.Time
	// idle is closed and replaced whenever nothing is sending or recording, for SendDue to
	// wait on.
	idle chan struct{}
	// firstErr is the first failure to record an outcome since SendDue last looked.
	firstErr error
	// done counts replies handled (sent and recorded, failed, cancelled or left for a retry)
	// since SendDue last looked.
	done int
	// waiting are the due replies the last read of the outbox found and no pass dispatched
	// yet (no slot, a busy recipient), in queue order; more says that read was cut at its
	// limit, news that replies may have been queued since (wakeSender); read is when it was
	// made (dispatchDue).
	waiting    []Outbound
	news, more bool
	read       time.Time
	// running counts the goroutines sending or recording, for Run to wait for.
	running sync.WaitGroup
}

type sentReply struct {
	sent Sent
	out  Outbound
}

func newDispatcher() *dispatcher {
	return &dispatcher{held: map[int64]bool{}, busy: map[string]bool{}, elsewhere: map[int64]time.Time{},
		idle: make(chan struct{})}
}

// sendKey is the recipient a reply goes to, for keeping one recipient's replies in order.
func sendKey(out Outbound) string {
	if out.ParticipantID == "" {
		return "to:" + out.Channel + ":" + out.To
	}
	return "participant:" + out.ParticipantID
}

// dispatchDue starts sending the replies due now that are not held, as send slots allow, and
// returns how many it started. It does not wait for them.
//
// It reads the due replies from the store only when there may be new ones (news), when the
// last read was cut at its limit and what it found is dispatched, or every poll interval (for
// replies queued by others, or due later); otherwise it dispatches what the last read left
// waiting. Under load sends finish a thousand times a second, each waking the dispatcher, and
// a read of the due replies each time doubled the server's CPU per message.
func (e *Engine) dispatchDue(ctx context.Context) (int, error) {
	d := e.dispatch
	d.mu.Lock()
	held := len(d.held)
	free := e.sendConcurrency - d.sending
	// News matters only once what the last read left cannot fill the free slots: a reply
	// queued since comes after those in the queue's order anyway.
	read := (d.news && len(d.waiting) < free) || time.Since(d.read) >= e.poll || (d.more && len(d.waiting) == 0)
	if free <= 0 || (!read && len(d.waiting) == 0) {
		d.mu.Unlock()
		return 0, nil // a finishing send wakes the dispatcher
	}
	if read {
		// Cleared before the read: what is queued while it runs is news for the next pass.
		d.news = false
		d.read = time.Now()
		d.mu.Unlock()
		// Held replies are still pending in the store: read past them. Two rounds of slots
		// are enough to keep them busy until the next read; rows read cost CPU.
		limit := held + 2*e.sendConcurrency
		due, err := e.store.DueOutbox(ctx, e.now(), limit)
		if err != nil {
			return 0, err
		}
		d.mu.Lock()
		d.waiting, d.more = due, len(due) == limit
		for id, t := range d.elsewhere {
			if time.Now().After(t) {
				delete(d.elsewhere, id) // sent by the other process meanwhile, or due again below
			}
		}
		if len(due) == 0 && len(d.held) == 0 {
			e.intake.ResetReplies()
		}
	}
	defer d.mu.Unlock()
	var groups [][]Outbound
	group := map[string]int{}
	skip := map[string]bool{}
	wall := time.Now()
	left := d.waiting[:0:0]
	for _, out := range d.waiting {
		k := sendKey(out)
		if t, ok := d.elsewhere[out.ID]; ok {
			if wall.Before(t) {
				skip[k] = true
				continue
			}
			delete(d.elsewhere, out.ID)
		}
		if sending, ok := d.held[out.ID]; ok {
			if sending {
				skip[k] = true
			}
			continue
		}
		if skip[k] || d.busy[k] {
			left = append(left, out)
			continue
		}
		i, ok := group[k]
		if !ok {
			if len(groups) == free {
				// No slot for this recipient now: its later replies wait too.
				skip[k] = true
				left = append(left, out)
				continue
			}
			i = len(groups)
			group[k] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], out)
	}
	d.waiting = left
	n := 0
	for _, g := range groups {
		k := sendKey(g[0])
		d.busy[k] = true
		for _, out := range g {
			d.held[out.ID] = true
		}
		if d.sending == 0 && !d.recording {
			d.busySince = time.Now()
		}
		d.sending++
		n += len(g)
		d.running.Add(1)
		go e.sendGroup(ctx, k, g)
	}
	return n, nil
}

// sendGroup sends one recipient's replies in order, stopping at one left for a retry, and hands
// the sent ones to be recorded.
func (e *Engine) sendGroup(ctx context.Context, key string, g []Outbound) {
	d := e.dispatch
	defer d.running.Done()
	handled := 0
	var ferr error
	// No lease to stay within: the cut-off is what a lease-bound send had.
	timeout := e.sendLease * 3 / 4
	i := 0
	for ; i < len(g); i++ {
		out := g[i]
		s, retried, err := e.deliver(ctx, out, timeout)
		if s != nil {
			d.mu.Lock()
			d.held[out.ID] = false
			d.toRecord = append(d.toRecord, sentReply{sent: *s, out: out})
			lead := !d.recording
			d.recording = true
			d.mu.Unlock()
			if lead {
				d.running.Add(1)
				go e.record(ctx)
			}
			continue
		}
		d.mu.Lock()
		delete(d.held, out.ID)
		if errors.Is(err, ErrHeld) {
			d.elsewhere[out.ID] = time.Now().Add(e.poll)
			d.mu.Unlock()
			i++
			break
		}
		d.mu.Unlock()
		// Failed for good, cancelled, or left for a retry: the outcome is stored (or the
		// error says why not).
		handled++
		if err != nil {
			ferr = err
		}
		if err != nil || retried {
			i++
			break
		}
	}
	d.mu.Lock()
	for _, out := range g[i:] {
		delete(d.held, out.ID) // not tried: the next pass takes them again
	}
	delete(d.busy, key)
	d.sending--
	if ferr != nil && d.firstErr == nil && ctx.Err() == nil {
		d.firstErr = ferr
	}
	e.handledLocked(handled)
	d.mu.Unlock()
	e.nudgeSender()
}

// record stores the outcome of sent replies, batch after batch, until none is left.
func (e *Engine) record(ctx context.Context) {
	d := e.dispatch
	defer d.running.Done()
	for {
		d.mu.Lock()
		batch := d.toRecord
		d.toRecord = nil
		if len(batch) == 0 {
			d.recording = false
			e.handledLocked(0)
			d.mu.Unlock()
			return
		}
		d.mu.Unlock()
		err := e.recordSent(context.WithoutCancel(ctx), batch)
		d.mu.Lock()
		for _, r := range batch {
			if err == nil {
				delete(d.held, r.sent.ID)
			}
			// Otherwise the reply stays held: it reached the platform, and sending it again
			// because its record failed would be the duplicate this memory is for. It is
			// still pending (in flight) in the store, so a restart sends it again, marked
			// MaybeTwice.
		}
		if err != nil && d.firstErr == nil {
			d.firstErr = err
		}
		e.handledLocked(len(batch))
		d.mu.Unlock()
	}
}

// recordSent stores sent replies, in one transaction when the store can.
func (e *Engine) recordSent(ctx context.Context, batch []sentReply) error {
	bm, ok := e.store.(batchSentMarker)
	if !ok {
		var errs []error
		for _, r := range batch {
			errs = append(errs, e.finish(e.store.MarkSent(ctx, r.sent.ID, r.sent.PlatformID, r.sent.At), r.out, "sent"))
		}
		return errors.Join(errs...)
	}
	sent := make([]Sent, len(batch))
	for i, r := range batch {
		sent[i] = r.sent
	}
	var errs []error
	for _, c := range inChunks(len(sent), func(lo, hi int) ([]error, error) { return bm.MarkSentBatch(ctx, sent[lo:hi]) }) {
		if c.err != nil {
			for _, r := range batch[c.lo:c.hi] {
				errs = append(errs, e.finish(e.store.MarkSent(ctx, r.sent.ID, r.sent.PlatformID, r.sent.At), r.out, "sent"))
			}
			continue
		}
		for i, rerr := range c.results {
			errs = append(errs, e.finish(rerr, batch[c.lo+i].out, "sent"))
		}
	}
	return errors.Join(errs...)
}

// handledLocked counts n replies handled for SendDue and the intake's reply rate, and signals
// idleness. Called with dispatch.mu held.
func (e *Engine) handledLocked(n int) {
	d := e.dispatch
	d.done += n
	now := time.Now()
	if n > 0 && !d.busySince.IsZero() {
		e.intake.Sent(n, now.Sub(d.busySince))
		d.busySince = now
	}
	if d.sending == 0 && !d.recording {
		d.busySince = time.Time{}
		close(d.idle)
		d.idle = make(chan struct{})
	}
}

// sendDueSole is SendDue on a sole-process store: it dispatches what is due, pass after pass,
// waiting each time until every send and record started (by it or the running sender) is
// done, until a pass finds nothing to start, and returns how many replies were handled
// meanwhile.
func (e *Engine) sendDueSole(ctx context.Context) (int, error) {
	d := e.dispatch
	for {
		d.mu.Lock()
		d.news = true // read whatever is due, as a call from outside Run expects
		d.mu.Unlock()
		started, err := e.dispatchDue(ctx)
		if err != nil {
			return 0, err
		}
		if err := e.waitIdle(ctx); err != nil {
			return 0, err
		}
		d.mu.Lock()
		if started == 0 || d.firstErr != nil {
			n, err := d.done, d.firstErr
			d.done, d.firstErr = 0, nil
			d.mu.Unlock()
			return n, err
		}
		d.mu.Unlock()
	}
}

// waitIdle waits until nothing is being sent or recorded.
func (e *Engine) waitIdle(ctx context.Context) error {
	d := e.dispatch
	for {
		d.mu.Lock()
		if d.sending == 0 && !d.recording {
			d.mu.Unlock()
			return nil
		}
		idle := d.idle
		d.mu.Unlock()
		select {
		case <-idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
