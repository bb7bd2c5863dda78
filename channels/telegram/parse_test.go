package telegram_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/channels/telegram"
	"github.com/chatcampaigns/campaign/errs"
)

var update = flag.Bool("update", false, "rewrite the golden files from what the code gives")

var now = time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)

// TestParseUpdateGolden parses every payload in testdata/updates and compares the normalized
// update with its golden file (NAME.golden next to NAME.json).
func TestParseUpdateGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "updates", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no payloads: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			u, err := telegram.ParseUpdate(body, now)
			if err != nil {
				t.Fatalf("ParseUpdate: %v", err)
			}
			got, err := json.MarshalIndent(u, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := strings.TrimSuffix(file, ".json") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestParseUpdateGolden -update to write it, then read it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: got\n%s\nwant\n%s", name, got, want)
			}
		})
	}
}

func TestParseUpdateRefusesWhatIsNoUpdate(t *testing.T) {
	for name, body := range map[string]string{
		"not JSON":        `{"update_id": 1, "message": `,
		"an array":        `[{"update_id": 1}]`,
		"no update_id":    `{"message": {"message_id": 1, "chat": {"id": 1, "type": "private"}, "text": "hi"}}`,
		"trailing object": `{"update_id": 1} {"update_id": 2}`,
		"wrong types":     `{"update_id": "1"}`,
		"empty":           ``,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := telegram.ParseUpdate([]byte(body), now)
			if !errors.Is(err, errs.ErrInvalid) {
				t.Errorf("ParseUpdate(%s) = %v, want errs.ErrInvalid", name, err)
			}
		})
	}
}

// FuzzParseUpdate feeds the parser arbitrary bodies, seeded with every testdata payload: it
// must never panic, and whatever it accepts has an update id and a platform id for dedupe.
func FuzzParseUpdate(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "updates", "*.json"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		u, err := telegram.ParseUpdate(body, now)
		if err != nil {
			if !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("error %v does not wrap errs.ErrInvalid", err)
			}
			return
		}
		if u.ID <= 0 || u.Inbound.PlatformID == "" || u.Inbound.Channel != telegram.ChannelName {
			t.Fatalf("accepted update without its ids: %+v", u)
		}
		if u.Media != nil && u.Media.FileID == "" {
			t.Fatalf("media without a file id: %+v", u.Media)
		}
	})
}
