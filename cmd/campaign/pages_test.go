package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestOptInWithoutWhatsApp: without WhatsApp the opt-in form's address answers with a page that
// says why nobody can sign up (503), not Fiber's bare "Cannot GET".
func TestOptInWithoutWhatsApp(t *testing.T) {
	srv, _ := startServer(t, t.TempDir(), func(c *Config) {
		c.Campaigns = []string{"../../campaigns/examples/fridge.yaml"}
	})
	visitor := newClient(t, srv.URL())
	code, page := visitor.do(http.MethodGet, "/optin/fridge", "", nil)
	if code != http.StatusServiceUnavailable || !strings.Contains(page, "not connected to WhatsApp") {
		t.Errorf("/optin/fridge without WhatsApp: %d\n%s", code, page)
	}
	if code, page := visitor.do(http.MethodGet, "/optin/nope", "", nil); code != http.StatusNotFound || !strings.Contains(page, "no sign-up form") {
		t.Errorf("/optin/nope: %d\n%s", code, page)
	}
}
