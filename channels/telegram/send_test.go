package telegram_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/channels/telegram"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// TestSendGolden sends every Outbound in testdata/send and compares the request the fake Bot
// API received with the one the file expects.
func TestSendGolden(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "send", "*.json"))
	if len(files) == 0 {
		t.Fatal("no send cases")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".json"), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var tc struct {
				Outbound engine.Outbound
				Method   string
				Params   map[string]any
			}
			if err := json.Unmarshal(raw, &tc); err != nil {
				t.Fatal(err)
			}
			r := newRig(t, nil)
			id, err := r.ch.Send(t.Context(), tc.Outbound)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if !strings.HasPrefix(id, tc.Outbound.To+":") {
				t.Errorf("platform id %q, want chat:message", id)
			}
			sent := r.api.Sent()
			if len(sent) != 1 {
				t.Fatalf("sent %d requests, want 1", len(sent))
			}
			if sent[0].Method != tc.Method || !reflect.DeepEqual(sent[0].Params, tc.Params) {
				t.Errorf("sent %s %s\nwant %s %v", sent[0].Method, sent[0].Raw, tc.Method, tc.Params)
			}
		})
	}
}

func TestSendRefusesWhatTelegramCannotCarry(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "send_invalid.json"))
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]engine.Outbound{}
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	cases["text too long"] = engine.Outbound{To: "1", Text: strings.Repeat("é", telegram.MaxTextLen+1)}
	cases["caption too long"] = engine.Outbound{To: "1", MediaURL: "https://x/a.jpg", Text: strings.Repeat("a", telegram.MaxCaptionLen+1)}
	r := newRig(t, nil)
	for name, out := range cases {
		if _, err := r.ch.Send(t.Context(), out); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("%s: Send = %v, want errs.ErrInvalid", name, err)
		}
	}
	if n := len(r.api.Calls()); n != 0 {
		t.Errorf("%d requests made for replies that cannot be sent", n)
	}
}

func TestSendHonoursRetryAfter(t *testing.T) {
	r := newRig(t, nil)
	r.api.Fail("sendMessage", http.StatusTooManyRequests, "Too Many Requests: retry after 7", 7)
	if _, err := r.ch.Send(t.Context(), engine.Outbound{To: "5123456789", Text: "hi"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got := r.clock.Slept(); !reflect.DeepEqual(got, []time.Duration{7 * time.Second}) {
		t.Errorf("slept %v, want the 7 s Telegram asked for", got)
	}
	if n := len(r.api.Sent()); n != 1 {
		t.Errorf("sent %d, want 1", n)
	}
}

func TestSendGivesUpAfterMaxRetries(t *testing.T) {
	r := newRig(t, func(c *telegram.Config) { c.MaxRetries = 2 })
	for range 3 {
		r.api.Fail("sendMessage", http.StatusTooManyRequests, "Too Many Requests: retry after 1", 1)
	}
	_, err := r.ch.Send(t.Context(), engine.Outbound{To: "5123456789", Text: "hi"})
	var apiErr *telegram.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != 429 || apiErr.Permanent || errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("Send = %v, want a transient 429 for the engine to retry later", err)
	}
}

func TestSendWaitingPastTheDeadlineIsLeftToTheEngine(t *testing.T) {
	r := newRig(t, nil)
	r.api.Fail("sendMessage", http.StatusTooManyRequests, "Too Many Requests: retry after 60", 60)
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	_, err := r.ch.Send(ctx, engine.Outbound{To: "5123456789", Text: "hi"})
	var apiErr *telegram.APIError
	if !errors.As(err, &apiErr) || apiErr.RetryAfter != time.Minute {
		t.Fatalf("Send = %v, want the 429 back at once", err)
	}
	if got := r.clock.Slept(); len(got) != 0 {
		t.Errorf("slept %v past the deadline", got)
	}
}

func TestSendPermanentErrors(t *testing.T) {
	r := newRig(t, nil)
	r.api.Fail("sendMessage", http.StatusForbidden, "Forbidden: bot was blocked by the user", 0)
	_, err := r.ch.Send(t.Context(), engine.Outbound{To: "5123456789", Text: "hi"})
	if !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("blocked bot: Send = %v, want a permanent error", err)
	}
	r.api.Fail("sendMessage", http.StatusUnauthorized, "Unauthorized", 0)
	_, err = r.ch.Send(t.Context(), engine.Outbound{To: "5123456789", Text: "hi"})
	if !errors.Is(err, errs.ErrUnauthorized) {
		t.Errorf("bad token: Send = %v, want errs.ErrUnauthorized", err)
	}
}

func TestSendPacesPerChatAndPerGroup(t *testing.T) {
	r := newRig(t, nil)
	send := func(to string) {
		t.Helper()
		if _, err := r.ch.Send(t.Context(), engine.Outbound{To: to, Text: "hi"}); err != nil {
			t.Fatal(err)
		}
	}
	// A private chat: one a second.
	start := r.clock.Now()
	for range 3 {
		send("5123456789")
	}
	if got := r.clock.Now().Sub(start); got != 2*time.Second {
		t.Errorf("three messages to one chat took %v, want 2s", got)
	}
	// Another chat is not held up by the first.
	before := r.clock.Now()
	send("6234567890")
	if got := r.clock.Now().Sub(before); got != 0 {
		t.Errorf("a message to another chat waited %v", got)
	}
	// A group: 20 a minute, the 21st waits for the first to be a minute old.
	start = r.clock.Now()
	for range 20 {
		send("-4001234567")
	}
	if got := r.clock.Now().Sub(start); got != 0 {
		t.Errorf("20 messages to a group waited %v, want none", got)
	}
	send("-4001234567")
	if got := r.clock.Now().Sub(start); got != time.Minute {
		t.Errorf("the 21st message to a group went after %v, want 1m", got)
	}
}

func TestSendPacingIsConfigurable(t *testing.T) {
	r := newRig(t, func(c *telegram.Config) { c.GroupPerMinute = 2; c.ChatInterval = 3 * time.Second })
	start := r.clock.Now()
	for range 3 {
		if _, err := r.ch.Send(t.Context(), engine.Outbound{To: "-4001234567", Text: "hi"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := r.clock.Now().Sub(start); got != time.Minute {
		t.Errorf("the 3rd message at 2 a minute went after %v, want 1m", got)
	}
	start = r.clock.Now()
	for range 2 {
		if _, err := r.ch.Send(t.Context(), engine.Outbound{To: "5123456789", Text: "hi"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := r.clock.Now().Sub(start); got != 3*time.Second {
		t.Errorf("two messages to a chat 3s apart took %v", got)
	}
}

func TestSendFollowsAGroupToItsSupergroup(t *testing.T) {
	r := newRig(t, nil)
	r.api.Migrate("-4001234567", -1001987654321)
	for range 2 {
		if _, err := r.ch.Send(t.Context(), engine.Outbound{To: "-4001234567", Text: "hi"}); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	if sent := r.api.SentTo("-1001987654321"); len(sent) != 2 {
		t.Errorf("sent to the supergroup %d times, want 2; all: %+v", len(sent), r.api.Sent())
	}
	if got, _ := r.aliases.Alias(t.Context(), "telegram", "-1001987654321"); got != "-4001234567" {
		t.Errorf("alias of the supergroup = %q, want the team's address", got)
	}
}
