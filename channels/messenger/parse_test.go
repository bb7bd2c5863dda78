package messenger_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/channels/messenger"
	"github.com/chatcampaigns/campaign/engine"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var now = time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)

// inboundView is what a golden file records of a normalized message: every field the
// channel fills, and only those.
type inboundView struct {
	Page       string                `json:"page,omitempty"`
	PlatformID string                `json:"platform_id,omitempty"`
	From       string                `json:"from,omitempty"`
	Kind       engine.Kind           `json:"kind,omitempty"`
	Text       string                `json:"text,omitempty"`
	Choice     string                `json:"choice,omitempty"`
	ReplyTo    string                `json:"reply_to,omitempty"`
	At         time.Time             `json:"at"`
	Media      *messenger.Attachment `json:"media,omitempty"`
	Skip       string                `json:"skip,omitempty"`
}

type webhookView struct {
	Messages  []inboundView       `json:"messages"`
	Delivered []messenger.Receipt `json:"delivered"`
}

func view(w *messenger.Webhook) webhookView {
	v := webhookView{Messages: []inboundView{}, Delivered: w.Delivered}
	if v.Delivered == nil {
		v.Delivered = []messenger.Receipt{}
	}
	for _, m := range w.Messages {
		in := m.Inbound
		if in.Channel != messenger.ChannelName {
			panic("channel " + in.Channel)
		}
		v.Messages = append(v.Messages, inboundView{Page: m.PageID, PlatformID: in.PlatformID, From: in.From,
			Kind: in.Kind, Text: in.Text, Choice: in.Choice, ReplyTo: in.ReplyTo, At: in.At, Media: m.Media, Skip: m.Skip})
	}
	return v
}

// golden compares got, as indented JSON, with testdata/name (or writes it with -update).
func golden(t *testing.T, name string, got any) {
	t.Helper()
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("%s differs:\n got: %s\nwant: %s", path, b, want)
	}
}

// payloads are the incoming cases: testdata/in/NAME.json, with NAME.golden.json beside it.
func payloads(t testing.TB) []string {
	files, err := filepath.Glob(filepath.Join("testdata", "in", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no payloads: %v", err)
	}
	var out []string
	for _, f := range files {
		if !strings.HasSuffix(f, ".golden.json") {
			out = append(out, f)
		}
	}
	return out
}

func TestParseGolden(t *testing.T) {
	for _, f := range payloads(t) {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			w, err := messenger.ParseWebhook(body, now)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("in", name+".golden.json"), view(w))
		})
	}
}

func TestParseRefusesWhatIsNotTheEnvelope(t *testing.T) {
	for _, body := range []string{``, `{`, `[]`, `"page"`, `{"object":"page"} {}`, `{"object":"page","entry":{"id":1}}`} {
		if _, err := messenger.ParseWebhook([]byte(body), now); err == nil {
			t.Errorf("ParseWebhook(%q) = nil error, want a refusal", body)
		}
	}
}

// FuzzParseWebhook: no body makes the parser panic, and whatever it accepts normalizes to
// messages a handler can take: each has a mid and a sender unless it is skipped, media only
// on media messages.
func FuzzParseWebhook(f *testing.F) {
	for _, p := range payloads(f) {
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
