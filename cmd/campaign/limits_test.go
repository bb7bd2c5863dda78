package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func withLimits(c *Config) { c.Limits = defaultLimits() }

// metricValue reads one sample of /metrics, 0 when absent.
func limitMetric(t *testing.T, c *client, sample string) string {
	t.Helper()
	_, body := c.do(http.MethodGet, "/metrics", "", nil)
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, sample+" "); ok {
			return v
		}
	}
	return "0"
}

// Issue 15: 200 joins without a cookie made 200 participants, and 500 messages from one
// cookie were each answered. With the default limits the address gets its burst and then
// 429 with Retry-After and a sentence the page can show; refusals are counted in /metrics.
func TestWebChatRateLimits(t *testing.T) {
	srv, clock := startServer(t, t.TempDir(), withLimits)
	base := srv.URL()

	joined, refused := 0, 0
	var last *http.Response
	for range 200 {
		req, _ := http.NewRequest(http.MethodPost, base+"/play/bouncer/join", strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		resp, err := http.DefaultClient.Do(req) // no jar: a fresh participant every time
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusTooManyRequests:
			refused++
			last = resp
		default:
			if resp.StatusCode < 300 {
				joined++
			}
		}
	}
	t.Logf("joins: %d accepted, %d refused", joined, refused)
	if joined != 10 || refused != 190 {
		t.Fatalf("200 joins from one address: %d accepted, %d refused; want 10 and 190", joined, refused)
	}
	if ra := last.Header.Get("Retry-After"); ra != "6" {
		t.Errorf("Retry-After = %q, want 6", ra)
	}

	// A minute later the address may join again; one participant then floods messages.
	clock.Advance(time.Minute)
	ann := newClient(t, base)
	if code, body := ann.postJSON("/play/bouncer/join", map[string]string{}); code >= 300 {
		t.Fatalf("join after a minute: %d %s", code, body)
	}
	sent, refused := 0, 0
	var msg string
	for i := range 500 {
		code, body := ann.postJSON("/play/bouncer/messages", map[string]string{"id": fmt.Sprintf("msg-%06d", i), "text": "hello"})
		switch {
		case code == http.StatusTooManyRequests:
			refused++
			msg = body
		case code < 300:
			sent++
		default:
			t.Fatalf("message %d: %d %s", i, code, body)
		}
	}
	t.Logf("messages: %d accepted, %d refused", sent, refused)
	if sent != 30 || refused != 470 {
		t.Fatalf("500 messages from one cookie: %d accepted, %d refused; want 30 and 470", sent, refused)
	}
	if !strings.Contains(msg, "too fast. Wait 2 seconds") {
		t.Errorf("refusal says %q", msg)
	}
	if v := limitMetric(t, ann, `campaign_rate_limited_total{limit="chat_participant"}`); v != "470" {
		t.Errorf("chat_participant refusals in /metrics = %s, want 470", v)
	}
	if v := limitMetric(t, ann, `campaign_rate_limited_total{limit="join_address"}`); v != "190" {
		t.Errorf("join_address refusals in /metrics = %s, want 190", v)
	}
}

// Issue 15: 200 wrong dashboard passwords went through in 7.6 s with no delay. After five
// failures each further attempt locks the account and the address, for twice as long each
// time; while locked even the right password is refused, with 429 and how long to wait.
func TestDashboardLoginBackoff(t *testing.T) {
	srv, clock := startServer(t, t.TempDir(), withLimits)
	mod := newClient(t, srv.URL())
	for i := range 5 {
		if code, _ := mod.login("admin", "wrong password!"); code != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d, want 401", i+1, code)
		}
	}
	if code, _ := mod.login("admin", "wrong password!"); code != http.StatusUnauthorized {
		t.Fatalf("6th failure: status %d, want 401 (it is the one that starts the lock)", code)
	}
	var waits []string
	for range 4 {
		_, page := mod.do(http.MethodGet, "/dashboard/login", "", nil)
		req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/dashboard/login",
			strings.NewReader("username=admin&password="+srv.adminPassword+"&csrf="+csrfOf(t, page)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", srv.URL())
		resp, err := mod.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("sign-in while locked: status %d (%s), want 429", resp.StatusCode, resp.Header.Get("Location"))
		}
		ra := resp.Header.Get("Retry-After")
		waits = append(waits, ra)
		var s int
		fmt.Sscan(ra, &s)
		clock.Advance(time.Duration(s) * time.Second)
		mod.login("admin", "still wrong") // fails again, doubling the lock
	}
	if got := strings.Join(waits, ","); got != "1,2,4,8" {
		t.Errorf("Retry-After over successive locks = %s, want 1,2,4,8", got)
	}
	_, page := mod.do(http.MethodGet, "/dashboard/login", "", nil)
	code, body := mod.postForm("/dashboard/login", map[string][]string{"username": {"admin"}, "password": {"x"}, "csrf": {csrfOf(t, page)}})
	if code != http.StatusTooManyRequests || !strings.Contains(body, "Too many wrong passwords") || !strings.Contains(body, "Wait 16 seconds") {
		t.Errorf("locked sign-in: %d, page lacks the reason:\n%s", code, body)
	}
	clock.Advance(16 * time.Second)
	if code, _ := mod.login("admin", srv.adminPassword); code != http.StatusSeeOther {
		t.Fatalf("right password after the lock: status %d", code)
	}
	if v := limitMetric(t, mod, `campaign_rate_limited_total{limit="login"}`); v != "5" {
		t.Errorf("login refusals in /metrics = %s, want 5", v)
	}
}
