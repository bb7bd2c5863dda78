package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/chatcampaigns/campaign/channels/whatsapp/graphtest"
)

func TestChannelsCheck(t *testing.T) {
	const public = "https://campaign.example.com"
	graph := graphtest.New(t)
	graph.AddPhoneNumber(waNumber, graphtest.PhoneNumber{Display: "+31 6 1234 5678", VerifiedName: "Sven", CallbackURL: public + "/webhooks/whatsapp"})
	env := func(change map[string]string) func(string) string {
		vars := map[string]string{"WHATSAPP_API_URL": graph.APIURL, "WHATSAPP_ACCESS_TOKEN": graphtest.Token,
			"WHATSAPP_APP_SECRET": waSecret, "WHATSAPP_VERIFY_TOKEN": "verify", "WHATSAPP_PHONE_NUMBER_ID": waNumber}
		for k, v := range change {
			vars[k] = v
		}
		return func(k string) string { return vars[k] }
	}
	tests := []struct {
		name   string
		args   []string
		env    func(string) string
		code   int
		output []string
	}{
		{"AllSetUp", []string{"--public-url", public}, env(nil), 0, []string{
			"whatsapp\n", "  ok    reachable", "  ok    credentials  token accepted for +31 6 1234 5678 \"Sven\"",
			"  ok    webhook      webhooks go to " + public + "/webhooks/whatsapp"}},
		{"PublicURLFromTheEnvironment", nil, env(map[string]string{"CAMPAIGN_PUBLIC_URL": "https://elsewhere.example.com"}), 1, []string{
			"  FAIL  webhook      webhooks go to " + public + "/webhooks/whatsapp, not https://elsewhere.example.com/webhooks/whatsapp"}},
		{"TokenRefused", nil, env(map[string]string{"WHATSAPP_ACCESS_TOKEN": "stale"}), 1, []string{
			"  ok    reachable", "  FAIL  credentials  the access token was refused", "  FAIL  webhook      not checked"}},
		{"Unreachable", nil, env(map[string]string{"WHATSAPP_API_URL": "http://127.0.0.1:1/v23.0"}), 1, []string{"  FAIL  reachable"}},
		{"NothingConfigured", nil, func(string) string { return "" }, 1, []string{"whatsapp: not configured (set WHATSAPP_ACCESS_TOKEN"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(t.Context(), append([]string{"channels", "check"}, tt.args...), &out, &errOut, tt.env)
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tt.code, out.String(), errOut.String())
			}
			for _, want := range tt.output {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output\n%s\nwant it to contain %q", out.String(), want)
				}
			}
		})
	}
	if code, _, errOut := runCLI(t, "channels", "dance"); code != 2 || !strings.Contains(errOut, "usage: campaign channels check") {
		t.Errorf("channels dance: exit %d, %q; want usage and exit 2", code, errOut)
	}
}
