package channeltest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// toy is the smallest channel the harness can run: a webhook at /hook with a shared secret
// header, {"id","from","text"} bodies, and a sender that posts {"to","text"} to /send. leaky
// makes it hand messages over before checking the secret, the bug a refused case must catch.
type toy struct {
	app   *fiber.App
	rec   *Recorder
	log   *RequestLog
	srv   *httptest.Server
	leaky bool
	// fresh gives every delivery a new id, the bug a duplicate case must catch.
	fresh int
	// answer is the fake platform's next status (0: 200).
	answer int
}

func newToy(tb testing.TB) *toy {
	f := &toy{app: fiber.New(fiber.Config{Immutable: true}), rec: NewRecorder("race"), log: &RequestLog{}}
	f.app.Post("/hook", func(c *fiber.Ctx) error {
		var m struct{ ID, From, Text string }
		parseErr := json.Unmarshal(c.Body(), &m)
		if f.fresh > 0 {
			m.ID += "#" + strconv.Itoa(f.fresh)
			f.fresh++
		}
		if f.leaky && parseErr == nil {
			_, _ = f.rec.Receive(c.UserContext(), engine.Inbound{Channel: "toy", PlatformID: m.ID, From: m.From, Kind: engine.KindText, Text: m.Text})
		}
		if c.Get("X-Secret") != "s3cret" {
			return c.SendStatus(http.StatusUnauthorized)
		}
		if parseErr != nil {
			return c.SendStatus(http.StatusBadRequest)
		}
		if !f.leaky {
			_, _ = f.rec.Receive(c.UserContext(), engine.Inbound{Channel: "toy", PlatformID: m.ID, From: m.From, Kind: engine.KindText, Text: m.Text})
		}
		return c.SendStatus(http.StatusOK)
	})
	f.srv = httptest.NewServer(f.log.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch f.answer {
		case 0:
			_, _ = w.Write([]byte(`{"id":"toy.1"}`))
		case http.StatusTooManyRequests:
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(f.answer)
		default:
			w.WriteHeader(f.answer)
		}
	})))
	tb.Cleanup(f.srv.Close)
	return f
}

func (f *toy) App() *fiber.App                  { return f.app }
func (f *toy) Recorder() *Recorder              { return f.rec }
func (f *toy) Sign(req *http.Request, _ []byte) { req.Header.Set("X-Secret", "s3cret") }
func (f *toy) Sender() engine.Sender            { return f }
func (f *toy) Platform() *RequestLog            { return f.log }
func (f *toy) Send(ctx context.Context, out engine.Outbound) (string, error) {
	if out.Text == "" {
		return "", fmt.Errorf("toy: empty: %w", errs.ErrInvalid)
	}
	body, _ := json.Marshal(map[string]string{"to": out.To, "text": out.Text})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, f.srv.URL+"/send", bytes.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		var r struct{ ID string }
		err := json.NewDecoder(resp.Body).Decode(&r)
		return r.ID, err
	case http.StatusUnauthorized:
		return "", fmt.Errorf("toy: %w", errs.ErrUnauthorized)
	case http.StatusTooManyRequests:
		s, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return "", slowDown(time.Duration(s) * time.Second)
	}
	return "", fmt.Errorf("toy: HTTP %d", resp.StatusCode)
}

type slowDown time.Duration

func (d slowDown) Error() string             { return "toy: slow down" }
func (d slowDown) RetryAfter() time.Duration { return time.Duration(d) }

var _ = flag.Bool("update", false, "rewrite the golden files in testdata")

var (
	toyIncoming = []Incoming[*toy]{
		{Name: "Text", BodyBytes: []byte(`{"id":"m1","from":"ann","text":"hi"}`), Status: 200},
		{Name: "DuplicateIsKeptOnce", BodyBytes: []byte(`{"id":"m1","from":"ann","text":"hi"}`), Repeat: 2, Status: 200, Golden: "Text"},
		{Name: "Unsigned", BodyBytes: []byte(`{"id":"m1","from":"ann","text":"hi"}`), Unsigned: true, Status: 401},
		{Name: "Malformed", BodyBytes: []byte(`{"id":`), Status: 400},
	}
	toyOutgoing = []Outgoing[*toy]{
		{Name: "Text", Out: engine.Outbound{To: "ann", Text: "hello"}},
		{Name: "Empty", Out: engine.Outbound{To: "ann"}, Err: errs.ErrInvalid, NoRequests: true},
		{Name: "Unauthorized", Out: engine.Outbound{To: "ann", Text: "hello"}, Setup: func(f *toy) { f.answer = 401 }, Err: errs.ErrUnauthorized, Golden: "Text"},
		{Name: "ServerError", Out: engine.Outbound{To: "ann", Text: "hello"}, Setup: func(f *toy) { f.answer = 502 }, Err: Transient, Golden: "Text"},
		{Name: "RateLimited", Out: engine.Outbound{To: "ann", Text: "hello"}, Setup: func(f *toy) { f.answer = 429 }, Err: Transient, RetryAfter: 7 * time.Second, Golden: "Text"},
	}
)

// TestHarnessPassesAConformingChannel: the toy channel meets its own tables.
func TestHarnessPassesAConformingChannel(t *testing.T) {
	t.Run("Incoming", func(t *testing.T) { RunIncoming(t, newToy, "/hook", toyIncoming) })
	t.Run("Outgoing", func(t *testing.T) { RunOutgoing(t, newToy, toyOutgoing) })
}

