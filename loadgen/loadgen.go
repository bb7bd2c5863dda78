// Package loadgen owns `campaign loadgen`, the load tool behind docs/performance.md: it plays
// many WhatsApp participants against a running `campaign serve`, sending signed text webhooks,
// while a fake Graph API on loopback receives the server's replies. Open loop, it sends at a
// fixed rate whatever the server does; closed loop, each of N senders waits for the reply to
// its message before sending the next, as people answering a bot do. It reports webhooks
// accepted and replies received per second during the load, the webhook answer time, the time
// from webhook to reply, the CPU a message cost the server (read on its /metrics) and the
// tool, a line per second (accepted, replied, backlog), what was left after the load, and
// whether every message got exactly its one reply. With resends it behaves like
// the platform during a crash: every webhook is sent again, same message id, until it is
// answered 200, and replies are counted past every lease before judging (Judge).
//
// The server must run the load campaign (testdata/echo.yaml: one reply per text, no delay)
// with its WhatsApp channel pointed at the fake Graph API:
//
//	WHATSAPP_API_URL=http://127.0.0.1:9099/v23.0 WHATSAPP_ACCESS_TOKEN=loadgen \
//	WHATSAPP_APP_SECRET=loadgen WHATSAPP_VERIFY_TOKEN=loadgen WHATSAPP_PHONE_NUMBER_ID=100000000000000 \
//	campaign serve --data "$(mktemp -d)" --campaigns loadgen/testdata/echo.yaml
//
// Everything is on loopback; a run is bounded by its message count or duration and its drain
// timeout.
package loadgen

import (
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
	DefaultGraphAddr    = "127.0.0.1:9099"
	DefaultToken        = "loadgen"
	DefaultSecret       = "loadgen"
	DefaultNumber       = "100000000000000"
	DefaultConcurrency  = 512
	DefaultDrain        = 30 * time.Second
	DefaultAfter        = 10 * time.Second
	DefaultReplyTimeout = 30 * time.Second
	DefaultLeaseWait    = 30 * time.Second
	DefaultBackoff      = 100 * time.Millisecond
	DefaultResendFor    = 2 * time.Minute
	// maxBackoff caps the wait between resends: a restarted server is found within it.
	maxBackoff = 2 * time.Second
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
	// Senders > 0 makes the run closed loop: that many participants at once, each sending a
	// message and waiting for its reply (at most ReplyTimeout) before the next, for Duration
	// (or until Messages were sent). Rate is then ignored.
	Senders int
	// Rate is the webhooks per second to send in the open-loop measured phase (<= 0: as fast
	// as Concurrency allows).
	Rate float64
	// Messages is how many webhooks the measured phase sends; open loop, when 0, Rate ×
	// Duration; closed loop, 0 means no bound but Duration.
	Messages int
	Duration time.Duration
	// Participants is how many distinct senders the measured messages are spread over, round
	// robin; they are the first Participants of the prefilled ones. Closed loop, sender s
	// takes participants s, s+Senders, s+2×Senders… in turn (default: max(Senders, Prefill)).
	Participants int
	// Prefill is how many participants to create before measuring: each sends one message at
	// full speed and the run waits for all their greetings.
	Prefill int
	// Concurrency bounds the webhooks in flight (open loop).
	Concurrency int
	// Drain is how long to wait for missing replies after the last reply arrived.
	Drain time.Duration
	// After is when, past the end of the load, the messages still unanswered are counted.
	After time.Duration
	// ReplyTimeout is how long a closed-loop sender waits for its reply before sending on.
	ReplyTimeout time.Duration
	// Resend makes the tool behave like the platform during a crash: a webhook not answered
	// 200 is sent again, same message id, after Backoff (doubling up to 2 s), for up to
	// ResendFor. Every message then comes from a participant of its own (beyond the
	// prefilled ones), so each reply names its message, and after the drain the run listens
	// LeaseWait more (a reply resent when a send lease expires comes then) before judging.
	Resend    bool
	Backoff   time.Duration
	ResendFor time.Duration
	LeaseWait time.Duration
	// Graph receives the replies; Run starts one on GraphAddr with Token when nil.
	Graph     *Graph
	GraphAddr string
	Token     string
	// OnAccepted, when set, is called each time a measured webhook is answered 200, with how
	// many have been so far, from the goroutine that sent it; it must return quickly. A kill
	// test uses it to kill the server after a given number instead of after a sleep.
	OnAccepted func(accepted int)
	// Progress gets one line a second while the run goes on; nil means none.
	Progress io.Writer
	// Clock paces the open loop, ends the closed loop's Duration and spaces resends. The
	// times measured are the wall clock's.
	Clock Clock
	// RunID makes the message ids unique across runs against one server (a repeated id
	// would be a duplicate and get no reply); zero means the start time.
	RunID int64
}

