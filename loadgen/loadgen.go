// Package loadgen owns `campaign loadgen`, the load tool behind docs/performance.md: it plays
// many WhatsApp participants against a running `campaign serve`, sending signed text webhooks
// at a fixed rate, while a fake Graph API on loopback receives the server's replies. It reports
// the rate sustained, the webhook answer time, the time from webhook to reply, and whether
// every message got exactly its one reply.
//
// The server must run the load campaign (testdata/echo.yaml: one reply per text, no delay)
// with its WhatsApp channel pointed at the fake Graph API:
//
//	WHATSAPP_API_URL=http://127.0.0.1:9099/v23.0 WHATSAPP_ACCESS_TOKEN=loadgen \
//	WHATSAPP_APP_SECRET=loadgen WHATSAPP_VERIFY_TOKEN=loadgen WHATSAPP_PHONE_NUMBER_ID=100000000000000 \
//	campaign serve --data "$(mktemp -d)" --campaigns loadgen/testdata/echo.yaml
//
// Everything is on loopback; a run is bounded by its message count and drain timeout.
package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for Config fields left zero.
const (
	DefaultGraphAddr   = "127.0.0.1:9099"
	DefaultToken       = "loadgen"
	DefaultSecret      = "loadgen"
	DefaultNumber      = "100000000000000"
	DefaultConcurrency = 512
	DefaultDrain       = 30 * time.Second
	// firstAddress is the first participant's WhatsApp id; participant i is firstAddress+i.
	firstAddress = 31600000000
)

// Config describes one load run.
type Config struct {
	// Server is the base URL of `campaign serve` (loopback only).
	Server string
	// Secret is the server's WHATSAPP_APP_SECRET, which signs the webhooks.
	Secret string
	// Number is the business phone_number_id the webhooks are addressed to.
	Number string
	// Rate is the webhooks per second to send in the measured phase (<= 0: as fast as
	// Concurrency allows).
	Rate float64
	// Messages is how many webhooks the measured phase sends; when 0, Rate × Duration.
	Messages int
	Duration time.Duration
	// Participants is how many distinct senders the measured messages are spread over, round
	// robin; they are the first Participants of the prefilled ones.
	Participants int
	// Prefill is how many participants to create before measuring: each sends one message at
	// full speed and the run waits for all their greetings.
	Prefill int
	// Concurrency bounds the webhooks in flight.
	Concurrency int
	// Drain is how long to wait for missing replies after the last reply arrived.
	Drain time.Duration
	// Graph receives the replies; Run starts one on GraphAddr with Token when nil.
	Graph     *Graph
	GraphAddr string
	Token     string
	// Progress gets one line a second while the run goes on; nil means none.
	Progress io.Writer
	Clock    Clock
	// RunID makes the message ids unique across runs against one server (a repeated id
	// would be a duplicate and get no reply); zero means the start time.
	RunID int64
}

// Report is the outcome of a run.
type Report struct {
	Prefilled    int
	PrefillTime  time.Duration
	Participants int
	Target       float64
	// Sent counts webhooks sent in the measured phase, Accepted those answered 200.
	Sent, Accepted, Failed int
	// SendTime is how long the measured phase took to send; Elapsed runs until the last reply.
	SendTime, Elapsed time.Duration
	// SendRate is Accepted / SendTime; Sustained is replies received / Elapsed: messages/s
	// through the whole path.
	SendRate, Sustained float64
	Webhook, EndToEnd   Latency
	// Late counts webhooks that started more than 10 ms after their due time: the tool (or a
	// server holding every connection) could not keep the rate.
	Late int
	// Replies is how many replies arrived; Missing and Extra count, per participant, replies
	// short of or beyond one per accepted message.
	Replies, Missing, Extra int
	// Unexpected are replies to addresses no message came from.
	Unexpected int
	Errors     []string
}

// OK reports whether every accepted message got exactly its one reply and every webhook was
// accepted.
func (r *Report) OK() bool {
	return r.Failed == 0 && r.Missing == 0 && r.Extra == 0 && r.Unexpected == 0 && r.Accepted == r.Sent
}

