package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/loadgen"
	"github.com/chatcampaigns/campaign/store/sqlite"
)

// TestCrashSendsTwiceOnlyWhatWasInFlight runs `campaign serve` on SQLite against the fake
// Graph API, sends signed webhooks the way the platform does during an outage (each resent
// until it gets 200), SIGKILLs the server while replies are with the platform, and starts it
// again on the same data. Every message must get its reply, and the replies that reach the
// platform twice must be at most the sends in flight at the kill: those whose attempt the
// store recorded and whose outcome it did not. And the replies the store shows in flight
// (flagged maybe sent twice after the restart) must be only those: a reply whose attempt was
// recorded long before its send (a round recording the attempts of 100 recipients, then
// sending 32 at a time) would be flagged without having reached the platform.
//
// To kill while sends are in flight, not by luck, the server talks to the Graph API through a
// proxy that, once enough messages were accepted, takes no sends for a while (so that every
// participant has replies due, as under load), then passes each new send on (the platform has
// the reply) but holds the answer back: the server dies not knowing, which is the window a
// duplicate comes from. Those replies go out twice; the store shows each as in flight, and the
// restarted server sends it again at once (its own leases are taken back) marked maybe twice.
//
// The resend-until-200 loop is written here; the load tool's crash mode (package loadgen) is
// the same behaviour at scale, for measurements.
func TestCrashSendsTwiceOnlyWhatWasInFlight(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills a server")
	}
	const (
		secret = "crash-secret"
		// More recipients than one round of the sender takes and sends to at once
		// (engine.DefaultSendConcurrency), so that attempts recorded ahead of the sends would
		// show.
		participants = 120
		perEach      = 8
		// killAfter messages accepted, the proxy starts holding answers; the server is killed
		// once holdFor sends are held and no more came for holdQuiet (or after holdWait, with
		// what is held then): every send under way has reached the proxy by then.
		killAfter = participants * perEach / 3
		holdFor   = 3
		holdQuiet = time.Second
		holdWait  = 10 * time.Second
		// pauseFor the platform takes no sends before holding starts, so that the replies of
		// every participant are due at once, as under load.
		pauseFor = 2 * time.Second
	)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	bin := filepath.Join(t.TempDir(), "campaign")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	graph, err := loadgen.StartGraph("127.0.0.1:0", loadgen.DefaultToken)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { graph.Close() })
	proxy := newHoldingProxy(t, strings.TrimSuffix(graph.APIURL, "/"+loadgen.GraphVersion))

	data := t.TempDir()
	env := append(os.Environ(),
		"WHATSAPP_API_URL="+proxy.srv.URL+"/"+loadgen.GraphVersion,
		"WHATSAPP_ACCESS_TOKEN="+loadgen.DefaultToken,
		"WHATSAPP_APP_SECRET="+secret,
		"WHATSAPP_VERIFY_TOKEN=verify",
		"WHATSAPP_PHONE_NUMBER_ID="+loadgen.DefaultNumber,
		"WHATSAPP_RATE_LIMIT=100000",
	)
	var current atomic.Pointer[serveProc]
	current.Store(startServeOn(t, ctx, bin, env, data))

	runID := strconv.FormatInt(time.Now().UnixNano(), 36)
	client := &http.Client{Timeout: 5 * time.Second}
	var accepted atomic.Int64
	holding := make(chan struct{})
	var holdOnce sync.Once
	// post resends one webhook until a server answers 200, as the platform does: a killed
	// server refuses the connection or drops it, a starting one is not there yet.
	post := func(body []byte) {
		sig := loadgen.Sign(secret, body)
		for ctx.Err() == nil {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, current.Load().url+"/webhooks/whatsapp", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(loadgen.SignatureHeader, sig)
			if resp, err := client.Do(req); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	var wg sync.WaitGroup
	for k := range participants {
		wg.Go(func() {
			from := loadgen.Address(k)
			for j := range perEach {
				wamid := "wamid.crash." + runID + "." + strconv.Itoa(k) + "." + strconv.Itoa(j)
				post(loadgen.TextWebhook(nil, loadgen.DefaultNumber, from, wamid, "m"+strconv.Itoa(j), time.Now().Unix()))
				if accepted.Add(1) == killAfter {
					holdOnce.Do(func() { close(holding) })
				}
			}
		})
	}

	// The kill: once answers are held back, with sends in flight.
	select {
	case <-holding:
	case <-ctx.Done():
		t.Fatal("the load did not get far enough to kill the server")
	}
	// First the platform takes nothing for a while, so that every participant has replies
	// due; then the sends made during the pause are answered and the next ones held.
	proxy.pause()
	select {
	case <-time.After(pauseFor):
	case <-ctx.Done():
	}
	proxy.holdAfterPause()
	held := proxy.waitHeld(ctx, holdFor, holdQuiet, holdWait)
	old := current.Load()
	old.kill(t)
	<-old.exited
	proxy.release()
	killedAt := time.Now()

	// What the store says was in flight at the kill: an attempt recorded, no outcome.
	inFlight := countInFlight(t, ctx, data)
	t.Logf("killed after %d accepted messages, %d sends held at the platform, %d replies in flight in the store", accepted.Load(), held, inFlight)
	if inFlight < held {
		t.Errorf("%d replies in flight in the store, but %d sends were with the platform: an attempt was not recorded before its send", inFlight, held)
	}

	restarted := startServeOn(t, ctx, bin, env, data)
	current.Store(restarted)
	wg.Wait()
	want := make(map[string]int, participants)
	for k := range participants {
		want[loadgen.Address(k)] = perEach
	}
	graph.WaitEach(ctx, want, engine.DefaultSendLease+5*time.Second)
	t.Logf("every reply arrived %v after the restart", time.Since(killedAt).Round(100*time.Millisecond))
	// Past every lease the killed server held: a reply sent again only once a lease ran out
	// would come now.
	if settle := time.Until(killedAt.Add(engine.DefaultSendLease + 2*time.Second)); settle > 0 {
		select {
		case <-time.After(settle):
		case <-ctx.Done():
		}
	}

	replies := graph.Take()
	lost, twice := 0, 0
	for k := range participants {
		n := len(replies[loadgen.Address(k)])
		lost += max(0, perEach-n)
		twice += max(0, n-perEach)
		delete(replies, loadgen.Address(k))
	}
	t.Logf("%d messages: %d lost, %d replies twice, %d in flight at the kill", participants*perEach, lost, twice, inFlight)
	if lost > 0 || len(replies) > 0 || graph.Rejected() > 0 {
		t.Errorf("%d replies lost, %d to unknown recipients, %d refused by the Graph API", lost, len(replies), graph.Rejected())
	}
	if twice > inFlight {
		t.Errorf("%d replies reached the platform twice, want at most the %d in flight at the kill", twice, inFlight)
	}
	if twice < held {
		t.Errorf("%d replies reached the platform twice, but the %d held at the kill had reached it already: were they sent again?", twice, held)
	}
	// Every reply in flight at the kill is sent again: one that had not reached the platform
	// arrives once, and was flagged for nothing.
	if inFlight > twice {
		t.Errorf("%d replies in flight at the kill, but only %d had reached the platform: attempts were recorded ahead of their sends", inFlight, twice)
	}

	// The restarted server said so: every reply in flight at the kill was taken back and sent
	// again marked maybe twice.
	metrics := scrapeText(t, restarted.url+"/metrics")
	for _, m := range []struct {
		name string
		want int
	}{
		{`campaign_takeback_in_flight_total`, inFlight},
		{`campaign_replies_maybe_twice_total{channel="whatsapp"}`, inFlight},
	} {
		if got := metricValue(metrics, m.name); got != m.want {
			t.Errorf("/metrics %s = %d, want %d", m.name, got, m.want)
		}
	}
}

// startServeOn starts a server on data, as startServe does on a folder of its own.
func startServeOn(t *testing.T, ctx context.Context, bin string, env []string, data string) *serveProc {
	t.Helper()
	for range 5 {
		addr := freeAddr(t)
		p := &serveProc{url: "http://" + addr, out: &lockedWriter{}, exited: make(chan struct{})}
		p.cmd = exec.CommandContext(ctx, bin, "serve", "--addr", addr, "--data", data,
			"--campaigns", "../../loadgen/testdata/echo.yaml")
		p.cmd.Env = env
		p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { p.cmd.Wait(); close(p.exited) }()
		t.Cleanup(func() {
			if !p.dead.Load() {
				p.cmd.Process.Signal(syscall.SIGTERM)
			}
			<-p.exited
			if t.Failed() {
				t.Logf("server %s output:\n%s", addr, p.out.String())
			}
		})
		for {
			resp, err := http.Get(p.url + "/healthz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return p
				}
			}
			select {
			case <-p.exited:
				p.dead.Store(true)
				if strings.Contains(p.out.String(), "address already in use") {
					break
				}
				t.Fatalf("server %s ended before it answered:\n%s", addr, p.out.String())
			case <-ctx.Done():
				t.Fatalf("server %s did not start: %v\n%s", addr, err, p.out.String())
			case <-time.After(50 * time.Millisecond):
				continue
			}
			break
		}
	}
	t.Fatal("no free port for a server after 5 tries")
	return nil
}

