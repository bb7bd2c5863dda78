package telegram_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/channels/telegram"
	"github.com/chatcampaigns/campaign/channels/telegram/bottest"
	"github.com/chatcampaigns/campaign/engine"
)

// The webhook's cases are on the conformance harness (conformance_test.go); these are what
// takes more than one request, or time.

func payload(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "updates", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSupergroupKeepsItsTeam: after the migration message, what the supergroup sends is the
// team's, and replies to the team go to the supergroup.
func TestSupergroupKeepsItsTeam(t *testing.T) {
	r := newRig(t, nil)
	r.api.AddFile("grp_large", "photos/g.jpg", []byte("\xff\xd8\xff photo"))
	if got := r.deliver(t, payload(t, "migrate_to.json")); got != 200 {
		t.Fatalf("migration: status %d", got)
	}
	body := strings.ReplaceAll(string(payload(t, "group_photo.json")), "-4001234567", "-1001987654321")
	body = strings.ReplaceAll(body, `"type": "group"`, `"type": "supergroup"`)
	if got := r.deliver(t, []byte(body)); got != 200 {
		t.Fatalf("status %d", got)
	}
	got := r.rec.Inbound()
	if len(got) != 1 || got[0].From != "-4001234567" || got[0].ParticipantID != engine.ParticipantID("race", "telegram", "-4001234567") {
		t.Fatalf("received %+v, want it from the team's address", got)
	}
	if joins := r.rec.joins(); len(joins) != 1 || joins[0] != [2]string{"-4001234567", "6234567890"} {
		t.Errorf("members %v, want Bram in the team", joins)
	}
	if _, err := r.ch.Send(t.Context(), engine.Outbound{To: "-4001234567", Text: "Round two"}); err != nil {
		t.Fatal(err)
	}
	if sent := r.api.SentTo("-1001987654321"); len(sent) != 1 {
		t.Errorf("sent to the supergroup: %+v, all: %+v", sent, r.api.Sent())
	}
	// The migration message in the new supergroup says the same and changes nothing.
	if got := r.deliver(t, payload(t, "migrate_from.json")); got != 200 {
		t.Fatalf("migrate_from: status %d", got)
	}
	if v, _ := r.aliases.Alias(t.Context(), "telegram", "-1001987654321"); v != "-4001234567" {
		t.Errorf("alias %q", v)
	}
}

func TestWebhookShowsTyping(t *testing.T) {
	r := newRig(t, func(c *telegram.Config) { c.Typing = true })
	for range 2 {
		r.deliver(t, payload(t, "text.json"))
	}
	var actions []bottest.Call
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if actions = r.api.Method("sendChatAction"); len(actions) > 0 {
			break
		}
	}
	if len(actions) != 1 || actions[0].ChatID() != "5123456789" || actions[0].Params["action"] != "typing" {
		t.Fatalf("chat actions %+v, want one typing for the new message", actions)
	}
	// The redelivery was answered before the first action was seen, and a duplicate starts none.
	if n := len(r.api.Method("sendChatAction")); n != 1 {
		t.Errorf("%d chat actions, want 1: the redelivery is no new message", n)
	}
}
