package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds Debian's Chromium. Missing it is a failure, not a skip: `make test` installs
// it, and a browser test that silently does not run proves nothing.
func chromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("Chromium is not installed: run `make test` (installs it as root) or `sudo apt-get install -y chromium`")
	return ""
}

// TestBrowserPlayAndJudge plays the bouncer in the web chat page and approves the photo in
// the dashboard page, both in headless Chromium, as the README's tour does.
func TestBrowserPlayAndJudge(t *testing.T) {
	chrome := chromium(t)
	srv, clock := startServer(t, t.TempDir())

	// Let the persona's typing delay pass quickly: the server's clock runs a second ahead
	// every few milliseconds while the browser waits for replies.
	runClockFast(t, clock)

	photo := filepath.Join(t.TempDir(), "me.png")
	if err := os.WriteFile(photo, testPNG(t), 0o600); err != nil {
		t.Fatal(err)
	}

	chat := startChromium(t, chrome, 60*time.Second)

	// The participant.
	if err := chromedp.Do(chat, playBouncerPhoto(srv.URL(), photo)...); err != nil {
		t.Fatalf("play in the web chat: %v", err)
	}

	// The moderator, in a second tab of the same browser.
	dash, cancelDash := chromedp.NewContext(chat)
	defer cancelDash()
	var flash string
	if err := chromedp.Do(dash,
		chromedp.Navigate(srv.URL()+"/dashboard/"),
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), "admin"),
		chromedp.SendKeys(chromedp.CSS("#password"), srv.adminPassword),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".entry img.thumb")),
		chromedp.Click(chromedp.CSS(".entry button.approve")),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	); err != nil {
		t.Fatalf("judge in the dashboard: %v", err)
	}
	flash, _ = chromedp.Run(dash, chromedp.Text(chromedp.CSS(".flash")))
	if !strings.Contains(flash, "approved") {
		t.Errorf("flash after approving = %q", flash)
	}

	// Back in the chat, the door code has arrived without a reload.
	var last string
	if err := chromedp.Do(chat,
		waitText(".msg.out", "door code is"),
	); err != nil {
		t.Fatalf("door code in the web chat: %v", err)
	}
	last, _ = chromedp.Run(chat, chromedp.Evaluate[string](`[...document.querySelectorAll('.msg.out')].pop().textContent`))
	if doorCode.FindStringSubmatch(last) == nil {
		t.Errorf("last reply %q has no door code", last)
	}
	if dir := os.Getenv("CAMPAIGN_SCREENSHOTS"); dir != "" {
		if png, err := chromedp.Run(chat, chromedp.FullScreenshot(100)); err == nil {
			os.WriteFile(filepath.Join(dir, "chat.png"), png, 0o644)
		}
		chromedp.Do(dash, chromedp.Navigate(srv.URL()+"/dashboard/entries?status=all"))
		if png, err := chromedp.Run(dash, chromedp.FullScreenshot(100)); err == nil {
			os.WriteFile(filepath.Join(dir, "dashboard.png"), png, 0o644)
		}
	}
}

// waitJS waits until the JavaScript condition cond holds on the page.
func waitJS(cond string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingInterval(50*time.Millisecond))
}

// waitText waits until an element matching sel contains want.
func waitText(sel, want string) chromedp.Action[chromedp.Void] {
	return waitJS(`[...document.querySelectorAll(` + jsString(sel) + `)].some(e => e.textContent.includes(` + jsString(want) + `))`)
}

// dump is the page's text, for a failure's message.
func dump(ctx context.Context) string {
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	return s
}

