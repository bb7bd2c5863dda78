package loadgen_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/channels/whatsapp"
	"github.com/chatcampaigns/campaign/channels/whatsapp/graphtest"
	"github.com/chatcampaigns/campaign/loadgen"
)

func ms(n float64) time.Duration { return time.Duration(n * float64(time.Millisecond)) }

func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = ms(float64(i + 1))
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"Empty", nil, 50, 0},
		{"One", []time.Duration{ms(7)}, 99, ms(7)},
		{"MedianOfOdd", []time.Duration{ms(1), ms(2), ms(3)}, 50, ms(2)},
		{"MedianOfEvenIsLowerMiddle", []time.Duration{ms(1), ms(2), ms(3), ms(4)}, 50, ms(2)},
		{"P99OfHundred", hundred, 99, ms(99)},
		{"P95OfHundred", hundred, 95, ms(95)},
		{"P100IsMax", hundred, 100, ms(100)},
		{"TinyPIsMin", hundred, 0.001, ms(1)},
		{"P99OfTenIsMax", hundred[:10], 99, ms(10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := loadgen.Percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("Percentile(%d values, %v) = %v, want %v", len(tt.sorted), tt.p, got, tt.want)
			}
		})
	}
}

func TestSummarizeSorts(t *testing.T) {
	l := loadgen.Summarize([]time.Duration{ms(5), ms(1), ms(3), ms(2), ms(4)})
	if l.N != 5 || l.P50 != ms(3) || l.P99 != ms(5) || l.Max != ms(5) {
		t.Fatalf("Summarize = %+v", l)
	}
}

// fakeClock moves only when slept on.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.now = c.now.Add(d)
	return ctx.Err()
}

func TestPaceSpacesMessagesAtTheRate(t *testing.T) {
	tests := []struct {
		name string
		rate float64
		n    int
		// wantLast is when the last message goes, after the start.
		wantLast time.Duration
	}{
		{"TenPerSecond", 10, 11, time.Second},
		{"FiveThousandPerSecond", 5000, 5001, time.Second},
		{"ThirdOfAPerSecond", 3, 4, time.Second},
		{"Unpaced", 0, 100, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Unix(1_000_000, 0)
			c := &fakeClock{now: start}
			var at []time.Time
			n := loadgen.Pace(context.Background(), c, tt.rate, tt.n, func(i int, due time.Time) {
				if len(at) != i {
					t.Fatalf("emitted %d, want %d", i, len(at))
				}
				if c.now.Before(due) {
					t.Fatalf("message %d emitted at %v, before it was due at %v", i, c.now, due)
				}
				at = append(at, c.now)
			})
			if n != tt.n || len(at) != tt.n {
				t.Fatalf("emitted %d (%d calls), want %d", n, len(at), tt.n)
			}
			if got := at[len(at)-1].Sub(start); got.Round(time.Microsecond) != tt.wantLast {
				t.Errorf("last message after %v, want %v", got, tt.wantLast)
			}
			// No second holds more than the rate allows.
			if tt.rate > 0 {
				perSecond := map[int64]int{}
				for _, a := range at {
					perSecond[a.Sub(start).Nanoseconds()/int64(time.Second)]++
				}
				for s, k := range perSecond {
					if float64(k) > tt.rate+1 {
						t.Errorf("second %d holds %d messages at rate %v", s, k, tt.rate)
					}
				}
			}
		})
	}
}

// lateClock sleeps twice as long as asked once, like a descheduled process.
type lateClock struct {
	fakeClock
	hiccup bool
}

func (c *lateClock) Sleep(ctx context.Context, d time.Duration) error {
	if !c.hiccup {
		c.hiccup = true
		d += 500 * time.Millisecond
	}
	return c.fakeClock.Sleep(ctx, d)
}

func TestPaceCatchesUpAfterALateWakeUp(t *testing.T) {
	start := time.Unix(1_000_000, 0)
	c := &lateClock{fakeClock: fakeClock{now: start}}
	var last time.Time
	loadgen.Pace(context.Background(), c, 100, 201, func(int, time.Time) { last = c.now })
	if got := last.Sub(start); got != 2*time.Second {
		t.Fatalf("201 messages at 100/s with one late wake-up ended after %v, want 2s (the rate is kept)", got)
	}
}

func TestPaceStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	c := &fakeClock{now: time.Unix(0, 0)}
	n := loadgen.Pace(ctx, c, 10, 100, func(i int, _ time.Time) {
		if i == 4 {
			cancel()
		}
	})
	if n != 5 {
		t.Fatalf("emitted %d after cancelling at the fifth, want 5", n)
	}
}

func TestSignMatchesTheChannel(t *testing.T) {
	body := loadgen.TextWebhook(nil, "106540352242922", "31612345678", "wamid.1", `say "hi" \ there`, 1767611520)
	if got, want := loadgen.Sign("s3cret", body), graphtest.Sign("s3cret", body); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	// A known vector: HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog").
	if got := loadgen.Sign("key", []byte("The quick brown fox jumps over the lazy dog")); got !=
		"sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8" {
		t.Fatalf("Sign known vector = %s", got)
	}
}

