package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// GraphVersion is the version path segment in Graph.APIURL; any version is accepted.
const GraphVersion = "v23.0"

// Graph is a fake WhatsApp Cloud API (Graph API) on loopback that accepts the replies of the
// server under load: POST /{version}/{phone-number-id}/messages with the Bearer token. It
// answers as the platform does and records when each reply to each recipient arrived;
// mark-read requests are answered and counted, not recorded as replies. Its methods are safe
// for concurrent use.
type Graph struct {
	// APIURL is what the server's WHATSAPP_API_URL must be set to.
	APIURL string

	token string
	now   func() time.Time
	srv   *http.Server
	ln    net.Listener
	done  chan struct{}

	ids   atomic.Int64
	reads atomic.Int64
	bad   atomic.Int64

	mu      sync.Mutex
	replies map[string][]time.Time
	total   int
	// notify is signalled (without blocking) after every recorded reply, for waiters.
	notify chan struct{}
	// awaits holds, by recipient, a channel closed at the next reply to them (Await).
	awaits map[string]chan struct{}
}

// StartGraph listens on addr, which must be a loopback address ("127.0.0.1:0" picks a port),
// and serves the fake Graph API until Close. Requests without "Bearer "+token are refused
// with the documented error 190.
func StartGraph(addr, token string) (*Graph, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("loadgen: graph address %q: %w", addr, err)
	}
	if !Loopback(host) {
		return nil, fmt.Errorf("loadgen: graph address %q: the fake Graph API listens on loopback only", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("loadgen: graph: %w", err)
	}
	g := &Graph{token: token, now: time.Now, ln: ln, done: make(chan struct{}),
		replies: map[string][]time.Time{}, notify: make(chan struct{}, 1), awaits: map[string]chan struct{}{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /{version}/{phone}/messages", g.handleMessages)
	g.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	g.APIURL = "http://" + ln.Addr().String() + "/" + GraphVersion
	go func() {
		defer close(g.done)
		if err := g.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			g.bad.Add(1)
		}
	}()
	return g, nil
}

// Close stops the server.
func (g *Graph) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := g.srv.Shutdown(ctx)
	<-g.done
	return err
}

// sendRequest is the part of a send request the fake reads.
type sendRequest struct {
	MessagingProduct string `json:"messaging_product"`
	To               string `json:"to"`
	Type             string `json:"type"`
	Status           string `json:"status"`
}

func (g *Graph) handleMessages(w http.ResponseWriter, r *http.Request) {
	at := g.now()
	if r.Header.Get("Authorization") != "Bearer "+g.token {
		g.bad.Add(1)
		graphError(w, http.StatusUnauthorized, 190, "Error validating access token")
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var req sendRequest
	if err != nil || json.Unmarshal(raw, &req) != nil || req.MessagingProduct != "whatsapp" {
		g.bad.Add(1)
		graphError(w, http.StatusBadRequest, 100, "Invalid parameter")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if req.Status == "read" {
		g.reads.Add(1)
		_, _ = io.WriteString(w, `{"success":true}`)
		return
	}
	if req.To == "" || req.Type == "" {
		g.bad.Add(1)
		graphError(w, http.StatusBadRequest, 100, "Invalid parameter: to or type is missing")
		return
	}
	to := strings.TrimPrefix(req.To, "+")
	g.mu.Lock()
	g.replies[to] = append(g.replies[to], at)
	g.total++
	if ch, ok := g.awaits[to]; ok {
		close(ch)
		delete(g.awaits, to)
	}
	g.mu.Unlock()
	select {
	case g.notify <- struct{}{}:
	default:
	}
	id := "wamid.loadgen." + strconv.FormatInt(g.ids.Add(1), 10)
	_, _ = io.WriteString(w, `{"messaging_product":"whatsapp","contacts":[{"input":`+strconv.Quote(req.To)+
		`,"wa_id":`+strconv.Quote(to)+`}],"messages":[{"id":"`+id+`"}]}`)
}

func graphError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"message": fmt.Sprintf("(#%d) %s", code, msg), "type": "OAuthException", "code": code,
		"fbtrace_id": "loadgen",
	}})
}

// Replies returns how many replies arrived so far.
func (g *Graph) Replies() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.total
}

// Rejected returns how many requests were refused (wrong token, malformed body).
func (g *Graph) Rejected() int64 { return g.bad.Load() }

// Reads returns how many mark-read requests arrived.
func (g *Graph) Reads() int64 { return g.reads.Load() }

// Take returns the arrival times of the replies recorded so far, by recipient (without a
// leading "+"), and forgets them.
func (g *Graph) Take() map[string][]time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	r := g.replies
	g.replies = map[string][]time.Time{}
	g.total = 0
	return r
}

// Await waits until recipient to (without a leading "+") has n replies recorded, and returns
// when the n-th arrived; or until ctx ends, with its error. A closed-loop sender waits so for
// the answer to its message before sending the next.
func (g *Graph) Await(ctx context.Context, to string, n int) (time.Time, error) {
	for {
		g.mu.Lock()
		if rs := g.replies[to]; len(rs) >= n {
			at := rs[n-1]
			g.mu.Unlock()
			return at, nil
		}
		ch, ok := g.awaits[to]
		if !ok {
			ch = make(chan struct{})
			g.awaits[to] = ch
		}
		g.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
}

// WaitEach waits until every recipient in want (without a leading "+") has at least as many
// replies recorded as want gives, or ctx ends, or no reply arrived for idle; it returns how
// many replies are still missing. Unlike a total count, a reply sent twice to one recipient
// does not stand in for another's that has not arrived yet.
func (g *Graph) WaitEach(ctx context.Context, want map[string]int, idle time.Duration) int {
	sum := 0
	for _, w := range want {
		sum += w
	}
	t := time.NewTimer(idle)
	defer t.Stop()
	for {
		if g.missing(want, sum, false) == 0 {
			return 0
		}
		select {
		case <-g.notify:
			// Since Go 1.23 Reset also drops a tick not yet received.
			t.Reset(idle)
		case <-t.C:
			return g.missing(want, sum, true)
		case <-ctx.Done():
			return g.missing(want, sum, true)
		}
	}
}

// missing counts the replies want still lacks. Unless exact, fewer replies in all than sum
// answers without looking at each recipient (a million of them, in a prefill).
func (g *Graph) missing(want map[string]int, sum int, exact bool) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !exact && g.total < sum {
		return sum - g.total
	}
	n := 0
	for to, w := range want {
		n += max(0, w-len(g.replies[to]))
	}
	return n
}
