package telegram_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/channels/telegram"
	"github.com/chatcampaigns/campaign/engine"
)

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

func TestSendWaitingPastTheDeadlineIsLeftToTheEngine(t *testing.T) {
	r := newRig(t, nil)
	r.api.Fail("sendMessage", http.StatusTooManyRequests, "Too Many Requests: retry after 60", 60)
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	_, err := r.ch.Send(ctx, engine.Outbound{To: "5123456789", Text: "hi"})
	var apiErr *telegram.APIError
	if !errors.As(err, &apiErr) || apiErr.Wait != time.Minute {
		t.Fatalf("Send = %v, want the 429 back at once", err)
	}
	if got := r.clock.Slept(); len(got) != 0 {
		t.Errorf("slept %v past the deadline", got)
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
