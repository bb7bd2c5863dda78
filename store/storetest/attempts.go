package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// MaybeTwiceLister is the delivery monitor's list of replies that may have been sent twice
// (dashboard.Deliveries), checked when a store has it.
type MaybeTwiceLister interface {
	MaybeTwice(ctx context.Context, campaign string, limit int) ([]engine.Outbound, error)
}

// attemptOf is the state of one reply's send attempts, as DueOutbox (or Outbox) returns it.
type attemptOf struct {
	Status       string
	Attempts     int
	By           string
	At           time.Time
	InFlight     bool
	MaybeTwice   bool
	ErrorMessage string
}

func attemptState(o engine.Outbound) attemptOf {
	return attemptOf{o.Status, o.Attempts, o.AttemptedBy, o.AttemptedAt, o.InFlight, o.MaybeTwice, o.Error}
}

// row returns the reply id of the participant p, through Outbox when the store lists it and
// DueOutbox otherwise (then only while it is pending).
func row(t *testing.T, s Store, p engine.Participant, id int64) engine.Outbound {
	t.Helper()
	var all []engine.Outbound
	if l, ok := s.(OutboxLister); ok {
		var err error
		all, err = l.Outbox(t.Context(), p.ID)
		noErr(t, "Outbox", err)
	} else {
		all = due(t, s, at(24*time.Hour))
	}
	for _, o := range all {
		if o.ID == id {
			return o
		}
	}
	t.Fatalf("reply %d not found", id)
	return engine.Outbound{}
}

func attempt(t *testing.T, s Store, id int64, owner string, when time.Time) {
	t.Helper()
	noErr(t, "AttemptOutbox("+owner+")", s.AttemptOutbox(t.Context(), id, owner, when))
}

func takeBack(t *testing.T, s Store, owner string) [2]int {
	t.Helper()
	claims, inFlight, err := s.TakeBack(t.Context(), owner)
	noErr(t, "TakeBack("+owner+")", err)
	return [2]int{claims, inFlight}
}

