package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/chatcampaigns/campaign/channels/messenger/messengertest"
)

// TestChannelsCheckMessenger: `campaign channels check` asks the Graph API about the Page,
// its webhook subscriptions, and makes the verify handshake at the public URL.
func TestChannelsCheckMessenger(t *testing.T) {
	api := messengertest.New(t)
	srv, _ := startServer(t, t.TempDir(), func(c *Config) {
		c.Messenger = MessengerConfig{APIURL: api.APIURL, PageToken: messengertest.Token, AppSecret: fbSecret, VerifyToken: "verify-fb"}
	})
	env := func(change map[string]string) func(string) string {
		vars := map[string]string{"MESSENGER_API_URL": api.APIURL, "MESSENGER_PAGE_TOKEN": messengertest.Token,
			"MESSENGER_APP_SECRET": fbSecret, "MESSENGER_VERIFY_TOKEN": "verify-fb"}
		for k, v := range change {
			vars[k] = v
		}
		return func(k string) string { return vars[k] }
	}
	tests := []struct {
		name   string
		setup  func()
		args   []string
		env    func(string) string
		code   int
		output []string
	}{
		{"AllSetUp", nil, []string{"--public-url", srv.URL()}, env(nil), 0, []string{
			"whatsapp: not configured", "messenger\n", "  ok    reachable",
			"  ok    credentials  page token accepted for the Page \"" + messengertest.PageName + "\"",
			"  ok    webhook      the Page is subscribed to messages, messaging_postbacks, message_deliveries; the handshake at " + srv.URL() + "/webhooks/messenger answers"}},
		{"WithoutAPublicURL", nil, nil, env(nil), 0, []string{"  ok    webhook      the Page is subscribed to", "give --public-url"}},
		{"AnotherVerifyToken", nil, []string{"--public-url", srv.URL()}, env(map[string]string{"MESSENGER_VERIFY_TOKEN": "other"}), 1, []string{
			"  FAIL  webhook      the handshake at " + srv.URL() + "/webhooks/messenger failed: HTTP 403"}},
		{"NotSubscribed", func() { api.SetSubscribedFields("messages") }, nil, env(nil), 1, []string{
			"  FAIL  webhook      the Page is not subscribed to messaging_postbacks, message_deliveries"}},
		{"TokenRefused", nil, nil, env(map[string]string{"MESSENGER_PAGE_TOKEN": "stale"}), 1, []string{
			"  ok    reachable", "  FAIL  credentials  the page token was refused", "  FAIL  webhook      not checked"}},
		{"Unreachable", nil, nil, env(map[string]string{"MESSENGER_API_URL": "http://127.0.0.1:1/v23.0"}), 1, []string{"  FAIL  reachable"}},
		{"NotConfigured", nil, nil, func(string) string { return "" }, 1, []string{"messenger: not configured (set MESSENGER_PAGE_TOKEN"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				tt.setup()
			}
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
}
