package whatsapp_test

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/channels/whatsapp"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// paths are the channel's two ways to the Graph API (fastpost.go), for tests that run on both.
var paths = []struct {
	name    string
	netHTTP bool
}{{"fasthttp", false}, {"nethttp", true}}

// newDirect is a channel of its own client to apiURL on the path netHTTP says, without
// waits (no retries, no rate limit); change adjusts its config.
func newDirect(tb testing.TB, apiURL string, netHTTP bool, change func(*whatsapp.Config)) *whatsapp.Channel {
	tb.Helper()
	cfg := whatsapp.Config{APIURL: apiURL, AccessToken: "token", AppSecret: appSecret, VerifyToken: verifyToken,
		PhoneNumberID: testNumber, MaxRetries: -1, RateLimit: 1e9, Burst: 1 << 20,
		Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}
	if netHTTP {
		whatsapp.NetHTTPOnly(&cfg)
	}
	if change != nil {
		change(&cfg)
	}
	ch, err := whatsapp.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	if ch.FastPath() == netHTTP && change == nil {
		tb.Fatalf("FastPath() = %v on the %v path", ch.FastPath(), map[bool]string{true: "net/http", false: "fasthttp"}[netHTTP])
	}
	return ch
}

var textReply = engine.Outbound{To: "447911123456", Text: "hi"}

// seen is what a fake Graph API received.
type seen struct {
	mu   sync.Mutex
	reqs []seenRequest
}

type seenRequest struct {
	Method, Path, Auth, ContentType, Body string
	TLS                                   bool
}

func (s *seen) record(r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, seenRequest{r.Method, r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), string(body), r.TLS != nil})
}

func (s *seen) all() []seenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seenRequest(nil), s.reqs...)
}

