package messenger_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/channels/messenger"
	"github.com/chatcampaigns/campaign/channels/messenger/messengertest"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// sendCase is an outgoing case: testdata/out/NAME.json, the reply and how long ago the
// participant last wrote ("" for a stranger); NAME.golden.json records the Send API
// requests it makes and the error, if any.
type sendCase struct {
	SinceLastMessage string          `json:"since_last_message"`
	Outbound         engine.Outbound `json:"outbound"`
}

type sendResult struct {
	Requests []json.RawMessage `json:"requests"`
	Error    string            `json:"error,omitempty"`
	// Permanent says the engine records the failure for good instead of trying again.
	Permanent bool `json:"permanent,omitempty"`
}

func TestSendGolden(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "out", "*.json"))
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, ".golden.json") {
			continue
		}
		n++
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var c sendCase
			if err := json.Unmarshal(b, &c); err != nil {
				t.Fatal(err)
			}
			r := newRig(t, nil)
			out := c.Outbound
			if c.SinceLastMessage != "" {
				d, err := time.ParseDuration(c.SinceLastMessage)
				if err != nil {
					t.Fatal(err)
				}
				out.ParticipantID, out.LastInboundAt = "p1", r.now.Add(-d)
			}
			id, err := r.ch.Send(t.Context(), out)
			res := sendResult{Requests: []json.RawMessage{}}
			for _, m := range r.api.Sent() {
				res.Requests = append(res.Requests, m.Raw)
			}
			if err != nil {
				res.Error = err.Error()
				res.Permanent = errors.Is(err, errs.ErrInvalid) || errors.Is(err, errs.ErrUnauthorized)
			} else if sent := r.api.Sent(); len(sent) == 0 || id != sent[0].ID {
				t.Errorf("Send = %q, want the first mid of %d sent", id, len(sent))
			}
			if err != nil && r.api.Requests() > 0 && len(res.Requests) == 0 {
				t.Errorf("the fake refused a request: %v", err)
			}
			golden(t, filepath.Join("out", name+".golden.json"), res)
		})
	}
	if n < 10 {
		t.Fatalf("%d outgoing cases", n)
	}
}

// TestSendMapsErrors: the Send API's errors become what the engine needs to know: try
// again later (rate limits, outages) or never (window closed, person unavailable, token).
func TestSendMapsErrors(t *testing.T) {
	tests := []struct {
		name                  string
		status, code, subcode int
		kind                  string
		temporary             bool
		is                    error
	}{
		{"RateLimit", 400, 613, 0, messenger.ErrRateLimited, true, nil},
		{"AppRateLimit", 403, 4, 0, messenger.ErrRateLimited, true, nil},
		{"WindowClosed", 400, 10, 2018278, messenger.ErrWindowClosed, false, errs.ErrInvalid},
		{"UserUnavailable", 400, 551, 1545041, messenger.ErrUserUnavailable, false, errs.ErrInvalid},
		{"NoSuchUser", 400, 100, 2018001, messenger.ErrUserUnavailable, false, errs.ErrInvalid},
		{"TokenExpired", 401, 190, 463, messenger.ErrAuth, false, errs.ErrUnauthorized},
		{"PlatformDown", 500, 2, 0, messenger.ErrPlatform, true, nil},
		{"Other", 400, 100, 0, messenger.ErrRefused, false, errs.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, nil)
			r.api.FailNext(tt.status, tt.code, tt.subcode)
			_, err := r.ch.Send(t.Context(), engine.Outbound{To: psid, Text: "hi"})
			var apiErr *messenger.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want an *APIError", err)
			}
			if apiErr.Kind != tt.kind || apiErr.Temporary() != tt.temporary || apiErr.Code != tt.code || apiErr.Subcode != tt.subcode {
				t.Errorf("err = %+v, want kind %q temporary %v", apiErr, tt.kind, tt.temporary)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("err = %v, want it to wrap %v", err, tt.is)
			}
			if r.api.Requests() != 1 {
				t.Errorf("%d requests, want 1: the engine, not the channel, tries again", r.api.Requests())
			}
		})
	}
}

func TestCheckNamesThePage(t *testing.T) {
	r := newRig(t, nil)
	p, err := r.ch.Check(t.Context())
	if err != nil || p.ID != messengertest.PageID || p.Name != messengertest.PageName {
		t.Errorf("Check = %+v, %v", p, err)
	}
	bad := newRig(t, func(c *messenger.Config) { c.APIURL = r.api.APIURL; c.PageToken = "wrong" })
	if _, err := bad.ch.Check(t.Context()); !errors.Is(err, errs.ErrUnauthorized) {
		t.Errorf("Check with a wrong token: %v, want unauthorized", err)
	}
}

func TestNewRefusesMissingSecrets(t *testing.T) {
	for _, cfg := range []messenger.Config{
		{AppSecret: "s", VerifyToken: "v"},
		{PageToken: "t", VerifyToken: "v"},
		{PageToken: "t", AppSecret: "s"},
	} {
		if _, err := messenger.New(cfg); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("New(%+v) = %v, want ErrInvalid", cfg, err)
		}
	}
}
