package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/judge"
)

// TestBrowserShortlistAndDraw: in Chromium, a moderator presses a on a photo contest entry in
// the queue, which shortlists it (the state takes shortlisted, not approved); an admin then
// commits to a draw among the approved entries, closes it, and sees the winner.
func TestBrowserShortlistAndDraw(t *testing.T) {
	chrome := chromium(t)
	srv, _ := startServer(t, t.TempDir(), func(c *Config) { c.Campaigns = []string{"../../campaigns/examples/photocontest.yaml"} })
	def, _ := srv.engine.Campaign("photocontest")
	pending, pendingEntry := mustWaitingEntry(t, srv, def, "ask_photo", "entered", 1)
	for i := 2; i <= 3; i++ {
		pid, id := mustWaitingEntry(t, srv, def, "ask_photo", "entered", i)
		// Approved earlier (the entries of a contest whose approved step is elsewhere).
		err := srv.db.Decide(context.Background(), judge.Decision{EntryID: id, Verdict: judge.StatusApproved, By: "admin", At: srv.now()},
			engine.Inbound{Channel: "judge", PlatformID: "verdict:" + id, Campaign: def.ID, ParticipantID: pid,
				Kind: engine.KindVerdict, Verdict: judge.StatusApproved, EntryID: id, At: srv.now()})
		if err != nil {
			t.Fatal(err)
		}
	}

	tab := startChromium(t, chrome, 60*time.Second)

	if err := chromedp.Do(tab,
		chromedp.Navigate(srv.URL()+"/dashboard/"),
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), "admin"),
		chromedp.SendKeys(chromedp.CSS("#password"), srv.adminPassword),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`li.entry[data-id="`+pendingEntry+`"] button.verdict-shortlisted`)),
		chromedp.KeyEvent("j"),
		chromedp.KeyEvent("a"),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	); err != nil {
		t.Fatalf("shortlist with the a key: %v", err)
	}
	if e := mustEntry(t, srv, pendingEntry); e.Status != campaigns.VerdictShortlisted {
		t.Fatalf("entry after a: %s, want shortlisted", e.Status)
	}
	waitState(t, srv, pending, "shortlisted")

	if err := chromedp.Do(tab,
		chromedp.Navigate(srv.URL()+"/dashboard/campaigns/photocontest"),
		chromedp.Click(chromedp.CSS("a.draws-link")),
		chromedp.WaitVisible(chromedp.CSS("#draw-name")),
		chromedp.SendKeys(chromedp.CSS("#draw-name"), "summer-kits"),
		chromedp.Click(chromedp.CSS("button.commit-draw")),
		chromedp.WaitVisible(chromedp.CSS("code.eligible-sha256")),
	); err != nil {
		t.Fatalf("commit to a draw: %v", err)
	}
	count, _ := chromedp.Run(tab, chromedp.Text(chromedp.CSS(".eligible-count")))
	if !strings.HasPrefix(count, "2 participants") {
		t.Errorf("eligible: %q, want the 2 approved", count)
	}
	shot := func(name string) {
		if dir := os.Getenv("CAMPAIGN_SCREENSHOTS"); dir != "" {
			if png, err := chromedp.Run(tab, chromedp.FullScreenshot(100)); err == nil {
				os.WriteFile(filepath.Join(dir, name), png, 0o644)
			}
		}
	}
	shot("draw-committed.png")
	if err := chromedp.Do(tab,
		chromedp.Click(chromedp.CSS("button.close-draw")),
		chromedp.WaitVisible(chromedp.CSS("ol.drawn li.winner")),
	); err != nil {
		t.Fatalf("close the draw: %v", err)
	}
	shot("draw-closed.png")
	r, err := srv.db.Draw(context.Background(), "photocontest", "summer-kits")
	if err != nil || len(r.Drawn) != 1 {
		t.Fatalf("stored draw: %+v, %v", r, err)
	}
}
