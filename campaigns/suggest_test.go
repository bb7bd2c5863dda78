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

// TestOnePassWithoutEchoes: with errors in a file every check still runs, but a check that
// would only repeat an error stays quiet: a misspelt goto is not also a state nobody reaches
// or with no way out, broken buttons are not also choices nobody offers, and a state that
// cannot be read does not make the others unreachable.
func TestOnePassWithoutEchoes(t *testing.T) {
	tests := []struct{ name, src, want, never string }{
		{"MisspeltGoto", "id: x\nchannels: [webchat]\nstart: a\nstates:\n  a:\n    say: hi\n    on:\n      - text: any\n        goto: bb\n  b:\n    say: bye\n    final: true\n",
			`goto: state "bb" is not defined; did you mean "b"?`, "cannot be reached"},
		{"BrokenButtons", "id: x\nchannels: [webchat]\nstart: a\nstates:\n  a:\n    say: {text: hi, buttons: 3}\n    on:\n      - choice: yes\n        goto: b\n  b:\n    say: bye\n    final: true\n",
			"buttons must be a list of {id, title}", "offers buttons"},
		{"UnreadableState", "id: x\nchannels: [webchat]\nstart: a\nstates:\n  a: 7\n  b:\n    say: bye\n    final: true\n",
			`state "a" must be a mapping of keys to values`, "cannot be reached"},
		// The 24-hour problem comes with the typo, not after it is fixed.
		{"WindowBesideTypo", "id: x\nchannels: [whatsapp]\nstart: a\nstates:\n  a:\n    say: hi\n    on:\n      - after: 2d\n        say: still there?\n        goto: b\n      - text: any\n        goto: bb\n  b:\n    say: bye\n    final: true\n",
			"this message goes out 2d after state", "cannot be reached"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, probs := campaigns.Parse("x.yaml", []byte(tt.src))
			all := probs.Error()
			if !strings.Contains(all, tt.want) || strings.Contains(all, tt.never) {
				t.Errorf("problems:\n%s\nwant %q and never %q", all, tt.want, tt.never)
			}
		})
	}
}
