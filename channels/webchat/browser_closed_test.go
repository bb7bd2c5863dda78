package webchat_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chatcampaigns/campaign/engine"
)

// TestBrowserClosedKeepsConversation: in Chromium, the page of someone who played a campaign
// that was closed since shows the notice and their conversation (the door code), sends no
// join and offers nothing to send with.
func TestBrowserClosedKeepsConversation(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	h := MustHarness(t)
	joined := make(chan string, 4)
	h.eng.onReceive = func(in engine.Inbound) {
		if in.Kind == engine.KindJoin {
			joined <- in.ParticipantID
		}
	}
	base := h.MustServe(t)
	ctx := mustChromium(t)

	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/play/bouncer")); err != nil {
		t.Fatalf("open the chat: %v", err)
	}
	var pid string
	select {
	case pid = <-joined:
	case <-time.After(10 * time.Second):
		t.Fatal("the page sent no join")
	}
	h.eng.SetTranscript(pid, []engine.Line{{Direction: engine.Out, Text: "Your door code is K7Q2XM.", At: time.Now()}})
	h.eng.SetStatus("bouncer", engine.StatusClosed)
	n := len(h.eng.Received())
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/play/bouncer")); err != nil {
		t.Fatalf("open the closed campaign's page: %v", err)
	}
	// Evaluated until true rather than with Poll: the page is replaced while it loads, and a
	// Poll begun in the old one fails with "Cannot find context with specified id".
	shown := false
	for !shown && ctx.Err() == nil {
		var err error
		shown, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`[...document.querySelectorAll('.msg.out')].some(e => e.textContent.includes('K7Q2XM'))`))
		if err != nil || !shown {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if !shown {
		t.Fatal("the closed campaign's page does not show the conversation")
	}
	time.Sleep(300 * time.Millisecond) // a join, had the page sent one, would be refused by now
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]any](`[
		document.getElementById('notice') ? document.getElementById('notice').textContent : '',
		!!document.getElementById('composer'),
		document.querySelectorAll('.msg.system').length]`))
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != engine.NotRunning || got[1] != false || got[2] != float64(0) {
		t.Errorf("notice %q, composer shown %v, notes %v; want the notice, no composer, no note", got[0], got[1], got[2])
	}
	if len(h.eng.Received()) != n {
		t.Error("the read-only page sent something")
	}
}