// Report is the outcome of a run.
type Report struct {
	Prefilled   int
	PrefillTime time.Duration
	// PrefillResends counts the prefill's webhooks sent again after a 503 (back-pressure).
	PrefillResends int
	Participants   int
	// Senders is the closed loop's senders (0: open loop), Target the open loop's rate.
	Senders int
	Target  float64
	// Sent counts messages sent in the measured phase, Accepted those answered 200,
	// Failed those never answered 200 (after every resend). Refused counts those of Failed
	// last answered 503: the server's back-pressure refused them, and a platform would have
	// sent them again (Resend does). Resends counts requests beyond each message's first.
	Sent, Accepted, Failed, Refused, Resends int
	// SendTime is how long the measured phase sent; SendRate is Accepted / SendTime.
	SendTime time.Duration
	SendRate float64
	// Late counts open-loop webhooks that started more than 10 ms after their due time: the
	// tool (or a server holding every connection) could not keep the rate.
	Late int
	// TimedOut counts closed-loop messages whose sender gave up waiting for the reply.
	TimedOut int
	// Replies is how many replies arrived to the measured participants and others.
	Replies int
	// LeaseWait is how long the run listened past the drain before judging (resends only).
	LeaseWait time.Duration
	// CPU is the server's and the tool's CPU over the measured phase and its drain.
	CPU CPU
	Analysis
	// Messages are the measured phase's records, for callers judging them their own way.
	Messages []Message
	Errors   []string
}

// OK reports whether every accepted message got exactly its one reply and every webhook was
// accepted or refused by the server's back-pressure (503): a refusal is the server keeping
// its backlog bounded, which the rates show, not a message lost. A run in which the server
// took nothing is not OK.
func (r *Report) OK() bool {
	return r.Failed == r.Refused && r.Verdict.OK() && r.Accepted+r.Failed == r.Sent &&
		(r.Accepted > 0 || r.Sent == 0)
}

