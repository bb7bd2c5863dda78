package webchat_test

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// startChromium starts headless Chromium for one test and returns its browser context, which
// ends with the test. A missing Chromium is a failure, not a skip: `make test` installs it,
// and a browser test that silently does not run proves nothing. Chromium keeps its profile and
// its singleton socket folder (under TMPDIR) in folders the test removes. extra adds flags
// (a fake microphone, for one).
func startChromium(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	var chrome string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			chrome = p
			break
		}
	}
	if chrome == "" {
		t.Fatal("Chromium is not installed: run `make test` (installs it as root) or `sudo apt-get install -y chromium`")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chrome), chromedp.NoSandbox,
		chromedp.Flag("disable-background-networking", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.Env("TMPDIR="+t.TempDir()))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(opts, extra...)...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return bctx
}

// mustChromium is startChromium with a 30 s limit on what the test does in the browser.
func mustChromium(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(startChromium(t), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
