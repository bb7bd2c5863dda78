package whatsapp_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/channels/channeltest"
	"github.com/chatcampaigns/campaign/channels/whatsapp"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

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
	channeltest.AssertGolden(t, "outgoing/MarkRead.json", []map[string]any{reads[0].Body, reads[1].Body})
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

func TestCreateGroup(t *testing.T) {
	r := newRig(t, nil)
	id, err := r.ch.CreateGroup(t.Context(), "", "Red Rovers", "The Great Escape Race")
	if err != nil || id != "graphtest-group-request-1" {
		t.Fatalf("CreateGroup = %q, %v; want the request id", id, err)
	}
	long := strings.Repeat("é", whatsapp.MaxGroupSubjectLen+5)
	if _, err := r.ch.CreateGroup(t.Context(), "222", long, ""); err != nil {
		t.Fatalf("CreateGroup with a long subject: %v", err)
	}
	channeltest.AssertGolden(t, "outgoing/CreateGroup.json", r.graph.Log.Requests())
	if _, err := r.ch.CreateGroup(t.Context(), "", "", ""); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("CreateGroup without a subject = %v, want ErrInvalid", err)
	}
	r.graph.FailNext(131215, 400)
	var apiErr *whatsapp.APIError
	if _, err := r.ch.CreateGroup(t.Context(), "", "Blue", ""); !errors.As(err, &apiErr) || apiErr.Code != 131215 || !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("CreateGroup on a number without groups = %v, want a permanent APIError 131215", err)
	}
	r.graph.SetToken("other")
	if _, err := r.ch.CreateGroup(t.Context(), "", "Blue", ""); !errors.Is(err, errs.ErrUnauthorized) {
		t.Errorf("CreateGroup with a refused token = %v, want ErrUnauthorized", err)
	}
}
