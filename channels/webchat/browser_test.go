package webchat_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chatcampaigns/campaign/engine"
)

// TestBrowser drives the page in headless Chromium against fakes: the inline script runs
// under the page's Content-Security-Policy, replies arrive over the event stream, and
// participant text stays text.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test in -short mode")
	}
	h := MustHarness(t)
	var outID atomic.Int64
	// The greeting is queued with the persona's delay: the page shows "typing…" until the
	// test sends it.
	joined := make(chan string, 1)
	h.eng.onReceive = func(in engine.Inbound) {
		if in.Kind == engine.KindJoin {
			if in.Locale == "" {
				t.Errorf("join %+v without the browser's language", in)
			}
			h.channel.Queued(engine.Outbound{ID: 100, ParticipantID: in.ParticipantID, Channel: "webchat", DueAt: time.Now().Add(3 * time.Second)})
			joined <- in.ParticipantID
			return
		}
		if in.Text == "STOP" {
			// Opted out: the engine answers nothing more, and queues nothing.
			return
		}
		reply := map[engine.Kind]string{
			engine.KindJoin:  "Evening. <b>I'm Sven</b>",
			engine.KindText:  "Talk is cheap.",
			engine.KindMedia: "Hmm. Let me show this to the boss.",
		}[in.Kind]
		h.channel.Send(context.Background(), engine.Outbound{ID: outID.Add(1), ParticipantID: in.ParticipantID, Text: reply})
	}
	base := h.MustServe(t)

	dir := t.TempDir()
	png, notPNG := filepath.Join(dir, "me.png"), filepath.Join(dir, "script.png")
	os.WriteFile(png, fakePNG(64), 0o600)
	os.WriteFile(notPNG, []byte("#!/bin/sh\n"), 0o600)

	bctx := startChromium(t)
	ctx, cancel := context.WithTimeout(bctx, 30*time.Second)
	defer cancel()

	count := func(sel string) string {
		return `document.querySelectorAll(` + "`" + sel + "`" + `).length`
	}
	waitCount := func(sel string, n int) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](count(sel)+` >= `+strconv.Itoa(n), chromedp.WithPollingInterval(50*time.Millisecond))
	}

	typingShown := chromedp.Poll[chromedp.Void](`!document.getElementById('typing').hidden`, chromedp.WithPollingInterval(50*time.Millisecond))
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/play/bouncer"), typingShown); err != nil {
		t.Fatalf("no typing cue while the greeting is due: %v", err)
	}
	h.channel.Send(context.Background(), engine.Outbound{ID: 100, ParticipantID: <-joined, Text: "Evening. <b>I'm Sven</b>"})
	if err := chromedp.Do(ctx, waitCount(".msg.out", 1)); err != nil {
		t.Fatalf("greeting: %v", err)
	}
	if hidden, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('typing').hidden`)); !hidden {
		t.Error("typing indicator still shown after the greeting")
	}
	greeting, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".msg.out p")))
	if err != nil || greeting != "Evening. <b>I'm Sven</b>" {
		t.Errorf("greeting %q (%v): persona text must be shown as text", greeting, err)
	}

	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#text"), "<img src=x onerror=alert(1)>"),
		chromedp.Click(chromedp.CSS("#send")),
		waitCount(".msg.in", 1),
		waitCount(".msg.out", 2),
	)
	if err != nil {
		dom, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.getElementById('messages').outerHTML + ' text=' + document.getElementById('text').value`))
		t.Fatalf("text round trip: %v\n%s\nreceived: %+v", err, dom, h.eng.Received())
	}
	mine, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".msg.in p")))
	if mine != "<img src=x onerror=alert(1)>" {
		t.Errorf("own message shown as %q", mine)
	}
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](count("#messages img"))); n != 0 {
		t.Errorf("participant text became %d img elements", n)
	}
	if hidden, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('typing').hidden`)); !hidden {
		t.Error("typing indicator still shown after the reply")
	}

	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#send")),
		waitCount(".msg.system", 1),
		chromedp.SetUploadFiles(chromedp.CSS("#photo"), []string{notPNG}),
		waitCount(".msg.in.failed .failure", 1),
		chromedp.SetUploadFiles(chromedp.CSS("#photo"), []string{png}),
		waitCount(".msg.in img", 1),
		waitCount(".msg.out", 3),
	)
	if err != nil {
		t.Fatalf("notes and upload: %v", err)
	}
	order, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('#messages > li')].map(e => e.className + (e.querySelector('img') ? '+img' : '')).join(',')`))
	if !strings.HasSuffix(order, "msg in+img,msg out") {
		t.Errorf("messages in order %q, want the photo before its reply", order)
	}
	notes, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('.msg.system')].map(e => e.textContent)`))
	if len(notes) != 1 || notes[0] != "Type a message first." {
		t.Errorf("system notes %q", notes)
	}
	// The refused upload's bubble became the failure, with the reason; no grey "Sending photo…".
	bubble, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('.msg.in.failed')].map(e => e.textContent).join('|')`))
	if !strings.Contains(bubble, "Photo not sent") || !strings.Contains(bubble, "doesn't look like a photo") || strings.Contains(bubble, "Sending photo") {
		t.Errorf("failed upload bubble %q", bubble)
	}
	if hidden, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('typing').hidden`)); !hidden {
		t.Error("typing indicator shown after the reply to the photo")
	}

	// A message nobody answers (the server queues no reply) does not leave "typing…" standing.
	typingHidden := chromedp.Poll[chromedp.Void](`document.getElementById('typing').hidden`, chromedp.WithPollingInterval(50*time.Millisecond))
	wait, cancelWait := context.WithTimeout(ctx, 8*time.Second)
	defer cancelWait()
	if err := chromedp.Do(wait, chromedp.SendKeys(chromedp.CSS("#text"), "STOP"), chromedp.Click(chromedp.CSS("#send")),
		waitCount(".msg.in", 3), typingHidden); err != nil {
		t.Errorf("typing indicator still shown 8 s after a message no reply was queued for: %v", err)
	}
}

// TestBrowserTeams drives the team forms in two browsers with separate cookies against the
// real engine: Ann forms a team and sees its invite code, Bob opens the shared link and joins,
// and both pages show the team's conversation as it happens.
func TestBrowserTeams(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test in -short mode")
	}
	h := mustTeamHarness(t, time.Now)
	base := h.MustServe(t)
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.eng.Run(runCtx) }()
	t.Cleanup(func() { stop(); <-done })

	annCtx := startChromium(t)
	// A browser context of its own: Bob has his own cookie, so his own browser id.
	bobCtx, cancelBob := chromedp.NewContext(annCtx, chromedp.WithNewBrowserContext())
	defer cancelBob()
	ann, cancel := context.WithTimeout(annCtx, 30*time.Second)
	defer cancel()
	bob, cancel2 := context.WithTimeout(bobCtx, 30*time.Second)
	defer cancel2()

	waitJS := func(cond string) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingInterval(50*time.Millisecond))
	}
	outTexts := `[...document.querySelectorAll('.msg.out p')].map(e => e.textContent).join('|')`
	dump := func(ctx context.Context) string {
		s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		return s
	}

	err := chromedp.Do(ann,
		chromedp.Navigate(base+"/play/race"),
		chromedp.WaitVisible(chromedp.CSS("#team-new")),
		chromedp.SendKeys(chromedp.CSS("#team-new"), "Red Rovers"),
		chromedp.Click(chromedp.CSS("#team-form button")),
		chromedp.WaitVisible(chromedp.CSS("#team-code")),
	)
	if err != nil {
		t.Fatalf("form a team: %v\n%s", err, dump(ann))
	}
	code, _ := chromedp.Run(ann, chromedp.Text(chromedp.CSS("#team-code")))
	if len(code) != engine.TeamCodeLen {
		t.Fatalf("invite code %q", code)
	}
	if wait, _ := chromedp.Run(ann, chromedp.Evaluate[bool](`!document.getElementById('team-wait').hidden`)); !wait {
		t.Error("no note that the team waits for its second member")
	}

	err = chromedp.Do(bob,
		chromedp.Navigate(base+"/play/race?code="+code),
		chromedp.WaitVisible(chromedp.CSS("#team-join")),
	)
	if err != nil {
		t.Fatalf("open the shared link: %v", err)
	}
	if v, _ := chromedp.Run(bob, chromedp.Evaluate[string](`document.getElementById('team-code-input').value`)); v != code {
		t.Errorf("the shared link filled in %q, want %q", v, code)
	}
	err = chromedp.Do(bob,
		chromedp.Click(chromedp.CSS("#team-join button")),
		chromedp.WaitVisible(chromedp.CSS("#team-name")),
		waitJS(outTexts+`.startsWith('Your photos may be shown')`),
	)
	if err != nil {
		t.Fatalf("join the team: %v\n%s", err, dump(bob))
	}
	// Ann's open page gets the team's first message live, and stops saying it waits.
	err = chromedp.Do(ann,
		waitJS(outTexts+`.startsWith('Your photos may be shown')`),
		waitJS(`document.getElementById('team-wait').hidden`),
	)
	if err != nil {
		t.Fatalf("ann's page after bob joined: %v\n%s", err, dump(ann))
	}

	err = chromedp.Do(bob,
		chromedp.SendKeys(chromedp.CSS("#text"), "OK"),
		chromedp.Click(chromedp.CSS("#send")),
		waitJS(outTexts+`.endsWith('Welcome aboard, team Red Rovers!')`),
	)
	if err != nil {
		t.Fatalf("bob answers: %v\n%s", err, dump(bob))
	}
	err = chromedp.Do(ann,
		waitJS(`[...document.querySelectorAll('.msg.in p')].some(e => e.textContent === 'OK')`),
		waitJS(outTexts+`.endsWith('Welcome aboard, team Red Rovers!')`),
	)
	if err != nil {
		t.Fatalf("ann sees bob's answer and the greeting: %v\n%s", err, dump(ann))
	}
}
