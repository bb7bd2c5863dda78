package whatsapp_test

import (
	"strings"
	"testing"

	"github.com/chatcampaigns/campaign/channels"
	"github.com/chatcampaigns/campaign/channels/whatsapp"
	"github.com/chatcampaigns/campaign/channels/whatsapp/graphtest"
)

func TestCheck(t *testing.T) {
	const public = "https://campaign.example.com"
	tests := []struct {
		name      string
		setup     func(*rig)
		change    func(*whatsapp.Config)
		publicURL string
		ok        [3]bool
		detail    string
	}{
		{"AllSetUp", func(r *rig) {
			r.graph.AddPhoneNumber(testNumber, graphtest.PhoneNumber{Display: "+31 6 1234 5678", VerifiedName: "Sven", CallbackURL: public + "/webhooks/whatsapp", Official: true})
		}, nil, public, [3]bool{true, true, true}, `token accepted for +31 6 1234 5678 "Sven" (phone number id ` + testNumber + `); an Official Business Account: groups for team campaigns work`},
		{"AnyHostWithoutAPublicURL", func(r *rig) {
			r.graph.AddPhoneNumber(testNumber, graphtest.PhoneNumber{CallbackURL: "https://other.example.com/webhooks/whatsapp"})
		}, nil, "", [3]bool{true, true, true}, "not an Official Business Account: no groups for team campaigns | webhooks go to https://other.example.com/webhooks/whatsapp"},
		{"WebhookElsewhere", func(r *rig) {
			r.graph.AddPhoneNumber(testNumber, graphtest.PhoneNumber{CallbackURL: "https://old.example.com/hook"})
		}, nil, public, [3]bool{true, true, false}, "webhooks go to https://old.example.com/hook, not " + public + "/webhooks/whatsapp"},
		{"WebhookNotAtOurPath", func(r *rig) {
			r.graph.AddPhoneNumber(testNumber, graphtest.PhoneNumber{CallbackURL: "https://old.example.com/hook"})
		}, nil, "", [3]bool{true, true, false}, "not a /webhooks/whatsapp"},
		{"NoCallbackURL", func(r *rig) { r.graph.AddPhoneNumber(testNumber, graphtest.PhoneNumber{}) }, nil, public,
			[3]bool{true, true, false}, "no callback URL is set"},
		{"TokenRefused", func(r *rig) {
			r.graph.AddPhoneNumber(testNumber, graphtest.PhoneNumber{CallbackURL: public + "/webhooks/whatsapp"})
			r.graph.SetToken("renewed")
		}, nil, public, [3]bool{true, false, false}, "the access token was refused"},
		{"UnknownNumber", nil, nil, public, [3]bool{true, false, false}, "phone number id " + testNumber + " is unknown"},
		{"Unreachable", nil, func(c *whatsapp.Config) { c.APIURL = "http://127.0.0.1:1/v23.0" }, public, [3]bool{false, false, false}, "did not answer"},
		{"NoNumber", nil, func(c *whatsapp.Config) { c.PhoneNumberID = "" }, public, [3]bool{false, false, false}, "WHATSAPP_PHONE_NUMBER_ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, tt.change)
			if tt.setup != nil {
				tt.setup(r)
			}
			got := r.ch.Check(t.Context(), tt.publicURL)
			if len(got) != 3 {
				t.Fatalf("checks %+v, want three", got)
			}
			var all []string
			for i, c := range got {
				if want := []string{channels.CheckReachable, channels.CheckCredentials, channels.CheckWebhook}[i]; c.What != want {
					t.Errorf("check %d is %q, want %q", i, c.What, want)
				}
				if c.OK != tt.ok[i] {
					t.Errorf("%s ok = %v, want %v (%s)", c.What, c.OK, tt.ok[i], c.Detail)
				}
				if c.Detail == "" {
					t.Errorf("%s without a detail", c.What)
				}
				all = append(all, c.Detail)
			}
			if s := strings.Join(all, " | "); !strings.Contains(s, tt.detail) {
				t.Errorf("details %q, want %q in them", s, tt.detail)
			}
		})
	}
}