// TestPostAnswers: both paths read the same answers into the same results and errors.
func TestPostAnswers(t *testing.T) {
	big := `{"messages":[{"id":"` + strings.Repeat("x", 2<<20) + `"}]}`
	tests := []struct {
		name   string
		status int
		header map[string]string
		body   string
		read   bool // MarkRead instead of Send
		hangUp bool // the server closes the connection without answering
		// wantID is Send's id; wantErr a part of the error (none: no error).
		wantID, wantErr string
		check           func(error) bool
		// sameError: both paths say it in the same words.
		sameError bool
	}{
		// Once only, on both paths: the request may have arrived.
		{name: "ClosedWithoutAnswer", hangUp: true, wantErr: `/messages": EOF`, sameError: true},
		{name: "Sent", status: 200, body: `{"messaging_product":"whatsapp","messages":[{"id":"wamid.1"}]}`, wantID: "wamid.1"},
		{name: "ReadReceipt", status: 200, body: `{"success":true}`, read: true},
		{name: "PermanentError", status: 400, body: `{"error":{"message":"Invalid parameter","code":100,"error_data":{"details":"bad to"}}}`,
			wantErr: "whatsapp: permanent error 100 (HTTP 400): Invalid parameter: bad to", sameError: true,
			check: func(err error) bool { return errors.Is(err, errs.ErrInvalid) }},
		{name: "ExpiredToken", status: 401, body: `{"error":{"message":"Session has expired","code":190}}`,
			wantErr: "permanent error 190", sameError: true, check: func(err error) bool { return errors.Is(err, errs.ErrUnauthorized) }},
		{name: "TransientError", status: 500, body: `{"error":{"message":"Service unavailable","code":1}}`,
			wantErr: "whatsapp: transient error 1 (HTTP 500)", sameError: true},
		{name: "NotJSON", status: 503, body: `<html>down</html>`,
			wantErr: "whatsapp: transient error -1 (HTTP 503): Service Unavailable", sameError: true},
		{name: "RedirectNotFollowed", status: 302, header: map[string]string{"Location": "/elsewhere"},
			wantErr: "(HTTP 302)", sameError: true},
		{name: "UnreadableAnswer", status: 200, body: `{"messages":`, wantErr: "whatsapp: send: unreadable answer", sameError: true},
		{name: "NoMessageID", status: 200, body: `{}`, wantErr: "answer without a message id", sameError: true},
		// net/http's path reads the first maxAnswer bytes and cannot decode them; fasthttp's
		// refuses the answer.
		{name: "AnswerTooLarge", status: 200, body: big, wantErr: "whatsapp: send"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errsBy := map[string]string{}
			for _, p := range paths {
				t.Run(p.name, func(t *testing.T) {
					var got seen
					srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						got.record(r)
						if tt.hangUp {
							c, _, err := http.NewResponseController(w).Hijack()
							if err == nil {
								c.Close()
							}
							return
						}
						for k, v := range tt.header {
							w.Header().Set(k, v)
						}
						w.Header().Set("Content-Type", "application/json")
						w.WriteHeader(tt.status)
						io.WriteString(w, tt.body)
					}))
					defer srv.Close()
					ch := newDirect(t, srv.URL+"/v23.0", p.netHTTP, nil)
					var id string
					var err error
					if tt.read {
						err = ch.MarkRead(t.Context(), "wamid.in", false)
					} else {
						id, err = ch.Send(t.Context(), textReply)
					}
					switch {
					case tt.wantErr == "" && err != nil:
						t.Fatalf("error %v, want none", err)
					case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
						t.Fatalf("error %v, want one saying %q", err, tt.wantErr)
					case tt.check != nil && !tt.check(err):
						t.Errorf("error %v is not of the kind expected", err)
					}
					if id != tt.wantID {
						t.Errorf("id %q, want %q", id, tt.wantID)
					}
					if err != nil {
						errsBy[p.name] = strings.ReplaceAll(err.Error(), srv.URL, "API")
					}
					reqs := got.all()
					if len(reqs) != 1 {
						t.Fatalf("%d requests, want 1", len(reqs))
					}
					r := reqs[0]
					if r.Method != http.MethodPost || r.Path != "/v23.0/"+testNumber+"/messages" || r.Auth != "Bearer token" ||
						r.ContentType != "application/json" || !strings.Contains(r.Body, `"messaging_product":"whatsapp"`) {
						t.Errorf("request %+v", r)
					}
				})
			}
			if tt.sameError && errsBy["fasthttp"] != errsBy["nethttp"] {
				t.Errorf("the paths' errors differ:\nfasthttp %s\nnethttp  %s", errsBy["fasthttp"], errsBy["nethttp"])
			}
		})
	}
}

// TestPostTimeouts: a Graph API that never answers costs a request its deadline (SendTimeout
// or the context's, the earlier) on both paths, and the error says so as net/http does.
func TestPostTimeouts(t *testing.T) {
	release := make(chan struct{})
	var got seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.record(r)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name        string
		sendTimeout time.Duration
		ctx         func() (context.Context, context.CancelFunc)
		want        error
		requests    int
	}{
		{"SendTimeout", 50 * time.Millisecond, func() (context.Context, context.CancelFunc) { return context.Background(), func() {} },
			context.DeadlineExceeded, 1},
		{"ContextDeadlineFirst", time.Minute, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 50*time.Millisecond)
		}, context.DeadlineExceeded, 1},
		{"CancelledBefore", time.Minute, func() (context.Context, context.CancelFunc) { return cancelled, func() {} },
			context.Canceled, 0},
	}
	for _, tt := range tests {
		for _, p := range paths {
			t.Run(tt.name+"/"+p.name, func(t *testing.T) {
				before := len(got.all())
				ch := newDirect(t, srv.URL+"/v23.0", p.netHTTP, func(c *whatsapp.Config) {
					c.SendTimeout = tt.sendTimeout
					if p.netHTTP {
						whatsapp.NetHTTPOnly(c)
					}
				})
				ctx, cancel := tt.ctx()
				defer cancel()
				start := time.Now()
				_, err := ch.Send(ctx, textReply)
				if took := time.Since(start); took > 10*time.Second {
					t.Errorf("took %v: not bounded by the deadline", took)
				}
				if !errors.Is(err, tt.want) {
					t.Fatalf("error %v, want %v", err, tt.want)
				}
				if tt.requests == 0 {
					return // refused before the request, by the rate limiter's wait
				}
				prefix := `whatsapp: send: Post "` + srv.URL + `/v23.0/` + testNumber + `/messages": `
				if !strings.HasPrefix(err.Error(), prefix) {
					t.Errorf("error %q, want it to start %q", err, prefix)
				}
				var ue *url.Error
				if !errors.As(err, &ue) {
					t.Errorf("error %v is no *url.Error", err)
				}
				// A request that was made is seen by the server before the client gives up.
				if n := len(got.all()) - before; n != tt.requests {
					t.Errorf("%d requests, want %d", n, tt.requests)
				}
			})
		}
	}
}

