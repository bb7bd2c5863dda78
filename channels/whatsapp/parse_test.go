package whatsapp_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/broadcast"
	"github.com/chatcampaigns/campaign/channels/whatsapp"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

const testNumber = "118822334455667"

var (
	sentAt = time.Unix(1767611520, 0).UTC()
	now    = time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
)

func mustRead(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func mustParse(tb testing.TB, name string) *whatsapp.Webhook {
	tb.Helper()
	w, err := whatsapp.ParseWebhook(mustRead(tb, name), now)
	if err != nil {
		tb.Fatalf("ParseWebhook(%s): %v", name, err)
	}
	return w
}

// in is the Inbound every Amira fixture shares, with the given changes.
func in(id string, kind engine.Kind, change func(*engine.Inbound)) engine.Inbound {
	v := engine.Inbound{Channel: "whatsapp", PlatformID: "wamid." + id, From: "447911123456", Name: "Amira Haddad", Kind: kind, At: sentAt}
	if change != nil {
		change(&v)
	}
	return v
}

func TestParseWebhookMessages(t *testing.T) {
	tests := []struct {
		file  string
		want  engine.Inbound
		media *whatsapp.MediaRef
		skip  bool
	}{
		{"text.json", in("TEXT1", engine.KindText, func(v *engine.Inbound) { v.Text = "Let me in, Sven!" }), nil, false},
		{"text_reply.json", in("TEXT2", engine.KindText, func(v *engine.Inbound) { v.Text = "That one"; v.ReplyTo = "wamid.OUT1" }), nil, false},
		{"text_unicode_escaped.json", in("UNICODE1", engine.KindText, func(v *engine.Inbound) { v.Text = "Hallo äöå 🎉"; v.Name = "Zoë" }), nil, false},
		{"image.json", in("IMAGE1", engine.KindMedia, func(v *engine.Inbound) { v.Text = "My outfit" }),
			&whatsapp.MediaRef{ID: "1298765432109876", Kind: "photo", MIME: "image/jpeg", SHA256: "q7m4XJ0c2nKpV0tR9Ew3Yf8bLh1sZuA6dCeG5iNoPrk="}, false},
		{"video.json", in("VIDEO1", engine.KindMedia, func(v *engine.Inbound) { v.Text = "My dance" }),
			&whatsapp.MediaRef{ID: "2298765432109876", Kind: "video", MIME: "video/mp4", SHA256: "Ym9ndXM="}, false},
		{"audio.json", in("AUDIO1", engine.KindMedia, nil),
			&whatsapp.MediaRef{ID: "3298765432109876", Kind: "audio", MIME: "audio/mpeg", SHA256: "Ym9ndXM="}, false},
		{"voice.json", in("VOICE1", engine.KindMedia, nil),
			&whatsapp.MediaRef{ID: "4298765432109876", Kind: "audio", MIME: "audio/ogg; codecs=opus", SHA256: "Ym9ndXM=", Voice: true}, false},
		{"document.json", in("DOC1", engine.KindMedia, func(v *engine.Inbound) { v.Text = "My CV" }),
			&whatsapp.MediaRef{ID: "5298765432109876", Kind: "document", MIME: "application/pdf", SHA256: "Ym9ndXM=", Filename: "cv.pdf"}, false},
		{"sticker.json", in("STICKER1", engine.KindUnsupported, func(v *engine.Inbound) { v.Text = "sticker" }), nil, false},
		{"location.json", in("LOC1", engine.KindLocation, func(v *engine.Inbound) {
			v.Location = &engine.Location{Latitude: 52.3676, Longitude: 4.9041, Name: "Paradiso", Address: "Weteringschans 6, Amsterdam"}
		}), nil, false},
		{"contacts.json", in("CONTACTS1", engine.KindText, func(v *engine.Inbound) {
			v.Text = "Shared contact: Jan de Vries +31 6 1234 5678\nShared contact: Sanne"
		}), nil, false},
		{"interactive_button_reply.json", in("BTN1", engine.KindChoice, func(v *engine.Inbound) {
			v.Choice, v.Text, v.ReplyTo = "yes", "Yes, let me in", "wamid.OUT2"
		}), nil, false},
		{"interactive_list_reply.json", in("LIST1", engine.KindChoice, func(v *engine.Inbound) {
			v.Choice, v.Text, v.ReplyTo = "size_m", "Medium", "wamid.OUT3"
		}), nil, false},
		{"button.json", in("TPL1", engine.KindChoice, func(v *engine.Inbound) {
			v.Choice, v.Text, v.ReplyTo = "START_GAME", "Start", "wamid.OUT4"
		}), nil, false},
		{"unsupported.json", in("UNSUP1", engine.KindUnsupported, func(v *engine.Inbound) { v.Text = "error 131051: Message type unknown" }), nil, false},
		{"unknown_type.json", in("ORDER1", engine.KindUnsupported, func(v *engine.Inbound) { v.Text = "order" }), nil, false},
		{"message_error.json", in("ERR1", engine.KindUnsupported, func(v *engine.Inbound) { v.Text = "error 131052: Media download error" }), nil, false},
		{"group.json", in("GROUP1", engine.KindText, func(v *engine.Inbound) {
			v.From, v.Name, v.Text = "group:120363041234567890", "Team Lisbon", "Round 2 photo coming"
		}), nil, false},
		{"reaction.json", in("REACT1", "", nil), nil, true},
		{"system.json", in("SYS1", "", nil), nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			w := mustParse(t, tt.file)
			if len(w.Messages) != 1 || len(w.Statuses) != 0 {
				t.Fatalf("got %d messages and %d statuses, want 1 message", len(w.Messages), len(w.Statuses))
			}
			m := w.Messages[0]
			if m.PhoneNumberID != testNumber {
				t.Errorf("PhoneNumberID = %q, want %q", m.PhoneNumberID, testNumber)
			}
			if (m.Skip != "") != tt.skip {
				t.Errorf("Skip = %q, want skipped: %v", m.Skip, tt.skip)
			}
			if tt.skip {
				return
			}
			if !reflect.DeepEqual(m.Inbound, tt.want) {
				t.Errorf("Inbound =\n %+v\nwant\n %+v", m.Inbound, tt.want)
			}
			if !reflect.DeepEqual(m.Media, tt.media) {
				t.Errorf("Media = %+v, want %+v", m.Media, tt.media)
			}
		})
	}
}