var attemptTests = []test{
	{"AttemptIsRecordedBeforeTheOutcome", func(t *testing.T, s Store) {
		p := queue(t, s)
		id := dueID(t, s, "Welcome")
		attempt(t, s, id, "a", at(2*time.Second))
		// A crash now leaves this behind: an attempt with no outcome.
		equal(t, "in flight", attemptState(row(t, s, p, id)),
			attemptOf{Status: engine.StatusPending, Attempts: 1, By: "a", At: at(2 * time.Second), InFlight: true})
		equal(t, "still due while in flight", outTexts(due(t, s, at(2*time.Second))), []string{"Welcome"})
		noErr(t, "MarkSent", s.MarkSent(t.Context(), id, "wamid.1", at(3*time.Second)))
		if _, ok := s.(OutboxLister); ok {
			// The outcome closes the attempt and counts none of its own.
			equal(t, "sent", attemptState(row(t, s, p, id)),
				attemptOf{Status: engine.StatusSent, Attempts: 1, By: "a", At: at(2 * time.Second)})
		}
		if err := s.AttemptOutbox(t.Context(), id, "a", at(4*time.Second)); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("AttemptOutbox of a sent reply: err = %v, want ErrConflict", err)
		}
		if err := s.AttemptOutbox(t.Context(), 999999, "a", at(4*time.Second)); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("AttemptOutbox of an unknown reply: err = %v, want ErrNotFound", err)
		}
	}},
	{"AttemptAfterOneWithoutOutcomeIsMaybeTwice", func(t *testing.T, s Store) {
		p := queue(t, s, 2*time.Second)
		id := dueID(t, s, "Welcome")
		other := dueID(t, s, "reply 1")
		attempt(t, s, id, "a", at(2*time.Second))
		// The process died here; it starts again and sends the reply again.
		attempt(t, s, id, "a", at(30*time.Second))
		equal(t, "sent again", attemptState(row(t, s, p, id)),
			attemptOf{Status: engine.StatusPending, Attempts: 2, By: "a", At: at(30 * time.Second), InFlight: true, MaybeTwice: true})
		noErr(t, "MarkSent", s.MarkSent(t.Context(), id, "wamid.1", at(31*time.Second)))
		// Claimed but never attempted: a first attempt, not a duplicate.
		attempt(t, s, other, "a", at(31*time.Second))
		equal(t, "the other reply", row(t, s, p, other).MaybeTwice, false)
		if _, ok := s.(OutboxLister); ok {
			equal(t, "sent, maybe twice", attemptState(row(t, s, p, id)),
				attemptOf{Status: engine.StatusSent, Attempts: 2, By: "a", At: at(30 * time.Second), MaybeTwice: true})
		}
		if l, ok := s.(MaybeTwiceLister); ok {
			got, err := l.MaybeTwice(t.Context(), campaign, 10)
			noErr(t, "MaybeTwice", err)
			equal(t, "maybe sent twice", outTexts(got), []string{"Welcome"})
			got, err = l.MaybeTwice(t.Context(), "other", 10)
			noErr(t, "MaybeTwice of another campaign", err)
			equal(t, "another campaign", outTexts(got), []string{})
		}
	}},
	{"RetryClosesTheAttempt", func(t *testing.T, s Store) {
		p := queue(t, s)
		id := dueID(t, s, "Welcome")
		attempt(t, s, id, "a", at(2*time.Second))
		noErr(t, "RetryOutbox", s.RetryOutbox(t.Context(), id, "rate limited", at(time.Minute), at(3*time.Second)))
		equal(t, "to be retried", attemptState(row(t, s, p, id)),
			attemptOf{Status: engine.StatusPending, Attempts: 1, By: "a", At: at(2 * time.Second), ErrorMessage: "rate limited"})
		// Its outcome was stored: the next attempt is no duplicate.
		attempt(t, s, id, "a", at(time.Minute))
		equal(t, "tried again", attemptState(row(t, s, p, id)),
			attemptOf{Status: engine.StatusPending, Attempts: 2, By: "a", At: at(time.Minute), InFlight: true, ErrorMessage: "rate limited"})
		noErr(t, "MarkFailed", s.MarkFailed(t.Context(), id, "refused", at(time.Minute)))
		if _, ok := s.(OutboxLister); ok {
			equal(t, "failed", attemptState(row(t, s, p, id)),
				attemptOf{Status: engine.StatusFailed, Attempts: 2, By: "a", At: at(time.Minute), ErrorMessage: "refused"})
		}
	}},
	{"OutcomeWithoutAttemptCountsOne", func(t *testing.T, s Store) {
		p := queue(t, s)
		id := dueID(t, s, "Welcome")
		noErr(t, "RetryOutbox", s.RetryOutbox(t.Context(), id, "no window", at(time.Minute), at(3*time.Second)))
		equal(t, "retried without an attempt recorded", row(t, s, p, id).Attempts, 1)
		noErr(t, "MarkCancelled", s.MarkCancelled(t.Context(), id, "opted out", at(time.Minute)))
		if _, ok := s.(OutboxLister); ok {
			equal(t, "cancelled", attemptState(row(t, s, p, id)),
				attemptOf{Status: engine.StatusCancelled, Attempts: 2, ErrorMessage: "opted out"})
		}
	}},
	{"TakeBackFreesOnlyOwnLeasesAtOnce", func(t *testing.T, s Store) {
		queue(t, s, 2*time.Second, 3*time.Second)
		welcome, r1, r2 := dueID(t, s, "Welcome"), dueID(t, s, "reply 1"), dueID(t, s, "reply 2")
		claim(t, s, "a", t0, at(20*time.Second), "outbox:1", "participant:u1")
		claim(t, s, "b", t0, at(20*time.Second), "outbox:2")
		attempt(t, s, welcome, "a", at(time.Second))
		attempt(t, s, r1, "b", at(time.Second))
		attempt(t, s, r2, "a", at(time.Second))
		noErr(t, "MarkSent", s.MarkSent(t.Context(), r2, "wamid.2", at(2*time.Second)))
		// a restarted: its two leases go at once, and one reply of its own was in flight (r1 is
		// b's, r2 has its outcome).
		equal(t, "a takes back", takeBack(t, s, "a"), [2]int{2, 1})
		equal(t, "a again", takeBack(t, s, "a"), [2]int{0, 1})
		equal(t, "c before any lease ran out", claim(t, s, "c", at(3*time.Second), at(time.Minute),
			"outbox:1", "participant:u1", "outbox:2"), []string{"outbox:1", "participant:u1"})
		// Another process's lease still waits until it runs out.
		equal(t, "b's lease after it ran out", claim(t, s, "c", at(21*time.Second), at(time.Minute), "outbox:2"), []string{"outbox:2"})
		equal(t, "nobody's", takeBack(t, s, "nobody"), [2]int{0, 0})
	}},
}
