package loadgen_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/channels/whatsapp"
	"github.com/chatcampaigns/campaign/loadgen"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func TestJudge(t *testing.T) {
	msg := func(id, to string) loadgen.Message {
		return loadgen.Message{ID: id, To: to, Sent: at(0), OK: true}
	}
	tests := []struct {
		name    string
		msgs    []loadgen.Message
		replies map[string][]time.Time
		want    loadgen.Verdict
	}{
		{"EachAnsweredOnce", []loadgen.Message{msg("a", "1"), msg("b", "2")},
			map[string][]time.Time{"1": {at(1)}, "2": {at(2)}},
			loadgen.Verdict{Messages: 2, Answered: 2}},
		{"OneLost", []loadgen.Message{msg("a", "1"), msg("b", "2")},
			map[string][]time.Time{"1": {at(1)}},
			loadgen.Verdict{Messages: 2, Answered: 1, Lost: []string{"b"}}},
		{"OneTwiceOneThrice", []loadgen.Message{msg("a", "1"), msg("b", "2"), msg("c", "3")},
			map[string][]time.Time{"1": {at(1), at(20)}, "2": {at(1)}, "3": {at(1), at(2), at(3)}},
			loadgen.Verdict{Messages: 3, Answered: 3, Duplicates: []string{"a", "c"}, DuplicateReplies: 3}},
		{"ReplyToAStranger", []loadgen.Message{msg("a", "1")},
			map[string][]time.Time{"1": {at(1)}, "9": {at(1)}},
			loadgen.Verdict{Messages: 1, Answered: 1, Unexpected: 1}},
		{"RefusedMessageOwedNothing", []loadgen.Message{msg("a", "1"), {ID: "b", To: "2", Sent: at(0)}},
			map[string][]time.Time{"1": {at(1)}},
			loadgen.Verdict{Messages: 1, Answered: 1}},
		// Replies carry no message id: the later messages of a participant are the lost ones.
		{"SeveralFromOneParticipant", []loadgen.Message{
			{ID: "b", To: "1", Sent: at(2), OK: true}, {ID: "a", To: "1", Sent: at(1), OK: true}, {ID: "c", To: "1", Sent: at(3), OK: true}},
			map[string][]time.Time{"1": {at(5)}},
			loadgen.Verdict{Messages: 3, Answered: 1, Lost: []string{"b", "c"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := loadgen.Judge(tt.msgs, tt.replies)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("Judge = %+v, want %+v", got, tt.want)
			}
			if got.OK() != (len(tt.want.Lost) == 0 && tt.want.DuplicateReplies == 0 && tt.want.Unexpected == 0) {
				t.Fatalf("OK() = %v for %+v", got.OK(), got)
			}
		})
	}
}

