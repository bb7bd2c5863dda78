package whatsapp_test

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/channels/whatsapp"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/send")

// assertGolden compares the JSON bodies sent with testdata/send/<name>.json.
func assertGolden(t *testing.T, name string, bodies []map[string]any) {
	t.Helper()
	path := filepath.Join("testdata", "send", name+".json")
	if *update {
		b, err := json.MarshalIndent(bodies, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var want []map[string]any
	if err := json.Unmarshal(mustRead(t, filepath.Join("send", name+".json")), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(bodies, want) {
		got, _ := json.MarshalIndent(bodies, "", "  ")
		t.Errorf("sent\n%s\nwant (%s) otherwise", got, path)
	}
}

func TestSendShapes(t *testing.T) {
	buttons := []engine.Button{{ID: "yes", Title: "Yes"}, {ID: "no", Title: "No"}, {ID: "later", Title: "Maybe later"}}
	var rows []engine.Button
	for _, s := range []string{"S", "M", "L", "XL", "XXL"} {
		rows = append(rows, engine.Button{ID: "size_" + s, Title: "Size " + s})
	}
	tests := []struct {
		name string
		out  engine.Outbound
	}{
		{"text", engine.Outbound{ID: 7, To: "447911123456", Text: "Who are you?"}},
		{"text_with_link", engine.Outbound{ID: 8, To: "+447911123456", Text: "Rules: https://example.com/rules"}},
		{"image", engine.Outbound{To: "447911123456", Text: "Your ticket", MediaURL: "https://cdn.example.com/t/ticket.JPG?v=2"}},
		{"video", engine.Outbound{To: "447911123456", Text: "Watch this", MediaURL: "https://cdn.example.com/intro.mp4"}},
		{"document", engine.Outbound{To: "447911123456", Text: "The rules", MediaURL: "https://cdn.example.com/docs/rules.pdf"}},
		{"audio_with_text", engine.Outbound{To: "447911123456", Text: "Listen", MediaURL: "https://cdn.example.com/sven.ogg"}},
		{"buttons", engine.Outbound{To: "447911123456", Text: "Ready?", Buttons: buttons}},
		{"buttons_with_image", engine.Outbound{To: "447911123456", Text: "Like it?", Buttons: buttons[:2], MediaURL: "https://cdn.example.com/a.png"}},
		{"list", engine.Outbound{To: "447911123456", Text: "Pick a size", Buttons: rows}},
		{"long_titles_make_a_list", engine.Outbound{To: "447911123456", Text: "Pick", Buttons: []engine.Button{{ID: "a", Title: "A title over twenty chars"[:22]}}}},
		{"template", engine.Outbound{To: "447911123456", Text: "ignored", Template: &engine.TemplateCall{Name: "round_reminder", Language: "nl", Params: []string{"Amira", "2"}},
			LastInboundAt: now.Add(-48 * time.Hour)}},
		{"template_without_params", engine.Outbound{To: "447911123456", Template: &engine.TemplateCall{Name: "hello_world", Language: "en_US"}}},
		{"group", engine.Outbound{To: "group:120363041234567890", Text: "Round 2 starts now"}},
		{"group_buttons_as_text", engine.Outbound{To: "group:120363041234567890", Text: "Ready?", Buttons: buttons[:2]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, nil)
			id, err := r.ch.Send(t.Context(), tt.out)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			sent := r.graph.Sent()
			if len(sent) == 0 || id != sent[0].ID {
				t.Fatalf("Send = %q, want the first message's id of %d sent", id, len(sent))
			}
			var bodies []map[string]any
			for _, m := range sent {
				if m.PhoneNumberID != testNumber {
					t.Errorf("sent from %q, want %q", m.PhoneNumberID, testNumber)
				}
				bodies = append(bodies, m.Body)
			}
			assertGolden(t, tt.name, bodies)
		})
	}
}

func TestSendRefusesWhatWhatsAppCannotCarry(t *testing.T) {
	many := make([]engine.Button, 11)
	for i := range many {
		many[i] = engine.Button{ID: string(rune('a' + i)), Title: "x"}
	}
	tests := []struct {
		name string
		out  engine.Outbound
	}{
		{"Empty", engine.Outbound{To: "447911123456"}},
		{"NoRecipient", engine.Outbound{Text: "hi"}},
		{"RecipientNotANumber", engine.Outbound{To: "44791112345x", Text: "hi"}},
		{"TooManyChoices", engine.Outbound{To: "447911123456", Text: "pick", Buttons: many}},
		{"ButtonsWithoutText", engine.Outbound{To: "447911123456", Buttons: many[:2]}},
		{"ListWithMedia", engine.Outbound{To: "447911123456", Text: "pick", Buttons: many[:5], MediaURL: "https://x/a.png"}},
		{"RowTitleTooLong", engine.Outbound{To: "447911123456", Text: "pick", Buttons: []engine.Button{{ID: "a", Title: "twenty-five characters..."}, {ID: "b", Title: "b"}, {ID: "c", Title: "c"}, {ID: "d", Title: "d"}}}},
		{"TextTooLong", engine.Outbound{To: "447911123456", Text: string(make([]byte, 4097))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, nil)
			if _, err := r.ch.Send(t.Context(), tt.out); !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("Send = %v, want ErrInvalid", err)
			}
			if n := r.graph.Requests(); n != 0 {
				t.Errorf("%d requests made, want none", n)
			}
		})
	}
}

