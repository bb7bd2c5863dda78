package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestServeUsersPageAndRoles: the server's dashboard has the admins' users page, and a judge
// added there may judge but not speak for the persona.
func TestServeUsersPageAndRoles(t *testing.T) {
	srv, _ := startServer(t, t.TempDir(), func(c *Config) {
		c.Campaigns = []string{"../../campaigns/examples/bouncer.yaml"}
	})
	admin := newClient(t, srv.URL())
	if code, _ := admin.login("admin", srv.adminPassword); code != http.StatusSeeOther {
		t.Fatalf("login: %d", code)
	}
	code, page := admin.do(http.MethodGet, "/dashboard/users", "", nil)
	if code != http.StatusOK || !strings.Contains(page, "Add a user") {
		t.Fatalf("users page: %d\n%s", code, page)
	}
	form := url.Values{"csrf": {csrfOf(t, page)}, "username": {"judy"}, "password": {"a-long-password"}, "role": {"judge"}, "campaign": {"bouncer"}}
	if code, _ := admin.postForm("/dashboard/users", form); code != http.StatusSeeOther {
		t.Fatalf("add judy: %d", code)
	}

	judy := newClient(t, srv.URL())
	if code, _ := judy.login("judy", "a-long-password"); code != http.StatusSeeOther {
		t.Fatalf("judy's login: %d", code)
	}
	code, page = judy.do(http.MethodGet, "/dashboard/entries", "", nil)
	if code != http.StatusOK {
		t.Fatalf("judy's entries: %d", code)
	}
	code, page = judy.postForm("/dashboard/campaigns/bouncer/participants/someone/reply", url.Values{"csrf": {csrfOf(t, page)}, "text": {"Come in."}})
	if code != http.StatusForbidden || !strings.Contains(page, "may not reply as the persona") {
		t.Errorf("judy's reply: %d\n%s", code, page)
	}
	if code, _ := judy.do(http.MethodGet, "/dashboard/users", "", nil); code != http.StatusForbidden {
		t.Errorf("judy on the users page: %d, want 403", code)
	}
}
