package telegram_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/channels/telegram"
	"github.com/chatcampaigns/campaign/errs"
)

var now = time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)

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
