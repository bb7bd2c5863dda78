package dashboard_test

import (
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/dashboard"
	"github.com/chatcampaigns/campaign/engine"
)

// TestLiveOutsideScheduleIsNotShownLive: a live campaign whose schedule has not started, or
// has ended, reads "scheduled" or "ended" (with the dates), not "live".
func TestLiveOutsideScheduleIsNotShownLive(t *testing.T) {
	h := newHarness(t) // its clock reads 2026-03-01 20:00 UTC
	h.MustUser("mod", dashboard.RoleModerator)
	h.MustLogin("mod")
	ams, _ := time.LoadLocation("Europe/Amsterdam")
	campaign := func(id string, s campaigns.Schedule) dashboard.CampaignInfo {
		s.Location = ams
		return dashboard.CampaignInfo{Status: engine.StatusLive, Counts: map[string]int{}, Def: &campaigns.Definition{
			ID: id, Title: id, Version: "v1", Start: "a", Order: []string{"a"}, Schedule: s,
			States: map[string]*campaigns.State{"a": {Name: "a", Final: true}}}}
	}
	h.camps.list = append(h.camps.list,
		campaign("spring", campaigns.Schedule{Start: time.Date(2026, 4, 1, 0, 0, 0, 0, ams)}),
		campaign("winter", campaigns.Schedule{End: time.Date(2026, 2, 1, 0, 0, 0, 0, ams)}),
		campaign("quiz", campaigns.Schedule{End: time.Date(2026, 3, 1, 0, 0, 0, 0, ams), HardStop: time.Date(2026, 3, 2, 0, 0, 0, 0, ams)}),
		campaign("summer", campaigns.Schedule{End: time.Date(2026, 9, 1, 0, 0, 0, 0, ams)}),
	)
	tests := []struct{ id, shown, note string }{
		{"spring", "scheduled", "Opens to participants on Wednesday 1 April 2026, 00:00 (Europe/Amsterdam)."},
		{"winter", "ended", "Closed to newcomers on Sunday 1 February 2026, 00:00 (Europe/Amsterdam); those who joined before play on until the campaign is closed."},
		{"quiz", "ended", "Closed to newcomers on Sunday 1 March 2026, 00:00 (Europe/Amsterdam); those who joined before play on until Monday 2 March 2026, 00:00 (Europe/Amsterdam)."},
		{"summer", "live", "Open to newcomers until Tuesday 1 September 2026, 00:00 (Europe/Amsterdam)."},
		{"bouncer", "live", ""},
	}
	list := MustDoc(t, h.Get("/dashboard/campaigns"))
	for _, tt := range tests {
		if got := list.Find(`tr.campaign[data-id=` + tt.id + `] .status`).Text(); got != tt.shown {
			t.Errorf("%s listed as %q, want %q", tt.id, got, tt.shown)
		}
		page := MustDoc(t, h.Get("/dashboard/campaigns/"+tt.id))
		if got := page.Find("strong.status").Text(); got != tt.shown {
			t.Errorf("%s page says %q, want %q", tt.id, got, tt.shown)
		}
		if got := page.Find(".schedule").Text(); got != tt.note {
			t.Errorf("%s schedule note %q, want %q", tt.id, got, tt.note)
		}
	}
}
