package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/chatcampaigns/campaign/errs"
)

// WindowClosed is the reason recorded on a reply that could not go out because the
// participant's customer-service window is closed and the message has no template.
const WindowClosed = "outside the 24-hour window and no template"

// SendDue delivers replies that are due and returns how many it handled. A reply whose
// channel has no sender, or whose sender fails for good, is recorded as failed with the
// reason; one failing for a reason that may pass (a rate limit, an outage) is tried again
// later with backoff, up to Config.SendAttempts times in all.
//
// On a channel with a window (Config.Windows) a reply goes out as free text only while the
// participant's window is open; once it closed, a reply with a template goes out with it
// (Template set; the channel sends the template) and one without is recorded as failed, never
// sent for the platform to reject. Inside the window, and on channels without one, Template is
// cleared before sending.
//
// Several processes may share the store: a reply is claimed (Store.Claim, "outbox:<id>")
// before it is sent and its lease released once its outcome is stored, and a send is cut off
// before the lease runs out. On a store one process uses (soleProcess: SQLite) there is nobody
// to keep out and SendDue runs one round at a time, so a round reads the due replies once and
// takes no lease. Each attempt is recorded (Store.AttemptOutbox) before the send; on a store
// that can, the attempts of the first reply to each recipient of a round together, before the
// round's sends (batchAttempter). A reply is sent twice only when its sender dies (or loses
// the store) after the platform accepted it and before its outcome was stored: it is then
// found in flight and sent again, marked MaybeTwice, by the same engine restarted (TakeBack,
// at once), by another once the lease ran out, or on a store one process uses by the next
// process at once (docs/performance.md, "Crashes"). So the replies that may go out twice
// after a crash are at most those in flight at the crash. On a store that records sends in
// batches (MarkSentBatch) the replies of one call are recorded after all of them were sent,
// so that window covers the call's sends rather than one.
//
// Replies to different recipients are sent concurrently (Config.SendConcurrency); those to
// one recipient one at a time, in the order they were queued, each only once the one before
// it went out (or failed for good): a reply waiting to be tried again after its backoff holds
// up the recipient's later replies, here and in Store.DueOutbox, and so does one another
// process is sending, or the receive loop is sending directly (direct.go).
func (e *Engine) SendDue(ctx context.Context) (int, error) {
	e.sendMu.Lock()
	defer e.sendMu.Unlock()
	start := time.Now()
	if e.turns != nil {
		e.turns.started(start)
	}
	n, err := e.sendDue(ctx)
	busy := time.Since(start)
	if e.turns != nil {
		// Direct sends post meanwhile: the busy time is the wall time while either does.
		busy = e.turns.stopped(time.Now())
	}
	if n > 0 {
		// For the intake's backlog (intake.go): how fast replies go out while there are some.
		e.intake.Sent(n, busy)
	}
	return n, err
}

func (e *Engine) sendDue(ctx context.Context) (int, error) {
	now := e.now()
	sp, sole := e.store.(soleProcess)
	sole = sole && sp.SoleProcess()
	var keys []string
	mark := e.intake.RepliesMark()
	if ir, ok := e.store.(dueIDReader); ok && !sole {
		ids, err := ir.DueOutboxIDs(ctx, now, dueBatch)
		if err != nil {
			return 0, fmt.Errorf("engine: due outbox: %w", err)
		}
		for _, id := range ids {
			keys = append(keys, outboxKey(id))
		}
	} else {
		if e.turns != nil {
			e.turns.reads()
		}
		due, err := e.store.DueOutbox(ctx, now, dueBatch)
		if e.turns != nil {
			// A participant being sent to directly (direct.go) waits for a later round.
			due = e.turns.take(due)
			defer e.turns.done(due)
		}
		if err != nil {
			return 0, fmt.Errorf("engine: due outbox: %w", err)
		}
		if len(due) > 0 && sole {
			// Nobody else sends from this store, and SendDue runs one round at a time
			// (sendMu): the replies read are this round's, with no lease to take, and no
			// second read to make under one.
			return e.sendGroups(ctx, byRecipient(due, nil), now.Add(e.sendLease), true)
		}
		for _, out := range due {
			keys = append(keys, outboxKey(out.ID))
		}
	}
	if len(keys) == 0 {
		e.intake.ResetRepliesSince(mark)
		return 0, nil
	}
	until := now.Add(e.sendLease)
	won, err := e.store.Claim(ctx, e.owner, keys, now, until)
	if err != nil {
		return 0, fmt.Errorf("engine: claim replies: %w", err)
	}
	defer e.release(ctx, won)
	if len(won) == 0 {
		return 0, nil
	}
	// Read again under the leases: a reply read as due may have been sent and released by
	// another process since, and is then no longer pending.
	fresh, err := e.store.DueOutbox(ctx, now, dueBatch)
	if err != nil {
		return 0, fmt.Errorf("engine: due outbox: %w", err)
	}
	mine := make(map[string]bool, len(won))
	for _, k := range won {
		mine[k] = true
	}
	return e.sendGroups(ctx, byRecipient(fresh, mine), until, false)
}