func TestParseWebhookBatchKeepsOrderAndNames(t *testing.T) {
	w := mustParse(t, "batch.json")
	var got []string
	for _, m := range w.Messages {
		got = append(got, m.Inbound.PlatformID+" "+m.Inbound.From+" "+m.Inbound.Name+" "+string(m.Inbound.Kind))
	}
	want := []string{
		"wamid.BATCH1 447911123456 Amira Haddad text",
		"wamid.BATCH2 31612345678 Bo text",
		"wamid.BATCH3 447911123456 Amira Haddad choice",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("batch = %q, want %q", got, want)
	}
}

func TestParseWebhookStatuses(t *testing.T) {
	at := time.Unix(1767611602, 0).UTC()
	tests := []struct {
		file string
		want whatsapp.Status
	}{
		{"status_sent.json", whatsapp.Status{PhoneNumberID: testNumber, MessageID: "wamid.OUT1", Recipient: "447911123456", Delivery: whatsapp.Delivery{Status: "sent", At: at}}},
		{"status_delivered.json", whatsapp.Status{PhoneNumberID: testNumber, MessageID: "wamid.OUT1", Recipient: "447911123456", Delivery: whatsapp.Delivery{Status: "delivered", At: at}}},
		{"status_read.json", whatsapp.Status{PhoneNumberID: testNumber, MessageID: "wamid.OUT1", Recipient: "447911123456", Delivery: whatsapp.Delivery{Status: "read", At: at}}},
		{"status_played.json", whatsapp.Status{PhoneNumberID: testNumber, MessageID: "wamid.OUT1", Recipient: "447911123456", Delivery: whatsapp.Delivery{Status: "played", At: at}}},
		{"status_group_read.json", whatsapp.Status{PhoneNumberID: testNumber, MessageID: "wamid.OUTG1", Recipient: "group:120363041234567890",
			Member: "447911123456", Delivery: whatsapp.Delivery{Status: "read", At: at}}},
		{"status_failed.json", whatsapp.Status{PhoneNumberID: testNumber, MessageID: "wamid.OUT2", Recipient: "447911123456",
			Delivery: whatsapp.Delivery{Status: "failed", ErrorCode: 131026, ErrorTitle: "Message undeliverable", At: at}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			w := mustParse(t, tt.file)
			if len(w.Messages) != 0 || len(w.Statuses) == 0 {
				t.Fatalf("got %d messages and %d statuses, want a status", len(w.Messages), len(w.Statuses))
			}
			if w.Statuses[0] != tt.want {
				t.Errorf("status = %+v, want %+v", w.Statuses[0], tt.want)
			}
		})
	}
}

