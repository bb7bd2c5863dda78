package webchat_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chatcampaigns/campaign/campaigns"
)

// TestCampaignNotOnTheWebChat: the link of a campaign that runs elsewhere says so, and how to
// join it there, instead of "has ended or the link is mistyped".
func TestCampaignNotOnTheWebChat(t *testing.T) {
	h := MustHarness(t)
	for _, file := range []string{"news", "fridge"} {
		def, probs := campaigns.LoadFile("../../campaigns/examples/" + file + ".yaml")
		if probs.HasErrors() {
			t.Fatal(probs)
		}
		h.eng.defs[def.ID] = def
	}
	tests := []struct {
		path string
		want []string
	}{
		{"/play/news", []string{"NRC Q nieuwsupdates", "runs on WhatsApp", "NRCQ ON"}},
		{"/play/fridge", []string{"runs on WhatsApp", `href="/optin/fridge"`}},
		{"/play/nope", []string{"mistyped"}},
	}
	for _, tt := range tests {
		resp := h.Do(t, httptest.NewRequest("GET", tt.path, nil))
		b, _ := io.ReadAll(resp.Body)
		body := string(b)
		if resp.StatusCode != 404 {
			t.Errorf("%s: status %d, want 404", tt.path, resp.StatusCode)
		}
		for _, w := range tt.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: page lacks %q:\n%s", tt.path, w, body)
			}
		}
		if tt.path != "/play/nope" && strings.Contains(body, "has ended") {
			t.Errorf("%s: says the campaign has ended:\n%s", tt.path, body)
		}
	}
}
