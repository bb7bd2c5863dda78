package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
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

	bearer []byte
	now    func() time.Time
	srv    *fasthttp.Server
	ln     net.Listener
	done   chan struct{}

	ids   atomic.Int64
	reads atomic.Int64
	bad   atomic.Int64

	mu sync.Mutex
	// replies holds, by recipient (without a leading "+"), the replies recorded since the
	// last Take and who waits for the next one.
	replies map[string]*inbox
	total   int
	// notify is signalled (without blocking) after every recorded reply, for waiters.
	notify chan struct{}
}

// inbox is one recipient's replies.
type inbox struct {
	at []time.Time
	// next, when not nil, is closed at the next reply (Await).
	next chan struct{}
}

// StartGraph listens on addr, which must be a loopback address ("127.0.0.1:0" picks a port),
// and serves the fake Graph API until Close. Requests without "Bearer "+token are refused
// with the documented error 190.
//
// It is served by fasthttp, not net/http: at thousands of replies and read receipts a second
// on the server's own cores, net/http's goroutines, header maps and per-request allocations
// were most of what the tool cost (docs/performance.md, "HTTP per message").
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
	g := &Graph{bearer: []byte("Bearer " + token), now: time.Now, ln: ln, done: make(chan struct{}),
		replies: map[string]*inbox{}, notify: make(chan struct{}, 1)}
	// No read or idle timeout: the server under load keeps its connections open, and one
	// closed under it while it sends would look like a failed send. Close shuts the idle ones.
	g.srv = &fasthttp.Server{Handler: g.handle, Name: "loadgen", NoDefaultDate: true,
		MaxRequestBodySize: 4 * maxGraphBody, ReadBufferSize: 8 << 10}
	g.APIURL = "http://" + ln.Addr().String() + "/" + GraphVersion
	go func() {
		defer close(g.done)
		if err := g.srv.Serve(ln); err != nil {
			g.bad.Add(1)
		}
	}()
	return g, nil
}

// maxGraphBody is the largest request body the fake takes; a larger one is refused as
// malformed (and counted), as one it cannot read.
const maxGraphBody = 1 << 20

// Close stops the server: it stops listening, closes the idle connections and waits up to
// 5 s for requests under way.
func (g *Graph) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := g.srv.ShutdownWithContext(ctx)
	<-g.done
	return err
}

// messagesPath reports whether path is /{version}/{phone-number-id}/messages.
func messagesPath(path []byte) bool {
	rest, ok := bytes.CutPrefix(path, []byte("/"))
	if !ok {
		return false
	}
	version, rest, ok := bytes.Cut(rest, []byte("/"))
	if !ok || len(version) == 0 {
		return false
	}
	phone, rest, ok := bytes.Cut(rest, []byte("/"))
	return ok && len(phone) > 0 && string(rest) == "messages"
}

