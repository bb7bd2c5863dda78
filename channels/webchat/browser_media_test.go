package webchat_test

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chatcampaigns/campaign/engine"
)

// TestBrowserVideoAndVoiceNote sends a video file (a tiny WebM Chromium recorded) and records
// a voice note with Chromium's fake microphone: each goes out as its kind, comes back into the
// page as a playable <video> or <audio> served with its type, and gets the persona's reply.
func TestBrowserVideoAndVoiceNote(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test in -short mode")
	}
	h := MustHarness(t)
	var outID atomic.Int64
	h.eng.onReceive = func(in engine.Inbound) {
		reply := "Evening."
		if in.Kind == engine.KindMedia {
			reply = "Got your " + in.Media.Kind + "."
		}
		h.channel.Send(context.Background(), engine.Outbound{ID: outID.Add(1), ParticipantID: in.ParticipantID, Text: reply})
	}
	base := h.MustServe(t)
	video, err := filepath.Abs("testdata/tiny.webm")
	if err != nil {
		t.Fatal(err)
	}

	bctx := startChromium(t, chromedp.Flag("use-fake-ui-for-media-stream", true), chromedp.Flag("use-fake-device-for-media-stream", true))
	ctx, cancel := context.WithTimeout(bctx, 30*time.Second)
	defer cancel()
	waitJS := func(cond string) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingInterval(50*time.Millisecond))
	}
	replied := func(text string) chromedp.Action[chromedp.Void] {
		return waitJS(`[...document.querySelectorAll('.msg.out p')].some(e => e.textContent === ` + strconv.Quote(text) + `)`)
	}
	dump := func() string {
		s, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.getElementById('messages').outerHTML`))
		return s
	}
	// served fetches what the page plays, as the element would: status and type.
	served := func(sel string) string {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch(document.querySelector(`+strconv.Quote(sel)+`).src).then(r => r.status + ' ' + r.headers.get('Content-Type'))`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("fetch %s: %v", sel, err)
		}
		return s
	}

	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/play/bouncer"),
		replied("Evening."),
		chromedp.SetUploadFiles(chromedp.CSS("#photo"), []string{video}),
		waitJS(`document.querySelector('.msg.in video[controls]') !== null`),
		replied("Got your video."),
	); err != nil {
		t.Fatalf("send a video: %v\n%s", err, dump())
	}
	if got := served(".msg.in video"); got != "200 video/webm" {
		t.Errorf("the video is served as %q, want 200 video/webm", got)
	}

	// The record button shows where the browser can record; one press starts, the next sends.
	if err := chromedp.Do(ctx,
		waitJS(`!document.getElementById('record').hidden`),
		chromedp.Click(chromedp.CSS("#record")),
		waitJS(`document.getElementById('record').getAttribute('aria-pressed') === 'true'`),
		// Half a second of the fake microphone's tone: a voice note needs some sound in it.
		chromedp.Sleep(500*time.Millisecond),
		chromedp.Click(chromedp.CSS("#record")),
		waitJS(`document.querySelector('.msg.in audio[controls]') !== null`),
		replied("Got your audio."),
	); err != nil {
		t.Fatalf("record a voice note: %v\n%s", err, dump())
	}
	if got := served(".msg.in audio"); got != "200 audio/webm" {
		t.Errorf("the voice note is served as %q, want 200 audio/webm", got)
	}
	if pressed, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('record').getAttribute('aria-pressed')`)); pressed != "false" {
		t.Errorf("record button still pressed after sending: %q", pressed)
	}
	var kinds []string
	for _, in := range h.eng.Received() {
		if in.Media != nil {
			kinds = append(kinds, in.Media.Kind)
		}
	}
	if strings.Join(kinds, ",") != "video,audio" {
		t.Errorf("the engine got media of kinds %v, want video then audio", kinds)
	}
}