func TestTextWebhookParses(t *testing.T) {
	text := `say "hi" \ there ✓`
	body := loadgen.TextWebhook(nil, "106540352242922", "31612345678", "wamid.1", text, 1767611520)
	w, err := whatsapp.ParseWebhook(body, time.Unix(1767611600, 0))
	if err != nil {
		t.Fatalf("ParseWebhook: %v\n%s", err, body)
	}
	if len(w.Messages) != 1 {
		t.Fatalf("%d messages, want 1", len(w.Messages))
	}
	m := w.Messages[0]
	if m.Inbound.From != "31612345678" || m.Inbound.PlatformID != "wamid.1" || m.Inbound.Text != text ||
		m.PhoneNumberID != "106540352242922" || m.Skip != "" {
		t.Fatalf("parsed %+v (phone %q, skip %q)", m.Inbound, m.PhoneNumberID, m.Skip)
	}
}

func TestGraphRecordsReplies(t *testing.T) {
	g, err := loadgen.StartGraph("127.0.0.1:0", "tok")
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	post := func(token, body string) int {
		req, _ := http.NewRequest("POST", g.APIURL+"/100/messages", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	text := `{"messaging_product":"whatsapp","to":"+31600000001","type":"text","text":{"body":"ok"}}`
	if c := post("tok", text); c != 200 {
		t.Fatalf("send: %d", c)
	}
	if c := post("tok", `{"messaging_product":"whatsapp","status":"read","message_id":"wamid.1"}`); c != 200 {
		t.Fatalf("mark read: %d", c)
	}
	if c := post("wrong", text); c != 401 {
		t.Fatalf("wrong token: %d, want 401", c)
	}
	if c := post("tok", `{`); c != 400 {
		t.Fatalf("malformed: %d, want 400", c)
	}
	if n := g.WaitEach(context.Background(), map[string]int{"31600000001": 1}, time.Second); n != 0 || g.Replies() != 1 {
		t.Fatalf("WaitEach: %d missing, %d replies, want 0 and 1", n, g.Replies())
	}
	// A second reply to the same recipient does not make up for one to somebody else.
	if c := post("tok", text); c != 200 {
		t.Fatalf("send again: %d", c)
	}
	if n := g.WaitEach(context.Background(), map[string]int{"31600000001": 1, "31600000002": 1}, 50*time.Millisecond); n != 1 {
		t.Fatalf("WaitEach with another recipient's reply missing: %d missing, want 1", n)
	}
	got := g.Take()
	if len(got["31600000001"]) != 2 || g.Reads() != 1 || g.Rejected() != 2 {
		t.Fatalf("recorded %v, %d reads, %d rejected", got, g.Reads(), g.Rejected())
	}
	if _, err := loadgen.StartGraph("0.0.0.0:0", "tok"); err == nil {
		t.Fatal("the fake Graph API listened beyond loopback")
	}
}

func TestRunRefusesNonLoopbackServers(t *testing.T) {
	_, err := loadgen.Run(context.Background(), loadgen.Config{Server: "http://example.com", Messages: 1})
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("Run against example.com: %v", err)
	}
}

func TestLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "127.0.0.1": true, "127.8.9.10": true, "::1": true,
		"0.0.0.0": false, "10.0.0.1": false, "example.com": false, "": false, "localhost.example.com": false,
	} {
		if got := loadgen.Loopback(host); got != want {
			t.Errorf("Loopback(%q) = %v, want %v", host, got, want)
		}
	}
}

// TestGraphAnswers: the fake answers a send with the documented shape (the message id the
// channel records), refuses what is not POST /{version}/{phone}/messages, and refuses and
// counts a body larger than it reads.
func TestGraphAnswers(t *testing.T) {
	g, err := loadgen.StartGraph("127.0.0.1:0", "tok")
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	do := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, strings.TrimSuffix(g.APIURL, "/"+loadgen.GraphVersion)+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer tok")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := do("POST", "/v23.0/100/messages", `{"messaging_product":"whatsapp","to":"+31600000001","type":"text","text":{"body":"ok"}}`)
	var answer struct {
		Contacts []struct {
			Input string `json:"input"`
			WaID  string `json:"wa_id"`
		} `json:"contacts"`
		Messages []struct {
			ID string `json:"id"`
		} `json:"messages"`
	}
	if err := json.Unmarshal([]byte(body), &answer); code != 200 || err != nil || len(answer.Messages) != 1 ||
		!strings.HasPrefix(answer.Messages[0].ID, "wamid.loadgen.") || len(answer.Contacts) != 1 ||
		answer.Contacts[0].Input != "+31600000001" || answer.Contacts[0].WaID != "31600000001" {
		t.Fatalf("send answered %d %s (%v)", code, body, err)
	}
	if code, _ := do("GET", "/v23.0/100/messages", ""); code != 405 {
		t.Errorf("GET: %d, want 405", code)
	}
	for _, path := range []string{"/v23.0/messages", "/v23.0/100/messages/x", "/v23.0//messages", "/"} {
		if code, _ := do("POST", path, `{}`); code != 404 {
			t.Errorf("POST %s: %d, want 404", path, code)
		}
	}
	big := `{"messaging_product":"whatsapp","to":"+31600000001","type":"text","text":{"body":"` + strings.Repeat("x", 1<<20) + `"}}`
	if code, _ := do("POST", "/v23.0/100/messages", big); code != 400 || g.Rejected() != 1 || g.Replies() != 1 {
		t.Errorf("a body over 1 MiB: %d, %d rejected, %d replies; want 400, 1, 1", code, g.Rejected(), g.Replies())
	}
}
