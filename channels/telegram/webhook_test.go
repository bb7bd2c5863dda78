package telegram_test

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/channels/telegram"
	"github.com/chatcampaigns/campaign/channels/telegram/bottest"
	"github.com/chatcampaigns/campaign/engine"
)

func payload(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "updates", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWebhookRefusesWithoutTheSecret(t *testing.T) {
	r := newRig(t, nil)
	for name, header := range map[string]string{"no header": "", "wrong": "s3cr3t-Token_2", "prefix": secret[:5], "longer": secret + "x"} {
		if got := bottest.Deliver(t, r.url, header, payload(t, "text.json")); got != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", name, got)
		}
	}
	if got := r.eng.Received(); len(got) != 0 {
		t.Errorf("stored %d messages from refused updates", len(got))
	}
}

func TestWebhookRefusesMalformedJSON(t *testing.T) {
	r := newRig(t, nil)
	for _, body := range []string{`{"update_id":`, `[]`, `{"message":{}}`} {
		if got := bottest.Deliver(t, r.url, secret, []byte(body)); got != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", body, got)
		}
	}
	if got := r.eng.Received(); len(got) != 0 {
		t.Errorf("stored %d messages from malformed updates", len(got))
	}
}

func TestWebhookDeliversOnceByUpdateID(t *testing.T) {
	r := newRig(t, nil)
	for range 2 {
		if got := bottest.Deliver(t, r.url, secret, payload(t, "text.json")); got != http.StatusOK {
			t.Fatalf("status %d, want 200", got)
		}
	}
	got := r.eng.Received()
	if len(got) != 1 {
		t.Fatalf("received %d, want 1 (the redelivery is a duplicate)", len(got))
	}
	in := got[0]
	want := engine.Inbound{Channel: "telegram", PlatformID: "734251901", Campaign: "race", From: "5123456789",
		Name: "Amira Haddad", Locale: "en", Kind: engine.KindText, Text: "ESCAPE",
		ParticipantID: engine.ParticipantID("race", "telegram", "5123456789"), At: in.At}
	if in != want {
		t.Errorf("got %+v\nwant %+v", in, want)
	}
}

func TestWebhookAnswers500WhenTheStoreFails(t *testing.T) {
	r := newRig(t, nil)
	r.eng.fail = errors.New("disk full")
	if got := bottest.Deliver(t, r.url, secret, payload(t, "text.json")); got != http.StatusInternalServerError {
		t.Errorf("status %d, want 500 so that Telegram delivers again", got)
	}
}

func TestWebhookFetchesTheLargestPhoto(t *testing.T) {
	r := newRig(t, nil)
	jpeg := []byte("\xff\xd8\xff\xe0 a photo")
	r.api.AddFile("AgACAgQAAxkBAAIHNGm_large", "photos/file_12.jpg", jpeg)
	if got := bottest.Deliver(t, r.url, secret, payload(t, "photo.json")); got != http.StatusOK {
		t.Fatalf("status %d", got)
	}
	got := r.eng.Received()
	if len(got) != 1 || got[0].Kind != engine.KindMedia || got[0].Media == nil || got[0].Media.Size != int64(len(jpeg)) {
		t.Fatalf("received %+v, want the photo stored", got)
	}
	if got[0].Text != "Receipt for order 5521" || got[0].Media.Kind != "photo" {
		t.Errorf("caption %q kind %q", got[0].Text, got[0].Media.Kind)
	}
	calls := r.api.Method("getFile")
	if len(calls) != 1 || calls[0].Params["file_id"] != "AgACAgQAAxkBAAIHNGm_large" {
		t.Errorf("getFile calls %+v, want one for the largest size", calls)
	}
}

func TestWebhookTellsAboutFilesAbove20MB(t *testing.T) {
	for _, tc := range []struct{ name, file string }{
		{"announced in the update", "video_too_big.json"},
		{"refused by getFile", "video.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, nil)
			r.api.AddBigFile("BAACAgQAAxkBvideo", 30<<20)
			if got := bottest.Deliver(t, r.url, secret, payload(t, tc.file)); got != http.StatusOK {
				t.Fatalf("status %d", got)
			}
			if got := r.eng.Received(); len(got) != 0 {
				t.Errorf("received %+v, want nothing stored", got)
			}
			sent := r.api.SentTo("5123456789")
			if len(sent) != 1 || sent[0].Text() != telegram.TooBigText {
				t.Errorf("sent %+v, want the 20 MB answer", sent)
			}
		})
	}
}

func TestWebhookAnswersCallbackQueries(t *testing.T) {
	r := newRig(t, nil)
	if got := bottest.Deliver(t, r.url, secret, payload(t, "callback.json")); got != http.StatusOK {
		t.Fatalf("status %d", got)
	}
	got := r.eng.Received()
	if len(got) != 1 || got[0].Kind != engine.KindChoice || got[0].Choice != "yes" || got[0].Text != "Yes, I agree" {
		t.Fatalf("received %+v, want the choice", got)
	}
	answers := r.api.Method("answerCallbackQuery")
	if len(answers) != 1 || answers[0].Params["callback_query_id"] != "4382bfdwdsb323b2d9" {
		t.Errorf("answerCallbackQuery calls %+v", answers)
	}
}