// handle answers POST /{version}/{phone-number-id}/messages: a reply is recorded (to, type
// and the messaging_product checked), a mark-read request (status "read") counted.
func (g *Graph) handle(ctx *fasthttp.RequestCtx) {
	at := g.now()
	// The raw request URI, not ctx.Path(): the server sends a plain path, and parsing and
	// normalizing a URI for each request cost more than the rest of this handler.
	path, _, _ := bytes.Cut(ctx.Request.Header.RequestURI(), []byte("?"))
	if !messagesPath(path) {
		ctx.Error("404 page not found", fasthttp.StatusNotFound)
		return
	}
	if !ctx.IsPost() {
		ctx.Response.Header.Set("Allow", "POST")
		ctx.Error("Method Not Allowed", fasthttp.StatusMethodNotAllowed)
		return
	}
	if !bytes.Equal(ctx.Request.Header.Peek("Authorization"), g.bearer) {
		g.bad.Add(1)
		graphError(ctx, fasthttp.StatusUnauthorized, 190, "Error validating access token")
		return
	}
	body := ctx.PostBody()
	req, ok := parseSendRequest(body)
	if !ok || len(body) > maxGraphBody || string(req.MessagingProduct) != "whatsapp" {
		g.bad.Add(1)
		graphError(ctx, fasthttp.StatusBadRequest, 100, "Invalid parameter")
		return
	}
	ctx.SetContentType("application/json")
	if string(req.Status) == "read" {
		g.reads.Add(1)
		ctx.SetBodyString(`{"success":true}`)
		return
	}
	if len(req.To) == 0 || len(req.Type) == 0 {
		g.bad.Add(1)
		graphError(ctx, fasthttp.StatusBadRequest, 100, "Invalid parameter: to or type is missing")
		return
	}
	to := bytes.TrimPrefix(req.To, []byte("+"))
	g.mu.Lock()
	// Looked up with the bytes themselves: a string is made once per recipient, not per reply.
	box := g.replies[string(to)]
	if box == nil {
		box = &inbox{}
		g.replies[string(to)] = box
	}
	box.at = append(box.at, at)
	g.total++
	if box.next != nil {
		close(box.next)
		box.next = nil
	}
	g.mu.Unlock()
	select {
	case g.notify <- struct{}{}:
	default:
	}
	var scratch [256]byte
	answer := append(scratch[:0], `{"messaging_product":"whatsapp","contacts":[{"input":`...)
	answer = appendJSONString(answer, req.To)
	answer = append(answer, `,"wa_id":`...)
	answer = appendJSONString(answer, to)
	answer = append(answer, `}],"messages":[{"id":"wamid.loadgen.`...)
	answer = strconv.AppendInt(answer, g.ids.Add(1), 10)
	answer = append(answer, `"}]}`...)
	ctx.Response.AppendBody(answer)
}

func graphError(ctx *fasthttp.RequestCtx, status, code int, msg string) {
	ctx.SetContentType("application/json")
	ctx.SetStatusCode(status)
	body, _ := json.Marshal(map[string]any{"error": map[string]any{
		"message": fmt.Sprintf("(#%d) %s", code, msg), "type": "OAuthException", "code": code,
		"fbtrace_id": "loadgen",
	}})
	ctx.SetBody(append(body, '\n'))
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
	r := make(map[string][]time.Time, len(g.replies))
	for to, box := range g.replies {
		if len(box.at) > 0 {
			r[to] = box.at
		}
		if box.next != nil {
			// A waiter keeps its inbox: the reply it waits for lands there.
			box.at = nil
		} else {
			delete(g.replies, to)
		}
	}
	g.total = 0
	return r
}

// Await waits until recipient to (without a leading "+") has n replies recorded, and returns
// when the n-th arrived; or until ctx ends, with its error. A closed-loop sender waits so for
// the answer to its message before sending the next.
func (g *Graph) Await(ctx context.Context, to string, n int) (time.Time, error) {
	at, ok := g.await(to, n, ctx.Done(), nil)
	if !ok {
		return at, ctx.Err()
	}
	return at, nil
}

// await is Await until done is closed or timeout ticks; ok is false then.
func (g *Graph) await(to string, n int, done <-chan struct{}, timeout <-chan time.Time) (at time.Time, ok bool) {
	for {
		g.mu.Lock()
		box := g.replies[to]
		if box == nil {
			box = &inbox{}
			g.replies[to] = box
		}
		if len(box.at) >= n {
			at := box.at[n-1]
			g.mu.Unlock()
			return at, true
		}
		if box.next == nil {
			box.next = make(chan struct{})
		}
		ch := box.next
		g.mu.Unlock()
		select {
		case <-ch:
		case <-done:
			return time.Time{}, false
		case <-timeout:
			return time.Time{}, false
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
		got := 0
		if box := g.replies[to]; box != nil {
			got = len(box.at)
		}
		n += max(0, w-got)
	}
	return n
}