func TestAnalyze(t *testing.T) {
	ms := time.Millisecond
	m := func(id, to string, sent, acc time.Duration) loadgen.Message {
		return loadgen.Message{ID: id, To: to, Sent: at(sent), Accepted: at(acc), Webhook: acc - sent, Attempts: 1, OK: true}
	}
	// A 2-second window: four messages accepted in the first second, two in the second; the
	// replies lag, two of them come after the window and one never.
	msgs := []loadgen.Message{
		m("a", "1", 0, 10*ms), m("b", "2", 100*ms, 110*ms), m("c", "3", 200*ms, 220*ms), m("d", "4", 900*ms, 950*ms),
		m("e", "5", 1100*ms, 1200*ms), m("f", "6", 1500*ms, 1600*ms),
		{ID: "g", To: "7", Sent: at(1900 * ms), Attempts: 3}, // never accepted
	}
	replies := map[string][]time.Time{
		"1": {at(500 * ms)},
		"2": {at(1500 * ms)},
		// c's reply reached the Graph API before the tool read the 200.
		"3": {at(215 * ms)},
		"4": {at(2500 * ms)},
		"5": {at(13 * time.Second)},
	}
	a := loadgen.Analyze(msgs, replies, at(0), at(2*time.Second), 10*time.Second)
	if a.Window != 2*time.Second || a.AcceptedInWindow != 6 || a.RepliedInWindow != 3 ||
		a.AcceptRate != 3 || a.ReplyRate != 1.5 {
		t.Fatalf("window: %v, %d accepted, %d replied, %v/s, %v/s", a.Window, a.AcceptedInWindow, a.RepliedInWindow, a.AcceptRate, a.ReplyRate)
	}
	if a.BacklogAtEnd != 3 || a.Drained || a.Unanswered != 2 || len(a.Lost) != 1 || a.Lost[0] != "f" {
		t.Fatalf("after: backlog %d, drained %v, unanswered %d, lost %v", a.BacklogAtEnd, a.Drained, a.Unanswered, a.Lost)
	}
	type line struct {
		t, acc, rep, backlog int
		after                bool
	}
	var got []line
	for _, s := range a.Seconds {
		got = append(got, line{s.T, s.Accepted, s.Replied, s.Backlog, s.After})
	}
	want := []line{{1, 4, 2, 2, false}, {2, 2, 1, 3, false}, {3, 0, 1, 2, true}}
	for s := 4; s <= 14; s++ {
		l := line{s, 0, 0, 2, true}
		if s == 14 {
			l = line{s, 0, 1, 1, true}
		}
		want = append(want, l)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("per second:\n got %v\nwant %v", got, want)
	}
	if p := a.Seconds[0].P99; p != 500*ms {
		t.Fatalf("first second's p99 %v, want 500ms (a's reply)", p)
	}
	if a.EndToEnd.N != 5 || a.EndToEnd.P50 != 1400*ms || a.EndToEnd.Max != 11900*ms {
		t.Fatalf("end to end %+v", a.EndToEnd)
	}
	if a.Webhook.N != 6 || a.Webhook.P50 != 20*ms || a.Webhook.Max != 100*ms {
		t.Fatalf("webhook %+v", a.Webhook)
	}
}

func TestAnalyzeDrain(t *testing.T) {
	msgs := []loadgen.Message{
		{ID: "a", To: "1", Sent: at(0), Accepted: at(time.Millisecond), OK: true},
		{ID: "b", To: "2", Sent: at(0), Accepted: at(time.Millisecond), OK: true},
	}
	replies := map[string][]time.Time{"1": {at(500 * time.Millisecond)}, "2": {at(3 * time.Second)}}
	a := loadgen.Analyze(msgs, replies, at(0), at(time.Second), 0)
	if !a.Drained || a.BacklogAtEnd != 1 || a.Drain != 2*time.Second || a.DrainRate != 0.5 || a.Unanswered != 0 || a.After != 10*time.Second {
		t.Fatalf("drained %v, backlog %d, drain %v at %v/s, unanswered %d after %v", a.Drained, a.BacklogAtEnd, a.Drain, a.DrainRate, a.Unanswered, a.After)
	}
	// Second 4 holds [3 s, 4 s): the reply at 3 s.
	if last := a.Seconds[len(a.Seconds)-1]; last.T != 4 || last.Backlog != 0 || !last.After {
		t.Fatalf("last line %+v", last)
	}
	if a.Elapsed != 3*time.Second || a.Sustained != 2.0/3 {
		t.Fatalf("elapsed %v, sustained %v", a.Elapsed, a.Sustained)
	}
}

// syncClock is a fake clock several goroutines may sleep on: a sleep moves it on at once.
type syncClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *syncClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *syncClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

// target is a fake server: it parses each webhook and posts a reply to the participant on the
// Graph API, as campaign serve with the echo campaign does; refuse, lose and double let a
// test make it misbehave by message id.
type target struct {
	t     *testing.T
	graph *loadgen.Graph
	// async replies after answering the webhook, as the real server does.
	async bool
	// refuse answers 503 to the first refuse attempts of every message.
	refuse int
	// lose and double are message ids to give no reply and two replies.
	lose, double string
	// cpu, when set, answers GET /metrics with process_cpu_seconds_total at its value for
	// each read, as campaign serve's process collector does; without it /metrics is 404.
	cpu func(read int) float64

	cpuReads int

	mu sync.Mutex
	// attempts by message id; received and replied by participant, to catch a sender that
	// sends again before its reply; inFlight and maxInFlight count webhooks being handled.
	attempts              map[string]int
	received, replied     map[string]int
	early                 int
	inFlight, maxInFlight int
	wg                    sync.WaitGroup
}

