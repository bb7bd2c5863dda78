package webchat_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzInbound posts arbitrary bodies to every endpoint the page sends to: whatever arrives,
// the answer is a status with a reason, never a crash or a 500.
func FuzzInbound(f *testing.F) {
	for _, seed := range []struct {
		route uint8
		json  bool
		body  string
	}{
		{0, true, `{"id":"msg-00000001","text":"hello"}`},
		{0, true, `{"id":1,"text":["x"]}`},
		{1, true, `{"id":"msg-00000002","choice":"yes"}`},
		{2, true, `{"id":"msg-00000003","lat":1e309,"lng":-1}`},
		{3, true, `{"action":"form","name":"\u0000"}`},
		{4, true, `{"locale":"en-GB"}`},
		{0, false, "id=msg-00000004&text=%ff%fe"},
	} {
		f.Add(seed.route, seed.json, []byte(seed.body))
	}
	routes := []string{"messages", "choices", "location", "team", "join"}
	h := MustHarness(f)
	browser := h.MustBrowser(f)
	f.Fuzz(func(t *testing.T, route uint8, asJSON bool, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/play/bouncer/"+routes[int(route)%len(routes)], bytes.NewReader(body))
		if asJSON {
			req.Header.Set("Content-Type", "application/json")
		} else {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.AddCookie(&http.Cookie{Name: "webchat_id", Value: browser})
		resp, err := h.app.Test(req, 5000)
		if err != nil {
			t.Fatalf("request failed: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 500 && resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("status %d for %q", resp.StatusCode, body)
		}
	})
}
