package metahook_test

import (
	"encoding/json"
	"testing"

	"github.com/chatcampaigns/campaign/channels/metahook"
)

var jsonStrings = []string{
	"", "plain", `say "hi" \ there`, "tab\tnew\nline\rcr\bbs\fff", "\x00\x01\x1f\x7f",
	"<b>&amp;</b>", "✓ ünïcödé 😀", "line\u2028para\u2029", "bad \xff utf-8 \xc3", "\xe2\x80",
	"https://example.com/?a=1&b=2", "emoji 👍🏽 and CJK 漢字",
}

func TestAppendStringIsEncodingJSON(t *testing.T) {
	for _, s := range jsonStrings {
		want, _ := json.Marshal(s)
		if got := metahook.AppendString(nil, s); string(got) != string(want) {
			t.Errorf("AppendString(%q) = %s, want %s", s, got, want)
		}
		if got := metahook.AppendString([]byte("x"), []byte(s)); string(got) != "x"+string(want) {
			t.Errorf("AppendString(bytes %q) = %s, want x%s", s, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range jsonStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := metahook.AppendString(nil, s); string(got) != string(want) {
			t.Fatalf("AppendString(%q) = %s, want %s", s, got, want)
		}
	})
}