// Write prints the report.
func (r *Report) Write(w io.Writer) {
	fmt.Fprintf(w, "\nprefilled:    %s in %s\n", count(r.Prefilled, "participant", "participants"), r.PrefillTime.Round(time.Millisecond))
	fmt.Fprintf(w, "measured:     %s over %s, target %s/s\n", count(r.Sent, "webhook", "webhooks"), count(r.Participants, "participant", "participants"), rateString(r.Target))
	fmt.Fprintf(w, "sent:         %d accepted, %d failed in %s = %.0f webhooks/s (%d started >10ms late)\n",
		r.Accepted, r.Failed, r.SendTime.Round(time.Millisecond), r.SendRate, r.Late)
	fmt.Fprintf(w, "sustained:    %.0f messages/s through the whole path (%s in %s)\n",
		r.Sustained, count(r.Replies, "reply", "replies"), r.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "webhook:      %s\n", r.Webhook)
	fmt.Fprintf(w, "end to end:   %s\n", r.EndToEnd)
	verdict := "OK: every message got exactly one reply"
	if !r.OK() {
		verdict = fmt.Sprintf("FAILED: %d missing, %d extra, %d to unknown recipients, %d webhooks refused",
			r.Missing, r.Extra, r.Unexpected, r.Failed)
	}
	fmt.Fprintf(w, "exactly once: %s\n", verdict)
	for _, e := range r.Errors {
		fmt.Fprintf(w, "  error: %s\n", e)
	}
}

func rateString(r float64) string {
	if r <= 0 {
		return "max"
	}
	return strconv.FormatFloat(r, 'f', -1, 64)
}

// Address is participant i's WhatsApp id.
func Address(i int) string { return strconv.Itoa(firstAddress + i) }

// Loopback reports whether host ("localhost" or an IP address) is this machine's loopback: the
// load tool, its fake Graph API and the server's profiler listen or send nowhere else.
func Loopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

func (cfg *Config) check() error {
	u, err := url.Parse(cfg.Server)
	if err != nil || u.Host == "" {
		return fmt.Errorf("loadgen: server %q: want a URL such as http://127.0.0.1:8080", cfg.Server)
	}
	if !Loopback(u.Hostname()) {
		return fmt.Errorf("loadgen: server %q: the load tool only talks to loopback", cfg.Server)
	}
	if cfg.Messages == 0 {
		if cfg.Rate <= 0 || cfg.Duration <= 0 {
			return errors.New("loadgen: give --messages, or --rate and --duration")
		}
		cfg.Messages = int(cfg.Rate * cfg.Duration.Seconds())
	}
	if cfg.Messages < 0 || cfg.Participants < 0 || cfg.Prefill < 0 {
		return errors.New("loadgen: counts must not be negative")
	}
	if cfg.Participants == 0 {
		cfg.Participants = max(1, min(cfg.Messages, max(cfg.Prefill, 1000)))
	}
	if cfg.Secret == "" {
		cfg.Secret = DefaultSecret
	}
	if cfg.Number == "" {
		cfg.Number = DefaultNumber
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.Drain <= 0 {
		cfg.Drain = DefaultDrain
	}
	if cfg.GraphAddr == "" {
		cfg.GraphAddr = DefaultGraphAddr
	}
	if cfg.Token == "" {
		cfg.Token = DefaultToken
	}
	if cfg.Clock == nil {
		cfg.Clock = wallClock{}
	}
	if cfg.RunID == 0 {
		cfg.RunID = time.Now().UnixNano()
	}
	return nil
}

// Run sends the prefill and the measured load and reports. It returns an error only when the
// run could not take place (bad configuration, the Graph API could not start); what went
// wrong during the run is in the Report.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	g := cfg.Graph
	if g == nil {
		var err error
		if g, err = StartGraph(cfg.GraphAddr, cfg.Token); err != nil {
			return nil, err
		}
		defer g.Close()
	}
	client := &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns: cfg.Concurrency, MaxIdleConnsPerHost: cfg.Concurrency,
			MaxConnsPerHost: cfg.Concurrency, IdleConnTimeout: time.Minute,
		},
	}
	defer client.CloseIdleConnections()
	l := &loader{cfg: cfg, client: client, url: cfg.Server + "/webhooks/whatsapp", graph: g}
	rep := &Report{Participants: cfg.Participants, Target: cfg.Rate}

	if cfg.Prefill > 0 {
		start := time.Now()
		ph := newPhase("prefill", cfg.Prefill, cfg.Prefill, 0)
		stop := l.progress(ph)
		l.run(ctx, ph, 0)
		missing := g.WaitEach(ctx, ph.want(), cfg.Drain)
		stop()
		rep.Prefilled, rep.PrefillTime = ph.accepted(), time.Since(start)
		if ph.failed.Load() > 0 || missing > 0 || g.Replies() != ph.accepted() {
			rep.Errors = append(rep.Errors, fmt.Sprintf("prefill: %d webhooks refused, %d of %d greetings missing, %d replies in all",
				ph.failed.Load(), missing, ph.accepted(), g.Replies()))
		}
		g.Take()
	}

	ph := newPhase("load", cfg.Messages, cfg.Participants, cfg.Prefill)
	stop := l.progress(ph)
	l.run(ctx, ph, cfg.Rate)
	rep.Sent, rep.Accepted, rep.Failed = ph.sent(), ph.accepted(), int(ph.failed.Load())
	rep.SendTime = ph.end.Sub(ph.start)
	if rep.SendTime > 0 {
		rep.SendRate = float64(rep.Accepted) / rep.SendTime.Seconds()
	}
	g.WaitEach(ctx, ph.want(), cfg.Drain)
	stop()
	replies := g.Take()
	ph.check(rep, replies)
	rep.Errors = append(rep.Errors, ph.errors()...)
	if r := g.Rejected(); r > 0 {
		rep.Errors = append(rep.Errors, fmt.Sprintf("the fake Graph API refused %d requests (token or body)", r))
	}
	return rep, nil
}