func startTarget(t *testing.T, g *loadgen.Graph, configure func(*target)) (*target, string) {
	tg := &target{t: t, graph: g, attempts: map[string]int{}, received: map[string]int{}, replied: map[string]int{}}
	if configure != nil {
		configure(tg)
	}
	srv := httptest.NewServer(http.HandlerFunc(tg.serve))
	t.Cleanup(func() { srv.Close(); tg.wg.Wait() })
	return tg, srv.URL
}

func (tg *target) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.URL.Path == "/metrics" {
		if tg.cpu == nil {
			http.NotFound(w, r)
			return
		}
		tg.mu.Lock()
		tg.cpuReads++
		v := tg.cpu(tg.cpuReads)
		tg.mu.Unlock()
		fmt.Fprintf(w, "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"+
			"# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %g\nprocess_max_fds 1024\n", v)
		return
	}
	body, _ := io.ReadAll(r.Body)
	if r.Header.Get(loadgen.SignatureHeader) != loadgen.Sign("loadgen", body) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	wh, err := whatsapp.ParseWebhook(body, time.Now())
	if err != nil || len(wh.Messages) != 1 {
		http.Error(w, fmt.Sprint("bad webhook: ", err), http.StatusBadRequest)
		return
	}
	in := wh.Messages[0].Inbound
	tg.mu.Lock()
	tg.attempts[in.PlatformID]++
	if tg.attempts[in.PlatformID] <= tg.refuse {
		tg.mu.Unlock()
		http.Error(w, "crashed", http.StatusServiceUnavailable)
		return
	}
	if tg.attempts[in.PlatformID] > 1+tg.refuse {
		tg.mu.Unlock() // a duplicate webhook: already answered
		return
	}
	if tg.received[in.From] > tg.replied[in.From] {
		tg.early++
	}
	tg.received[in.From]++
	tg.inFlight++
	tg.maxInFlight = max(tg.maxInFlight, tg.inFlight)
	n := 1
	switch in.PlatformID {
	case tg.lose:
		n = 0
	case tg.double:
		n = 2
	}
	// Counted before the reply goes, so a sender woken by it never looks early.
	tg.replied[in.From]++
	tg.mu.Unlock()
	reply := func() {
		for range n {
			tg.post(in.From)
		}
	}
	if tg.async {
		tg.wg.Go(reply)
	} else {
		reply()
	}
	tg.mu.Lock()
	tg.inFlight--
	tg.mu.Unlock()
}

func (tg *target) post(to string) {
	req, _ := http.NewRequest("POST", tg.graph.APIURL+"/100/messages",
		strings.NewReader(`{"messaging_product":"whatsapp","to":"+`+to+`","type":"text","text":{"body":"ok"}}`))
	req.Header.Set("Authorization", "Bearer loadgen")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tg.t.Errorf("reply to %s: %v", to, err)
		return
	}
	resp.Body.Close()
}

