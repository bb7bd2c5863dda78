package engine

import (
	"context"
	"time"
)

// ReceiveLoop starts Run's receive loop alone, without the worker, the sender and the timers,
// so that a test decides when those run. It returns a channel closed once the loop stopped
// (ctx ended).
func (e *Engine) ReceiveLoop(ctx context.Context) <-chan struct{} {
	ra, l := e.receiveLoop()
	go e.runFused(ctx, ra, l)
	return l.stopped
}

// WaitDirectSends waits until the replies the receive loop sends directly are sent and
// recorded (direct.go).
func (e *Engine) WaitDirectSends() {
	if e.turns != nil {
		e.turns.wg.Wait()
	}
}

// WaitReceiveLoop waits until Run's receive loop takes Receives.
func (e *Engine) WaitReceiveLoop() {
	for e.fused.Load() == nil {
		time.Sleep(time.Millisecond)
	}
}

// ReceiveTogether stores events as one batch of the receive loop, as if their webhooks had
// all been waiting at once, and returns what Receive would have said of each.
func (e *Engine) ReceiveTogether(ctx context.Context, ins []Inbound) ([]bool, []error) {
	ra, _ := e.store.(receiveApplier)
	batch := make([]*fusedRequest, len(ins))
	for i, in := range ins {
		if in.ParticipantID == "" {
			in.ParticipantID = ParticipantID(in.Campaign, in.Channel, in.From)
		}
		if in.At.IsZero() {
			in.At = e.now()
		}
		batch[i] = &fusedRequest{in: in, done: make(chan fusedAnswer, 1)}
	}
	e.receiveBatch(ctx, ctx, ra, batch)
	dups, errs := make([]bool, len(ins)), make([]error, len(ins))
	for i, r := range batch {
		a := <-r.done
		dups[i], errs[i] = a.duplicate, a.err
	}
	return dups, errs
}

// QueuedReceives is how many Receives wait in the receive loop's queue, not taken yet.
func (e *Engine) QueuedReceives() int {
	l := e.fused.Load()
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.queue)
}