func TestParseWebhookErrorsAndOtherFields(t *testing.T) {
	w := mustParse(t, "value_errors.json")
	if len(w.Errors) != 1 || w.Errors[0].Code != 131000 || len(w.Messages)+len(w.Statuses) != 0 {
		t.Errorf("value_errors.json = %+v, want one error 131000 and nothing else", w)
	}
	w = mustParse(t, "other_field.json")
	if len(w.Messages)+len(w.Statuses)+len(w.Errors) != 0 {
		t.Errorf("other_field.json = %+v, want nothing", w)
	}
}

func TestParseWebhookRefusesWhatIsNotTheEnvelope(t *testing.T) {
	for _, body := range []string{``, `not json`, `[]`, `{"entry":"x"}`, `{"entry":[]} {"entry":[]}`, `{"entry":[{"changes":[{"field":"messages","value":{"messages":[{"timestamp":5}]}}]}]}`} {
		if _, err := whatsapp.ParseWebhook([]byte(body), now); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("ParseWebhook(%q) = %v, want ErrInvalid", body, err)
		}
	}
}

func TestParseWebhookGroups(t *testing.T) {
	const group = "group:120363041234567890"
	tests := []struct {
		file string
		want []whatsapp.GroupEvent
	}{
		{"group_created.json", []whatsapp.GroupEvent{{PhoneNumberID: testNumber, Type: whatsapp.GroupCreated, Group: group,
			RequestID: "REQ.7f3a", InviteLink: "https://chat.whatsapp.com/Ab12Cd34Ef"}}},
		{"group_create_failed.json", []whatsapp.GroupEvent{{PhoneNumberID: testNumber, Type: whatsapp.GroupCreated,
			RequestID: "REQ.7f3b", Error: "131215: This phone number is not eligible to access Groups APIs"}}},
		{"group_joined.json", []whatsapp.GroupEvent{{PhoneNumberID: testNumber, Type: whatsapp.GroupJoined, Group: group,
			Members: []string{"447911123456", "31612345678"}}}},
		{"group_left.json", []whatsapp.GroupEvent{{PhoneNumberID: testNumber, Type: whatsapp.GroupLeft, Group: group,
			Members: []string{"31612345678"}}}},
		{"group_deleted.json", nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			w := mustParse(t, tt.file)
			if !reflect.DeepEqual(w.Groups, tt.want) || len(w.Messages)+len(w.Statuses) != 0 {
				t.Errorf("groups %+v (and %d messages, %d statuses), want %+v", w.Groups, len(w.Messages), len(w.Statuses), tt.want)
			}
		})
	}
}

