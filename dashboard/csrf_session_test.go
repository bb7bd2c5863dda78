package dashboard_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/chatcampaigns/campaign/dashboard"
	"github.com/chatcampaigns/campaign/judge"
)

// Issue 15: the CSRF token was not tied to the session, so whoever could plant a cookie (a
// sibling subdomain) passed with a cookie and field of their own; and it was read from the
// query string. Each attempt here must be refused 403 and change nothing.
func TestCSRFBoundToSession(t *testing.T) {
	const planted = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	for _, tc := range []struct {
		name string
		send func(h *harness, path string) *http.Response
	}{
		{"PlantedCookieAndField", func(h *harness, path string) *http.Response {
			h.jar["dashboard_csrf"] = &http.Cookie{Name: "dashboard_csrf", Value: planted}
			return h.Post(path, url.Values{"csrf": {planted}})
		}},
		{"TokenInQueryString", func(h *harness, path string) *http.Response {
			tok := dashboard.SessionCSRF(h.jar["dashboard_session"].Value)
			return h.Post(path+"?csrf="+url.QueryEscape(tok), url.Values{})
		}},
		{"AnotherSessionsToken", func(h *harness, path string) *http.Response {
			return h.Post(path, url.Values{"csrf": {dashboard.SessionCSRF(planted)}})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.MustUser("mod1", dashboard.RoleModerator)
			h.MustLogin("mod1")
			e := h.MustEntry("hi")
			resp := tc.send(h, "/dashboard/entries/"+e.ID+"/approve")
			wantStatus(t, resp, http.StatusForbidden)
			if got := h.Entry(e.ID); got.Status != judge.StatusPending {
				t.Errorf("entry changed: %+v", got)
			}
		})
	}

	t.Run("HeaderIsAccepted", func(t *testing.T) {
		h := newHarness(t)
		h.MustUser("mod1", dashboard.RoleModerator)
		h.MustLogin("mod1")
		e := h.MustEntry("hi")
		req := httptest.NewRequest(http.MethodPost, "/dashboard/entries/"+e.ID+"/approve", strings.NewReader(""))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-CSRF-Token", dashboard.SessionCSRF(h.jar["dashboard_session"].Value))
		if resp := h.Do(req); resp.StatusCode >= 400 {
			t.Fatalf("status %d with the token in X-CSRF-Token", resp.StatusCode)
		}
	})
}

// Behind HTTPS (--public-url https://… sets Config.Secure), every cookie is Secure.
func TestCookiesSecureOverHTTPS(t *testing.T) {
	h := newHarnessWith(t, func(_ *harness, _ *judge.Service, cfg *dashboard.Config) { cfg.Secure = true })
	h.MustUser("mod1", dashboard.RoleModerator)
	h.MustLogin("mod1")
	for _, name := range []string{"dashboard_session", "dashboard_csrf"} {
		if c, ok := h.jar[name]; !ok || !c.Secure {
			t.Errorf("cookie %s: present %v, Secure %v", name, ok, ok && c.Secure)
		}
	}
}