// loader sends webhooks.
type loader struct {
	cfg    Config
	client *http.Client
	url    string
	graph  *Graph
}

// phase is one stream of messages: message i comes from participant i % participants.
type phase struct {
	name         string
	participants int
	seq          int
	// sentAt[i] is when message i was sent, answer[i] how long its webhook took; ok[i] says
	// it was answered 200. Each index is written by one worker only.
	sentAt     []time.Time
	answer     []time.Duration
	ok         []bool
	late       atomic.Int64
	failed     atomic.Int64
	started    atomic.Int64
	start, end time.Time

	errMu sync.Mutex
	errs  map[string]int
}

func (p *phase) sent() int { return int(p.started.Load()) }

func (p *phase) accepted() int { return p.sent() - int(p.failed.Load()) }

func (p *phase) fail(msg string) {
	p.failed.Add(1)
	p.errMu.Lock()
	if p.errs == nil {
		p.errs = map[string]int{}
	}
	p.errs[msg]++
	p.errMu.Unlock()
}

func (p *phase) errors() []string {
	p.errMu.Lock()
	defer p.errMu.Unlock()
	var out []string
	for msg, n := range p.errs {
		out = append(out, fmt.Sprintf("%s: %d× %s", p.name, n, msg))
	}
	return out
}

// want is how many replies each participant is owed: one for every accepted message.
func (p *phase) want() map[string]int {
	w := make(map[string]int, min(p.participants, len(p.ok)))
	for i, ok := range p.ok {
		if ok {
			w[Address(i%p.participants)]++
		}
	}
	return w
}

func newPhase(name string, n, participants, seq int) *phase {
	return &phase{name: name, participants: participants, seq: seq,
		sentAt: make([]time.Time, n), answer: make([]time.Duration, n), ok: make([]bool, n)}
}

