package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
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
	"github.com/chatcampaigns/campaign/store/mongo"
	"github.com/chatcampaigns/campaign/store/mongo/mongotest"
)

// TestMultiProcessOnMongo runs three `campaign serve` processes on one MongoDB (FerretDB
// in-process, or CAMPAIGN_TEST_MONGODB_URI) and one fake Graph API, sends signed webhooks
// spread over the three (every message delivered twice, to two servers, as a platform
// redelivering does), and SIGKILLs one server half-way. Every message must get exactly one
// reply, and every participant's messages must be applied in the order they were sent.
func TestMultiProcessOnMongo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs three servers")
	}
	const (
		secret       = "multi-secret"
		participants = 24
		perEach      = 8
		servers      = 3
	)
	// A cap for a machine that is busy with other work, not a measure: FerretDB is slow, and the
	// test waits for every reply, the killed server's leases running out included.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()

	bin := filepath.Join(t.TempDir(), "campaign")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	uri, stop, err := mongotest.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	graph, err := loadgen.StartGraph("127.0.0.1:0", loadgen.DefaultToken)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { graph.Close() })

	env := append(os.Environ(),
		"CAMPAIGN_MONGODB_URI="+uri,
		"WHATSAPP_API_URL="+graph.APIURL,
		"WHATSAPP_ACCESS_TOKEN="+loadgen.DefaultToken,
		"WHATSAPP_APP_SECRET="+secret,
		"WHATSAPP_VERIFY_TOKEN=verify",
		"WHATSAPP_PHONE_NUMBER_ID="+loadgen.DefaultNumber,
	)
	procs := make([]*serveProc, servers)
	for i := range procs {
		// One after the other: the first creates the indexes and the admin user.
		procs[i] = startServe(t, ctx, bin, env)
	}

	runID := strconv.FormatInt(time.Now().UnixNano(), 36)
	client := &http.Client{Timeout: 10 * time.Second}
	var (
		accepted atomic.Int64
		killOnce sync.Once
		killedAt time.Time
	)
	total := participants * perEach
	kill := func() {
		killOnce.Do(func() {
			procs[0].kill(t)
			killedAt = time.Now()
			t.Logf("killed server 0 after %d accepted messages", accepted.Load())
		})
	}
	// post delivers one webhook as the platform does: to the servers from the i-th on, again
	// and again until one answers 200 (Meta redelivers for days), a second apart once every
	// server was tried. A killed server refuses the connection or drops it; a 503 is the
	// intake's back-pressure; a timeout on a loaded machine is a webhook the platform sends
	// again (stored or not: the store dedupes it). Only the test's deadline ends the tries.
	post := func(i int, body []byte) error {
		var last error
		for try := 0; ; try++ {
			if try > 0 && try%servers == 0 {
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
			if ctx.Err() != nil {
				return errors.Join(last, ctx.Err())
			}
			p := procs[(i+try)%servers]
			if p.dead.Load() {
				continue
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.url+"/webhooks/whatsapp", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(loadgen.SignatureHeader, loadgen.Sign(secret, body))
			resp, err := client.Do(req)
			if err != nil {
				last = err
				continue
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Errorf("HTTP %d (Retry-After %q)", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
	var wg sync.WaitGroup
	for k := range participants {
		wg.Go(func() {
			from := loadgen.Address(k)
			for j := range perEach {
				wamid := "wamid.multi." + runID + "." + strconv.Itoa(k) + "." + strconv.Itoa(j)
				body := loadgen.TextWebhook(nil, loadgen.DefaultNumber, from, wamid, "m"+strconv.Itoa(j), time.Now().Unix())
				// Each message goes to one server and again to the next: the duplicate must be
				// acknowledged and get no reply.
				for dup := range 2 {
					if err := post(k+j+dup, body); err != nil {
						t.Errorf("participant %d message %d: no server accepted it: %v", k, j, err)
						return
					}
				}
				if accepted.Add(1) == int64(total/2) {
					kill()
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	// Wait for every participant's replies (a total count would let a reply sent twice stand
	// in for one still to come), then past the leases the killed server held: a reply it
	// claimed would be sent again by another server only then. A message the killed server
	// had claimed is processed by another only when that lease ran out, so replies may pause
	// for a lease's length: the idle wait is longer than both leases.
	want := make(map[string]int, participants)
	for k := range participants {
		want[loadgen.Address(k)] = perEach
	}
	graph.WaitEach(ctx, want, engine.DefaultSendLease+10*time.Second)
	settle := time.Until(killedAt.Add(engine.DefaultSendLease + 3*time.Second))
	if settle > 0 {
		select {
		case <-time.After(settle):
		case <-ctx.Done():
		}
	}
	replies := graph.Take()
	missing, extra := 0, 0
	for k := range participants {
		n := len(replies[loadgen.Address(k)])
		missing += max(0, perEach-n)
		extra += max(0, n-perEach)
		delete(replies, loadgen.Address(k))
	}
	t.Logf("%d messages (each delivered twice) to %d servers, one killed: %d missing, %d extra replies, %d to strangers",
		total, servers, missing, extra, len(replies))
	if missing > 0 || len(replies) > 0 || graph.Rejected() > 0 {
		t.Errorf("replies: %d missing, %d to unknown recipients, %d refused by the Graph API", missing, len(replies), graph.Rejected())
	}
	// A sender killed after the platform accepted a reply and before recording it: that reply
	// is sent again once its lease runs out. The MongoDB store records each send as it goes,
	// so at most the replies the killed server had in flight, engine.DefaultSendConcurrency.
	if extra > engine.DefaultSendConcurrency {
		t.Errorf("%d replies sent twice, want at most the %d the killed server may have had in flight", extra, engine.DefaultSendConcurrency)
	} else if extra > 0 {
		t.Logf("%d replies sent twice: the killed server died between the platform's accept and recording them (the documented window)", extra)
	}

	db, err := mongo.Open(ctx, uri, mongoDatabase)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for k := range participants {
		pid := engine.ParticipantID("echo", "whatsapp", loadgen.Address(k))
		lines, err := db.Transcript(ctx, pid)
		if err != nil {
			t.Fatal(err)
		}
		var in []string
		for _, l := range lines {
			if l.Direction == engine.In {
				in = append(in, l.Text)
			}
		}
		want := make([]string, perEach)
		for j := range want {
			want[j] = "m" + strconv.Itoa(j)
		}
		if fmt.Sprint(in) != fmt.Sprint(want) {
			t.Errorf("participant %d: messages applied as %v, want each once in the order sent %v", k, in, want)
		}
	}
	pending, err := db.PendingInbound(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) > 0 {
		t.Errorf("%d events still pending", len(pending))
	}
}

// serveProc is one `campaign serve` child process.
type serveProc struct {
	cmd  *exec.Cmd
	url  string
	out  *lockedWriter
	dead atomic.Bool
	// exited is closed when the process has ended.
	exited chan struct{}
}

// startServe starts a server on a free port and waits until it answers. The port is free when
// chosen but may be taken before the server binds it (other tests, other programs): then the
// server is started again on another port, rather than waited for until the test times out.
func startServe(t *testing.T, ctx context.Context, bin string, env []string) *serveProc {
	t.Helper()
	for range 5 {
		if p := tryServe(t, ctx, bin, env); p != nil {
			return p
		}
	}
	t.Fatal("no free port for a server after 5 tries")
	return nil
}

// tryServe is one start of startServe: nil when the port was taken in the meantime.
func tryServe(t *testing.T, ctx context.Context, bin string, env []string) *serveProc {
	t.Helper()
	addr := freeAddr(t)
	p := &serveProc{url: "http://" + addr, out: &lockedWriter{}, exited: make(chan struct{})}
	p.cmd = exec.CommandContext(ctx, bin, "serve", "--addr", addr, "--data", t.TempDir(),
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
				return nil
			}
			t.Fatalf("server %s ended before it answered:\n%s", addr, p.out.String())
		case <-ctx.Done():
			t.Fatalf("server %s did not start: %v\n%s", addr, err, p.out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (p *serveProc) kill(t *testing.T) {
	p.dead.Store(true)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Errorf("kill: %v", err)
	}
}

// freeAddr returns a loopback address with a port nobody listens on at the moment.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// lockedWriter lets a process's stdout and stderr share one buffer.
type lockedWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(b)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
