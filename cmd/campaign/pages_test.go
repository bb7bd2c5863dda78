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

// TestTooBigPhotoSaysTheLimit: a photo over the limit gets 413 with a reason that says the
// limit in MB, also when it is so big that Fiber's body limit refuses it before any route.
func TestTooBigPhotoSaysTheLimit(t *testing.T) {
	srv, _ := startServer(t, t.TempDir())
	ann := newClient(t, srv.URL())
	ann.do(http.MethodGet, "/play/bouncer", "", nil)
	for _, size := range []int{maxUpload + 1, maxUpload + 2<<20} {
		code, body := ann.upload("/play/bouncer/media", "big.png", append(testPNG(t), make([]byte, size)...))
		if code != http.StatusRequestEntityTooLarge || !strings.Contains(body, "10 MB") || !strings.HasPrefix(body, "{") {
			t.Errorf("%d bytes: %d %q, want 413 as JSON saying the 10 MB limit", size, code, body)
		}
	}
}