// Write prints the report.
func (r *Report) Write(w io.Writer) {
	fmt.Fprintf(w, "\nprefilled:    %s in %s", count(r.Prefilled, "participant", "participants"), r.PrefillTime.Round(time.Millisecond))
	if r.PrefillResends > 0 {
		fmt.Fprintf(w, " (%s again after a 503: the server's back-pressure)", count(r.PrefillResends, "webhook sent", "webhooks sent"))
	}
	fmt.Fprintln(w)
	if r.Senders > 0 {
		fmt.Fprintf(w, "measured:     closed loop, %s over %s, %s sent\n", count(r.Senders, "sender", "senders"),
			count(r.Participants, "participant", "participants"), count(r.Sent, "webhook", "webhooks"))
	} else {
		fmt.Fprintf(w, "measured:     open loop, %s over %s, target %s/s\n", count(r.Sent, "webhook", "webhooks"),
			count(r.Participants, "participant", "participants"), rateString(r.Target))
	}
	note := fmt.Sprintf("%d started >10ms late", r.Late)
	if r.Senders > 0 {
		note = fmt.Sprintf("%s waited for in vain", count(r.TimedOut, "reply", "replies"))
	}
	failed := fmt.Sprintf("%d failed", r.Failed)
	if r.Refused > 0 {
		failed = fmt.Sprintf("%d refused with 503 (back-pressure), %d failed otherwise", r.Refused, r.Failed-r.Refused)
	}
	fmt.Fprintf(w, "sent:         %d accepted, %s, %d resent in %s = %.0f webhooks/s (%s)\n",
		r.Accepted, failed, r.Resends, r.SendTime.Round(time.Millisecond), r.SendRate, note)
	fmt.Fprintf(w, "during load:  %s: %.0f webhooks/s accepted, %.0f replies/s\n",
		r.Window.Round(time.Millisecond), r.AcceptRate, r.ReplyRate)
	fmt.Fprintf(w, "sustained:    %.0f messages/s through the whole path (%s in %s)\n",
		r.Sustained, count(r.Answered, "reply", "replies"), r.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "webhook:      %s\n", r.Webhook)
	fmt.Fprintf(w, "end to end:   %s\n", r.EndToEnd)
	fmt.Fprintf(w, "cpu:          %s\n", r.CPU)
	after := fmt.Sprintf("%d unanswered at the end of the load", r.BacklogAtEnd)
	switch {
	case r.BacklogAtEnd == 0 && r.Drained:
		after = "nothing left"
	case r.Drained:
		after += fmt.Sprintf(", drained in %s (%.0f replies/s)", r.Drain.Round(time.Millisecond), r.DrainRate)
	default:
		after += ", not drained"
	}
	after += fmt.Sprintf("; %d unanswered %s after", r.Unanswered, r.After)
	fmt.Fprintf(w, "after load:   %s\n", after)
	fmt.Fprintf(w, "per second:   %5s %9s %9s %9s %12s\n", "t", "accepted", "replied", "backlog", "e2e p99")
	for _, s := range r.Seconds {
		mark := ""
		if s.After {
			mark = "  (after)"
		}
		fmt.Fprintf(w, "              %5d %9d %9d %9d %12s%s\n", s.T, s.Accepted, s.Replied, s.Backlog, ms(s.P99), mark)
	}
	if r.LeaseWait > 0 {
		fmt.Fprintf(w, "lease wait:   listened %s more before judging\n", r.LeaseWait)
	}
	verdict := "OK: every message got exactly one reply"
	switch {
	case r.Accepted == 0 && r.Sent > 0:
		verdict = fmt.Sprintf("FAILED: the server took none of the %s (%d refused with 503, %d failed otherwise)",
			count(r.Sent, "webhook", "webhooks"), r.Refused, r.Failed-r.Refused)
	case !r.OK():
		verdict = fmt.Sprintf("FAILED: %d lost, %d duplicate replies (%s), %d to unknown recipients, %d webhooks failed",
			len(r.Lost), r.DuplicateReplies, count(len(r.Duplicates), "message", "messages"), r.Unexpected, r.Failed-r.Refused)
		if r.Refused > 0 {
			verdict += fmt.Sprintf(" (and %d refused with 503)", r.Refused)
		}
	case r.Refused > 0:
		verdict = fmt.Sprintf("OK: every accepted message got exactly one reply; %s refused with 503 "+
			"(the server's back-pressure) and not sent again: --resend sends them again, as the platform does",
			count(r.Refused, "webhook was", "webhooks were"))
	}
	fmt.Fprintf(w, "exactly once: %s\n", verdict)
	if len(r.Lost) > 0 {
		fmt.Fprintf(w, "  lost:       %s\n", ids(r.Lost))
	}
	if len(r.Duplicates) > 0 {
		fmt.Fprintf(w, "  duplicated: %s\n", ids(r.Duplicates))
	}
	for _, e := range r.Errors {
		fmt.Fprintf(w, "  error: %s\n", e)
	}
}

