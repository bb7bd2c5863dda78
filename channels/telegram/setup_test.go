package telegram_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/chatcampaigns/campaign/channels"
	"github.com/chatcampaigns/campaign/channels/telegram"
	"github.com/chatcampaigns/campaign/errs"
)

func TestSetWebhookGivesSecretAndUpdateTypes(t *testing.T) {
	r := newRig(t, nil)
	hook, err := r.ch.SetWebhook(t.Context(), "https://race.example.com/")
	if err != nil {
		t.Fatal(err)
	}
	if hook != "https://race.example.com/webhooks/telegram" {
		t.Errorf("webhook %q", hook)
	}
	got := r.api.Webhook()
	want := map[string]any{"url": hook, "secret_token": secret,
		"allowed_updates": []any{"message", "callback_query", "my_chat_member", "chat_member"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("setWebhook got %v\nwant %v", got, want)
	}
}

func TestSetWebhookWantsHTTPS(t *testing.T) {
	r := newRig(t, nil)
	for _, u := range []string{"http://race.example.com", "race.example.com", "https://race.example.com/?a=1", ""} {
		if _, err := r.ch.SetWebhook(t.Context(), u); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("SetWebhook(%q) = %v, want errs.ErrInvalid", u, err)
		}
	}
	if n := len(r.api.Calls()); n != 0 {
		t.Errorf("%d calls made for bad URLs", n)
	}
}

func TestCheck(t *testing.T) {
	r := newRig(t, nil)
	status := func(checks []channels.Check) string {
		var b strings.Builder
		for _, c := range checks {
			fmt.Fprintf(&b, "%s=%v ", c.What, c.OK)
		}
		return strings.TrimSpace(b.String())
	}
	checks := r.ch.Check(t.Context(), "")
	if got := status(checks); got != "reachable=true credentials=true webhook=false" || !strings.Contains(checks[2].Detail, "no webhook is set") {
		t.Errorf("before setup: %s %+v", got, checks)
	}
	if !strings.Contains(checks[1].Detail, "privacy mode is on") {
		t.Errorf("credentials %q do not warn about privacy mode", checks[1].Detail)
	}
	if _, err := r.ch.SetWebhook(t.Context(), "https://race.example.com"); err != nil {
		t.Fatal(err)
	}
	for _, public := range []string{"", "https://race.example.com"} {
		if got := status(r.ch.Check(t.Context(), public)); got != "reachable=true credentials=true webhook=true" {
			t.Errorf("after setup, public URL %q: %s", public, got)
		}
	}
	checks = r.ch.Check(t.Context(), "https://other.example.com")
	if checks[2].OK || !strings.Contains(checks[2].Detail, "not https://other.example.com/webhooks/telegram") {
		t.Errorf("webhook elsewhere: %+v", checks[2])
	}
	r.api.PrivacyOff()
	if checks = r.ch.Check(t.Context(), ""); strings.Contains(checks[1].Detail, "privacy") {
		t.Errorf("warns about privacy mode that is off: %q", checks[1].Detail)
	}

	wrong, err := telegram.New(telegram.Config{APIURL: r.api.URL, Token: "1:wrong", WebhookSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	checks = wrong.Check(t.Context(), "")
	if got := status(checks); got != "reachable=true credentials=false webhook=false" || !strings.Contains(checks[1].Detail, "TELEGRAM_BOT_TOKEN") {
		t.Errorf("wrong token: %s %+v", got, checks)
	}
	gone, err := telegram.New(telegram.Config{APIURL: "http://127.0.0.1:1", Token: "1:a", WebhookSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	if got := status(gone.Check(t.Context(), "")); got != "reachable=false credentials=false webhook=false" {
		t.Errorf("no Bot API: %s", got)
	}
}

func TestNewWantsTokenAndAGoodSecret(t *testing.T) {
	for name, cfg := range map[string]telegram.Config{
		"no token":    {WebhookSecret: secret},
		"no secret":   {Token: "1:a"},
		"bad secret":  {Token: "1:a", WebhookSecret: "has space"},
		"long secret": {Token: "1:a", WebhookSecret: strings.Repeat("a", 257)},
	} {
		if _, err := telegram.New(cfg); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("%s: New = %v, want errs.ErrInvalid", name, err)
		}
	}
}