// run sends the phase's messages at rate, Concurrency at a time, and returns when every
// webhook was answered.
func (l *loader) run(ctx context.Context, p *phase, rate float64) {
	jobs := make(chan job, l.cfg.Concurrency)
	var wg sync.WaitGroup
	for range l.cfg.Concurrency {
		wg.Go(func() {
			var buf []byte
			for j := range jobs {
				buf = l.send(ctx, p, j, buf)
			}
		})
	}
	p.start = time.Now()
	Pace(ctx, l.cfg.Clock, rate, len(p.ok), func(i int, due time.Time) { jobs <- job{i: i, due: due} })
	close(jobs)
	wg.Wait()
	p.end = time.Now()
}

type job struct {
	i   int
	due time.Time
}

func (l *loader) send(ctx context.Context, p *phase, j job, buf []byte) []byte {
	from := Address(j.i % p.participants)
	wamid := "wamid.loadgen." + strconv.FormatInt(l.cfg.RunID, 36) + "." + strconv.Itoa(p.seq+j.i)
	if p.name == "prefill" {
		wamid = "wamid.loadgen." + strconv.FormatInt(l.cfg.RunID, 36) + ".p" + strconv.Itoa(j.i)
	}
	buf = TextWebhook(buf[:0], l.cfg.Number, from, wamid, "hello "+strconv.Itoa(j.i), time.Now().Unix())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.url, bytes.NewReader(buf))
	if err != nil {
		p.started.Add(1)
		p.fail(err.Error())
		return buf
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignatureHeader, Sign(l.cfg.Secret, buf))
	start := time.Now()
	if start.Sub(j.due) > 10*time.Millisecond {
		p.late.Add(1)
	}
	p.sentAt[j.i] = start
	p.started.Add(1)
	resp, err := l.client.Do(req)
	if err != nil {
		p.fail(trimURL(err))
		return buf
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	p.answer[j.i] = time.Since(start)
	if resp.StatusCode != http.StatusOK {
		p.fail("HTTP " + strconv.Itoa(resp.StatusCode))
		return buf
	}
	p.ok[j.i] = true
	return buf
}

// trimURL keeps an error message from repeating the URL for every failed request.
func trimURL(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// progress prints a line about p every second until the returned stop is called.
func (l *loader) progress(p *phase) (stop func()) {
	if l.cfg.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		var lastSent, lastReplies int
		begin := time.Now()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			sent, replies := p.sent(), l.graph.Replies()
			fmt.Fprintf(l.cfg.Progress, "%-7s %4ds  sent %8d (%6d/s)  refused %d  replies %8d (%6d/s)\n",
				p.name, int(time.Since(begin).Seconds()), sent, sent-lastSent, p.failed.Load(), replies, replies-lastReplies)
			lastSent, lastReplies = sent, replies
		}
	})
	return func() { close(done); wg.Wait() }
}

// check correlates replies with messages: participant k's accepted messages, in the order
// they were sent, match the replies to k in the order they arrived.
func (p *phase) check(rep *Report, replies map[string][]time.Time) {
	var webhook, e2e []time.Duration
	var last time.Time
	for i, ok := range p.ok {
		if ok {
			webhook = append(webhook, p.answer[i])
		}
	}
	for k := 0; k < min(p.participants, len(p.ok)); k++ {
		got := replies[Address(k)]
		r := 0
		for i := k; i < len(p.ok); i += p.participants {
			if !p.ok[i] {
				continue
			}
			if r >= len(got) {
				rep.Missing++
				continue
			}
			e2e = append(e2e, got[r].Sub(p.sentAt[i]))
			if got[r].After(last) {
				last = got[r]
			}
			r++
		}
		rep.Extra += max(0, len(got)-r)
	}
	for _, times := range replies {
		rep.Replies += len(times)
	}
	// Replies to addresses outside the measured participants.
	inPhase := 0
	for k := 0; k < min(p.participants, len(p.ok)); k++ {
		inPhase += len(replies[Address(k)])
	}
	rep.Unexpected = rep.Replies - inPhase
	rep.Late = int(p.late.Load())
	rep.Webhook, rep.EndToEnd = Summarize(webhook), Summarize(e2e)
	if !last.IsZero() {
		rep.Elapsed = last.Sub(p.start)
		rep.Sustained = float64(len(e2e)) / rep.Elapsed.Seconds()
	}
}