// ids lists message ids, the first twenty of them.
func ids(list []string) string {
	const most = 20
	s := ""
	for i, id := range list {
		if i == most {
			return s + fmt.Sprintf(" … and %d more", len(list)-most)
		}
		if i > 0 {
			s += " "
		}
		s += id
	}
	return s
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
	if cfg.Senders < 0 || cfg.Messages < 0 || cfg.Participants < 0 || cfg.Prefill < 0 {
		return errors.New("loadgen: counts must not be negative")
	}
	if cfg.Senders > 0 {
		if cfg.Messages == 0 && cfg.Duration <= 0 {
			return errors.New("loadgen: closed loop (--senders): give --duration or --messages")
		}
		if cfg.Participants == 0 {
			cfg.Participants = max(cfg.Senders, cfg.Prefill)
		}
		if cfg.Participants < cfg.Senders {
			return fmt.Errorf("loadgen: %d senders need at least as many participants, not %d", cfg.Senders, cfg.Participants)
		}
	} else {
		if cfg.Messages == 0 {
			if cfg.Rate <= 0 || cfg.Duration <= 0 {
				return errors.New("loadgen: give --messages, or --rate and --duration, or --senders")
			}
			cfg.Messages = int(cfg.Rate * cfg.Duration.Seconds())
		}
		if cfg.Participants == 0 {
			cfg.Participants = max(1, min(cfg.Messages, max(cfg.Prefill, 1000)))
		}
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
	if cfg.Senders > 0 {
		// Every sender has one webhook in flight at most; the pool must not queue them.
		cfg.Concurrency = max(cfg.Concurrency, cfg.Senders)
	}
	if cfg.Drain <= 0 {
		cfg.Drain = DefaultDrain
	}
	if cfg.After <= 0 {
		cfg.After = DefaultAfter
	}
	if cfg.ReplyTimeout <= 0 {
		cfg.ReplyTimeout = DefaultReplyTimeout
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.ResendFor <= 0 {
		cfg.ResendFor = DefaultResendFor
	}
	if cfg.LeaseWait < 0 {
		return errors.New("loadgen: the lease wait must not be negative")
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
	client, err := newWebhookClient(ctx, cfg.Server+"/webhooks/whatsapp", cfg.Concurrency)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	l := &loader{cfg: cfg, client: client, graph: g}
	rep := &Report{Participants: cfg.Participants, Senders: cfg.Senders, Target: cfg.Rate}
	if cfg.Senders > 0 {
		rep.Target = 0
	}

	if cfg.Prefill > 0 {
		start := time.Now()
		ph := newPhase("prefill", cfg.Prefill)
		ph.resendBusy = true
		stop := l.progress(ph)
		l.open(ctx, ph, 0, func(i int) (string, string) { return Address(i), l.id("p" + strconv.Itoa(i)) })
		missing := g.WaitEach(ctx, want(ph.msgs), cfg.Drain)
		stop()
		rep.Prefilled, rep.PrefillTime, rep.PrefillResends = ph.accepted(), time.Since(start), int(ph.resends.Load())
		if ph.failed.Load() > 0 || missing > 0 || g.Replies() != ph.accepted() {
			rep.Errors = append(rep.Errors, fmt.Sprintf("prefill: %d webhooks refused, %d of %d greetings missing, %d replies in all",
				ph.failed.Load(), missing, ph.accepted(), g.Replies()))
		}
		rep.Errors = append(rep.Errors, ph.errors()...)
		g.Take()
	}

	cpu := startCPU(ctx, cfg.Server)
	ph := newPhase("load", cfg.Messages)
	if cfg.Senders > 0 {
		ph = newPhase("load", 0)
	}
	ph.onAccepted = cfg.OnAccepted
	stop := l.progress(ph)
	if cfg.Senders > 0 {
		l.closed(ctx, ph)
	} else {
		l.open(ctx, ph, cfg.Rate, func(i int) (string, string) {
			if cfg.Resend {
				return l.fresh(i), l.id(strconv.Itoa(i))
			}
			return Address(i % cfg.Participants), l.id(strconv.Itoa(i))
		})
	}
	rep.Sent, rep.Accepted, rep.Failed, rep.Refused = ph.sent(), ph.accepted(), int(ph.failed.Load()), int(ph.refused.Load())
	rep.Resends, rep.Late, rep.TimedOut = int(ph.resends.Load()), int(ph.late.Load()), int(ph.timedOut.Load())
	rep.SendTime = ph.end.Sub(ph.start)
	if rep.SendTime > 0 {
		rep.SendRate = float64(rep.Accepted) / rep.SendTime.Seconds()
	}
	g.WaitEach(ctx, want(ph.msgs), cfg.Drain)
	// Up to the last reply, not past the lease wait: the CPU of every message answered, and
	// not that of a server idling while the tool listens on.
	rep.CPU = cpu.stop(ctx)
	if cfg.Resend && cfg.LeaseWait > 0 {
		// A reply the dead process had claimed goes again only when its lease expires: judge
		// after that, or a duplicate would go unseen.
		_ = cfg.Clock.Sleep(ctx, cfg.LeaseWait)
		rep.LeaseWait = cfg.LeaseWait
	}
	stop()
	replies := g.Take()
	for _, rs := range replies {
		rep.Replies += len(rs)
	}
	rep.Messages = ph.msgs
	// With resends every message has a participant of its own: say how many there were.
	to := map[string]bool{}
	for _, m := range ph.msgs {
		if m.Attempts > 0 {
			to[m.To] = true
		}
	}
	rep.Participants = len(to)
	rep.Analysis = Analyze(ph.msgs, replies, ph.start, ph.end, cfg.After)
	rep.CPU.Messages = rep.Answered
	rep.Errors = append(rep.Errors, ph.errors()...)
	if r := g.Rejected(); r > 0 {
		rep.Errors = append(rep.Errors, fmt.Sprintf("the fake Graph API refused %d requests (token or body)", r))
	}
	return rep, nil
}

// loader sends webhooks.
type loader struct {
	cfg    Config
	client *webhookClient
	graph  *Graph
}

// worker is what one sender reuses for each of its webhooks: the body's buffer, the keyed
// HMAC and the request.
type worker struct {
	buf    []byte
	signer *signer
	poster *poster
}

func (l *loader) worker() *worker {
	return &worker{signer: newSigner(l.cfg.Secret), poster: l.client.poster()}
}

// id is the message id of the run's message named n.
func (l *loader) id(n string) string {
	return "wamid.loadgen." + strconv.FormatInt(l.cfg.RunID, 36) + "." + n
}

// fresh is the address of the i-th message when each message has a participant of its own
// (resends): beyond every prefilled or round-robin participant.
func (l *loader) fresh(i int) string {
	return Address(max(l.cfg.Prefill, l.cfg.Participants) + i)
}

// phase is one stream of messages.
type phase struct {
	name string
	// msgs are the phase's records: open loop, index i is written by the worker sending
	// message i only; closed loop, the senders append theirs when they stop.
	msgs       []Message
	late       atomic.Int64
	failed     atomic.Int64
	refused    atomic.Int64 // of failed, those last answered 503
	started    atomic.Int64
	resends    atomic.Int64
	timedOut   atomic.Int64
	ok         atomic.Int64
	onAccepted func(int)
	// resendBusy sends a webhook answered 503 again, with the Resend backoff, even without
	// Resend: the prefill's, which back-pressure may refuse while the flood lasts, so that a
	// prefill of N stores N participants, as the platform's own redelivery would.
	resendBusy bool
	start, end time.Time

	mu   sync.Mutex
	errs map[string]int
}

func (p *phase) sent() int { return int(p.started.Load()) }

func (p *phase) accepted() int { return p.sent() - int(p.failed.Load()) }

func (p *phase) fail(msg string) {
	p.errMsg(msg)
	p.failed.Add(1)
}

func (p *phase) errMsg(msg string) {
	p.mu.Lock()
	if p.errs == nil {
		p.errs = map[string]int{}
	}
	p.errs[msg]++
	p.mu.Unlock()
}

func (p *phase) errors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for msg, n := range p.errs {
		out = append(out, fmt.Sprintf("%s: %d× %s", p.name, n, msg))
	}
	return out
}

// want is how many replies each participant is owed: one for every accepted message.
func want(msgs []Message) map[string]int {
	w := map[string]int{}
	for _, m := range msgs {
		if m.OK {
			w[m.To]++
		}
	}
	return w
}

func newPhase(name string, n int) *phase {
	return &phase{name: name, msgs: make([]Message, n)}
}

// open sends the phase's messages at rate, Concurrency at a time, message i to and with the
// id addr(i) gives, and returns when every webhook was answered.
func (l *loader) open(ctx context.Context, p *phase, rate float64, addr func(i int) (to, id string)) {
	jobs := make(chan job, l.cfg.Concurrency)
	var wg sync.WaitGroup
	for range l.cfg.Concurrency {
		wg.Go(func() {
			w := l.worker()
			for j := range jobs {
				to, id := addr(j.i)
				if rate > 0 && l.cfg.Clock.Now().Sub(j.due) > 10*time.Millisecond {
					p.late.Add(1)
				}
				p.msgs[j.i] = l.send(ctx, p, w, to, id, j.i)
			}
		})
	}
	p.start = time.Now()
	Pace(ctx, l.cfg.Clock, rate, len(p.msgs), func(i int, due time.Time) { jobs <- job{i: i, due: due} })
	close(jobs)
	wg.Wait()
	p.end = time.Now()
}

type job struct {
	i   int
	due time.Time
}

// closed runs Senders senders, each sending a message and waiting for its reply before the
// next, until Duration has passed on the clock or Messages were sent.
func (l *loader) closed(ctx context.Context, p *phase) {
	n, parts := l.cfg.Senders, l.cfg.Participants
	var stopped atomic.Bool
	var seq atomic.Int64
	sleepCtx, cancelSleep := context.WithCancel(ctx)
	defer cancelSleep()
	p.start = time.Now()
	var endOnce sync.Once
	end := func() { endOnce.Do(func() { p.end = time.Now() }) }
	if l.cfg.Duration > 0 {
		go func() {
			if l.cfg.Clock.Sleep(sleepCtx, l.cfg.Duration) == nil {
				end()
				stopped.Store(true)
			}
		}()
	}
	var wg sync.WaitGroup
	for s := range n {
		wg.Go(func() {
			var own []Message
			owed := map[string]int{}
			w := l.worker()
			// One timer per sender, not a context per message, bounds the wait for a reply.
			timeout := time.NewTimer(l.cfg.ReplyTimeout)
			defer timeout.Stop()
			for k := 0; !stopped.Load() && ctx.Err() == nil; k++ {
				i := int(seq.Add(1) - 1)
				if l.cfg.Messages > 0 && i >= l.cfg.Messages {
					break
				}
				// Sender s owns participants s, s+n, s+2n… below parts: no two senders
				// ever wait on one participant's replies.
				to := Address(s + (k%((parts-s+n-1)/n))*n)
				if l.cfg.Resend {
					to = l.fresh(i)
				}
				m := l.send(ctx, p, w, to, l.id(strconv.Itoa(i)), i)
				own = append(own, m)
				if !m.OK {
					// A refused message gets no reply to wait for; pausing keeps a sender
					// facing a dead server from sending thousands a second.
					if l.cfg.Clock.Sleep(ctx, l.cfg.Backoff) != nil {
						break
					}
					continue
				}
				owed[to]++
				// Since Go 1.23 Reset drops a tick not yet received.
				timeout.Reset(l.cfg.ReplyTimeout)
				if _, ok := l.graph.await(to, owed[to], ctx.Done(), timeout.C); !ok && ctx.Err() == nil {
					p.timedOut.Add(1)
				}
			}
			p.mu.Lock()
			p.msgs = append(p.msgs, own...)
			p.mu.Unlock()
		})
	}
	wg.Wait()
	end()
}

// send posts webhook number n (its text "hello n") with w (and, with Resend, again until it
// is answered 200) and returns its record. The run's context ending closes the connections:
// a request under way fails then, and is not sent again.
func (l *loader) send(ctx context.Context, p *phase, w *worker, to, id string, n int) Message {
	m := Message{ID: id, To: to}
	var text [32]byte
	w.buf = TextWebhook(w.buf[:0], l.cfg.Number, to, id, string(strconv.AppendInt(append(text[:0], "hello "...), int64(n), 10)), time.Now().Unix())
	sig := w.signer.sign(w.buf)
	p.started.Add(1)
	backoff := l.cfg.Backoff
	var giveUp time.Time
	for {
		start := time.Now()
		if m.Attempts == 0 {
			m.Sent = start
			giveUp = l.cfg.Clock.Now().Add(l.cfg.ResendFor)
		} else {
			p.resends.Add(1)
		}
		m.Attempts++
		status, err := w.poster.post(w.buf, sig)
		if err == nil && status == http.StatusOK {
			m.Accepted = time.Now()
			m.Webhook = m.Accepted.Sub(start)
			m.OK = true
			if n := p.ok.Add(1); p.onAccepted != nil {
				p.onAccepted(int(n))
			}
			return m
		}
		msg := "HTTP " + strconv.Itoa(status)
		if err != nil {
			msg = errorText(err)
		}
		busy := err == nil && status == http.StatusServiceUnavailable
		fail := func() {
			p.fail(msg)
			if busy {
				p.refused.Add(1)
			}
		}
		resend := l.cfg.Resend || p.resendBusy && busy
		if !resend || ctx.Err() != nil || !l.cfg.Clock.Now().Before(giveUp) {
			fail()
			return m
		}
		if l.cfg.Resend {
			// The prefill's resends after a refusal are expected (back-pressure), and counted
			// in its report line instead.
			p.errMsg("resent after " + msg)
		}
		if l.cfg.Clock.Sleep(ctx, backoff) != nil {
			fail()
			return m
		}
		backoff = min(2*backoff, maxBackoff)
	}
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
