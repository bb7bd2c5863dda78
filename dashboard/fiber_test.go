package dashboard_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chatcampaigns/campaign/dashboard"
)

// TestStatusSurvivesLaterRequests: the status the dashboard hands to the engine is the
// engine's to keep. Fiber's strings point into request buffers it reuses (the app here runs
// without Immutable, as any app mounting the dashboard may): kept without a copy, a paused
// campaign's status read "/das" a few pages later and "Make live" came back.
func TestStatusSurvivesLaterRequests(t *testing.T) {
	h := newHarness(t)
	h.MustUser("boss", dashboard.RoleAdmin)
	h.MustLogin("boss")
	for _, want := range []string{"paused", "closed", "live"} {
		wantStatus(t, h.Submit("/dashboard/campaigns/bouncer/status", url.Values{"status": {want}}), http.StatusSeeOther)
		for i := range 30 {
			junk := strings.Repeat(fmt.Sprintf("/dashboard/%d/", i), 1+i%4)
			h.Get("/dashboard/campaigns?x=" + url.QueryEscape(junk))
			h.Submit("/dashboard/entries/e"+fmt.Sprint(i)+"/reject", url.Values{"back": {junk}, "reason": {junk}})
			h.Submit("/dashboard/campaigns/race/status", url.Values{"status": {junk}, "back": {junk}})
		}
		h.camps.mu.Lock()
		got, id := h.camps.list[0].Status, h.camps.list[0].Def.ID
		h.camps.mu.Unlock()
		if got != want || id != "bouncer" {
			t.Errorf("after setting %s and more requests the campaign %q is %q", want, id, got)
		}
		if s := MustDoc(t, h.Get("/dashboard/campaigns/bouncer")).Find("strong.status").Text(); s != want {
			t.Errorf("after setting %s the page shows %q", want, s)
		}
	}
}

// TestCountsAgreeWithTheirNouns: "1 participant", "1 team has", never "1 participants".
func TestCountsAgreeWithTheirNouns(t *testing.T) {
	h := newHarness(t)
	h.MustUser("boss", dashboard.RoleAdmin)
	h.casts.queued = 1
	h.MustEntryIn("race", "harbour", "unscored")
	h.MustLogin("boss")
	resp := h.Submit("/dashboard/campaigns/race/broadcast", url.Values{"text": {"hi"}})
	if got := MustDoc(t, h.Follow(resp)).Find(".flash").Text(); got != "Broadcast queued for 1 participant." {
		t.Errorf("broadcast flash = %q", got)
	}
	resp = h.Submit("/dashboard/campaigns/race/rounds/harbour/advance", url.Values{"n": {"1"}})
	if got := MustDoc(t, h.Follow(resp)).Find(".flash-error").Text(); !strings.Contains(got, "1 team has entries nobody scored") {
		t.Errorf("advance flash = %q", got)
	}
}