func TestSendOutsideTheWindowNeedsATemplate(t *testing.T) {
	r := newRig(t, nil)
	_, err := r.ch.Send(t.Context(), engine.Outbound{To: "447911123456", Text: "hi", LastInboundAt: now.Add(-24 * time.Hour)})
	var apiErr *whatsapp.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != 131047 || !apiErr.Permanent {
		t.Fatalf("Send = %v, want a permanent APIError 131047", err)
	}
	if n := r.graph.Requests(); n != 0 {
		t.Errorf("%d requests made, want none", n)
	}
	if _, err := r.ch.Send(t.Context(), engine.Outbound{To: "447911123456", Text: "hi", LastInboundAt: now.Add(-23 * time.Hour)}); err != nil {
		t.Errorf("Send inside the window: %v", err)
	}
}

func TestSendRetries(t *testing.T) {
	tests := []struct {
		name     string
		fails    [][2]int // code, HTTP status
		ok       bool
		requests int
		backoffs []time.Duration
	}{
		{"ThroughputLimitThenSuccess", [][2]int{{130429, 400}}, true, 2, []time.Duration{time.Second}},
		{"PairRateLimitBacksOffFourToTheX", [][2]int{{131056, 400}, {131056, 400}, {131056, 400}}, true, 4,
			[]time.Duration{time.Second, 4 * time.Second, 16 * time.Second}},
		{"ServiceUnavailableThenSuccess", [][2]int{{131000, 500}, {1, 500}}, true, 3, []time.Duration{time.Second, 2 * time.Second}},
		{"HTTP429WithUnknownCode", [][2]int{{99999, 429}}, true, 2, []time.Duration{time.Second}},
		{"GivesUpAfterMaxRetries", [][2]int{{130429, 400}, {130429, 400}, {130429, 400}, {130429, 400}}, false, 4,
			[]time.Duration{time.Second, 2 * time.Second, 4 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, func(c *whatsapp.Config) { c.RateLimit = 1000 })
			for _, f := range tt.fails {
				r.graph.FailNext(f[0], f[1])
			}
			_, err := r.ch.Send(t.Context(), engine.Outbound{To: "447911123456", Text: "hi"})
			if tt.ok && err != nil {
				t.Fatalf("Send: %v", err)
			}
			if !tt.ok {
				var apiErr *whatsapp.APIError
				if !errors.As(err, &apiErr) || apiErr.Permanent || apiErr.Code != tt.fails[0][0] {
					t.Fatalf("Send = %v, want a transient APIError %d", err, tt.fails[0][0])
				}
			}
			if n := r.graph.Requests(); n != tt.requests {
				t.Errorf("%d requests, want %d", n, tt.requests)
			}
			var backoffs []time.Duration
			for _, d := range r.clock.Sleeps() {
				if d >= time.Second {
					backoffs = append(backoffs, d)
				}
			}
			if !reflect.DeepEqual(backoffs, tt.backoffs) {
				t.Errorf("backoffs %v, want %v", backoffs, tt.backoffs)
			}
		})
	}
}

func TestSendPermanentErrors(t *testing.T) {
	tests := []struct {
		code, status int
		kind         error
	}{
		{131026, 400, errs.ErrInvalid},
		{131047, 400, errs.ErrInvalid},
		{131050, 400, errs.ErrInvalid},
		{130403, 400, errs.ErrInvalid},
		{132001, 404, errs.ErrInvalid},
		{368, 403, errs.ErrInvalid},
		{190, 401, errs.ErrUnauthorized},
		{0, 401, errs.ErrUnauthorized},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("Code%d", tt.code), func(t *testing.T) {
			r := newRig(t, nil)
			r.graph.FailNext(tt.code, tt.status)
			_, err := r.ch.Send(t.Context(), engine.Outbound{To: "447911123456", Text: "hi"})
			var apiErr *whatsapp.APIError
			if !errors.As(err, &apiErr) || !apiErr.Permanent || apiErr.Code != tt.code || apiErr.Title == "" || apiErr.Details == "" {
				t.Fatalf("Send = %#v, want a permanent APIError %d with title and details", err, tt.code)
			}
			if !errors.Is(err, tt.kind) {
				t.Errorf("Send = %v, want it to wrap %v", err, tt.kind)
			}
			if n := r.graph.Requests(); n != 1 {
				t.Errorf("%d requests, want 1 (no retry)", n)
			}
		})
	}
}

