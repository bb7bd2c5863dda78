package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

func codeClaim(code string) engine.CodeClaim {
	return engine.CodeClaim{Campaign: campaign, Pool: "vouchers", Code: code}
}

func left(t *testing.T, s Store) [2]int {
	t.Helper()
	l, n, err := s.CodesLeft(t.Context(), campaign, "vouchers")
	noErr(t, "CodesLeft", err)
	return [2]int{l, n}
}

// codeTests: pools of codes (partner vouchers) hand out each code once, in the order added.
var codeTests = []test{
	{"CodesAddedOnceInOrder", func(t *testing.T, s Store) {
		equal(t, "left of an unknown pool", left(t, s), [2]int{0, 0})
		_, err := s.NextCode(t.Context(), campaign, "vouchers")
		wantErr(t, "NextCode of an empty pool", err, errs.ErrNotFound)
		n, err := s.AddCodes(t.Context(), campaign, "vouchers", []string{"A1", "B2", "C3"})
		noErr(t, "AddCodes", err)
		equal(t, "added", n, 3)
		// Loading the file again (a restart) adds only what is new; case does not make a code new.
		n, err = s.AddCodes(t.Context(), campaign, "vouchers", []string{"B2", "c3", "D4"})
		noErr(t, "AddCodes again", err)
		equal(t, "added again", n, 1)
		equal(t, "left", left(t, s), [2]int{4, 4})
		code, err := s.NextCode(t.Context(), campaign, "vouchers")
		noErr(t, "NextCode", err)
		equal(t, "first code", code, "A1")
		n, _ = s.AddCodes(t.Context(), "other", "vouchers", []string{"A1"})
		equal(t, "the same code in another campaign", n, 1)
		equal(t, "left after another campaign's", left(t, s), [2]int{4, 4})
	}},
	{"CodesHandedOutOnceInOrder", func(t *testing.T, s Store) {
		_, err := s.AddCodes(t.Context(), campaign, "vouchers", []string{"A1", "B2"})
		noErr(t, "AddCodes", err)
		p := MustJoin(t, s, "u1")
		MustCommit(t, s, engine.Step{Participant: next(p, "won", time.Minute), PrevVersion: p.Version,
			Claims: []engine.CodeClaim{codeClaim("A1")}})
		code, _ := s.NextCode(t.Context(), campaign, "vouchers")
		equal(t, "next code after A1", code, "B2")
		equal(t, "left", left(t, s), [2]int{1, 2})

		// A step worked out with a code someone else got first is refused as a whole.
		q := MustJoin(t, s, "u2")
		id := MustSaveInbound(t, s, inbound("m2", "u2", "here"))
		before := snap(t, s, q.ID)
		err = s.Commit(t.Context(), engine.Step{InboundID: id, Participant: next(q, "won", time.Minute),
			PrevVersion: q.Version, Claims: []engine.CodeClaim{codeClaim("A1")},
			Outbox: []engine.Outbound{outbound(q, "Your code: A1", 0)}})
		wantErr(t, "Commit with a code handed out before", err, engine.ErrCodeClaimed)
		wantErr(t, "ErrCodeClaimed is a conflict (the engine retries)", err, errs.ErrConflict)
		equal(t, "state after the refused commit", snap(t, s, q.ID), before)
		equal(t, "left after the refused commit", left(t, s), [2]int{1, 2})

		MustCommit(t, s, engine.Step{InboundID: id, Participant: next(q, "won", time.Minute),
			PrevVersion: q.Version, Claims: []engine.CodeClaim{codeClaim("B2")}})
		equal(t, "left when all are out", left(t, s), [2]int{0, 2})
		_, err = s.NextCode(t.Context(), campaign, "vouchers")
		wantErr(t, "NextCode of a pool handed out", err, errs.ErrNotFound)
		// New codes (a longer file) go out after the old ones.
		s.AddCodes(t.Context(), campaign, "vouchers", []string{"C3"})
		code, _ = s.NextCode(t.Context(), campaign, "vouchers")
		equal(t, "next code after adding", code, "C3")
	}},
	{"CodesNeverHandedOutTwiceUnderConcurrentClaims", func(t *testing.T, s Store) {
		handOutConcurrently(t, s, s)
	}},
}

func isConflict(err error) bool { return errors.Is(err, errs.ErrConflict) }

// handOutConcurrently has 12 participants take from a pool of 5 codes at once, every other one
// through b (a second process on the same database): each code goes to one participant.
func handOutConcurrently(t *testing.T, a, b Store) {
	s := a
	const people, codes = 12, 5
	var all []string
	for i := range codes {
		all = append(all, fmt.Sprintf("V%02d", i))
	}
	_, err := s.AddCodes(t.Context(), campaign, "vouchers", all)
	noErr(t, "AddCodes", err)
	var ps []engine.Participant
	for i := range people {
		ps = append(ps, MustJoin(t, s, fmt.Sprintf("u%d", i)))
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		got   = map[string]string{}
		empty int
	)
	start := make(chan struct{})
	for i, p := range ps {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			<-start
			// As the engine does: take the next code, and on a refusal work it out again.
			for attempt := 0; attempt < 50; attempt++ {
				code, err := s.NextCode(t.Context(), campaign, "vouchers")
				if isNotFound(err) {
					mu.Lock()
					empty++
					mu.Unlock()
					return
				}
				if err != nil {
					t.Errorf("NextCode: %v", err)
					return
				}
				err = s.Commit(t.Context(), engine.Step{Participant: next(p, "won", time.Minute),
					PrevVersion: p.Version, Claims: []engine.CodeClaim{codeClaim(code)}})
				if err == nil {
					mu.Lock()
					defer mu.Unlock()
					if other, ok := got[code]; ok {
						t.Errorf("code %s handed to %s and %s", code, other, p.ID)
					}
					got[code] = p.ID
					return
				}
				if !isConflict(err) {
					t.Errorf("Commit: %v", err)
					return
				}
			}
			t.Errorf("%s: no code and no refusal after 50 attempts", p.ID)
		})
	}
	close(start)
	wg.Wait()
	equal(t, "codes handed out", len(got), codes)
	equal(t, "participants told the pool is empty", empty, people-codes)
	equal(t, "left", left(t, s), [2]int{0, codes})
}