// TestPostAfterTheAPIDroppedItsConnections: when the Graph API drops every connection (a
// restart, a network cut), at most one request fails on a dead connection; the next reaches
// the API on a new one, however many idle connections the client kept. The fasthttp path
// only: net/http's transport notices on its own when an idle connection closes, a moment
// later, so how many requests meet one before it does is up to the scheduler.
func TestPostAfterTheAPIDroppedItsConnections(t *testing.T) {
	const busy = 16
	var arrived sync.WaitGroup
	arrived.Add(busy)
	all := make(chan struct{})
	go func() { arrived.Wait(); close(all) }()
	var filling atomic.Bool
	filling.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if filling.Load() {
			// Answered only once busy requests hold a connection each: the pool then keeps
			// busy connections.
			arrived.Done()
			<-all
		}
		io.WriteString(w, `{"messages":[{"id":"wamid.1"}]}`)
	}))
	defer srv.Close()
	ch := newDirect(t, srv.URL+"/v23.0", false, nil)
	var sent sync.WaitGroup
	for range busy {
		sent.Go(func() {
			if _, err := ch.Send(context.Background(), textReply); err != nil {
				t.Errorf("filling the pool: %v", err)
			}
		})
	}
	sent.Wait()
	filling.Store(false)
	srv.CloseClientConnections() // the API's side of every connection goes

	failed := 0
	for {
		if _, err := ch.Send(context.Background(), textReply); err == nil {
			break
		}
		if failed++; failed > busy {
			t.Fatalf("no answer after %d failed requests", failed)
		}
	}
	if failed > 1 {
		t.Fatalf("%d requests failed on dead connections, want at most 1", failed)
	}
}

// TestPostTLS: an https API URL is spoken to over TLS on both paths, with the certificates
// the channel trusts.
func TestPostTLS(t *testing.T) {
	var got seen
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.record(r)
		io.WriteString(w, `{"messages":[{"id":"wamid.tls"}]}`)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	srv.StartTLS()
	defer srv.Close()
	pool := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	tests := []struct {
		name    string
		roots   *x509.CertPool
		wantErr string
	}{
		{"TrustedCertificate", pool, ""},
		{"UnknownAuthority", x509.NewCertPool(), "certificate"},
	}
	for _, tt := range tests {
		for _, p := range paths {
			t.Run(tt.name+"/"+p.name, func(t *testing.T) {
				before := len(got.all())
				ch := newDirect(t, srv.URL+"/v23.0", p.netHTTP, func(c *whatsapp.Config) {
					whatsapp.WithRoots(c, tt.roots)
					if p.netHTTP {
						whatsapp.NetHTTPOnly(c)
					}
				})
				if ch.FastPath() == p.netHTTP {
					t.Fatalf("FastPath() = %v", ch.FastPath())
				}
				id, err := ch.Send(t.Context(), textReply)
				if tt.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) ||
						!strings.HasPrefix(err.Error(), `whatsapp: send: Post "https://`) {
						t.Fatalf("error %v, want one about the %s", err, tt.wantErr)
					}
					return
				}
				if err != nil || id != "wamid.tls" {
					t.Fatalf("Send = %q, %v", id, err)
				}
				reqs := got.all()[before:]
				if len(reqs) != 1 || !reqs[0].TLS || reqs[0].Auth != "Bearer token" {
					t.Errorf("requests %+v, want one over TLS", reqs)
				}
			})
		}
	}
}

