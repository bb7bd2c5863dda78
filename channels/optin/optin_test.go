package optin_test

import (
	"context"
	"io"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/channels/optin"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

type fakeEngine struct {
	defs     map[string]*campaigns.Definition
	status   string
	received []engine.Inbound
}

func (f *fakeEngine) Campaign(id string) (*campaigns.Definition, bool) {
	d, ok := f.defs[id]
	return d, ok
}
func (f *fakeEngine) Status(string) string { return f.status }
func (f *fakeEngine) Participant(context.Context, string) (engine.Participant, error) {
	return engine.Participant{}, errs.ErrNotFound
}
func (f *fakeEngine) Receive(_ context.Context, in engine.Inbound) (bool, error) {
	f.received = append(f.received, in)
	return false, nil
}

func setup(t *testing.T) (*fiber.App, *fakeEngine) {
	fe := &fakeEngine{status: engine.StatusLive, defs: map[string]*campaigns.Definition{
		"fridge": {ID: "fridge", Title: "Fridge photo", Languages: []string{"en"}, Channels: []string{"whatsapp"}},
		"web":    {ID: "web", Title: "Web only", Languages: []string{"en"}, Channels: []string{"webchat"}},
	}}
	app := fiber.New()
	optin.New(fe, nil).Mount(app)
	return app, fe
}

func post(t *testing.T, app *fiber.App, path string, form url.Values, headers ...string) (int, string) {
	req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := app.Test(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestSubmit(t *testing.T) {
	ok := url.Values{"name": {"Ann"}, "phone": {"+31 6 1234 5678"}, "consent": {"yes"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for kk, vv := range ok {
			f[kk] = vv
		}
		f.Set(k, v)
		return f
	}
	tests := []struct {
		name     string
		path     string
		form     url.Values
		headers  []string
		wantCode int
		wantBody string
		received bool
	}{
		{"OptsIn", "/optin/fridge", ok, nil, 200, "will message you on WhatsApp", true},
		{"NoConsent", "/optin/fridge", with("consent", ""), nil, 400, "Tick the box", false},
		{"NoName", "/optin/fridge", with("name", " "), nil, 400, "first name", false},
		{"NationalNumber", "/optin/fridge", with("phone", "06 12345678"), nil, 400, "country code", false},
		{"Letters", "/optin/fridge", with("phone", "+31 six"), nil, 400, "country code", false},
		{"CrossSite", "/optin/fridge", ok, []string{"Sec-Fetch-Site", "cross-site"}, 403, "own page", false},
		{"UnknownCampaign", "/optin/nope", ok, nil, 404, "no sign-up form", false},
		{"NotOnWhatsApp", "/optin/web", ok, nil, 404, "no sign-up form", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, fe := setup(t)
			code, body := post(t, app, tt.path, tt.form, tt.headers...)
			if code != tt.wantCode || !strings.Contains(body, tt.wantBody) {
				t.Errorf("%d %q, want %d with %q", code, body, tt.wantCode, tt.wantBody)
			}
			if got := len(fe.received) == 1; got != tt.received {
				t.Fatalf("received %v, want an opt-in: %v", fe.received, tt.received)
			}
			if tt.received {
				in := fe.received[0]
				if in.Kind != engine.KindOptIn || in.From != "31612345678" || in.PlatformID != "optin:31612345678" || in.Name != "Ann" || in.Channel != "whatsapp" {
					t.Errorf("opt-in event = %+v", in)
				}
			}
		})
	}
}

func TestNameIsEscaped(t *testing.T) {
	app, _ := setup(t)
	_, body := post(t, app, "/optin/fridge", url.Values{"name": {"<script>x</script>"}, "phone": {"+3161234"}, "consent": {"yes"}})
	if strings.Contains(body, "<script>x") {
		t.Error("the name is echoed unescaped")
	}
}

func TestPhone(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+31 6 1234 5678", "31612345678"},
		{"0031 (6) 1234-5678", "31612345678"},
		{"+1 650 555 0100", "16505550100"},
		{"0612345678", ""},
		{"+0123456789", ""},
		{"+3161234567890123", ""},
	}
	for _, tt := range tests {
		got, err := optin.Phone(tt.in)
		if got != tt.want || (tt.want == "") != (err != nil) {
			t.Errorf("Phone(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
