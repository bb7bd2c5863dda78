package whatsapp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/chatcampaigns/campaign/internal/fastconn"
)

// Requests to /{number}/{edge} (replies, read receipts, groups) go through a fasthttp client
// when the channel owns its HTTP client and no proxy stands between it and the Graph API.
// net/http's transport runs two goroutines per connection (readLoop, writeLoop) and hands
// every request and answer between them and the caller: with two requests a message that was
// ~80 µs of CPU a message under load (docs/performance.md, "Graph API requests without
// net/http"). fasthttp's HostClient writes the request and reads the answer on the caller's
// goroutine, on a pooled connection, with pooled request and response buffers.
//
// What differs from net/http, on purpose or because fasthttp cannot:
//   - HTTP/1.1 only (net/http speaks HTTP/2 to graph.facebook.com): up to fastMaxConns
//     connections instead of streams on one.
//   - A request is bounded by its deadline (SendTimeout or ctx's, the earlier), not by ctx
//     itself: a ctx cancelled while the request is under way is seen when it ends. That is at
//     most SendTimeout later; the engine gives up on a send only at shutdown, where a reply
//     that did go out is then recorded as sent instead of left in flight.
//   - No request is sent twice by the client (fasthttp would send a POST again after the
//     server closed the connection without answering, when it may have arrived). Idle
//     connections are closed after fastIdle, before servers commonly close them.
//   - An answer larger than maxAnswer is an error, where net/http's path reads its first
//     maxAnswer bytes (and fails to decode them).
//   - No gzip: the Graph API's answers are a few hundred bytes.
//
// Proxies from the environment (HTTP_PROXY, HTTPS_PROXY, NO_PROXY), a Config.HTTPClient of
// the caller's, or an API URL fasthttp cannot take keep every request on net/http.

const (
	// fastMaxConns matches the net/http transport's idle pool (New).
	fastMaxConns = 128
	// fastIdle is how long an idle connection is kept: below the 60-75 s after which load
	// balancers and servers commonly close one, so that a request rarely meets a connection
	// the server closed (which fasthttp, unlike net/http, does not notice while idle).
	fastIdle = 30 * time.Second
)

// fastClient is the fasthttp client of the channel's requests to the Graph API.
type fastClient struct {
	hc *fasthttp.HostClient
	// auth is the Authorization header's value.
	auth []byte
}

// newFastClient returns the client for requests to apiURL, or nil when they must stay on
// net/http: a caller's client, a proxy for the API URL (asked of proxy, the transport's own
// function, once), or a URL other than plain http(s)://host[:port]/path.
func newFastClient(cfg Config, proxy func(*http.Request) (*url.URL, error), roots *x509.CertPool) *fastClient {
	u, err := url.Parse(cfg.APIURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" {
		return nil
	}
	if proxy != nil {
		p, err := proxy(&http.Request{Method: http.MethodPost, URL: u, Header: http.Header{}})
		if err != nil || p != nil {
			return nil
		}
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	hc := &fasthttp.HostClient{
		Addr:          net.JoinHostPort(u.Hostname(), port),
		DialDualStack: true,
		MaxConns:      fastMaxConns,
		// Wait for a connection rather than fail at once when all are busy (fasthttp's
		// default); the request's deadline still bounds the wait.
		MaxConnWaitTimeout:  cfg.SendTimeout,
		MaxIdleConnDuration: fastIdle,
		ReadTimeout:         cfg.SendTimeout,
		WriteTimeout:        cfg.SendTimeout,
		MaxResponseBodySize: maxAnswer,
		// One attempt: see above.
		MaxIdemponentCallAttempts: 1,
		// The Graph API's paths are sent as the channel escaped them.
		DisablePathNormalizing: true,
	}
	if u.Scheme == "https" {
		hc.IsTLS = true
		// fasthttp fills in ServerName from Addr; sessions are resumed on a new connection.
		hc.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots,
			ClientSessionCache: tls.NewLRUClientSessionCache(fastMaxConns)}
	}
	return &fastClient{hc: hc, auth: []byte("Bearer " + cfg.AccessToken)}
}

var (
	authKey  = []byte("Authorization")
	jsonType = []byte("application/json")
)

// postFast is postOnce on the fasthttp client.
func (c *Channel) postFast(ctx context.Context, endpoint string, body []byte) ([]byte, *APIError, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("whatsapp: send: %w", &url.Error{Op: "Post", URL: endpoint, Err: err})
	}
	deadline := time.Now().Add(c.cfg.SendTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(endpoint)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.SetContentTypeBytes(jsonType)
	req.Header.SetCanonical(authKey, c.fast.auth)
	// Not copied: body is not touched until the request is released, below.
	req.SetBodyRaw(body)
	if err := c.fast.hc.DoDeadline(req, resp, deadline); err != nil {
		// Kept, up to fastMaxConns connections the API dropped would each fail a request:
		// a retry later and, for a reply, an attempt that may or may not have arrived.
		fastconn.DropIdleIfBroken(c.fast.hc, err)
		return nil, nil, fmt.Errorf("whatsapp: send: %w", &url.Error{Op: "Post", URL: endpoint, Err: fastError(ctx, err)})
	}
	// Copied out: resp's buffer goes back to fasthttp's pool with resp.
	data := append([]byte(nil), resp.Body()...)
	if status := resp.StatusCode(); status != http.StatusOK {
		return nil, parseAPIError(status, data), nil
	}
	return data, nil, nil
}

// fastError is err as net/http would have said it: a request out of time ends with its
// context's error (context.DeadlineExceeded for SendTimeout's), so that callers and logs see
// the same either way.
func fastError(ctx context.Context, err error) error {
	var te interface{ Timeout() bool }
	if errors.Is(err, fasthttp.ErrTimeout) || errors.Is(err, fasthttp.ErrDialTimeout) ||
		errors.Is(err, fasthttp.ErrTLSHandshakeTimeout) || (errors.As(err, &te) && te.Timeout()) {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		return context.DeadlineExceeded
	}
	if errors.Is(err, fasthttp.ErrConnectionClosed) {
		// Closed before the answer's first byte: net/http says EOF (fasthttp's own words
		// advise fixing the server).
		return io.EOF
	}
	return err
}
