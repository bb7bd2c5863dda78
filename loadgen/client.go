package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/chatcampaigns/campaign/internal/fastconn"
)

// requestTimeout bounds one webhook request: writing it and reading its answer.
const requestTimeout = 30 * time.Second

// webhookClient posts the signed webhooks to the server over kept-alive connections, one per
// request in flight. It is fasthttp's client rather than net/http's: with the server on the
// same two cores, net/http's two goroutines per connection, its header maps and its
// per-request allocations cost the server as much CPU as the webhook itself did
// (docs/performance.md, "HTTP per message"). fasthttp knows no context, so the client closes
// its connections when the run's context ends: a request under way fails at once, as it did
// with net/http.
type webhookClient struct {
	hc  *fasthttp.HostClient
	uri string

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	stop   func() bool
}

// newWebhookClient makes a client for rawURL with room for conns requests at once.
func newWebhookClient(ctx context.Context, rawURL string, conns int) (*webhookClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("loadgen: server %q: %w", rawURL, err)
	}
	addr := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		addr = net.JoinHostPort(u.Hostname(), port)
	}
	c := &webhookClient{uri: rawURL, conns: map[net.Conn]struct{}{}}
	dialer := &net.Dialer{Timeout: requestTimeout}
	c.hc = &fasthttp.HostClient{
		Addr: addr, IsTLS: u.Scheme == "https", Name: "campaign-loadgen",
		MaxConns: conns, MaxConnWaitTimeout: requestTimeout, MaxIdleConnDuration: time.Minute,
		ReadTimeout: requestTimeout, WriteTimeout: requestTimeout,
		// A webhook is never sent again behind the tool's back: with --resend every attempt
		// is counted, as net/http (which retries no POST) did.
		MaxIdemponentCallAttempts: 1,
		Dial: func(addr string) (net.Conn, error) {
			conn, err := dialer.DialContext(ctx, "tcp", addr)
			if err != nil {
				return nil, err
			}
			return c.track(conn)
		},
	}
	c.stop = context.AfterFunc(ctx, c.closeAll)
	return c, nil
}

// trackedConn is a connection the client closes when the run's context ends.
type trackedConn struct {
	net.Conn
	c    *webhookClient
	once sync.Once
}

func (tc *trackedConn) Close() error {
	tc.once.Do(func() {
		tc.c.mu.Lock()
		delete(tc.c.conns, tc)
		tc.c.mu.Unlock()
	})
	return tc.Conn.Close()
}

func (c *webhookClient) track(conn net.Conn) (net.Conn, error) {
	tc := &trackedConn{Conn: conn, c: c}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		conn.Close()
		return nil, context.Canceled
	}
	c.conns[tc] = struct{}{}
	return tc, nil
}

func (c *webhookClient) closeAll() {
	c.mu.Lock()
	c.closed = true
	conns := make([]net.Conn, 0, len(c.conns))
	for conn := range c.conns {
		conns = append(conns, conn)
	}
	c.mu.Unlock()
	for _, conn := range conns {
		conn.Close()
	}
}

// Close closes every connection.
func (c *webhookClient) Close() {
	c.stop()
	c.closeAll()
}

// poster is one sender's request and response, reused for each of its webhooks.
type poster struct {
	c    *webhookClient
	req  fasthttp.Request
	resp fasthttp.Response
}

func (c *webhookClient) poster() *poster {
	p := &poster{c: c}
	p.req.SetRequestURI(c.uri)
	p.req.Header.SetMethod(fasthttp.MethodPost)
	p.req.Header.SetContentType("application/json")
	return p
}

// post sends one signed webhook body and returns the answer's status.
func (p *poster) post(body, sig []byte) (int, error) {
	p.req.Header.SetBytesV(SignatureHeader, sig)
	p.req.SetBodyRaw(body)
	err := p.c.hc.Do(&p.req, &p.resp)
	// The body is the caller's buffer: not kept past the request.
	p.req.SetBodyRaw(nil)
	if err != nil {
		// After a crash every idle connection is to the dead process, where a platform opens
		// a new connection for its next try. Kept, the 512 a prefill left idle made the 32
		// senders of a crash run take 16 attempts and 25 s each to reach the restarted server.
		fastconn.DropIdleIfBroken(p.c.hc, err)
		return 0, err
	}
	return p.resp.StatusCode(), nil
}

// errorText is err without what varies from one request to the next (the connection's own
// port, the URL), so that a thousand failures during a crash count as one line.
func errorText(err error) string {
	var oe *net.OpError
	switch {
	case errors.As(err, &oe):
		return oe.Op + ": " + oe.Err.Error()
	case errors.Is(err, fasthttp.ErrConnectionClosed):
		return "connection closed before the answer"
	case errors.Is(err, fasthttp.ErrTimeout):
		return "timeout"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}
