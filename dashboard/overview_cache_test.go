package dashboard_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/dashboard"
	"github.com/chatcampaigns/campaign/reports"
)

// countingReports records from which day the overview counts entries and replies.
type countingReports struct {
	dashboard.Reports
	mu    sync.Mutex
	since []string
}

func (c *countingReports) EntryDays(ctx context.Context, campaign string, since, until time.Time) ([]reports.EntryDay, error) {
	c.mu.Lock()
	days := since.Format("Jan 2") + "-"
	if !until.IsZero() {
		days += until.Format("Jan 2")
	}
	c.since = append(c.since, days)
	c.mu.Unlock()
	return c.Reports.EntryDays(ctx, campaign, since, until)
}

func (c *countingReports) counted() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.since
	c.since = nil
	return out
}

// TestOverviewCountsOlderDaysLessOften: the first view counts the 14 days of the charts; a
// view a minute later counts only today and yesterday again; ten minutes after a day was
// counted, the next view counts it again, one older day a view. Every first view of a minute
// counted all 14 days (a quarter of a second on a large campaign).
func TestOverviewCountsOlderDaysLessOften(t *testing.T) {
	spy := &countingReports{}
	h := newHarness(t, func(h *harness, c *dashboard.Config) {
		spy.Reports = h.db
		c.Reports = spy
	})
	h.MustUser("mod", "moderator")
	h.MustLogin("mod")
	received := func() string {
		return MustDoc(t, h.Get("/dashboard/campaigns/bouncer")).Find(".entries-received").Text()
	}
	h.MustEntry("today") // the harness's clock: 1 March, 20:00 UTC
	for _, step := range []struct {
		advance  time.Duration
		counted  []string
		received string
	}{
		{0, []string{"Feb 16-"}, "1"},                                // every day
		{30 * time.Second, nil, "1"},                                 // within the minute: from memory
		{time.Minute, []string{"Feb 28-"}, "2"},                      // today and yesterday again
		{9 * time.Minute, []string{"Feb 16-Feb 17", "Feb 28-"}, "2"}, // and the day counted longest ago
		{time.Minute, []string{"Feb 17-Feb 18", "Feb 28-"}, "2"},     // the next older day
		{4 * time.Hour, []string{"Feb 28-"}, "2"},                    // past midnight: the day that left the live ones, and those
	} {
		h.clock.Advance(step.advance)
		if got := received(); got != step.received {
			t.Errorf("after %v: received %q, want %q", step.advance, got, step.received)
		}
		if got := spy.counted(); !slices.Equal(got, step.counted) {
			t.Errorf("after %v: counted %q, want %q", step.advance, got, step.counted)
		}
		if step.advance == 30*time.Second {
			h.MustEntry("a second one today")
		}
	}
}
