package optin_test

import (
	"fmt"
	"io"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/channels/optin"
	"github.com/chatcampaigns/campaign/engine"
)

// TestKeptNameSurvivesLaterRequests: the name handed to the engine is the engine's to keep; in
// an app without Immutable, Fiber's form values point into request buffers it reuses.
func TestKeptNameSurvivesLaterRequests(t *testing.T) {
	app, fe := setup(t)
	post(t, app, "/optin/fridge", url.Values{"name": {"Ann"}, "phone": {"+31 6 1234 5678"}, "consent": {"yes"}})
	for i := range 30 {
		post(t, app, "/optin/fridge", url.Values{"name": {strings.Repeat("Z", 1+i%20)}, "phone": {fmt.Sprintf("+31 6 5555 %04d", i)}, "consent": {"yes"}})
	}
	if len(fe.received) == 0 || fe.received[0].Name != "Ann" || fe.received[0].From != "31612345678" {
		t.Errorf("first opt-in after more requests: %+v", fe.received[0])
	}
}

// TestOfflineFormSaysWhy: on a server without WhatsApp the form's address answers with a page
// that says sign-up is not open here and why (503), not Fiber's bare "Cannot GET".
func TestOfflineFormSaysWhy(t *testing.T) {
	fe := &fakeEngine{status: engine.StatusLive, defs: map[string]*campaigns.Definition{
		"fridge": {ID: "fridge", Title: "Fridge photo", Languages: []string{"en"}, Channels: []string{"whatsapp"}},
	}}
	app := fiber.New()
	optin.New(fe, nil).Offline().Mount(app)
	for _, method := range []string{"GET", "POST"} {
		req := httptest.NewRequest(method, "/optin/fridge", strings.NewReader("name=Ann&phone=%2B31612345678&consent=yes"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := app.Test(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != fiber.StatusServiceUnavailable || !strings.Contains(string(body), "not connected to WhatsApp") ||
			!strings.Contains(string(body), "Fridge photo") || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%s: %d %s %q", method, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	if len(fe.received) != 0 {
		t.Errorf("an offline form took an opt-in: %v", fe.received)
	}
	resp, _ := app.Test(httptest.NewRequest("GET", "/optin/nope", nil))
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 404 || !strings.Contains(string(body), "no sign-up form") || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("unknown campaign: %d %q", resp.StatusCode, body)
	}
}
