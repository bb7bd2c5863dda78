package webchat_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/chatcampaigns/campaign/engine"
)

// TestBrowserLocation: a campaign that asks for a location offers the pin button; a tap shares
// the browser's position as a location event and shows it in the chat. A campaign that asks
// for none has no button.
func TestBrowserLocation(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test in -short mode")
	}
	h := MustHarness(t)
	h.MustExample(t, "hunt")
	var outID atomic.Int64
	h.eng.onReceive = func(in engine.Inbound) {
		out := engine.Outbound{ID: outID.Add(1), ParticipantID: in.ParticipantID, Text: "Share your location."}
		if in.Kind == engine.KindLocation {
			out.Text = "You made it to the Dam!"
		}
		h.channel.Send(context.Background(), out)
	}
	base := h.MustServe(t)
	ctx := mustChromium(t)
	poll := func(js string) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](js, chromedp.WithPollingInterval(50*time.Millisecond))
	}
	dump := func() string {
		dom, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('messages').outerHTML`))
		return dom
	}
	// The browser's own position and its permission prompt are the browser's business; the
	// page's part starts where the browser hands over a position.
	const fakePosition = `navigator.geolocation.getCurrentPosition = (ok) => setTimeout(() => ok({coords: {latitude: 52.3731, longitude: 4.8922, accuracy: 10}}), 10); true`
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/play/hunt"),
		poll(`document.querySelectorAll('.msg.out').length >= 1`),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](fakePosition)(ctx, t)
			return err
		}),
		chromedp.Click(chromedp.CSS(`#share-location`)),
		poll(`[...document.querySelectorAll('.msg.out p')].some(p => p.textContent === 'You made it to the Dam!')`),
	)
	if err != nil {
		t.Fatalf("share the location: %v\n%s\nreceived %+v", err, dump(), h.eng.Received())
	}
	if mine, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".msg.in p"))); mine != "📍 52.37310, 4.89220" {
		t.Errorf("the shared location shows as %q", mine)
	}
	var loc *engine.Location
	for _, in := range h.eng.Received() {
		if in.Kind == engine.KindLocation {
			loc = in.Location
		}
	}
	if loc == nil || loc.Latitude != 52.3731 || loc.Longitude != 4.8922 {
		t.Errorf("location event %+v, want the Dam", loc)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/play/bouncer"), poll(`document.getElementById('composer') !== null`)); err != nil {
		t.Fatal(err)
	}
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#share-location').length`)); n != 0 {
		t.Error("a campaign that asks for no location offers the pin button")
	}
}

// TestBrowserLocationWalksOn: a participant told to walk on who shares their location again
// shares where they are now, not where the browser found them a moment ago (the position is
// the browser's own, given by Chromium's geolocation emulation, as a phone's GPS gives it).
func TestBrowserLocationWalksOn(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test in -short mode")
	}
	h := MustHarness(t)
	h.MustExample(t, "hunt")
	var outID atomic.Int64
	h.eng.onReceive = func(in engine.Inbound) {
		out := engine.Outbound{ID: outID.Add(1), ParticipantID: in.ParticipantID, Text: "Share your location."}
		if in.Kind == engine.KindLocation {
			out.Text = fmt.Sprintf("Got %.4f", in.Location.Latitude)
		}
		h.channel.Send(context.Background(), out)
	}
	base := h.MustServe(t)
	ctx := mustChromium(t)
	poll := func(js string) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](js, chromedp.WithPollingInterval(50*time.Millisecond))
	}
	at := func(lat, lng float64) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			acc := 5.0
			_, err := cdp.Call(ctx, t, emulation.SetGeolocationOverride, emulation.SetGeolocationOverrideParams{Latitude: &lat, Longitude: &lng, Accuracy: &acc})
			return err
		})
	}
	reply := func(text string) chromedp.Action[chromedp.Void] {
		return poll(fmt.Sprintf(`[...document.querySelectorAll('.msg.out p')].some(p => p.textContent === %q)`, text))
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/play/hunt"), poll(`document.querySelectorAll('.msg.out').length >= 1`)); err != nil {
		t.Fatal(err)
	}
	_, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "geolocation"}, Setting: browser.PermissionSettingGranted, Origin: base})
	if err != nil {
		t.Fatalf("grant geolocation: %v", err)
	}
	err = chromedp.Do(ctx,
		at(52.3791, 4.9003), chromedp.Click(chromedp.CSS(`#share-location`)), reply("Got 52.3791"),
		at(52.3731, 4.8933), chromedp.Click(chromedp.CSS(`#share-location`)), reply("Got 52.3731"),
	)
	if err != nil {
		dom, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('messages').outerHTML`))
		t.Fatalf("share twice while walking: %v\n%s\nreceived %+v", err, dom, h.eng.Received())
	}
}
