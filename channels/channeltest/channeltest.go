// Package channeltest is the conformance harness every chat channel (whatsapp, telegram,
// messenger) runs its cases on, the way go-cloud's drivertest runs every store: a channel
// states what it must do as two tables, and the harness plays them against the channel's real
// webhook handler, its real Sender and a fake platform server on loopback.
//
//   - Incoming cases: a payload from testdata (body file, headers, method and path) is sent to
//     the channel's Fiber app; the harness checks the HTTP status, and compares what the channel
//     handed over (normalized engine.Inbound events, plus anything else the fixture records, such
//     as delivery statuses or stored media) with a golden JSON file. A refused request (a 4xx:
//     bad signature, malformed JSON, too large) must hand over nothing and call the platform
//     not at all; a 5xx (asking the platform to deliver again) is compared with its golden file
//     like a 2xx, usually one saying nothing was handed over. A webhook delivered twice
//     (Repeat: 2) must hand over its events once, as the store would keep them: the Recorder
//     keeps a Channel and PlatformID once, so a channel whose ids change between deliveries
//     fails.
//   - Outgoing cases: an engine.Outbound goes to the channel's Sender; the harness compares the
//     requests the fake platform received (method, path, JSON body) with a golden file, and the
//     error with the engine's error classes: errors.Is a kind of package errs, or Transient
//     (the engine retries it later), and the retry-after the error carries (engine.RetryAfter).
//
// # How to put a channel on the harness
//
//  1. Write a fixture type in the channel's _test.go files that implements Fixture: a fresh
//     channel wired to a *Recorder (as the channel's receiver: it has the engine's Route and
//     Receive), mounted on a Fiber app, sending to the channel's fake platform server. Wrap the
//     fake server's handler in a *RequestLog so the harness sees what it received.
//  2. Give the fixture a Sign method that adds the channel's webhook signature or secret header
//     to a request (a channel without one leaves the request alone).
//  3. Write the tables: []Incoming[*yourFixture] and []Outgoing[*yourFixture], with Setup
//     functions for what is channel-specific (a platform that fails the next send, an engine
//     that routes nowhere), and run them with RunIncoming and RunOutgoing from a Test function.
//  4. Define the flag in the channel's tests, `var update = flag.Bool("update", false, "rewrite
//     the golden files")` (the harness reads it by name and defines none itself), put the
//     payloads in testdata/ and run `go test ./channels/yours -run TestConformance -update`
//     once to write the golden files under testdata/incoming and testdata/outgoing. Read every
//     one before committing it: the golden file is the expectation.
//
// channels/whatsapp/conformance_test.go is the worked example. AssertGolden serves a channel's
// other golden files with the same flag. Whatever the harness cannot express (backoff timings,
// read receipts in flight, media size limits against a slow server) stays in ordinary tests
// next to the table.
package channeltest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/engine"
)

