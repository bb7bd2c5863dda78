package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Issue 15: /metrics was public. It is served to this machine only, unless the request shows
// the metrics token; a request a local proxy relays does not count as local.
func TestMetricsGuard(t *testing.T) {
	remote := func(string) bool { return false } // as if every peer were another machine
	for _, tc := range []struct {
		name   string
		exp    Exposure
		header map[string]string
		want   int
	}{
		{"loopback", Exposure{}, nil, 200},
		{"loopback through a proxy", Exposure{}, map[string]string{"X-Forwarded-For": "203.0.113.9"}, 403},
		{"remote, no token configured", Exposure{Local: remote}, nil, 403},
		{"remote, no token sent", Exposure{Local: remote, MetricsToken: "s3cret"}, nil, 401},
		{"remote, wrong token", Exposure{Local: remote, MetricsToken: "s3cret"}, map[string]string{"Authorization": "Bearer guess"}, 401},
		{"remote, right token", Exposure{Local: remote, MetricsToken: "s3cret"}, map[string]string{"Authorization": "Bearer s3cret"}, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := startServer(t, t.TempDir(), func(c *Config) { c.Exposure = tc.exp })
			req, _ := http.NewRequest(http.MethodGet, srv.URL()+"/metrics", nil)
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.want)
			}
			// The profiler follows the same rule.
			rec := httptest.NewRecorder()
			preq := httptest.NewRequest(http.MethodGet, "/debug/pprof/", nil)
			preq.RemoteAddr = "127.0.0.1:5555"
			for k, v := range tc.header {
				preq.Header.Set(k, v)
			}
			tc.exp.guardHTTP(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})).ServeHTTP(rec, preq)
			if rec.Code != tc.want {
				t.Errorf("profiler: status %d, want %d", rec.Code, tc.want)
			}
		})
	}
}

// Behind HTTPS the cookies are Secure: from --public-url https://…, or from a trusted proxy's
// X-Forwarded-Proto; an untrusted peer's X-Forwarded-Proto changes nothing.
func TestCookiesSecureBehindHTTPS(t *testing.T) {
	for _, tc := range []struct {
		name  string
		exp   Exposure
		proto string
		want  bool
	}{
		{"plain http", Exposure{}, "", false},
		{"public https URL", Exposure{PublicURL: "https://play.example.com"}, "", true},
		{"trusted proxy says https", Exposure{TrustedProxies: []string{"127.0.0.1"}}, "https", true},
		{"untrusted peer says https", Exposure{}, "https", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := startServer(t, t.TempDir(), func(c *Config) { c.Exposure = tc.exp })
			for _, path := range []string{"/dashboard/login", "/play/bouncer/join"} {
				method := http.MethodGet
				if strings.HasSuffix(path, "/join") {
					method = http.MethodPost
				}
				req, _ := http.NewRequest(method, srv.URL()+path, strings.NewReader("{}"))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Sec-Fetch-Site", "same-origin")
				if tc.proto != "" {
					req.Header.Set("X-Forwarded-Proto", tc.proto)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				cookies := resp.Cookies()
				if len(cookies) == 0 {
					t.Fatalf("%s set no cookie", path)
				}
				for _, c := range cookies {
					if c.Secure != tc.want {
						t.Errorf("%s: cookie %s Secure=%v, want %v", path, c.Name, c.Secure, tc.want)
					}
				}
			}
		})
	}
}

// Behind a trusted proxy the limits count the browser's address, the rightmost entry of
// X-Forwarded-For the proxy did not add; what the browser itself put on the left does not
// change whose budget a request is charged to.
func TestClientAddressBehindTrustedProxy(t *testing.T) {
	srv, _ := startServer(t, t.TempDir(), withLimits, func(c *Config) {
		c.Exposure = Exposure{TrustedProxies: []string{"127.0.0.1"}}
	})
	join := func(xff string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/play/bouncer/join", strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.Header.Set("X-Forwarded-For", xff)
		req.Header.Set(clientIPHeader, "198.51.100.1") // forged: must be ignored
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	accepted := 0
	for i := range 20 {
		if join(fmt.Sprintf("10.9.9.%d, 203.0.113.5", i)) < 300 {
			accepted++
		}
	}
	if accepted != 10 {
		t.Errorf("20 joins from 203.0.113.5 with a made-up first hop: %d accepted, want 10", accepted)
	}
	if code := join("203.0.113.6"); code >= 300 {
		t.Errorf("another browser behind the proxy was refused: %d", code)
	}
}
