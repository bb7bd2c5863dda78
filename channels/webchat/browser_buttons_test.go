package webchat_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chatcampaigns/campaign/engine"
)

// TestBrowserButtons: a reply's buttons show on the page (four or more as a list), a tap
// sends the choice, and the reply to it arrives; an old button still sends its choice.
func TestBrowserButtons(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test in -short mode")
	}
	h := MustHarness(t)
	var outID atomic.Int64
	h.eng.onReceive = func(in engine.Inbound) {
		out := engine.Outbound{ID: outID.Add(1), ParticipantID: in.ParticipantID}
		switch {
		case in.Kind == engine.KindJoin:
			out.Text = "Tap below for the rules."
			out.Buttons = []engine.Button{{ID: "rules", Title: "Contest rules"}, {ID: "enter", Title: "Take part"}}
		case in.Kind == engine.KindChoice && in.Choice == "rules":
			out.Text = "Which rule?"
			for i := 1; i <= 5; i++ {
				n := strconv.Itoa(i)
				out.Buttons = append(out.Buttons, engine.Button{ID: "rule" + n, Title: "Rule " + n})
			}
		case in.Kind == engine.KindChoice:
			out.Text = "You chose " + in.Choice + "."
		default:
			out.Text = "Tap a button."
		}
		h.channel.Send(context.Background(), out)
	}
	base := h.MustServe(t)
	ctx := mustChromium(t)

	count := func(sel string) string {
		return `document.querySelectorAll(` + "`" + sel + "`" + `).length`
	}
	waitCount := func(sel string, n int) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](count(sel)+` >= `+strconv.Itoa(n), chromedp.WithPollingInterval(50*time.Millisecond))
	}
	dump := func() string {
		dom, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('messages').outerHTML`))
		return dom
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/play/bouncer"), waitCount(".msg.out .choices .choice", 2)); err != nil {
		t.Fatalf("greeting with buttons: %v\n%s", err, dump())
	}
	titles, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('.msg.out .choice')].map(b => b.textContent)`))
	if len(titles) != 2 || titles[0] != "Contest rules" || titles[1] != "Take part" {
		t.Errorf("buttons %q", titles)
	}

	err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`.choice[data-choice="rules"]`)),
		waitCount(".msg.in", 1),
		waitCount(".msg.out", 2),
		waitCount("ul.choices.list li .choice", 5),
	)
	if err != nil {
		t.Fatalf("tap: %v\n%s\nreceived %+v", err, dump(), h.eng.Received())
	}
	if mine, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".msg.in p"))); mine != "Contest rules" {
		t.Errorf("the tap shows as %q, want its title", mine)
	}
	got := h.eng.Received()
	if last := got[len(got)-1]; last.Kind != engine.KindChoice || last.Choice != "rules" || last.Text != "Contest rules" {
		t.Errorf("received %+v, want the choice rules", last)
	}

	// The greeting's buttons are still there, and a tap on one is still sent.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`.choice[data-choice="enter"]`)),
		waitCount(".msg.out", 3),
	)
	if err != nil {
		t.Fatalf("old button: %v\n%s", err, dump())
	}
	if reply, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('.msg.out p')].pop().textContent`)); reply != "You chose enter." {
		t.Errorf("reply to the old button %q", reply)
	}

	// Shown again (a reload), the transcript has no buttons: the state's are under the last reply.
	p := h.eng.Received()[0].ParticipantID
	h.eng.SetTranscript(p, []engine.Line{{ID: 1, Direction: engine.Out, Text: "Tap below for the rules."}})
	h.eng.mu.Lock()
	h.eng.offered[p] = []engine.Button{{ID: "rules", Title: "Contest rules"}}
	h.eng.mu.Unlock()
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/play/bouncer"), waitCount(`.msg.out[data-id="l1"] .choice[data-choice="rules"]`, 1)); err != nil {
		t.Fatalf("reload: %v\n%s", err, dump())
	}
}