// updating reports whether the test binary runs with -update: the flag is the channel test
// package's own (a package that is imported must not define flags, or every test binary that
// imports it and has an -update of its own would panic).
func updating() bool {
	if noUpdate {
		return false
	}
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// noUpdate keeps the harness's own test from writing a wrong expectation as the golden one.
var noUpdate bool

// Fixture is one channel, fresh for each case, wired for the harness.
type Fixture interface {
	// App serves the channel's webhook routes.
	App() *fiber.App
	// Recorder is the receiver the channel hands its events to.
	Recorder() *Recorder
	// Sign makes req carry a valid webhook signature (or secret) for body.
	Sign(req *http.Request, body []byte)
	// Sender is the channel's engine.Sender, sending to the fake platform.
	Sender() engine.Sender
	// Platform logs the requests the fake platform server received.
	Platform() *RequestLog
}

// Incoming is one webhook case.
type Incoming[F Fixture] struct {
	Name string
	// Method defaults to POST and Path to DefaultPath's value given to RunIncoming; Path may
	// carry a query.
	Method, Path string
	// Body names a file under testdata; BodyBytes is used when Body is empty.
	Body      string
	BodyBytes []byte
	Header    map[string]string
	// Unsigned leaves out Fixture.Sign; Tamper changes the body after it was signed.
	Unsigned bool
	Tamper   func([]byte) []byte
	// Setup runs on the fresh fixture before the request.
	Setup func(F)
	// Repeat sends the request that many times (default once): the platform's redelivery.
	Repeat int
	// Status is the expected answer (every time, with Repeat). A request refused with a 4xx
	// must hand nothing over and call the platform not at all. Otherwise what was handed over
	// is compared with testdata/incoming/<Golden>.json: a 5xx (the platform delivers again)
	// has usually handed over nothing, but a batch may have kept what went well before.
	Status int
	// Golden names the golden file (default Name); cases that expect the same share one.
	Golden string
	// Response, when set, is the expected response body.
	Response string
}

// Outgoing is one send case.
type Outgoing[F Fixture] struct {
	Name  string
	Out   engine.Outbound
	Setup func(F)
	// Err is the expected error class: nil (success), a kind of package errs (errors.Is), or
	// Transient.
	Err error
	// RetryAfter is the wait the error is expected to ask for (engine.RetryAfter); zero
	// expects none.
	RetryAfter time.Duration
	// NoRequests expects the channel to refuse before it calls the platform; otherwise the
	// platform's requests are compared with testdata/outgoing/<Golden>.json.
	NoRequests bool
	// Golden names the golden file (default Name); cases that expect the same share one.
	Golden string
}

// Transient is the expected Outgoing.Err of a failure the engine retries later: an error
// that is not engine.Permanent.
var Transient = errors.New("transient (retried by the engine)")

// RunIncoming runs every incoming case on a fresh fixture from newFixture, one subtest each.
// defaultPath is the channel's webhook path.
func RunIncoming[F Fixture](t *testing.T, newFixture func(testing.TB) F, defaultPath string, cases []Incoming[F]) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) { checkIncoming(t, newFixture(t), defaultPath, c) })
	}
}

// RunOutgoing runs every outgoing case on a fresh fixture from newFixture, one subtest each.
func RunOutgoing[F Fixture](t *testing.T, newFixture func(testing.TB) F, cases []Outgoing[F]) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) { checkOutgoing(t, newFixture(t), c) })
	}
}

func checkIncoming[F Fixture](t testing.TB, f F, defaultPath string, c Incoming[F]) {
	t.Helper()
	body := c.BodyBytes
	if c.Body != "" {
		var err error
		if body, err = os.ReadFile(filepath.Join("testdata", c.Body)); err != nil {
			t.Fatalf("payload: %v", err)
		}
	}
	if c.Setup != nil {
		c.Setup(f)
	}
	method, path := c.Method, c.Path
	if method == "" {
		method = http.MethodPost
	}
	if path == "" {
		path = defaultPath
	}
	for i := range max(c.Repeat, 1) {
		req, err := http.NewRequest(method, "http://localhost"+path, nil)
		if err != nil {
			t.Fatalf("request: %v", err)
		}
		for k, v := range c.Header {
			req.Header.Set(k, v)
		}
		if !c.Unsigned {
			f.Sign(req, body)
		}
		sent := body
		if c.Tamper != nil {
			sent = c.Tamper(bytes.Clone(body))
		}
		if sent != nil {
			req.Body = io.NopCloser(bytes.NewReader(sent))
			req.ContentLength = int64(len(sent))
		}
		resp, err := f.App().Test(req, -1)
		if err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.Status {
			t.Fatalf("request %d: status %d (%q), want %d", i+1, resp.StatusCode, got, c.Status)
		}
		if c.Response != "" && string(got) != c.Response {
			t.Errorf("request %d: response %q, want %q", i+1, got, c.Response)
		}
	}
	rec := f.Recorder().Snapshot()
	if c.Status >= 400 && c.Status < 500 {
		if !rec.empty() {
			t.Errorf("refused with %d, yet handed over %s; want nothing", c.Status, canonical(t, rec))
		}
		if reqs := f.Platform().Requests(); len(reqs) != 0 {
			t.Errorf("refused with %d, yet called the platform %d times (%s first); want none", c.Status, len(reqs), reqs[0])
		}
		return
	}
	AssertGolden(t, filepath.Join("incoming", goldenName(c.Golden, c.Name)+".json"), rec)
}

