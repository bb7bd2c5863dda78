package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/judge"
)

// judging returns s as the stores of claims and panels; every backend keeps them.
func judging(t *testing.T, s Store) (judge.Leases, judge.Panels) {
	t.Helper()
	l, ok := s.(judge.Leases)
	if !ok {
		t.Fatalf("%T does not implement judge.Leases", s)
	}
	p, ok := s.(judge.Panels)
	if !ok {
		t.Fatalf("%T does not implement judge.Panels", s)
	}
	return l, p
}

func seat(entry string, n int, by string) judge.Seat {
	return judge.Seat{Campaign: campaign, EntryID: entry, N: n, Judge: by, At: at(time.Duration(n) * time.Second)}
}

func recusal(entry, by, kind string) judge.Recusal {
	return judge.Recusal{Campaign: campaign, EntryID: entry, Judge: by, Kind: kind, Reason: "knows " + entry, At: at(time.Minute)}
}

// judgingTests: claims on entries (who holds which), panels (numbered seats, recusals, load),
// and the first-score time score locks count from.
var judgingTests = []test{
	{"HoldersShowsLiveLeasesOnly", func(t *testing.T, s Store) {
		l, _ := judging(t, s)
		claim(t, s, "user:anna", t0, at(10*time.Minute), "entry:e1")
		claim(t, s, "user:ben", t0, at(time.Minute), "entry:e2")
		got, err := l.Holders(t.Context(), []string{"entry:e1", "entry:e2", "entry:e3"}, at(time.Minute))
		noErr(t, "Holders at the second's expiry", err)
		equal(t, "holders", got, map[string]judge.Holder{
			"entry:e1": {Owner: "user:anna", Until: at(10 * time.Minute)},
			"entry:e2": {Owner: "user:ben", Until: at(time.Minute)},
		})
		got, err = l.Holders(t.Context(), []string{"entry:e1", "entry:e2"}, at(2*time.Minute))
		noErr(t, "Holders after the second's expiry", err)
		equal(t, "holders", got, map[string]judge.Holder{"entry:e1": {Owner: "user:anna", Until: at(10 * time.Minute)}})
		equal(t, "ben takes e1 while anna holds it", claim(t, s, "user:ben", at(2*time.Minute), at(12*time.Minute), "entry:e1"), []string{})
		equal(t, "ben takes e2 back after expiry", claim(t, s, "user:ben", at(2*time.Minute), at(12*time.Minute), "entry:e2"), []string{"entry:e2"})
		got, err = l.Holders(t.Context(), nil, t0)
		noErr(t, "Holders of nothing", err)
		equal(t, "holders of nothing", len(got), 0)
	}},
	{"SeatsAreNumberedAndUniquePerJudge", func(t *testing.T, s Store) {
		_, p := judging(t, s)
		noErr(t, "seat 0", p.AddSeat(t.Context(), seat("e1", 0, "anna")))
		noErr(t, "seat 1", p.AddSeat(t.Context(), seat("e1", 1, "ben")))
		wantErr(t, "seat 1 again", p.AddSeat(t.Context(), seat("e1", 1, "carla")), errs.ErrConflict)
		wantErr(t, "anna twice on e1", p.AddSeat(t.Context(), seat("e1", 2, "anna")), errs.ErrConflict)
		noErr(t, "anna on e2", p.AddSeat(t.Context(), seat("e2", 0, "anna")))
		got, err := p.Panels(t.Context(), []string{"e1", "e2", "e3"})
		noErr(t, "Panels", err)
		equal(t, "panels", got, map[string]judge.Panel{
			"e1": {Seats: []judge.Seat{seat("e1", 0, "anna"), seat("e1", 1, "ben")}},
			"e2": {Seats: []judge.Seat{seat("e2", 0, "anna")}},
		})
	}},
	{"RecusalsOncePerJudgeAndOutOfTheLoad", func(t *testing.T, s Store) {
		_, p := judging(t, s)
		for _, st := range []judge.Seat{seat("e1", 0, "anna"), seat("e1", 1, "ben"), seat("e2", 0, "anna"), seat("e3", 0, "anna")} {
			noErr(t, "AddSeat", p.AddSeat(t.Context(), st))
		}
		other := seat("x1", 0, "anna")
		other.Campaign = "fridge"
		noErr(t, "AddSeat in another campaign", p.AddSeat(t.Context(), other))
		noErr(t, "conflict", p.Recuse(t.Context(), recusal("e1", "anna", judge.RecuseConflict)))
		noErr(t, "abstain", p.Recuse(t.Context(), recusal("e2", "anna", judge.RecuseAbstain)))
		wantErr(t, "second recusal", p.Recuse(t.Context(), recusal("e1", "anna", judge.RecuseAbstain)), errs.ErrConflict)
		loads, err := p.Loads(t.Context(), campaign, []string{"anna", "ben", "carla"})
		noErr(t, "Loads", err)
		equal(t, "loads (a conflict does not count, an abstention does)", loads, map[string]int{"anna": 2, "ben": 1, "carla": 0})
		got, err := p.Panels(t.Context(), []string{"e1"})
		noErr(t, "Panels", err)
		equal(t, "e1's recusals", got["e1"].Recusals, []judge.Recusal{recusal("e1", "anna", judge.RecuseConflict)})
		equal(t, "e1's judges", got["e1"].Judges(), []string{"ben"})
	}},
	{"ScoreKeepsFirstGivenTime", func(t *testing.T, s Store) {
		sc := scores(t, s)
		noErr(t, "first", sc.SaveScorecard(t.Context(), card(campaign, "e1", "ann", time.Minute, map[string]int{"A": 1})))
		noErr(t, "change", sc.SaveScorecard(t.Context(), card(campaign, "e1", "ann", 3*time.Minute, map[string]int{"A": 2})))
		noErr(t, "bob", sc.SaveScorecard(t.Context(), card(campaign, "e1", "bob", 2*time.Minute, map[string]int{"A": 3})))
		got, err := sc.Scorecards(t.Context(), campaign, "e1")
		noErr(t, "Scorecards", err)
		if len(got) != 2 || !got[0].Given.Equal(at(time.Minute)) || !got[0].At.Equal(at(3*time.Minute)) || got[0].Scores["A"] != 2 ||
			!got[1].Given.Equal(at(2*time.Minute)) {
			t.Errorf("scorecards = %+v, want ann's given at +1m, changed at +3m to 2; bob's given at +2m", got)
		}
	}},
}

