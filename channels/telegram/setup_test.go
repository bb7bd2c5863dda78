package telegram_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

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
	_, err := r.ch.Check(t.Context())
	if err == nil || !strings.Contains(err.Error(), "no webhook is set") {
		t.Errorf("Check before setup = %v, want it to say no webhook is set", err)
	}
	if _, err := r.ch.SetWebhook(t.Context(), "https://race.example.com"); err != nil {
		t.Fatal(err)
	}
	lines, err := r.ch.Check(t.Context())
	if err != nil {
		t.Fatalf("Check after setup: %v", err)
	}
	if !strings.Contains(strings.Join(lines, "\n"), "privacy mode is on") {
		t.Errorf("Check lines %q do not warn about privacy mode", lines)
	}
	r.api.PrivacyOff()
	if lines, _ = r.ch.Check(t.Context()); strings.Contains(strings.Join(lines, "\n"), "privacy") {
		t.Errorf("Check warns about privacy mode that is off: %q", lines)
	}

	wrong, err := telegram.New(telegram.Config{APIURL: r.api.URL, Token: "1:wrong", WebhookSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wrong.Check(t.Context()); !errors.Is(err, errs.ErrUnauthorized) {
		t.Errorf("Check with a wrong token = %v, want errs.ErrUnauthorized", err)
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