// byRecipient makes one group per recipient, in queue order: replies to one participant go
// out in order, replies to different participants at once. With mine set, a reply not in it
// (another process holds it: it is being sent there) holds up the recipient's later ones too:
// they go out after it, in a later round, rather than alongside it.
func byRecipient(due []Outbound, mine map[string]bool) [][]Outbound {
	var groups [][]Outbound
	group := map[string]int{}
	held := map[string]bool{}
	for _, out := range due {
		k := sendKey(out)
		if held[k] || mine != nil && !mine[outboxKey(out.ID)] {
			held[k] = true
			continue
		}
		i, ok := group[k]
		if !ok {
			i = len(groups)
			group[k] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], out)
	}
	return groups
}

// dueIDReader is a store several processes share that lists the replies due by id alone
// (store/mongo): the ids are all a round needs to choose its leases, and the replies with
// what a send needs (the participant's window, an opt-out, a retried reply holding later ones
// up) are read once, under the leases. On FerretDB v1 that is one full scan of the outbox a
// round instead of three scans of the outbox and the participants.
type dueIDReader interface {
	DueOutboxIDs(ctx context.Context, now time.Time, limit int) ([]int64, error)
}

func outboxKey(id int64) string { return "outbox:" + strconv.FormatInt(id, 10) }

// send delivers one claimed reply and stores the outcome; retried and attempted are as for
// deliver.
func (e *Engine) send(ctx context.Context, out Outbound, timeout time.Duration, attempted *error) (retried bool, err error) {
	s, retried, err := e.deliver(ctx, out, timeout, attempted)
	if err != nil || s == nil {
		return retried, err
	}
	return false, e.finish(e.store.MarkSent(ctx, s.ID, s.PlatformID, s.At), out, "sent")
}

// deliver sends one claimed reply and stores the outcome, except a success, which it returns
// for the caller to store (several at once). The send is cut off after timeout, before the
// lease runs out. (A timeout, not a deadline: the lease is on the engine's clock, which tests
// replace, and the cut-off on the wall clock.) retried reports a reply left pending to be
// tried again later: the recipient's later replies must wait for it.
//
// attempted is the answer of recording the attempt when the caller recorded it already (with
// others, batchAttempter), nil when deliver is to record it itself.
func (e *Engine) deliver(ctx context.Context, out Outbound, timeout time.Duration, attempted *error) (s *Sent, retried bool, err error) {
	now := e.now()
	out, sender, verdict := e.check(out, now)
	switch verdict {
	case optedOut:
		// The broadcast listed the participant before they opted out. Other replies need no
		// check here: those of a step (and an agent's) were held when it was computed, against
		// the participant's version, so any that reach this point answer the participant.
		return nil, false, e.finish(e.store.MarkCancelled(ctx, out.ID, NotSentOptedOut, now), out, "cancelled")
	case noSender:
		return nil, false, e.finish(e.store.MarkFailed(ctx, out.ID, "no sender for channel "+out.Channel, now), out, "failed")
	case windowClosed:
		return nil, false, e.finish(e.store.MarkFailed(ctx, out.ID, WindowClosed, now), out, "failed")
	}
	// The attempt is stored before the platform sees the reply: if this process dies before
	// the outcome is stored, the reply is found in flight, and sending it again is known to
	// be a possible duplicate (MaybeTwice) rather than invisible.
	var aerr error
	if attempted != nil {
		aerr = *attempted
	} else {
		aerr = e.store.AttemptOutbox(ctx, out.ID, e.owner, now)
	}
	if aerr != nil {
		return nil, false, e.finish(aerr, out, "attempted")
	}
	if out.InFlight {
		e.log.Warn("sending again a reply whose last attempt has no outcome: the participant may get it twice",
			"outbox", out.ID, "channel", out.Channel, "attempted_by", out.AttemptedBy, "attempted_at", out.AttemptedAt)
		if o, ok := e.obs.(CrashObserver); ok {
			o.MaybeTwice(out.Channel)
		}
	}
	attempt := out.Attempts + 1
	sctx, cancel := context.WithTimeout(ctx, timeout)
	id, err := sender.Send(sctx, out)
	cancel()
	if err != nil && ctx.Err() != nil {
		// Shutting down: the lease is released and the reply stays pending (in flight) for
		// the next sender; whether this attempt reached the platform is unknown either way.
		return nil, true, ctx.Err()
	}
	e.obs.ReplySent(out.Channel, e.now().Sub(out.DueAt), err)
	if err == nil {
		return &Sent{ID: out.ID, PlatformID: id, At: e.now()}, false, nil
	}
	e.log.Warn("send failed", "outbox", out.ID, "channel", out.Channel, "attempt", attempt, "err", err)
	if Permanent(err) || attempt >= e.sendAttempts {
		ferr := e.finish(e.store.MarkFailed(ctx, out.ID, err.Error(), e.now()), out, "failed")
		if ferr == nil && Permanent(err) {
			e.marketingRefusal(ctx, out, err)
		}
		return nil, false, ferr
	}
	wait := e.backoff(attempt - 1)
	if d, ok := RetryAfter(err); ok {
		wait = max(wait, d)
	}
	due := e.now().Add(wait)
	return nil, true, e.finish(e.store.RetryOutbox(ctx, out.ID, err.Error(), due, e.now()), out, "retried")
}

