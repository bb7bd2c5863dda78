package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chatcampaigns/campaign/channels/whatsapp/graphtest"
)

// screenshotDir is where the page tests write their screenshots: CAMPAIGN_SCREENSHOTS when
// set (docs/images is made from there), else a folder the test removes.
func screenshotDir(t *testing.T) string {
	if dir := os.Getenv("CAMPAIGN_SCREENSHOTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.TempDir()
}

// browserPage is one dashboard page the tour visits, and an element it must show.
type browserPage struct {
	name, path, sel string
}

// TestBrowserEveryPage plays the bouncer in the web chat, then visits every dashboard page
// as an admin, on a desktop and on a 375 px phone: each page shows what it is for, and none
// is wider than the phone's screen. It replies to the participant from the inbox and sends a
// broadcast, as a moderator and a marketer do, and screenshots each page.
func TestBrowserEveryPage(t *testing.T) {
	chrome := chromium(t)
	// WhatsApp is connected (to the fake Graph API) so that the numbers page has a number.
	graph := graphtest.New(t)
	graph.AddPhoneNumber(waNumber, graphtest.PhoneNumber{Display: "+1 555-000-1111", Limit: "TIER_2K", Quality: "YELLOW"})
	srv, clock := startServer(t, t.TempDir(), func(c *Config) {
		c.WhatsApp = WhatsAppConfig{APIURL: graph.APIURL, AccessToken: graphtest.Token, AppSecret: waSecret,
			VerifyToken: "verify-me", PhoneNumberID: waNumber}
		c.NumberCheck = time.Hour
	})
	runClockFast(t, clock)
	photo := filepath.Join(t.TempDir(), "me.png")
	if err := os.WriteFile(photo, testPNG(t), 0o600); err != nil {
		t.Fatal(err)
	}
	shots := screenshotDir(t)
	chat := startChromium(t, chrome, 120*time.Second)
	if err := chromedp.Do(chat, playBouncerPhoto(srv.URL(), photo)...); err != nil {
		t.Fatalf("play in the web chat: %v", err)
	}

	dash, cancelDash := chromedp.NewContext(chat)
	defer cancelDash()
	if err := chromedp.Do(dash,
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(srv.URL()+"/dashboard/login"),
		chromedp.WaitVisible(chromedp.CSS("#username")),
	); err != nil {
		t.Fatalf("open the login page: %v", err)
	}
	shoot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(dash, chromedp.FullScreenshot(100))
		if err != nil {
			t.Errorf("screenshot %s: %v", name, err)
			return
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Error(err)
		}
	}
	shoot("login")
	if err := chromedp.Do(dash,
		chromedp.SendKeys(chromedp.CSS("#username"), "admin"),
		chromedp.SendKeys(chromedp.CSS("#password"), srv.adminPassword),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".entry img.thumb")),
	); err != nil {
		t.Fatalf("log in: %v", err)
	}
	entry, err := chromedp.Run(dash, chromedp.Evaluate[string](`document.querySelector('.entry').dataset.id`))
	if err != nil {
		t.Fatal(err)
	}
	// The moderator finds the participant in the inbox and answers as the persona.
	if err := chromedp.Do(dash,
		chromedp.Navigate(srv.URL()+"/dashboard/inbox"),
		chromedp.WaitVisible(chromedp.CSS("tr.conversation.unread a")),
	); err != nil {
		t.Fatalf("the inbox: %v\n%s", err, dump(dash))
	}
	open, err := chromedp.Run(dash, chromedp.Evaluate[string](`document.querySelector('tr.conversation a').href`))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(dash,
		chromedp.Navigate(open),
		chromedp.WaitVisible(chromedp.CSS(".transcript img")),
		chromedp.SendKeys(chromedp.CSS("#reply"), "Nice photo. Wait here."),
		chromedp.Click(chromedp.CSS("button.send")),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
		waitText(".flash", "Reply sent"),
	); err != nil {
		t.Fatalf("reply from the inbox: %v\n%s", err, dump(dash))
	}
	pid, err := chromedp.Run(dash, chromedp.Evaluate[string](`location.pathname.split('/').pop()`))
	if err != nil {
		t.Fatal(err)
	}
	// The moderator takes the conversation on: it is theirs in the inbox.
	if err := chromedp.Do(dash,
		chromedp.Click(chromedp.CSS("form.assign-me button")),
		// The page before had no assignee: this waits for the page the form leads to.
		chromedp.WaitVisible(chromedp.CSS(".assignee strong")),
		waitText(".assignee strong", "admin"),
		waitText(".flash", "Assigned to admin."),
		chromedp.Navigate(srv.URL()+"/dashboard/inbox?assigned=me"),
		waitJS(`document.querySelector(`+jsString(`tr.conversation[data-participant="`+pid+`"] td.assignee`)+`)?.textContent.trim() === "admin"`),
	); err != nil {
		t.Fatalf("assign the conversation: %v\n%s", err, dump(dash))
	}
	if err := chromedp.Do(chat, waitText(".msg.out", "Nice photo. Wait here.")); err != nil {
		t.Fatalf("the reply reaches the web chat: %v\n%s", err, dump(chat))
	}
	// The conversation is read now.
	if err := chromedp.Do(dash,
		chromedp.Navigate(srv.URL()+"/dashboard/inbox"),
		chromedp.WaitVisible(chromedp.CSS("tr.conversation")),
	); err != nil {
		t.Fatal(err)
	}
	if n, _ := chromedp.Run(dash, chromedp.Evaluate[int](`document.querySelectorAll('tr.conversation.unread').length`)); n != 0 {
		t.Errorf("%d conversations unread after replying", n)
	}
	// The marketer broadcasts to those waiting in judging; the history shows it.
	if err := chromedp.Do(dash,
		chromedp.Navigate(srv.URL()+"/dashboard/campaigns/bouncer"),
		chromedp.WaitVisible(chromedp.CSS("#broadcast-text")),
		chromedp.SetValue(chromedp.CSS("#broadcast-state"), "judging"),
		chromedp.SendKeys(chromedp.CSS("#broadcast-text"), "The boss is looking at your photos now."),
		chromedp.Click(chromedp.CSS("button.send-broadcast")),
		chromedp.WaitVisible(chromedp.CSS("form.confirm-broadcast")),
		waitText(".plan-counts .in-window", "1"),
	); err != nil {
		t.Fatalf("broadcast plan: %v\n%s", err, dump(dash))
	}
	shoot("broadcast-plan")
	if wide, _ := chromedp.Run(dash, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); wide > 1280 {
		t.Errorf("the plan page is %d px wide", wide)
	}
	if err := chromedp.Do(dash,
		chromedp.Click(chromedp.CSS("button.confirm")),
		chromedp.WaitVisible(chromedp.CSS(".broadcast-status")),
		waitText(".flash", "Broadcast started: 1 participant planned"),
	); err != nil {
		t.Fatalf("broadcast: %v\n%s", err, dump(dash))
	}
	if err := chromedp.Do(chat, waitText(".msg.out", "The boss is looking at your photos now.")); err != nil {
		t.Fatalf("the broadcast reaches the web chat: %v\n%s", err, dump(chat))
	}
	broadcast, err := chromedp.Run(dash, chromedp.Evaluate[string](`location.pathname`))
	if err != nil {
		t.Fatal(err)
	}
	// Live: the open inbox shows the participant's next message without a reload.
	if err := chromedp.Do(dash,
		chromedp.Navigate(srv.URL()+"/dashboard/inbox"),
		chromedp.WaitVisible(chromedp.CSS("tr.conversation")),
	); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(chat,
		chromedp.SendKeys(chromedp.CSS("#text"), "Are you still there?"),
		chromedp.Click(chromedp.CSS("#send")),
	); err != nil {
		t.Fatalf("write again: %v", err)
	}
	if err := chromedp.Do(dash, waitText("tr.conversation.unread .snippet", "Are you still there?")); err != nil {
		t.Fatalf("the inbox did not show the new message by itself: %v\n%s", err, dump(dash))
	}
	pages := []browserPage{
		{"inbox", "/dashboard/inbox", "tr.conversation"},
		{"broadcast", broadcast, "tr.recipient"},
		{"broadcasts", "/dashboard/campaigns/bouncer/broadcasts", "tr.broadcast"},
		{"participants", "/dashboard/campaigns/bouncer/participants?state=judging", "tr.participant"},
		{"entries", "/dashboard/entries", ".entry img.thumb"},
		{"entry", "/dashboard/entries/" + entry, ".media-full"},
		{"campaigns", "/dashboard/campaigns", "table.campaigns"},
		{"campaign", "/dashboard/campaigns/bouncer", "svg.flow-diagram"},
		{"deliveries", "/dashboard/campaigns/bouncer/deliveries", "table.delivery-counts"},
		{"conversations", "/dashboard/conversations", "h1"},
		{"scores", "/dashboard/campaigns/bouncer/scores", "h1"},
		{"users", "/dashboard/users", "form.add-user"},
		{"numbers", "/dashboard/numbers", "tr.number"},
		{"prices", "/dashboard/prices", "form.prices-form"},
	}
	pages = append(pages, browserPage{"participant", "/dashboard/campaigns/bouncer/participants/" + pid, ".transcript img"})
	viewport := func(width int64) chromedp.Action[chromedp.Void] {
		if width < 500 {
			return chromedp.EmulateViewport(width, 800, chromedp.EmulateMobile, chromedp.EmulatePortrait)
		}
		return chromedp.EmulateViewport(width, 800)
	}
	for _, p := range pages {
		for _, width := range []int64{1280, 375} {
			name := p.name
			if width < 500 {
				name += "-phone"
			}
			if err := chromedp.Do(dash,
				viewport(width),
				chromedp.Navigate(srv.URL()+p.path),
				chromedp.WaitVisible(chromedp.CSS(p.sel)),
			); err != nil {
				t.Errorf("%s at %d px: %v\n%s", p.path, width, err, dump(dash))
				continue
			}
			wide, err := chromedp.Run(dash, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
			if err != nil {
				t.Fatal(err)
			}
			if wide > int(width) {
				t.Errorf("%s at %d px is %d px wide: it scrolls sideways", p.path, width, wide)
			}
			shoot(name)
		}
	}
	// The export downloads as CSV.
	csv, err := chromedp.Run(dash, chromedp.Evaluate[string](`fetch('/dashboard/campaigns/bouncer/export/participants.csv').then(async r => r.headers.get('Content-Type') + '\n' + await r.text())`, chromedp.EvalAwaitPromise))
	if err != nil || !strings.HasPrefix(csv, "text/csv") {
		t.Errorf("participants export: %q (%v)", csv, err)
	}
	// The pictures of docs/dashboard.md: `CAMPAIGN_DOC_IMAGES=$PWD/docs/images go test
	// ./cmd/campaign -run TestBrowserEveryPage` draws them again, small.
	if dir := os.Getenv("CAMPAIGN_DOC_IMAGES"); dir != "" {
		for _, p := range pages {
			switch p.name {
			case "inbox", "participant", "campaign", "broadcast", "deliveries":
			default:
				continue
			}
			if err := chromedp.Do(dash, chromedp.EmulateViewport(1100, 700, chromedp.EmulateScale(0.6)),
				chromedp.Navigate(srv.URL()+p.path), chromedp.WaitVisible(chromedp.CSS(p.sel))); err != nil {
				t.Errorf("doc image %s: %v", p.name, err)
				continue
			}
			png, err := chromedp.Run(dash, chromedp.FullScreenshot(100))
			if err != nil {
				t.Errorf("doc image %s: %v", p.name, err)
				continue
			}
			if err := os.WriteFile(filepath.Join(dir, p.name+".png"), png, 0o644); err != nil {
				t.Error(err)
			}
		}
	}
	fmt.Fprintln(os.Stderr, "screenshots in", shots)
}