func startTestGraph(t *testing.T) *loadgen.Graph {
	g, err := loadgen.StartGraph("127.0.0.1:0", "loadgen")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

func TestClosedLoopWaitsForEachReply(t *testing.T) {
	g := startTestGraph(t)
	tg, url := startTarget(t, g, func(tg *target) {
		tg.async = true
		tg.cpu = func(read int) float64 { return 1 + 0.6*float64(read-1) }
	})
	var mu sync.Mutex
	var counts []int
	rep, err := loadgen.Run(context.Background(), loadgen.Config{
		Server: url, Graph: g, Senders: 3, Participants: 7, Messages: 60, Clock: &syncClock{now: t0}, RunID: 1,
		OnAccepted: func(n int) { mu.Lock(); counts = append(counts, n); mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Sent != 60 || rep.Accepted != 60 || rep.Answered != 60 || rep.EndToEnd.N != 60 || rep.TimedOut != 0 {
		t.Fatalf("report: ok %v, sent %d, accepted %d, answered %d, e2e n %d, timed out %d, errors %v",
			rep.OK(), rep.Sent, rep.Accepted, rep.Answered, rep.EndToEnd.N, rep.TimedOut, rep.Errors)
	}
	slices.Sort(counts)
	if len(counts) != 60 || counts[0] != 1 || counts[59] != 60 {
		t.Errorf("OnAccepted called %d times, from %v to %v", len(counts), counts[:min(1, len(counts))], counts[max(0, len(counts)-1):])
	}
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if tg.early != 0 {
		t.Errorf("%d webhooks came from a participant still owed a reply", tg.early)
	}
	if tg.maxInFlight > 3 {
		t.Errorf("%d webhooks in flight with 3 senders", tg.maxInFlight)
	}
	// Sender s owns participants s, s+3, s+6 (below 7): all seven are used.
	if len(tg.received) != 7 {
		t.Errorf("messages came from %d participants, want 7: %v", len(tg.received), tg.received)
	}
	if rep.Senders != 3 || len(rep.Seconds) == 0 || rep.Seconds[len(rep.Seconds)-1].Backlog != 0 {
		t.Errorf("senders %d, per-second lines %+v", rep.Senders, rep.Seconds)
	}
	// /metrics read once before the load and once after its last reply: 0.6 s over 60.
	if c := rep.CPU; c.ServerErr != "" || c.Server != 600*time.Millisecond || c.Messages != 60 ||
		c.PerMessage(c.Server) != 10*time.Millisecond || tg.cpuReads != 2 || c.Span <= 0 {
		t.Errorf("cpu %+v after %d reads of /metrics", c, tg.cpuReads)
	}
}

func TestOpenLoopReportsSeconds(t *testing.T) {
	g := startTestGraph(t)
	_, url := startTarget(t, g, nil)
	rep, err := loadgen.Run(context.Background(), loadgen.Config{
		Server: url, Graph: g, Messages: 50, Rate: 100, Participants: 5, Concurrency: 4, Clock: &syncClock{now: t0}, RunID: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	sum := 0
	for _, s := range rep.Seconds {
		sum += s.Replied
	}
	if !rep.OK() || rep.Answered != 50 || sum != 50 || rep.Unanswered != 0 || !rep.Drained || rep.EndToEnd.P95 == 0 {
		t.Fatalf("ok %v, answered %d, replied in the lines %d, unanswered %d, drained %v, e2e %v, errors %v",
			rep.OK(), rep.Answered, sum, rep.Unanswered, rep.Drained, rep.EndToEnd, rep.Errors)
	}
	// A server without /metrics: the run is measured all the same, and says why the server's
	// CPU is missing.
	if c := rep.CPU; c.Server != 0 || !strings.Contains(c.ServerErr, "404") || c.Messages != 50 {
		t.Errorf("cpu without /metrics: %+v", c)
	}
}

// TestResendJudgesExactlyOnce plays the platform during a crash: every webhook is refused
// twice, then taken; one message is never answered and one twice.
func TestResendJudgesExactlyOnce(t *testing.T) {
	g := startTestGraph(t)
	tg, url := startTarget(t, g, func(tg *target) {
		tg.refuse = 2
		tg.lose = "wamid.loadgen.1.3"
		tg.double = "wamid.loadgen.1.7"
	})
	for _, closed := range []bool{false, true} {
		t.Run(fmt.Sprintf("closed=%v", closed), func(t *testing.T) {
			cfg := loadgen.Config{Server: url, Graph: g, Messages: 12, Resend: true, LeaseWait: 30 * time.Second,
				Clock: &syncClock{now: t0}, RunID: 1, Drain: 200 * time.Millisecond, ReplyTimeout: 200 * time.Millisecond}
			if closed {
				cfg.Senders = 2
			}
			tg.mu.Lock()
			clear(tg.attempts)
			tg.mu.Unlock()
			rep, err := loadgen.Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Failed != 0 || rep.Accepted != 12 || rep.Resends != 24 || rep.LeaseWait != 30*time.Second {
				t.Fatalf("failed %d, accepted %d, resends %d, lease wait %v, errors %v", rep.Failed, rep.Accepted, rep.Resends, rep.LeaseWait, rep.Errors)
			}
			if rep.OK() || !slices.Equal(rep.Lost, []string{"wamid.loadgen.1.3"}) ||
				!slices.Equal(rep.Duplicates, []string{"wamid.loadgen.1.7"}) || rep.DuplicateReplies != 1 || rep.Unexpected != 0 {
				t.Fatalf("verdict %+v", rep.Verdict)
			}
			// Every message came from a participant of its own, so Judge on the records agrees.
			if v := loadgen.Judge(rep.Messages, map[string][]time.Time{}); len(v.Lost) != 12 {
				t.Fatalf("Judge with no replies: %d lost, want 12", len(v.Lost))
			}
			seen := map[string]bool{}
			for _, m := range rep.Messages {
				if seen[m.To] || m.Attempts != 3 {
					t.Fatalf("message %s from %s after %d attempts (participant seen before: %v)", m.ID, m.To, m.Attempts, seen[m.To])
				}
				seen[m.To] = true
			}
		})
	}
}

func TestResendGivesUp(t *testing.T) {
	g := startTestGraph(t)
	// Nothing listens on the port once the listener is closed: every attempt is refused. One
	// at a time, since both would move the one fake clock.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	rep, err := loadgen.Run(context.Background(), loadgen.Config{Server: "http://" + addr, Graph: g, Messages: 2, Resend: true, Concurrency: 1,
		ResendFor: 10 * time.Second, Clock: &syncClock{now: t0}, RunID: 1, Drain: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	// 100+200+400+800+1600+2000+2000+2000+2000 ms of backoff reach 10 s: ten attempts each.
	if rep.Failed != 2 || rep.Accepted != 0 || rep.Resends != 18 || rep.OK() {
		t.Fatalf("failed %d, accepted %d, resends %d, errors %v", rep.Failed, rep.Accepted, rep.Resends, rep.Errors)
	}
}

// TestClosedLoopPausesAfterARefusal: without resends a refused message is given up, and its
// sender pauses for the backoff before the next rather than hammering a dead server.
func TestClosedLoopPausesAfterARefusal(t *testing.T) {
	g := startTestGraph(t)
	_, url := startTarget(t, g, func(tg *target) { tg.refuse = 1 << 30 })
	clock := &syncClock{now: t0}
	rep, err := loadgen.Run(context.Background(), loadgen.Config{Server: url, Graph: g, Senders: 2, Messages: 10,
		Clock: clock, RunID: 1, Drain: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed != 10 || rep.Accepted != 0 || rep.Resends != 0 || rep.OK() {
		t.Fatalf("failed %d, accepted %d, resends %d", rep.Failed, rep.Accepted, rep.Resends)
	}
	if waited := clock.Now().Sub(t0); waited != 10*loadgen.DefaultBackoff {
		t.Fatalf("the senders paused %v in all, want 10 × %v", waited, loadgen.DefaultBackoff)
	}
}

// TestCancelStopsRequestsUnderWay: when the run's context ends, a webhook the server holds
// fails at once (the tool closes its connections) rather than after the 30 s timeout.
func TestCancelStopsRequestsUnderWay(t *testing.T) {
	g := startTestGraph(t)
	ctx, cancel := context.WithCancel(context.Background())
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" {
			http.NotFound(w, r) // the tool's read of the server's CPU, before the load
			return
		}
		cancel() // the user presses Ctrl-C while the server holds the webhook
		<-release
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	done := make(chan *loadgen.Report, 1)
	go func() {
		rep, err := loadgen.Run(ctx, loadgen.Config{Server: srv.URL, Graph: g, Messages: 1, Concurrency: 1,
			Clock: &syncClock{now: t0}, RunID: 1, Drain: 10 * time.Millisecond})
		if err != nil {
			t.Error(err)
		}
		done <- rep
	}()
	select {
	case rep := <-done:
		if rep == nil || rep.Failed != 1 || rep.Accepted != 0 {
			t.Fatalf("report %+v", rep)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the run went on 10 s after its context ended")
	}
}

// TestPrefillResendsRefusedWebhooks: a webhook of the prefill answered 503 (the server's
// back-pressure during the flood) is sent again until it is taken, as the platform would, so a
// prefill of N stores N participants; one of the measured phase stays refused without
// --resend, which is what the run measures.
func TestPrefillResendsRefusedWebhooks(t *testing.T) {
	g := startTestGraph(t)
	_, url := startTarget(t, g, func(tg *target) { tg.refuse = 1 })
	rep, err := loadgen.Run(context.Background(), loadgen.Config{Server: url, Graph: g, Prefill: 6, Messages: 3,
		Participants: 3, Clock: &syncClock{now: t0}, RunID: 1, Drain: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Prefilled != 6 || rep.PrefillResends != 6 {
		t.Errorf("prefilled %d after %d resends, want 6 after 6", rep.Prefilled, rep.PrefillResends)
	}
	for _, e := range rep.Errors {
		if strings.HasPrefix(e, "prefill:") {
			t.Errorf("prefill reported %q", e)
		}
	}
	if rep.Failed != 3 || rep.Refused != 3 || rep.Resends != 0 {
		t.Errorf("measured phase: failed %d (%d refused), resends %d, want 3 refused and none resent", rep.Failed, rep.Refused, rep.Resends)
	}
	if rep.OK() {
		t.Error("OK with nothing of the measured phase taken")
	}
}

// TestRefusalsAreNotFailures: the server's back-pressure refusing some webhooks with 503 is
// what it is built to do; the run reports them apart and is OK when every webhook it took got
// its one reply. A webhook that failed any other way still fails the run.
func TestRefusalsAreNotFailures(t *testing.T) {
	tests := []struct {
		name    string
		refuse  int // the target answers 503 to the first refuse attempts of every message
		wantOK  bool
		verdict string
	}{
		{"none refused", 0, true, "exactly once: OK: every message got exactly one reply"},
		{"every first attempt refused", 1, false, "FAILED: the server took none of the 4 webhooks (4 refused with 503, 0 failed otherwise)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := startTestGraph(t)
			_, url := startTarget(t, g, func(tg *target) { tg.refuse = tt.refuse })
			rep, err := loadgen.Run(context.Background(), loadgen.Config{Server: url, Graph: g, Messages: 4,
				Participants: 4, Clock: &syncClock{now: t0}, RunID: 1, Drain: 200 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() != tt.wantOK {
				t.Errorf("OK() = %v, want %v: %+v", rep.OK(), tt.wantOK, rep)
			}
			var out strings.Builder
			rep.Write(&out)
			if !strings.Contains(out.String(), tt.verdict) {
				t.Errorf("report lacks %q:\n%s", tt.verdict, out.String())
			}
		})
	}
	// Some taken, some refused: OK, with the refusals said.
	rep := &loadgen.Report{Sent: 10, Accepted: 7, Failed: 3, Refused: 3}
	if !rep.OK() {
		t.Errorf("7 taken and answered, 3 refused with 503: not OK")
	}
	var out strings.Builder
	rep.Write(&out)
	for _, want := range []string{"7 accepted, 3 refused with 503 (back-pressure), 0 failed otherwise",
		"exactly once: OK: every accepted message got exactly one reply; 3 webhooks were refused with 503"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	rep.Refused = 2 // one failed another way (a timeout, a 500)
	if rep.OK() {
		t.Errorf("a webhook failed other than by a 503, and OK")
	}
}
