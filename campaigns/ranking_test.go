package campaigns_test

import (
	"strings"
	"testing"

	"github.com/chatcampaigns/campaign/campaigns"
)

// ranked is a small quiz whose score is saved as a number, with a state that waits for the
// winner verdict; the ranking block is appended by each test.
const ranked = `id: quiz
channels: [webchat]
start: ask
states:
  ask:
    say: "Your score?"
    on:
      - text: any
        save: {var: points, as: number, invalid: "A number, please."}
        goto: wait
  wait:
    say: "You have {{points}} points; you are number {{rank}} of {{rank_of}}."
    on:
      - verdict: winner
        goto: won
  won:
    say: "You are in the top {{top}}!"
    final: true
`

func TestRankingCompiles(t *testing.T) {
	def, probs := campaigns.Parse("quiz.yaml", []byte(ranked+"ranking:\n  by: points\n  order: asc\n  top: 3\n"))
	if def == nil || len(probs) > 0 {
		t.Fatalf("want no problem, got %v", probs)
	}
	want := campaigns.Ranking{By: "points", Ascending: true, TieBreak: campaigns.TieEarliest, Top: 3}
	if def.Ranking == nil || *def.Ranking != want {
		t.Fatalf("ranking = %+v, want %+v", def.Ranking, want)
	}
	if rule := def.Ranking.Rule(); !strings.Contains(rule, "lowest points first") || !strings.Contains(rule, "reached it first") {
		t.Errorf("rule = %q", rule)
	}
	def, probs = campaigns.Parse("quiz.yaml", []byte(ranked+"ranking: {by: points, tie_break: none, top: 1}\n"))
	if def == nil || len(probs) > 0 {
		t.Fatalf("want no problem, got %v", probs)
	}
	if def.Ranking.TieBreak != campaigns.TieNone || def.Ranking.Ascending {
		t.Errorf("ranking = %+v", def.Ranking)
	}
}

func TestRankingProblems(t *testing.T) {
	noWinner := strings.Replace(ranked, "verdict: winner", "verdict: approved", 1)
	tests := []struct {
		name, src, want string
	}{
		{"NotAMapping", ranked + "ranking: points\n",
			"quiz.yaml:19:10: ranking must be a mapping of keys to values"},
		{"MissingBy", ranked + "ranking: {top: 3}\n",
			"quiz.yaml:19:10: ranking needs by: the variable holding the number participants are ranked on"},
		{"UnknownKey", ranked + "ranking: {by: points, tiebreak: earliest}\n",
			"quiz.yaml:19:23: unknown key \"tiebreak\" in ranking; did you mean \"tie_break\"?"},
		{"BadVarStyle", ranked + "ranking: {by: Points}\n",
			"quiz.yaml:19:15: ranking by \"Points\" must be a variable name: lower-case letters, digits and _"},
		{"EngineVar", ranked + "ranking: {by: places_left}\n",
			"quiz.yaml:19:15: ranking by \"places_left\": that variable is set by the engine; rank by one of your own, filled with a number"},
		{"NeverSet", ranked + "ranking: {by: point}\n",
			"quiz.yaml:19:15: ranking by \"point\": no transition sets it; rank by a number variable (add: {point: 1}, or save: {var: point, as: number}); did you mean \"points\"?"},
		{"SavedAsText", strings.Replace(ranked, "as: number, invalid: \"A number, please.\"", "as: text", 1) + "ranking: {by: points}\n",
			"quiz.yaml:19:15: ranking by \"points\": it is saved as text, not a number; save it with as: number"},
		{"BadOrder", ranked + "ranking: {by: points, order: ascending}\n",
			"quiz.yaml:19:30: ranking order \"ascending\": use desc (the highest ranks first) or asc (the lowest ranks first)"},
		{"BadTieBreak", ranked + "ranking: {by: points, tie_break: first}\n",
			"quiz.yaml:19:34: ranking tie_break \"first\": use earliest (who reached their value first ranks higher) or none (equal values share a rank)"},
		{"TopBelowOne", ranked + "ranking: {by: points, top: 0}\n",
			"quiz.yaml:19:28: ranking top must be a whole number of at least 1, not \"0\""},
		{"TopNotANumber", ranked + "ranking: {by: points, top: three}\n",
			"quiz.yaml:19:28: ranking top must be a whole number of at least 1, not \"three\""},
		{"NoWinnerVerdict", noWinner + "ranking: {by: points, top: 3}\n",
			"quiz.yaml:19:23: warning: ranking top: no state answers verdict: winner, so picking the top 3 as winners moves and tells nobody (add on: - verdict: winner to the state the ranked participants wait in)"},
		{"RankWithoutRanking", ranked,
			"quiz.yaml:12:54: {{rank}} needs a ranking (add ranking: at the top level)"},
		{"RankOfWithoutRanking", ranked,
			"quiz.yaml:12:66: {{rank_of}} needs a ranking (add ranking: at the top level)"},
		{"TopWithoutTop", ranked + "ranking: {by: points}\n",
			"quiz.yaml:17:30: {{top}} needs a ranking with top: (how many win)"},
		{"SaveIntoRank", strings.Replace(ranked, "var: points", "var: rank", 1) + "ranking: {by: points}\n",
			"quiz.yaml:9:21: save var \"rank\" is set by the engine; choose another name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def, probs := campaigns.Parse("quiz.yaml", []byte(tt.src))
			found := false
			for _, p := range probs {
				found = found || p.String() == tt.want
			}
			if !found {
				t.Errorf("want the problem\n  %s\ngot\n  %s", tt.want, strings.ReplaceAll(probs.Error(), "\n", "\n  "))
			}
			if probs.HasErrors() && def != nil {
				t.Error("a definition with errors must not compile")
			}
		})
	}
}