// runSharedJudging runs the judging races on two handles of one store.
func runSharedJudging(t *testing.T, open func(t *testing.T) (Store, Store)) {
	t.Run("OneDecisionPerEntry", func(t *testing.T) {
		a, b := open(t)
		e := collect(t, a, campaign, "u1", 0, "e1")[0]
		const workers = 8
		errsOf := make([]error, workers)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for w := range workers {
			s := a
			if w%2 == 1 {
				s = b
			}
			verdict := judge.StatusApproved
			if w%3 == 0 {
				verdict = judge.StatusRejected
			}
			wg.Go(func() {
				<-start
				d := decision("e1", verdict, "mod"+itoa(int64(w)))
				errsOf[w] = s.Decide(t.Context(), d, verdictEvent(e, verdict))
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for w, err := range errsOf {
			switch {
			case err == nil && winner >= 0:
				t.Errorf("moderators %d and %d both decided e1", winner, w)
			case err == nil:
				winner = w
			case !errors.Is(err, errs.ErrConflict):
				t.Errorf("moderator %d: err = %v, want nil or ErrConflict", w, err)
			}
		}
		if winner < 0 {
			t.Fatal("nobody decided e1")
		}
		got, err := b.Entry(t.Context(), "e1")
		noErr(t, "Entry", err)
		equal(t, "decided by", got.DecidedBy, "mod"+itoa(int64(winner)))
	})
	t.Run("OneJudgePerSeat", func(t *testing.T) {
		a, b := open(t)
		const workers = 8
		errsOf := make([]error, workers)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for w := range workers {
			_, p := judging(t, a)
			if w%2 == 1 {
				_, p = judging(t, b)
			}
			wg.Go(func() {
				<-start
				errsOf[w] = p.AddSeat(t.Context(), seat("e1", 0, "judge"+itoa(int64(w))))
			})
		}
		close(start)
		wg.Wait()
		won := 0
		for w, err := range errsOf {
			if err == nil {
				won++
			} else if !errors.Is(err, errs.ErrConflict) {
				t.Errorf("judge %d: err = %v, want nil or ErrConflict", w, err)
			}
		}
		_, p := judging(t, b)
		got, err := p.Panels(t.Context(), []string{"e1"})
		noErr(t, "Panels", err)
		if won != 1 || len(got["e1"].Seats) != 1 {
			t.Errorf("%d judges won seat 0, panel %+v; want exactly one", won, got["e1"])
		}
	})
}
