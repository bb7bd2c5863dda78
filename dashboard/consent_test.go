package dashboard_test

import (
	"testing"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/dashboard"
	"github.com/chatcampaigns/campaign/engine"
)

// TestCampaignConsentCounts: the campaign page says how many were asked for consent without
// a yes yet, and how many said no; a campaign without consent says nothing of it.
func TestCampaignConsentCounts(t *testing.T) {
	h := newHarness(t)
	h.MustUser("mod", dashboard.RoleModerator)
	h.MustLogin("mod")
	if n := MustDoc(t, h.Get("/dashboard/campaigns/bouncer")).Find(".consent-counts").Length(); n != 0 {
		t.Errorf("a campaign without consent shows %d consent counts", n)
	}
	h.camps.mu.Lock()
	h.camps.list[0].Def.Consent = campaigns.Text{"en": "OK?"}
	h.camps.list[0].Counts[engine.StateConsent] = 2
	h.camps.list[0].Counts[engine.StateDeclined] = 5
	h.camps.mu.Unlock()
	doc := MustDoc(t, h.Get("/dashboard/campaigns/bouncer"))
	if asked, declined := doc.Find(".consent-counts .asked").Text(), doc.Find(".consent-counts .declined").Text(); asked != "2" || declined != "5" {
		t.Errorf("consent counts asked %q declined %q, want 2 and 5", asked, declined)
	}
}