func goldenName(golden, name string) string {
	if golden != "" {
		return golden
	}
	return unsafeName.ReplaceAllString(name, "_")
}

func checkOutgoing[F Fixture](t testing.TB, f F, c Outgoing[F]) {
	t.Helper()
	if c.Setup != nil {
		c.Setup(f)
	}
	id, err := f.Sender().Send(context.Background(), c.Out)
	switch {
	case c.Err == nil && err != nil:
		t.Errorf("Send = %v, want success", err)
	case c.Err == nil && id == "":
		t.Errorf("Send succeeded without a platform id")
	case c.Err == Transient && (err == nil || engine.Permanent(err)):
		t.Errorf("Send = %v, want a transient error", err)
	case c.Err != nil && c.Err != Transient && !errors.Is(err, c.Err):
		t.Errorf("Send = %v, want an error wrapping %v", err, c.Err)
	}
	if ra, _ := engine.RetryAfter(err); ra != c.RetryAfter {
		t.Errorf("Send = %v asks to retry after %v, want %v", err, ra, c.RetryAfter)
	}
	reqs := f.Platform().Requests()
	if c.NoRequests {
		if len(reqs) != 0 {
			t.Errorf("called the platform %d times (%s first); want no request", len(reqs), reqs[0])
		}
		return
	}
	if reqs == nil {
		reqs = []Request{}
	}
	AssertGolden(t, filepath.Join("outgoing", goldenName(c.Golden, c.Name)+".json"), reqs)
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// AssertGolden compares got, as indented JSON with sorted keys, with testdata/<name>; with
// -update it writes the file first.
func AssertGolden(t testing.TB, name string, got any) {
	t.Helper()
	path := filepath.Join("testdata", name)
	text := canonical(t, got)
	if updating() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden file: %v (run with -update to write it, then read it)", err)
	}
	var want any
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatalf("golden file %s: %v", path, err)
	}
	if wantText := canonical(t, want); wantText != text {
		t.Errorf("got\n%s\nwant (%s)\n%s", text, path, wantText)
	}
}

// canonical is v as indented JSON with the keys sorted.
func canonical(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		t.Fatalf("decode: %v", err)
	}
	out, err := json.MarshalIndent(generic, "", "  ")
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	return string(out) + "\n"
}

func prune(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e = prune(e); isZero(e) {
				delete(x, k)
			} else {
				x[k] = e
			}
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = prune(e)
		}
		return x
	}
	return v
}

func isZero(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == "" || x == "0001-01-01T00:00:00Z"
	case bool:
		return !x
	case float64:
		return x == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

// Recorder is the receiver a fixture wires its channel to: it routes every message to
// Campaign (as engine.Engine.Route would for a known participant), keeps what Receive is
// given, and, as the store does, keeps a Channel and PlatformID seen before only once and
// answers duplicate. A fixture may Record other things its channel hands over (delivery
// statuses, stored media) under a name of its own.
type Recorder struct {
	mu sync.Mutex
	// Campaign is where Route sends everything (default "campaign").
	Campaign   string
	noCampaign bool
	routeErr   error
	receiveErr error
	routes     []string
	seen       map[string]bool
	inbound    []engine.Inbound
	other      map[string][]any
}

// NewRecorder returns a Recorder routing to campaign.
func NewRecorder(campaign string) *Recorder { return &Recorder{Campaign: campaign} }

// RouteNowhere makes Route answer that no campaign takes the message.
func (r *Recorder) RouteNowhere() { r.mu.Lock(); r.noCampaign = true; r.mu.Unlock() }

// FailRoute and FailReceive make every later Route or Receive fail with err.
func (r *Recorder) FailRoute(err error)   { r.mu.Lock(); r.routeErr = err; r.mu.Unlock() }
func (r *Recorder) FailReceive(err error) { r.mu.Lock(); r.receiveErr = err; r.mu.Unlock() }

// Route has the signature of engine.Engine.Route.
func (r *Recorder) Route(_ context.Context, channel, address, text, number string) (string, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.routes = append(r.routes, strings.Join([]string{channel, address, number, text}, " "))
	if r.routeErr != nil {
		return "", false, r.routeErr
	}
	campaign := r.Campaign
	if campaign == "" {
		campaign = "campaign"
	}
	return campaign, !r.noCampaign, nil
}

// Receive has the signature of engine.Engine.Receive.
func (r *Recorder) Receive(_ context.Context, in engine.Inbound) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.receiveErr != nil {
		return false, r.receiveErr
	}
	key := in.Channel + "\x00" + in.PlatformID
	if r.seen[key] {
		return true, nil
	}
	if r.seen == nil {
		r.seen = make(map[string]bool)
	}
	r.seen[key] = true
	r.inbound = append(r.inbound, in)
	return false, nil
}