// playBouncerPhoto plays the bouncer in the web chat up to the photo that goes to judging.
func playBouncerPhoto(server, photo string) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(server + "/play/bouncer"),
		waitText(".msg.out", "nobody gets past this door"),
		chromedp.SendKeys(chromedp.CSS("#text"), "Let me in, I know the DJ"),
		chromedp.Click(chromedp.CSS("#send")),
		waitText(".msg.out", "Talk is cheap"),
		chromedp.SetUploadFiles(chromedp.CSS("#photo"), []string{photo}),
		waitText(".msg.out", "Let me show this to the boss"),
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// TestBrowserVideoAndVoiceNote plays the bouncer with a video file and a voice note recorded
// with Chromium's fake microphone, then opens the dashboard: both entries wait in the queue
// with a player whose media loads (served with its type, seekable), as a moderator needs.
func TestBrowserVideoAndVoiceNote(t *testing.T) {
	chrome := chromium(t)
	srv, clock := startServer(t, t.TempDir())
	runClockFast(t, clock)
	video, err := filepath.Abs("../../channels/webchat/testdata/tiny.webm")
	if err != nil {
		t.Fatal(err)
	}
	// A microphone that plays a tone, allowed without asking.
	ann := startChromium(t, chrome, 60*time.Second, chromedp.Flag("use-fake-ui-for-media-stream", true), chromedp.Flag("use-fake-device-for-media-stream", true))
	// Bob has his own cookie, so he is another participant.
	bob, cancelBob := chromedp.NewContext(ann, chromedp.WithNewBrowserContext())
	defer cancelBob()

	if err := chromedp.Do(ann,
		chromedp.Navigate(srv.URL()+"/play/bouncer"),
		waitText(".msg.out", "a video or a voice note"),
		chromedp.SetUploadFiles(chromedp.CSS("#photo"), []string{video}),
		waitJS(`document.querySelector('.msg.in video') !== null`),
		waitText(".msg.out", "Let me show this to the boss"),
	); err != nil {
		t.Fatalf("send a video: %v\n%s", err, dump(ann))
	}
	if err := chromedp.Do(bob,
		chromedp.Navigate(srv.URL()+"/play/bouncer"),
		waitText(".msg.out", "a video or a voice note"),
		waitJS(`!document.getElementById('record').hidden`),
		chromedp.Click(chromedp.CSS("#record")),
		waitJS(`document.getElementById('record').getAttribute('aria-pressed') === 'true'`),
		// Half a second of the fake microphone's tone: a voice note needs some sound in it.
		chromedp.Sleep(500*time.Millisecond),
		chromedp.Click(chromedp.CSS("#record")),
		waitJS(`document.querySelector('.msg.in audio') !== null`),
		waitText(".msg.out", "Let me show this to the boss"),
	); err != nil {
		t.Fatalf("record a voice note: %v\n%s", err, dump(bob))
	}

	dash, cancelDash := chromedp.NewContext(ann)
	defer cancelDash()
	if err := chromedp.Do(dash,
		chromedp.Navigate(srv.URL()+"/dashboard/"),
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), "admin"),
		chromedp.SendKeys(chromedp.CSS("#password"), srv.adminPassword),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".entry")),
		// readyState 1 (HAVE_METADATA): the browser fetched the media and could read it.
		waitJS(`(v => v && v.readyState >= 1)(document.querySelector('.entry video[controls]'))`),
		waitJS(`(a => a && a.readyState >= 1)(document.querySelector('.entry audio[controls]'))`),
	); err != nil {
		t.Fatalf("the dashboard plays them: %v\n%s", err, dump(dash))
	}
	for sel, want := range map[string]string{".entry video": "200 video/webm", ".entry audio": "200 audio/webm"} {
		got, err := chromedp.Run(dash, chromedp.Evaluate[string](`fetch(document.querySelector(`+jsString(sel)+`).src).then(r => r.status + ' ' + r.headers.get('Content-Type'))`, chromedp.EvalAwaitPromise))
		if err != nil || got != want {
			t.Errorf("%s is served as %q (%v), want %q", sel, got, err, want)
		}
	}
	// A seek asks for a part: the server answers with that part.
	got, err := chromedp.Run(dash, chromedp.Evaluate[string](`fetch(document.querySelector('.entry video').src, {headers: {Range: 'bytes=4-11'}}).then(r => r.status + ' ' + r.headers.get('Content-Range'))`, chromedp.EvalAwaitPromise))
	if err != nil || !strings.HasPrefix(got, "206 bytes 4-11/") {
		t.Errorf("a range of the video: %q (%v), want 206 bytes 4-11/…", got, err)
	}
}

// runClockFast moves the server's clock a second ahead every 10 ms until the test ends: the
// persona's typing delays pass quickly while the browser waits for replies.
func runClockFast(t *testing.T, clock interface{ Advance(time.Duration) }) {
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	go func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				clock.Advance(time.Second)
			}
		}
	}()
}

// startChromium starts a headless Chromium at path chrome (as root it needs no sandbox and no
// background networking) with its profile and singleton socket in folders the test removes,
// and returns its first tab, cut off after timeout; everything stops when the test ends.
func startChromium(t *testing.T, chrome string, timeout time.Duration, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.NoSandbox,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Env("TMPDIR="+t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(opts, extra...)...)
	t.Cleanup(cancelAlloc)
	tab, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(cancelTab)
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	tab, cancel := context.WithTimeout(tab, timeout)
	t.Cleanup(cancel)
	return tab
}