func TestSupersedes(t *testing.T) {
	tests := []struct {
		prev, next string
		want       bool
	}{
		{"", "sent", true}, {"sent", "delivered", true}, {"sent", "read", true}, {"delivered", "read", true},
		{"read", "delivered", false}, {"read", "read", false}, {"read", "played", true}, {"played", "read", false},
		{"sent", "failed", true}, {"failed", "delivered", true}, {"delivered", "failed", false}, {"read", "failed", false},
		{"sent", "bogus", false},
	}
	for _, tt := range tests {
		if got := whatsapp.Supersedes(tt.prev, tt.next); got != tt.want {
			t.Errorf("Supersedes(%q, %q) = %v, want %v", tt.prev, tt.next, got, tt.want)
		}
	}
}

// FuzzParseWebhook feeds arbitrary bodies to the parser: it must never panic, and what it
// accepts must be usable: every message that is not skipped has an id, a sender and a kind,
// every media message a media id, every status a message id and a known status.
func FuzzParseWebhook(f *testing.F) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		if filepath.Ext(e.Name()) == ".json" {
			f.Add(mustRead(f, e.Name()))
		}
	}
	f.Add([]byte(`{"entry":[{"changes":[{"field":"messages","value":{"messages":[{"id":"x","from":"1","type":"image","image":{}}]}}]}]}`))
	// Times as strings, limits the channel cannot place, a display number with punctuation.
	f.Add([]byte(`{"entry":[{"time":"1767614400","changes":[{"field":"phone_number_quality_update","value":{"display_phone_number":"+44 7700-900123","event":"upgrade","current_limit":"TIER_5G"}}]}]}`))
	f.Add([]byte(`{"entry":[{"changes":[{"field":"user_preferences","value":{"user_preferences":[{"wa_id":"1","value":"STOP","timestamp":"x"},{"value":"stop"}]}}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		w, err := whatsapp.ParseWebhook(body, now)
		if err != nil {
			if !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		for _, m := range w.Messages {
			if m.Skip != "" {
				continue
			}
			if m.Inbound.PlatformID == "" || m.Inbound.From == "" || m.Inbound.Kind == "" || m.Inbound.Channel != "whatsapp" {
				t.Fatalf("unusable message %+v", m)
			}
			if (m.Media != nil) != (m.Inbound.Kind == engine.KindMedia) || m.Media != nil && m.Media.ID == "" {
				t.Fatalf("media %+v on a %s message", m.Media, m.Inbound.Kind)
			}
			if m.Inbound.At.IsZero() {
				t.Fatalf("message without a time")
			}
		}
		for _, s := range w.Statuses {
			if s.MessageID == "" || !whatsapp.Supersedes("", s.Delivery.Status) {
				t.Fatalf("unusable status %+v", s)
			}
		}
		for _, h := range w.Health {
			if h.Display == "" || strings.Trim(h.Display, "0123456789") != "" || h.Event == "" || h.At.IsZero() || h.Limit < broadcast.Unlimited {
				t.Fatalf("unusable quality update %+v", h)
			}
		}
		for _, p := range w.Preferences {
			if p.Channel != "whatsapp" || p.Address == "" || p.Source != "user_preferences" || p.At.IsZero() {
				t.Fatalf("unusable preference %+v", p)
			}
		}
		for _, g := range w.Groups {
			switch g.Type {
			case whatsapp.GroupCreated:
				if g.RequestID == "" || (g.Group == "") == (g.Error == "") {
					t.Fatalf("unusable group creation %+v", g)
				}
			case whatsapp.GroupJoined, whatsapp.GroupLeft:
				if !strings.HasPrefix(g.Group, whatsapp.GroupPrefix) || len(g.Group) == len(whatsapp.GroupPrefix) || len(g.Members) == 0 {
					t.Fatalf("unusable group membership %+v", g)
				}
			default:
				t.Fatalf("group event of unknown type %+v", g)
			}
		}
	})
}