// Record keeps v under kind ("delivery", "media", …) for the golden file.
func (r *Recorder) Record(kind string, v any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.other == nil {
		r.other = make(map[string][]any)
	}
	r.other[kind] = append(r.other[kind], v)
}

// Inbound returns what Receive kept, in order.
func (r *Recorder) Inbound() []engine.Inbound {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]engine.Inbound(nil), r.inbound...)
}

// Routes returns every Route call as "channel address number text".
func (r *Recorder) Routes() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.routes...)
}

// Record is everything a channel handed over in one case, as its golden file holds it.
type Record struct {
	Inbound []engine.Inbound `json:"inbound"`
	Other   map[string][]any `json:"other"`
}

// MarshalJSON leaves out the zero values of the Go structs handed over, so a golden file says
// only what is set, and a field added to engine.Inbound does not rewrite every one of them.
// (Requests to the platform keep theirs: a false there is what was sent.)
func (r Record) MarshalJSON() ([]byte, error) {
	type plain Record
	b, err := json.Marshal(plain(r))
	if err != nil {
		return nil, err
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		return nil, err
	}
	return json.Marshal(prune(generic))
}

func (r Record) empty() bool { return len(r.Inbound) == 0 && len(r.Other) == 0 }

// Snapshot returns what was handed over so far.
func (r *Recorder) Snapshot() Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec := Record{Inbound: append([]engine.Inbound(nil), r.inbound...)}
	if len(r.other) > 0 {
		rec.Other = make(map[string][]any, len(r.other))
		for k, v := range r.other {
			rec.Other[k] = append([]any(nil), v...)
		}
	}
	return rec
}

// Request is one request a fake platform server received. Body is the decoded JSON body, or
// the body as a string when it is not JSON (form posts), or nil when empty.
type Request struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	Body   any    `json:"body"`
}

// RequestLog records the requests a fake platform server receives; wrap the server's
// handler with Wrap.
type RequestLog struct {
	mu   sync.Mutex
	reqs []Request
	// Skip, when set, leaves out requests it returns true for (media downloads a case does
	// not care about).
	Skip func(*http.Request) bool
}

// Wrap returns next with every request recorded before next sees it.
func (l *RequestLog) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(raw))
		if l.Skip == nil || !l.Skip(r) {
			req := Request{Method: r.Method, Path: r.URL.Path}
			if q := r.URL.Query(); len(q) > 0 {
				req.Path += "?" + q.Encode() // sorted by key
			}
			if len(raw) > 0 {
				var body any
				if json.Unmarshal(raw, &body) == nil {
					req.Body = body
				} else {
					req.Body = string(raw)
				}
			}
			l.mu.Lock()
			l.reqs = append(l.reqs, req)
			l.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

// Requests returns the requests recorded so far, in order.
func (l *RequestLog) Requests() []Request {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Request(nil), l.reqs...)
}

// String is for failure messages.
func (r Request) String() string { return fmt.Sprintf("%s %s", r.Method, r.Path) }
