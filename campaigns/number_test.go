package campaigns_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chatcampaigns/campaign/campaigns"
)

// TestSharedNumbers: two campaigns that can answer on one WhatsApp number and could both
// answer the same stranger are warned about, at the second, with the first's position.
func TestSharedNumbers(t *testing.T) {
	camp := func(id, extra string) string {
		return "id: " + id + "\n" + extra + "start: a\nstates:\n  a:\n    say: hi\n    final: true\n"
	}
	const (
		wa     = "channels: [whatsapp]\n"
		num1   = "whatsapp:\n  phone_number_id: \"111\"\n"
		num2   = "whatsapp:\n  phone_number_id: \"222\"\n"
		kwNews = "keywords: [NEWS]\n"
		kwQuiz = "keywords: [QUIZ]\n"
	)
	tests := []struct {
		name string
		a, b string
		want string // "" for no warning
	}{
		{"BothWithoutKeywords", camp("a", wa), camp("b", wa),
			`b.yaml:1:5: warning: campaign "b" and campaign "a" (a.yaml:1:5) answer on one WhatsApp number without entry keywords, so a stranger's first message there joins neither: give one of them keywords, or each its own whatsapp phone_number_id`},
		{"BothOnOneNumber", camp("a", wa+num1), camp("b", wa+num1), `b.yaml:1:5: warning: campaign "b" and campaign "a" (a.yaml:1:5) answer on one WhatsApp number without entry keywords`},
		// On 111 the campaign naming it takes strangers, elsewhere the other: no clash.
		{"OneNamesTheNumber", camp("a", wa+num1), camp("b", wa), ""},
		{"OneWithoutKeywords", camp("a", wa), camp("b", wa+kwNews),
			`b.yaml:3:12: warning: campaign "b" and campaign "a" (a.yaml:1:5) answer on one WhatsApp number and "a" has no entry keywords: a stranger's first message that is not a keyword of "b" (a typo too) joins "a", and while they play "a" their "NEWS" goes to "a"; give "a" keywords, or each its own whatsapp phone_number_id`},
		{"OneWithoutKeywordsSecond", camp("a", wa+kwNews), camp("b", wa),
			`b.yaml:1:5: warning: campaign "a" (a.yaml:3:12) and campaign "b" answer on one WhatsApp number and "b" has no entry keywords`},
		{"DifferentKeywords", camp("a", wa+kwQuiz), camp("b", wa+kwNews), ""},
		{"DifferentNumbers", camp("a", wa+num1), camp("b", wa+num2), ""},
		{"NotOnWhatsApp", camp("a", "channels: [webchat]\n"), camp("b", wa), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "a.yaml"), []byte(tt.a), 0o600)
			os.WriteFile(filepath.Join(dir, "b.yaml"), []byte(tt.b), 0o600)
			defs, probs := campaigns.LoadPaths([]string{dir})
			if len(probs) > 0 {
				t.Fatalf("LoadPaths: %v", probs)
			}
			got := strings.ReplaceAll(campaigns.SharedNumbers(defs).Error(), dir+string(filepath.Separator), "")
			switch {
			case tt.want == "" && got != "":
				t.Errorf("got %s, want no warning", got)
			case tt.want != "" && (!strings.HasPrefix(got, tt.want) || strings.Count(got, "\n") > 0):
				t.Errorf("got\n  %s\nwant one warning starting\n  %s", got, tt.want)
			}
		})
	}
}

// TestSharedNumbersOnlyTheCatchAll: a campaign with keywords is warned about the one campaign
// without keywords that takes the other strangers on its number, not about one that answers
// on any number but is outranked there by a campaign naming the number.
func TestSharedNumbersOnlyTheCatchAll(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"a.yaml": "id: a\nchannels: [whatsapp]\nstart: s\nstates:\n  s:\n    say: hi\n    final: true\n",                                        // any number
		"b.yaml": "id: b\nchannels: [whatsapp]\nwhatsapp:\n  phone_number_id: \"111\"\nstart: s\nstates:\n  s:\n    say: hi\n    final: true\n", // 111's catch-all
		"c.yaml": "id: c\nchannels: [whatsapp]\nwhatsapp:\n  phone_number_id: \"111\"\nkeywords: [NEWS]\nstart: s\nstates:\n  s:\n    say: hi\n    final: true\n",
	}
	for name, src := range files {
		os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600)
	}
	defs, probs := campaigns.LoadPaths([]string{dir})
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	got := campaigns.SharedNumbers(defs)
	if len(got) != 1 || !strings.Contains(got[0].Msg, `campaign "c" and campaign "b"`) {
		t.Errorf("warnings:\n%v\nwant one, about c and b", got)
	}
}