// countInFlight opens the killed server's database and counts its pending replies with an
// attempt recorded and no outcome.
func countInFlight(t *testing.T, ctx context.Context, data string) int {
	t.Helper()
	db, err := sqlite.Open(ctx, filepath.Join(data, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Far in the future, so that no reply is held back behind another's backoff.
	pending, err := db.DueOutbox(ctx, time.Now().Add(24*time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, o := range pending {
		if o.InFlight {
			n++
		}
	}
	return n
}

// holdingProxy passes the server's requests on to the fake Graph API. While holding, it passes
// each message send on and keeps its answer: the platform has the reply, the server does not
// know.
type holdingProxy struct {
	srv    *httptest.Server
	target string
	// gate, while set, keeps message sends from the platform until it is closed (pause).
	gate     atomic.Pointer[chan struct{}]
	holding  atomic.Bool
	held     atomic.Int64
	heldOne  chan struct{}
	released chan struct{}
}

func newHoldingProxy(t *testing.T, target string) *holdingProxy {
	p := &holdingProxy{target: target, heldOne: make(chan struct{}, 64), released: make(chan struct{})}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(func() {
		p.release()
		p.srv.CloseClientConnections()
		p.srv.Close()
	})
	return p
}

func (p *holdingProxy) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	send := !bytes.Contains(body, []byte(`"status":"read"`)) // a mark-read is no reply
	paused := false
	if g := p.gate.Load(); send && g != nil {
		paused = true
		select {
		case <-*g:
		case <-r.Context().Done():
			return
		}
	}
	req, _ := http.NewRequestWithContext(context.WithoutCancel(r.Context()), r.Method, p.target+r.URL.Path, bytes.NewReader(body))
	req.Header = r.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// Only message sends are held, and not those that waited for the pause: they were made
	// before the holding started.
	if p.holding.Load() && send && !paused {
		p.held.Add(1)
		select {
		case p.heldOne <- struct{}{}:
		default:
		}
		select {
		case <-p.released:
		case <-r.Context().Done():
		}
		return
	}
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.WriteHeader(resp.StatusCode)
	w.Write(answer)
}

func (p *holdingProxy) hold() { p.holding.Store(true) }

// pause keeps message sends from the platform until holdAfterPause.
func (p *holdingProxy) pause() {
	g := make(chan struct{})
	p.gate.Store(&g)
}

// holdAfterPause starts holding and lets the paused sends through, answered.
func (p *holdingProxy) holdAfterPause() {
	p.hold()
	if g := p.gate.Swap(nil); g != nil {
		close(*g)
	}
}

// waitHeld waits until at least n answers are held and none more came for quiet, or for wait,
// and returns how many are.
func (p *holdingProxy) waitHeld(ctx context.Context, n int, quiet, wait time.Duration) int {
	deadline := time.After(wait)
	for {
		var calm <-chan time.Time
		if p.held.Load() >= int64(n) {
			calm = time.After(quiet)
		}
		select {
		case <-p.heldOne:
		case <-calm:
			return int(p.held.Load())
		case <-deadline:
			return int(p.held.Load())
		case <-ctx.Done():
			return int(p.held.Load())
		}
	}
}

// release stops holding and lets the held requests end (their server is dead by then).
func (p *holdingProxy) release() {
	if p.holding.Swap(false) {
		close(p.released)
	}
}

func scrapeText(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// metricValue reads one series' value from the Prometheus text format (0 when absent).
func metricValue(text, series string) int {
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			var v float64
			fmt.Sscan(rest, &v)
			return int(v)
		}
	}
	return 0
}