// verdict is what check found a due reply to be.
type verdict int

const (
	toSend       verdict = iota
	optedOut             // a broadcast to a participant who opted out since: cancelled
	noSender             // no sender for its channel: failed
	windowClosed         // outside the window, and no template: failed
)

// check decides, without writing, whether a due reply goes to the platform at now, and with
// which sender; the reply it returns has Template set only when the template is to go out.
func (e *Engine) check(out Outbound, now time.Time) (Outbound, Sender, verdict) {
	if out.OptedOut && out.BroadcastID != "" {
		return out, nil, optedOut
	}
	sender, ok := e.senders[out.Channel]
	if !ok {
		return out, nil, noSender
	}
	// A reply to a stranger (no participant) answers the message they just sent. The window
	// is closed at exactly its length too, as the WhatsApp channel and validation count it.
	window := e.windows[out.Channel]
	if window > 0 && out.ParticipantID != "" && !now.Before(out.LastInboundAt.Add(window)) {
		if agent := e.agentWindows[out.Channel]; out.Agent != "" && agent > 0 && now.Before(out.LastInboundAt.Add(agent)) {
			// A human's answer inside the agent window: the channel tags it (Messenger's
			// HUMAN_AGENT) and sends the text.
			out.Template = nil
		} else if out.Template == nil {
			return out, nil, windowClosed
		}
	} else {
		out.Template = nil
	}
	return out, sender, toSend
}

// sendKey is the recipient a reply goes to: one recipient's replies go out one at a time, in
// order.
func sendKey(out Outbound) string {
	if out.ParticipantID == "" {
		return "to:" + out.Channel + ":" + out.To
	}
	return "participant:" + out.ParticipantID
}

// finish turns the error of recording a reply's outcome into SendDue's: a reply found no longer
// pending was finished by someone else (a cancellation on opt-out), which is no failure here.
func (e *Engine) finish(err error, out Outbound, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errs.ErrConflict):
		e.log.Warn("reply finished elsewhere", "outbox", out.ID, "as", what, "err", err)
		return nil
	}
	return fmt.Errorf("engine: mark outbox %d %s: %w", out.ID, what, err)
}

// backoff is how long to wait before the attempt after attempts failed ones: doubling from a
// second up to five minutes, with up to a fifth added at random so that replies refused
// together (a rate limit) do not come back together.
func (e *Engine) backoff(attempts int) time.Duration {
	d := time.Second << min(attempts, 9)
	d = min(d, 5*time.Minute)
	e.randMu.Lock()
	jitter := time.Duration(e.rand.Int64N(int64(d)/5 + 1))
	e.randMu.Unlock()
	return d + jitter
}

// TakeBack gives up, at once, the leases the engine's Owner still holds: with an Owner that
// survives a restart they are those of the run that died (SIGKILL, a power cut) without
// releasing them, and waiting for them to run out would only hold up that run's participants
// and replies for a lease. The replies that run left in flight are sent again by SendDue,
// marked MaybeTwice. Run calls it first; a failure is logged, and the leases then run out as
// they would have.
func (e *Engine) TakeBack(ctx context.Context) {
	claims, inFlight, err := e.store.TakeBack(ctx, e.owner)
	if err != nil {
		e.log.Warn("take back leases of the last run", "owner", e.owner, "err", err)
		return
	}
	if claims > 0 || inFlight > 0 {
		e.log.Warn("took back what the last run left: its replies in flight may reach participants twice",
			"owner", e.owner, "leases", claims, "in_flight", inFlight)
	}
	if o, ok := e.obs.(CrashObserver); ok {
		o.TakenBack(claims, inFlight)
	}
}