func TestSendRateLimitSpacing(t *testing.T) {
	tests := []struct {
		name  string
		burst int
		want  []time.Duration
	}{
		{"EvenlySpaced", 1, []time.Duration{100 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond}},
		{"BurstThenSpaced", 3, []time.Duration{100 * time.Millisecond, 100 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, func(c *whatsapp.Config) { c.RateLimit = 10; c.Burst = tt.burst })
			for range 5 {
				if _, err := r.ch.Send(t.Context(), engine.Outbound{To: "447911123456", Text: "hi"}); err != nil {
					t.Fatal(err)
				}
			}
			if got := r.clock.Sleeps(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("waits %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("NumbersAreLimitedSeparately", func(t *testing.T) {
		r := newRig(t, func(c *whatsapp.Config) {
			c.RateLimit = 10
			c.SenderNumber = func(campaign string) string {
				if campaign == "news" {
					return "222"
				}
				return ""
			}
		})
		for _, campaign := range []string{"bouncer", "news"} {
			if _, err := r.ch.Send(t.Context(), engine.Outbound{Campaign: campaign, To: "447911123456", Text: "hi"}); err != nil {
				t.Fatal(err)
			}
		}
		if got := r.clock.Sleeps(); len(got) != 0 {
			t.Errorf("waits %v, want none: two numbers", got)
		}
		sent := r.graph.Sent()
		if sent[0].PhoneNumberID != testNumber || sent[1].PhoneNumberID != "222" {
			t.Errorf("sent from %s and %s, want %s and 222", sent[0].PhoneNumberID, sent[1].PhoneNumberID, testNumber)
		}
	})
}

// TestSendsFromTheNumberWrittenTo: a reply goes out from the business number the participant
// wrote to (Outbound.From), else the campaign's number, else the default.
func TestSendsFromTheNumberWrittenTo(t *testing.T) {
	r := newRig(t, func(c *whatsapp.Config) {
		c.SenderNumber = func(campaign string) string {
			if campaign == "news" {
				return "222"
			}
			return ""
		}
	})
	for _, c := range []struct {
		campaign, from, want string
	}{
		{"bouncer", "333", "333"},
		{"bouncer", "", testNumber},
		{"news", "", "222"},
		{"news", "222", "222"},
	} {
		if _, err := r.ch.Send(t.Context(), engine.Outbound{Campaign: c.campaign, From: c.from, To: "447911123456", Text: "hi"}); err != nil {
			t.Fatal(err)
		}
		sent := r.graph.Sent()
		if got := sent[len(sent)-1].PhoneNumberID; got != c.want {
			t.Errorf("%s from %q: sent from %s, want %s", c.campaign, c.from, got, c.want)
		}
	}
}

func TestMarkRead(t *testing.T) {
	r := newRig(t, nil)
	if err := r.ch.MarkRead(t.Context(), "wamid.IN1", false); err != nil {
		t.Fatal(err)
	}
	if err := r.ch.MarkRead(t.Context(), "wamid.IN2", true); err != nil {
		t.Fatal(err)
	}
	reads := r.graph.Reads()
	if len(reads) != 2 || len(r.graph.Sent()) != 0 {
		t.Fatalf("%d reads and %d sends, want 2 reads", len(reads), len(r.graph.Sent()))
	}
	assertGolden(t, "mark_read", []map[string]any{reads[0].Body, reads[1].Body})
	if err := r.ch.MarkRead(t.Context(), "", true); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("MarkRead without id = %v, want ErrInvalid", err)
	}
}

func TestNewRequiresTheSecrets(t *testing.T) {
	for _, c := range []whatsapp.Config{
		{AppSecret: "s", VerifyToken: "v"},
		{AccessToken: "t", VerifyToken: "v"},
		{AccessToken: "t", AppSecret: "s"},
	} {
		if _, err := whatsapp.New(c); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("New(%+v) = %v, want ErrInvalid", c, err)
		}
	}
}