func TestWebhookIgnoresEdits(t *testing.T) {
	r := newRig(t, nil)
	if got := bottest.Deliver(t, r.url, secret, payload(t, "edited.json")); got != http.StatusOK {
		t.Fatalf("status %d", got)
	}
	if got := r.eng.Received(); len(got) != 0 {
		t.Errorf("an edit was received: %+v", got)
	}
}

func TestWebhookStartPayloadRoutes(t *testing.T) {
	r := newRig(t, nil)
	bottest.Deliver(t, r.url, secret, payload(t, "start_in_group.json"))
	if len(r.eng.starts) != 1 || r.eng.starts[0] != "ESCAPE" {
		t.Errorf("RouteStart got %q, want the payload", r.eng.starts)
	}
	got := r.eng.Received()
	if len(got) != 1 || got[0].Kind != engine.KindJoin || got[0].From != "-4001234567" || got[0].Name != "Harbour Rats" {
		t.Fatalf("received %+v, want the group's join", got)
	}
	if len(r.eng.joins) != 1 || r.eng.joins[0] != [2]string{"-4001234567", "5123456789"} {
		t.Errorf("JoinGroup calls %v, want the member who started", r.eng.joins)
	}
}

func TestWebhookRecordsGroupMembers(t *testing.T) {
	r := newRig(t, nil)
	for _, f := range []string{"bot_added.json", "new_chat_members.json"} {
		if got := bottest.Deliver(t, r.url, secret, payload(t, f)); got != http.StatusOK {
			t.Fatalf("%s: status %d", f, got)
		}
	}
	want := [][2]string{{"-4001234567", "5123456789"}, {"-4001234567", "8234567890"}}
	if len(r.eng.joins) != 2 || r.eng.joins[0] != want[0] || r.eng.joins[1] != want[1] {
		t.Errorf("JoinGroup calls %v, want %v", r.eng.joins, want)
	}
	if got := r.eng.Received(); len(got) != 0 {
		t.Errorf("member updates were received as messages: %+v", got)
	}
}

func TestSupergroupKeepsItsTeam(t *testing.T) {
	r := newRig(t, nil)
	r.api.AddFile("grp_large", "photos/g.jpg", []byte("\xff\xd8\xff photo"))
	bottest.Deliver(t, r.url, secret, payload(t, "migrate_to.json"))
	// A message from the supergroup belongs to the team the group started.
	body := strings.ReplaceAll(string(payload(t, "group_photo.json")), "-4001234567", "-1001987654321")
	body = strings.ReplaceAll(body, `"type": "group"`, `"type": "supergroup"`)
	if got := bottest.Deliver(t, r.url, secret, []byte(body)); got != http.StatusOK {
		t.Fatalf("status %d", got)
	}
	got := r.eng.Received()
	if len(got) != 1 || got[0].From != "-4001234567" || got[0].ParticipantID != engine.ParticipantID("race", "telegram", "-4001234567") {
		t.Fatalf("received %+v, want it from the team's address", got)
	}
	// Replies to the team go to the supergroup.
	if _, err := r.ch.Send(t.Context(), engine.Outbound{To: "-4001234567", Text: "Round two"}); err != nil {
		t.Fatal(err)
	}
	if sent := r.api.SentTo("-1001987654321"); len(sent) != 1 {
		t.Errorf("sent to the supergroup: %+v, all: %+v", sent, r.api.Sent())
	}
}

func TestPrivateChatToATeamCampaignIsSentToAGroup(t *testing.T) {
	r := newRig(t, nil)
	r.eng.teams = true
	if got := bottest.Deliver(t, r.url, secret, payload(t, "start_payload.json")); got != http.StatusOK {
		t.Fatalf("status %d", got)
	}
	if got := r.eng.Received(); len(got) != 0 {
		t.Errorf("a private chat joined a team campaign: %+v", got)
	}
	sent := r.api.SentTo("5123456789")
	want := "The Great Escape Race is played in group chats, one for each team. Add me to your team's group: https://t.me/campaign_bot?startgroup=race"
	if len(sent) != 1 || sent[0].Text() != want {
		t.Errorf("sent %+v, want %q", sent, want)
	}
	// In a group the same campaign is played.
	bottest.Deliver(t, r.url, secret, payload(t, "start_in_group.json"))
	if got := r.eng.Received(); len(got) != 1 {
		t.Errorf("received %d from the group, want its join", len(got))
	}
}

func TestWebhookShowsTyping(t *testing.T) {
	r := newRig(t, func(c *telegram.Config) { c.Typing = true })
	for range 2 {
		bottest.Deliver(t, r.url, secret, payload(t, "text.json"))
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