// reporter is a testing.TB that keeps the failures instead of failing the test; Fatal ends
// the goroutine as testing's does.
type reporter struct {
	testing.TB
	mu     sync.Mutex
	failed []string
}

func (r *reporter) Helper() {}
func (r *reporter) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = append(r.failed, fmt.Sprintf(format, args...))
}
func (r *reporter) Fatalf(format string, args ...any) { r.Errorf(format, args...); runtime.Goexit() }
func (r *reporter) Fatal(args ...any)                 { r.Errorf("%s", fmt.Sprint(args...)); runtime.Goexit() }

// failures runs check against a reporter and returns what it reported.
func failures(t *testing.T, check func(testing.TB)) []string {
	noUpdate = true // a wrong expectation must never be written as the golden one
	defer func() { noUpdate = false }()
	r := &reporter{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		check(r)
	}()
	<-done
	return r.failed
}

// TestHarnessReportsWrongExpectations: every kind of wrong expectation, and a channel that
// hands over what it refused, fails the case with a message that says what went wrong.
func TestHarnessReportsWrongExpectations(t *testing.T) {
	in := func(c Incoming[*toy], change func(*toy)) func(testing.TB) {
		return func(tb testing.TB) {
			f := newToy(t)
			if change != nil {
				change(f)
			}
			checkIncoming(tb, f, "/hook", c)
		}
	}
	out := func(c Outgoing[*toy]) func(testing.TB) {
		return func(tb testing.TB) { checkOutgoing(tb, newToy(t), c) }
	}
	tests := []struct {
		name  string
		check func(testing.TB)
		want  string
	}{
		{"WrongStatus", in(Incoming[*toy]{Name: "Text", BodyBytes: []byte(`{"id":"m1","from":"ann","text":"hi"}`), Status: 202}, nil), "status 200"},
		{"WrongGolden", in(Incoming[*toy]{Name: "Text", BodyBytes: []byte(`{"id":"m1","from":"bob","text":"hi"}`), Status: 200}, nil), `"From": "bob"`},
		{"MissingGolden", in(Incoming[*toy]{Name: "NoSuchGolden", BodyBytes: []byte(`{"id":"m1"}`), Status: 200}, nil), "run with -update"},
		{"WrongResponse", in(Incoming[*toy]{Name: "Text", BodyBytes: []byte(`{"id":"m1","from":"ann","text":"hi"}`), Status: 200, Response: "ok!"}, nil), `want "ok!"`},
		{"RefusedButHandedOver", in(Incoming[*toy]{Name: "Unsigned", BodyBytes: []byte(`{"id":"m1","from":"ann","text":"hi"}`), Unsigned: true, Status: 401},
			func(f *toy) { f.leaky = true }), "yet handed over"},
		{"DuplicateKeptTwice", in(Incoming[*toy]{Name: "Twice", BodyBytes: []byte(`{"id":"m1","from":"ann","text":"hi"}`), Repeat: 2, Status: 200, Golden: "Text"},
			func(f *toy) { f.fresh = 1 }), `"PlatformID": "m1#2"`},
		{"SuccessExpectedButRefused", out(Outgoing[*toy]{Name: "Text", Out: engine.Outbound{To: "ann", Text: "hello"}, Setup: func(f *toy) { f.answer = 401 }}), "want success"},
		{"WrongErrorClass", out(Outgoing[*toy]{Name: "Text", Out: engine.Outbound{To: "ann", Text: "hello"}, Setup: func(f *toy) { f.answer = 502 }, Err: errs.ErrInvalid}), "want an error wrapping invalid"},
		{"PermanentExpectedTransient", out(Outgoing[*toy]{Name: "Text", Out: engine.Outbound{To: "ann", Text: "hello"}, Setup: func(f *toy) { f.answer = 401 }, Err: Transient}), "want a transient error"},
		{"WrongRetryAfter", out(Outgoing[*toy]{Name: "Text", Out: engine.Outbound{To: "ann", Text: "hello"}, Setup: func(f *toy) { f.answer = 429 }, Err: Transient, RetryAfter: time.Second}), "want 1s"},
		{"RequestWhereNoneWasExpected", out(Outgoing[*toy]{Name: "Text", Out: engine.Outbound{To: "ann", Text: "hello"}, NoRequests: true}), "want no request"},
		{"WrongRequest", out(Outgoing[*toy]{Name: "Text", Out: engine.Outbound{To: "bob", Text: "hello"}}), `"to": "bob"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := failures(t, tt.check)
			if len(got) == 0 {
				t.Fatalf("the harness reported nothing; want a failure saying %q", tt.want)
			}
			if !strings.Contains(strings.Join(got, "\n"), tt.want) {
				t.Errorf("reported %q, want it to say %q", got, tt.want)
			}
		})
	}
}

func TestRecorderKeepsADuplicateOnce(t *testing.T) {
	r := NewRecorder("race")
	in := engine.Inbound{Channel: "toy", PlatformID: "m1"}
	for i, wantDup := range []bool{false, true} {
		dup, err := r.Receive(t.Context(), in)
		if err != nil || dup != wantDup {
			t.Fatalf("Receive #%d = %v, %v; want duplicate %v", i+1, dup, err, wantDup)
		}
	}
	boom := errors.New("boom")
	r.FailReceive(boom)
	if _, err := r.Receive(t.Context(), engine.Inbound{Channel: "toy", PlatformID: "m2"}); !errors.Is(err, boom) {
		t.Errorf("Receive after FailReceive = %v", err)
	}
	if got := len(r.Inbound()); got != 1 {
		t.Errorf("kept %d, want 1", got)
	}
}
