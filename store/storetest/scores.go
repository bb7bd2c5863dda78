package storetest

import (
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/judge"
)

// scores returns s as a judge.Scores; every backend keeps rubric scores.
func scores(t *testing.T, s Store) judge.Scores {
	t.Helper()
	sc, ok := s.(judge.Scores)
	if !ok {
		t.Fatalf("%T does not implement judge.Scores", s)
	}
	return sc
}

func card(camp, entry, by string, at time.Duration, scores map[string]int) judge.Scorecard {
	return judge.Scorecard{Campaign: camp, EntryID: entry, Judge: by, Scores: scores, At: t0.Add(at), Given: t0.Add(at)}
}

var scoreTests = []test{
	{"NoneIsEmpty", func(t *testing.T, s Store) {
		got, err := scores(t, s).Scorecards(t.Context(), campaign, "")
		noErr(t, "Scorecards", err)
		equal(t, "Scorecards", len(got), 0)
	}},
	{"KeepsRawScoresPerJudgeOrdered", func(t *testing.T, s Store) {
		sc := scores(t, s)
		want := []judge.Scorecard{
			card(campaign, "e1", "ann", time.Minute, map[string]int{"Originality": 7, "Summer feeling": 3, "a.b$c": 1}),
			card(campaign, "e1", "bob", 2*time.Minute, map[string]int{"Originality": 9, "Summer feeling": 10, "a.b$c": 0}),
			card(campaign, "e2", "ann", 3*time.Minute, map[string]int{"Originality": 1, "Summer feeling": 2, "a.b$c": 3}),
		}
		for _, i := range []int{2, 1, 0} {
			noErr(t, "SaveScorecard", sc.SaveScorecard(t.Context(), want[i]))
		}
		noErr(t, "SaveScorecard other campaign", sc.SaveScorecard(t.Context(), card("fridge", "e1", "ann", 0, map[string]int{"Taste": 5})))
		got, err := sc.Scorecards(t.Context(), campaign, "")
		noErr(t, "Scorecards", err)
		equal(t, "campaign's scorecards", got, want)
		got, err = sc.Scorecards(t.Context(), campaign, "e1")
		noErr(t, "Scorecards(e1)", err)
		equal(t, "entry's scorecards", got, want[:2])
		got, err = sc.Scorecards(t.Context(), campaign, "e")
		noErr(t, "Scorecards(e)", err)
		equal(t, "scorecards of an entry id that is a prefix of others", len(got), 0)
	}},
	{"RescoringReplacesOnlyThatJudgesScores", func(t *testing.T, s Store) {
		sc := scores(t, s)
		noErr(t, "ann", sc.SaveScorecard(t.Context(), card(campaign, "e1", "ann", 0, map[string]int{"A": 1, "B": 2})))
		noErr(t, "bob", sc.SaveScorecard(t.Context(), card(campaign, "e1", "bob", 0, map[string]int{"A": 5, "B": 5})))
		again := card(campaign, "e1", "ann", time.Hour, map[string]int{"A": 4})
		noErr(t, "ann again", sc.SaveScorecard(t.Context(), again))
		noErr(t, "ann the same again", sc.SaveScorecard(t.Context(), again))
		again.Given = t0 // when ann first scored it
		got, err := sc.Scorecards(t.Context(), campaign, "e1")
		noErr(t, "Scorecards", err)
		equal(t, "scorecards", got, []judge.Scorecard{again, card(campaign, "e1", "bob", 0, map[string]int{"A": 5, "B": 5})})
	}},
}