// startProxy is a forward proxy for plain http that plays the Graph API itself: it answers
// every request and records the host the request was for.
func startProxy(tb testing.TB) (proxyURL string, hosts func() []string) {
	var mu sync.Mutex
	var seenHosts []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seenHosts = append(seenHosts, r.URL.Host)
		mu.Unlock()
		io.WriteString(w, `{"messages":[{"id":"wamid.proxied"}]}`)
	}))
	tb.Cleanup(srv.Close)
	return srv.URL, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seenHosts...)
	}
}

// TestProxyKeepsNetHTTP: a proxy for the API URL, a caller's client or a URL fasthttp cannot
// take keep requests on net/http, which goes through the proxy.
func TestProxyKeepsNetHTTP(t *testing.T) {
	proxyURL, hosts := startProxy(t)
	proxy, _ := url.Parse(proxyURL)
	tests := []struct {
		name   string
		apiURL string
		change func(*whatsapp.Config)
		fast   bool
	}{
		{"Proxy", "http://graph.invalid/v23.0", func(c *whatsapp.Config) {
			whatsapp.WithProxy(c, func(*http.Request) (*url.URL, error) { return proxy, nil })
		}, false},
		{"ProxyError", "http://graph.invalid/v23.0", func(c *whatsapp.Config) {
			whatsapp.WithProxy(c, func(*http.Request) (*url.URL, error) { return nil, errors.New("bad proxy setting") })
		}, false},
		{"NoProxy", "http://graph.invalid/v23.0", func(c *whatsapp.Config) {
			whatsapp.WithProxy(c, func(*http.Request) (*url.URL, error) { return nil, nil })
		}, true},
		{"CallersClient", "http://graph.invalid/v23.0", func(c *whatsapp.Config) {
			c.HTTPClient = &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxy)}}
		}, false},
		{"UserInURL", "http://user:secret@graph.invalid/v23.0", nil, false},
		{"NotHTTP", "ftp://graph.invalid/v23.0", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := newDirect(t, tt.apiURL, false, func(c *whatsapp.Config) {
				if tt.change != nil {
					tt.change(c)
				}
			})
			if ch.FastPath() != tt.fast {
				t.Fatalf("FastPath() = %v, want %v", ch.FastPath(), tt.fast)
			}
			if tt.name != "Proxy" && tt.name != "CallersClient" {
				return
			}
			before := len(hosts())
			if id, err := ch.Send(t.Context(), textReply); err != nil || id != "wamid.proxied" {
				t.Fatalf("Send = %q, %v; want the proxy's answer", id, err)
			}
			if h := hosts()[before:]; len(h) != 1 || h[0] != "graph.invalid" {
				t.Errorf("the proxy saw requests for %v, want one for graph.invalid", h)
			}
		})
	}
}

// TestProxyFromEnvironment: HTTP_PROXY in the environment (read by a fresh process: net/http
// reads it once) keeps the channel's requests on net/http, through the proxy.
func TestProxyFromEnvironment(t *testing.T) {
	if os.Getenv("WHATSAPP_PROXY_CHILD") == "1" {
		ch := newDirect(t, "http://graph.invalid/v23.0", false, func(*whatsapp.Config) {})
		if ch.FastPath() {
			t.Fatalf("FastPath() with HTTP_PROXY=%s", os.Getenv("HTTP_PROXY"))
		}
		if id, err := ch.Send(t.Context(), textReply); err != nil || id != "wamid.proxied" {
			t.Fatalf("Send = %q, %v; want the proxy's answer", id, err)
		}
		return
	}
	if netHTTPOnly {
		t.Skip("once is enough")
	}
	proxyURL, hosts := startProxy(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestProxyFromEnvironment$", "-test.count=1")
	cmd.Env = append(os.Environ(), "WHATSAPP_PROXY_CHILD=1", "HTTP_PROXY="+proxyURL, "http_proxy="+proxyURL, "NO_PROXY=", "no_proxy=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if h := hosts(); len(h) == 0 || h[0] != "graph.invalid" {
		t.Errorf("the proxy saw requests for %v, want graph.invalid", h)
	}
}
