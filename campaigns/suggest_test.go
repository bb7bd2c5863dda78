package campaigns_test

import (
	"strings"
	"testing"

	"github.com/chatcampaigns/campaign/campaigns"
)

// TestDidYouMeanOnlyForCloseNames: an unknown name is answered with a suggestion only when
// it is a likely typo of one (an edit or a swap per three characters); a far name gets none.
func TestDidYouMeanOnlyForCloseNames(t *testing.T) {
	const valid = "id: demo\nstart: a\nstates:\n  a:\n    say: hi\n    final: true\n"
	tests := []struct {
		key, want string // want "" for no suggestion
	}{
		{"titel", "title"},       // a swap
		{"keywrods", "keywords"}, // a swap in a longer name
		{"stat", "start"},        // a letter left out
		{"Title", "title"},       // only the case
		{"persnoa", "persona"},
		{"rtention_days", "retention_days"},
		{"retension_dais", "retention_days"}, // two edits in 14 letters
		{"colour", ""},                       // "pools"? no
		{"name", ""},
		{"x", ""},
		{"states_list", ""},
		{"handof", ""}, // a state key, not a top-level one: "handoff" is no option here
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			_, probs := campaigns.Parse("demo.yaml", []byte(tt.key+": x\n"+valid))
			if len(probs) != 1 {
				t.Fatalf("problems: %v", probs)
			}
			msg := probs[0].Msg
			got := ""
			if _, after, ok := strings.Cut(msg, "did you mean \""); ok {
				got = strings.TrimSuffix(after, "\"?")
			}
			if got != tt.want {
				t.Errorf("%s: suggests %q, want %q", msg, got, tt.want)
			}
		})
	}
}
