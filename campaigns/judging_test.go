package campaigns_test

import (
	"slices"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
)

const judgingRubric = "rubric: {scale: {min: 1, max: 10}, criteria: [{name: a}, {name: b}]}\n"

func TestJudgingCompiles(t *testing.T) {
	src := judgingRubric + "judging: {blind: true, judges: [anna, ben, carla], per_entry: 2, score_lock: 5m, normalise: rescaled}\n" + valid
	def, probs := campaigns.Parse("demo.yaml", []byte(src))
	if def == nil || len(probs) > 0 {
		t.Fatalf("problems: %v", probs)
	}
	j := def.Judging
	if j == nil || !j.Blind || !slices.Equal(j.Judges, []string{"anna", "ben", "carla"}) || j.PerEntry != 2 ||
		j.ScoreLock != 5*time.Minute || j.Normalise != campaigns.NormaliseRescaled {
		t.Errorf("judging = %+v", j)
	}
	def, _ = campaigns.Parse("demo.yaml", []byte("judging: {blind: true}\n"+valid))
	if def == nil || def.Judging.Normalise != campaigns.NormaliseNone || def.Judging.PerEntry != 0 {
		t.Errorf("blind only: judging = %+v", def.Judging)
	}
}

func TestJudgingProblems(t *testing.T) {
	for _, tt := range []struct{ name, src, want string }{
		{"PerEntryWithoutJudges", judgingRubric + "judging: {per_entry: 2}\n" + valid,
			"demo.yaml:2:22: judging per_entry needs judges: the usernames of the panel the entries are shared out among"},
		{"PerEntryAboveJudges", judgingRubric + "judging: {judges: [anna, ben], per_entry: 3}\n" + valid,
			"demo.yaml:2:43: judging per_entry (3) is more than the 2 judges listed; each entry needs judges of its own"},
		{"PerEntryZero", judgingRubric + "judging: {judges: [anna], per_entry: 0}\n" + valid,
			"demo.yaml:2:38: judging per_entry must be a whole number of at least 1, not \"0\""},
		{"JudgesWithoutPerEntry", judgingRubric + "judging: {judges: [anna, ben]}\n" + valid,
			"demo.yaml:2:11: judging judges: give per_entry too, how many of them score each entry"},
		{"JudgeTwice", judgingRubric + "judging: {judges: [anna, anna], per_entry: 1}\n" + valid,
			"demo.yaml:2:26: judging judges: \"anna\" is listed twice"},
		{"UnknownNormalise", judgingRubric + "judging: {normalise: zscore}\n" + valid,
			"demo.yaml:2:22: judging normalise \"zscore\": use none, z-score or rescaled; did you mean \"z-score\"?"},
		{"BadLock", judgingRubric + "judging: {score_lock: soon}\n" + valid,
			"demo.yaml:2:23: judging score_lock: \"soon\" is not a duration (write it like 800ms, 2s, 1h30m or 2d)"},
		{"NoRubric", "judging: {score_lock: 5m}\n" + valid,
			"demo.yaml:1:11: judging score_lock is about rubric scores, but the campaign has no rubric"},
		{"UnknownKey", "judging: {blindly: true}\n" + valid,
			"demo.yaml:1:11: unknown key \"blindly\" in judging; did you mean \"blind\"?"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			def, probs := campaigns.Parse("demo.yaml", []byte(tt.src))
			found := false
			for _, p := range probs {
				found = found || p.String() == tt.want
			}
			if !found {
				t.Errorf("want the problem\n  %s\ngot\n  %v", tt.want, probs)
			}
			if def != nil {
				t.Error("a definition with errors must not compile")
			}
		})
	}
}
