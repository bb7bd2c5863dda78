package messenger_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/chatcampaigns/campaign/channels/messenger"
	"github.com/chatcampaigns/campaign/engine"
)

func TestParseRefusesWhatIsNotTheEnvelope(t *testing.T) {
	for _, body := range []string{``, `{`, `[]`, `"page"`, `{"object":"page"} {}`, `{"object":"page","entry":{"id":1}}`} {
		if _, err := messenger.ParseWebhook([]byte(body), now); err == nil {
			t.Errorf("ParseWebhook(%q) = nil error, want a refusal", body)
		}
	}
}

// FuzzParseWebhook: no body makes the parser panic, and whatever it accepts normalizes to
// messages a handler can take: each has a mid and a sender unless it is skipped, media only
// on media messages, and a time. The seeds are the webhook payloads in testdata.
func FuzzParseWebhook(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "webhooks", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no payloads: %v", err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		w, err := messenger.ParseWebhook(body, now)
		if err != nil {
			return
		}
		for _, m := range w.Messages {
			if m.Skip != "" {
				continue
			}
			if m.Inbound.PlatformID == "" || m.Inbound.From == "" {
				t.Fatalf("message without mid or sender not skipped: %+v", m)
			}
			if (m.Media != nil) != (m.Inbound.Kind == engine.KindMedia) {
				t.Fatalf("media %v on a %s message", m.Media, m.Inbound.Kind)
			}
			if m.Inbound.At.IsZero() {
				t.Fatalf("message without a time: %+v", m)
			}
		}
	})
}
