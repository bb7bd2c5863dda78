package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

func claim(t *testing.T, s engine.Store, owner string, now, until time.Time, keys ...string) []string {
	t.Helper()
	won, err := s.Claim(t.Context(), owner, keys, now, until)
	noErr(t, "Claim("+owner+")", err)
	if won == nil {
		won = []string{}
	}
	return won
}

var claimTests = []test{
	{"ClaimWinsOnlyFreeKeys", func(t *testing.T, s Store) {
		equal(t, "a claims k1 k2", claim(t, s, "a", t0, at(time.Minute), "k1", "k2"), []string{"k1", "k2"})
		equal(t, "b claims k1 k3", claim(t, s, "b", t0, at(time.Minute), "k1", "k3"), []string{"k3"})
		equal(t, "a claims k1 again (renewal)", claim(t, s, "a", at(time.Second), at(2*time.Minute), "k1"), []string{"k1"})
		equal(t, "nothing to claim", claim(t, s, "a", t0, at(time.Minute)), []string{})
	}},
	{"ClaimTakesOverOnlyExpiredLeases", func(t *testing.T, s Store) {
		claim(t, s, "dead", t0, at(10*time.Second), "k")
		equal(t, "before expiry", claim(t, s, "b", at(9*time.Second), at(time.Minute), "k"), []string{})
		equal(t, "after expiry", claim(t, s, "b", at(11*time.Second), at(time.Minute), "k"), []string{"k"})
		equal(t, "the old owner back", claim(t, s, "dead", at(12*time.Second), at(time.Minute), "k"), []string{})
	}},
	{"ReleaseFreesOnlyOwnLeases", func(t *testing.T, s Store) {
		claim(t, s, "a", t0, at(time.Hour), "k1", "k2")
		noErr(t, "Release by b", s.Release(t.Context(), "b", []string{"k1"}))
		equal(t, "c after b's release", claim(t, s, "c", t0, at(time.Hour), "k1"), []string{})
		noErr(t, "Release by a", s.Release(t.Context(), "a", []string{"k1", "unknown"}))
		equal(t, "c after a's release", claim(t, s, "c", t0, at(time.Hour), "k1", "k2"), []string{"k1"})
		noErr(t, "Release nothing", s.Release(t.Context(), "a", nil))
	}},
	{"ExpireClaimsDeletesOnlyLeasesThatRanOut", func(t *testing.T, s Store) {
		x, ok := s.(ClaimExpirer)
		if !ok {
			t.Skip("backend does not expire claims")
		}
		claim(t, s, "dead", t0, at(10*time.Second), "k1", "k2")
		claim(t, s, "alive", t0, at(time.Hour), "k3")
		n, err := x.ExpireClaims(t.Context(), at(10*time.Second))
		noErr(t, "ExpireClaims at the expiry", err)
		equal(t, "expired at the expiry instant", n, 0)
		n, err = x.ExpireClaims(t.Context(), at(11*time.Second))
		noErr(t, "ExpireClaims", err)
		equal(t, "expired", n, 2)
		n, err = x.ExpireClaims(t.Context(), at(11*time.Second))
		noErr(t, "ExpireClaims again", err)
		equal(t, "expired again", n, 0)
		equal(t, "the live lease still holds", claim(t, s, "b", at(time.Minute), at(time.Hour), "k3", "k1"), []string{"k1"})
	}},
	{"RetryOutboxKeepsReplyPendingUntilDue", func(t *testing.T, s Store) {
		queue(t, s)
		id := dueID(t, s, "Welcome")
		noErr(t, "RetryOutbox", s.RetryOutbox(t.Context(), id, "rate limited", at(time.Hour), at(2*time.Second)))
		equal(t, "due before the retry time", outTexts(due(t, s, at(time.Minute))), []string{})
		got := due(t, s, at(time.Hour))
		if len(got) != 1 || got[0].ID != id || got[0].Attempts != 1 || got[0].Error != "rate limited" {
			t.Fatalf("due at the retry time = %+v, want reply %d with 1 attempt and its reason", got, id)
		}
		noErr(t, "MarkSent", s.MarkSent(t.Context(), id, "wamid.1", at(time.Hour)))
		if err := s.RetryOutbox(t.Context(), id, "late", at(2*time.Hour), at(time.Hour)); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("RetryOutbox of a sent reply: err = %v, want ErrConflict", err)
		}
		if err := s.RetryOutbox(t.Context(), 999999, "x", at(time.Hour), at(time.Hour)); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("RetryOutbox of an unknown reply: err = %v, want ErrNotFound", err)
		}
	}},
	{"ProcessedEventIsErrProcessed", func(t *testing.T, s Store) {
		p := MustJoin(t, s, "u1")
		id := MustSaveInbound(t, s, inbound("m1", "u1", "hi"))
		noErr(t, "SkipInbound", s.SkipInbound(t.Context(), id, "test"))
		if err := s.SkipInbound(t.Context(), id, "again"); !errors.Is(err, engine.ErrProcessed) || !errors.Is(err, errs.ErrConflict) {
			t.Errorf("SkipInbound twice: err = %v, want ErrProcessed (an ErrConflict)", err)
		}
		err := s.Commit(t.Context(), engine.Step{InboundID: id, Participant: next(p, "door", 0), PrevVersion: p.Version})
		if !errors.Is(err, engine.ErrProcessed) {
			t.Errorf("Commit of a processed event: err = %v, want ErrProcessed", err)
		}
		err = s.Commit(t.Context(), engine.Step{InboundID: id, Outbox: []engine.Outbound{{Campaign: campaign,
			Channel: "webchat", To: "stranger", Text: "closed", DueAt: t0, Status: engine.StatusPending}}})
		if !errors.Is(err, engine.ErrProcessed) {
			t.Errorf("Commit to a stranger of a processed event: err = %v, want ErrProcessed", err)
		}
	}},
}

// RunShared runs the tests that need two handles on one store, as two processes sharing a
// database have. open must return two handles on a new, empty store.
func RunShared(t *testing.T, open func(t *testing.T) (Store, Store)) {
	for _, tc := range []struct {
		name string
		// held, when set, is a lease an owner that died took on every key, expired at now.
		held bool
	}{
		{"OneWinnerPerFreeKey", false},
		{"OneWinnerPerExpiredKey", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := open(t)
			keys := make([]string, 20)
			for i := range keys {
				keys[i] = "participant:" + itoa(int64(i))
			}
			now := at(time.Minute)
			if tc.held {
				claim(t, a, "dead", t0, at(time.Second), keys...)
			}
			const workers = 8
			wins := make([][]string, workers)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for w := range workers {
				s := a
				if w%2 == 1 {
					s = b
				}
				wg.Go(func() {
					<-start
					won, err := s.Claim(t.Context(), "owner"+itoa(int64(w)), keys, now, now.Add(time.Minute))
					if err != nil {
						t.Errorf("worker %d: Claim: %v", w, err)
					}
					wins[w] = won
				})
			}
			close(start)
			wg.Wait()
			count := map[string]int{}
			for _, won := range wins {
				for _, k := range won {
					count[k]++
				}
			}
			for _, k := range keys {
				if count[k] != 1 {
					t.Errorf("%s won %d times, want exactly once", k, count[k])
				}
			}
		})
	}
	t.Run("CodesNeverHandedOutTwice", func(t *testing.T) {
		a, b := open(t)
		handOutConcurrently(t, a, b)
	})
	runSharedJudging(t, open)
}
