package main

import (
	"context"
	"github.com/chatcampaigns/campaign/accounts"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chatcampaigns/campaign/dashboard"
	"github.com/chatcampaigns/campaign/engine"
)

const judgedCampaign = `id: judged
channels: [webchat]
start: wait
rubric:
  scale: {min: 1, max: 10}
  criteria:
    - {name: Originality}
    - {name: Craft}
judging:
  score_lock: 5m
states:
  wait:
    say: Send a photo.
    on:
      - media: photo
        goto: review
  review:
    say: Thanks, the jury looks at it.
    on:
      - verdict: approved
        goto: done
  done:
    say: Approved!
    final: true
`

// TestBrowserClaimAndScore: one moderator opens an entry and so claims it; a second one, in
// a browser of their own, sees who is judging it and has their verdict refused; the first
// scores it and approves it.
func TestBrowserClaimAndScore(t *testing.T) {
	chrome := chromium(t)
	dir := t.TempDir()
	def := filepath.Join(dir, "judged.yaml")
	if err := os.WriteFile(def, []byte(judgedCampaign), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, clock := startServer(t, filepath.Join(dir, "data"), func(c *Config) { c.Campaigns = []string{def} })
	ctx := context.Background()
	if _, err := accounts.AddUser(ctx, srv.db, "ben", "ben's long password", dashboard.RoleModerator); err != nil {
		t.Fatal(err)
	}
	now := clock.Now()
	p := engine.Participant{ID: "p-judged-1", Campaign: "judged", Channel: "webchat", Address: "browser-1", State: "review",
		Vars: map[string]string{}, Version: 1, CreatedAt: now, UpdatedAt: now}
	e := engine.Entry{ID: "e-judged-1", Campaign: "judged", ParticipantID: p.ID, State: "wait", Kind: "photo", MIME: "image/png",
		MediaKey: "none/e-judged-1.png", Caption: "my best shot", CreatedAt: now}
	if err := srv.db.Commit(ctx, engine.Step{Participant: p, Created: true, Entries: []engine.Entry{e}}); err != nil {
		t.Fatal(err)
	}

	admin := startChromium(t, chrome, 60*time.Second)
	// ben's own browser context: cookies of his own, as on another computer.
	ben, cancelBen := chromedp.NewContext(admin, chromedp.WithNewBrowserContext())
	defer cancelBen()

	login := func(c context.Context, name, password string) error {
		return chromedp.Do(c,
			chromedp.Navigate(srv.URL()+"/dashboard/login"),
			chromedp.WaitVisible(chromedp.CSS("#username")),
			chromedp.SendKeys(chromedp.CSS("#username"), name),
			chromedp.SendKeys(chromedp.CSS("#password"), password),
			chromedp.Click(chromedp.CSS(`button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(".entries")),
		)
	}
	text := func(c context.Context, sel string) string {
		s, err := chromedp.Run(c, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	page := srv.URL() + "/dashboard/entries/" + e.ID

	if err := login(admin, "admin", srv.adminPassword); err != nil {
		t.Fatalf("admin logs in: %v", err)
	}
	if err := chromedp.Do(admin, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS(".claim-mine"))); err != nil {
		t.Fatalf("admin opens the entry: %v", err)
	}
	if got := text(admin, ".claim-mine"); !strings.Contains(got, "You are judging this entry") {
		t.Errorf("admin's claim = %q", got)
	}

	if err := login(ben, "ben", "ben's long password"); err != nil {
		t.Fatalf("ben logs in: %v", err)
	}
	if err := chromedp.Do(ben, chromedp.WaitVisible(chromedp.CSS(".entry .claim"))); err != nil {
		t.Fatalf("ben's queue: %v", err)
	}
	if got := text(ben, ".entry .claim"); !strings.Contains(got, "admin is judging this") {
		t.Errorf("ben's queue says %q", got)
	}
	buttons, err := chromedp.Run(ben, chromedp.Evaluate[int](`document.querySelectorAll('.entry button.approve').length`))
	if err != nil || buttons != 0 {
		t.Errorf("ben's queue offers %d approve buttons on the entry admin has open (%v), want none", buttons, err)
	}
	// A form ben loaded before admin opened the entry is refused with who has it.
	if err := chromedp.Do(ben, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS(".claim-other"))); err != nil {
		t.Fatalf("ben opens the entry: %v", err)
	}
	refused, err := chromedp.Run(ben, chromedp.Evaluate[string](`fetch('/dashboard/entries/`+e.ID+`/approve', {method: 'POST', redirect: 'follow',
		body: new URLSearchParams({csrf: document.querySelector('input[name=csrf]').value, back: location.pathname})}).then(r => r.text())`,
		chromedp.EvalAwaitPromise))
	if err != nil || !strings.Contains(refused, "Not decided: admin is judging this entry") {
		t.Errorf("ben's stale approve: %v, page holds the refusal: %v", err, strings.Contains(refused, "Not decided"))
	}
	// The entry as ben sees it while admin has it open.
	if dir := os.Getenv("CAMPAIGN_SCREENSHOTS"); dir != "" {
		chromedp.Do(ben, chromedp.Navigate(page))
		if png, err := chromedp.Run(ben, chromedp.FullScreenshot(100)); err == nil {
			os.WriteFile(filepath.Join(dir, "judging-entry.png"), png, 0o644)
		}
	}

	if err := chromedp.Do(admin,
		chromedp.SendKeys(chromedp.CSS("#score-0"), "7"),
		chromedp.SendKeys(chromedp.CSS("#score-1"), "8"),
		chromedp.Click(chromedp.CSS("button.save-score")),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	); err != nil {
		t.Fatalf("admin scores: %v", err)
	}
	if got := text(admin, ".flash"); got != "Scores saved." {
		t.Errorf("admin's score flash = %q", got)
	}
	if got := text(admin, ".score-lock"); !strings.Contains(got, "You may change your scores until") {
		t.Errorf("lock hint = %q", got)
	}
	// The page still shows the score's flash until the approval's page replaces it: take it
	// away first, so the wait is for the new page's flash.
	if _, err := chromedp.Run(admin, chromedp.Evaluate[bool](`document.querySelector(".flash")?.remove(); true`)); err != nil {
		t.Fatalf("take the score's flash away: %v", err)
	}
	if err := chromedp.Do(admin, chromedp.Click(chromedp.CSS(".actions button.approve")), chromedp.WaitVisible(chromedp.CSS(".flash"))); err != nil {
		t.Fatalf("admin approves: %v", err)
	}
	if got := text(admin, ".flash"); !strings.Contains(got, "approved") {
		t.Errorf("admin's approve flash = %q", got)
	}
	if got, err := srv.db.Entry(ctx, e.ID); err != nil || got.Status != "approved" || got.DecidedBy != "admin" {
		t.Errorf("entry = %+v, %v", got, err)
	}
}
