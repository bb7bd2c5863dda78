package whatsapp_test

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/channels/whatsapp"
	"github.com/chatcampaigns/campaign/channels/whatsapp/graphtest"
	"github.com/chatcampaigns/campaign/errs"
)

// TestWebhookRoutesBySenderNumberAndText: the engine is asked for the campaign with the
// sender, the business number written to and the text (the harness's golden files show what
// is received, not what was asked).
func TestWebhookRoutesBySenderNumberAndText(t *testing.T) {
	r := newRig(t, nil)
	if got := r.post(t, mustRead(t, "text_unicode_escaped.json")); got != 200 {
		t.Fatalf("status %d, want 200", got)
	}
	if want := "whatsapp 447911123456 " + testNumber + " Hallo äöå 🎉"; len(r.rec.Routes()) != 1 || r.rec.Routes()[0] != want {
		t.Errorf("routes = %q, want [%q]", r.rec.Routes(), want)
	}
}

func TestFetchMediaKinds(t *testing.T) {
	r := newRig(t, func(c *whatsapp.Config) { c.MediaLimits = map[string]int64{"audio": 10} })
	r.graph.AddMedia("a1", "audio/ogg", []byte("OggS12345"))
	r.graph.AddMedia("a2", "audio/ogg", []byte("OggS123456789"))
	if data, mime, err := r.ch.FetchMedia(t.Context(), whatsapp.MediaRef{ID: "a1", Kind: "audio", MIME: "audio/ogg; codecs=opus"}); err != nil || string(data) != "OggS12345" || mime != "audio/ogg; codecs=opus" {
		t.Errorf("FetchMedia(a1) = %q, %q, %v", data, mime, err)
	}
	if _, _, err := r.ch.FetchMedia(t.Context(), whatsapp.MediaRef{ID: "a2", Kind: "audio"}); !errorsIs(err, errs.ErrTooLarge) {
		t.Errorf("FetchMedia over the audio limit = %v, want ErrTooLarge", err)
	}
	if _, _, err := r.ch.FetchMedia(t.Context(), whatsapp.MediaRef{ID: "a1", Kind: "sticker-pack"}); !errorsIs(err, errs.ErrInvalid) {
		t.Errorf("FetchMedia of an unknown kind = %v, want ErrInvalid", err)
	}
	if _, _, err := r.ch.FetchMedia(t.Context(), whatsapp.MediaRef{ID: "../me", Kind: "audio"}); !errorsIs(err, errs.ErrInvalid) {
		t.Errorf("FetchMedia of a path = %v, want ErrInvalid", err)
	}
}

// TestReadReceiptsInFlightAreBounded: while the platform is slow to answer read receipts, the
// webhooks past the bound still answer at once and their receipts are skipped, not queued.
func TestReadReceiptsInFlightAreBounded(t *testing.T) {
	r := newRig(t, func(c *whatsapp.Config) { c.Typing = true })
	release := r.graph.HoldReads()
	defer release()
	const extra = 5
	n := whatsapp.MaxReadsInFlight + extra
	for i := range n {
		body := graphtest.TextWebhook(testNumber, fmt.Sprintf("3161234%04d", i), "Ana", fmt.Sprintf("wamid.R%d", i), "hi")
		if got := r.post(t, body); got != http.StatusOK {
			t.Fatalf("webhook %d: status %d", i, got)
		}
	}
	if got := len(r.rec.Inbound()); got != n {
		t.Fatalf("engine received %d messages, want %d", got, n)
	}
	release()
	// The receipts in flight finish once released; wait for them, then make sure the skipped
	// ones never come.
	deadline := time.Now().Add(10 * time.Second)
	for len(r.graph.Reads()) < whatsapp.MaxReadsInFlight && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := len(r.graph.Reads()); got != whatsapp.MaxReadsInFlight {
		t.Fatalf("read receipts = %d, want the %d in flight", got, whatsapp.MaxReadsInFlight)
	}
	// A new message after the others finished gets its receipt again. The fake records a
	// receipt before its sender lets go of the slot, so wait for the slots, not the records.
	for r.ch.ReadsInFlight() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := r.post(t, graphtest.TextWebhook(testNumber, "31612340000", "Ana", "wamid.after", "hi")); got != http.StatusOK {
		t.Fatalf("webhook after: status %d", got)
	}
	for len(r.graph.Reads()) < whatsapp.MaxReadsInFlight+1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := len(r.graph.Reads()); got != whatsapp.MaxReadsInFlight+1 {
		t.Fatalf("read receipts = %d, want %d", got, whatsapp.MaxReadsInFlight+1)
	}
}

// TestReadReceiptOnlyForTheLatestWaiting: while a chat's read receipt is under way, the
// messages that arrive meanwhile get one receipt, for the latest of them (WhatsApp marks every
// earlier message read with it); an older message (by its time) does not take its place, and
// another chat gets its own receipt.
func TestReadReceiptOnlyForTheLatestWaiting(t *testing.T) {
	r := newRig(t, func(c *whatsapp.Config) { c.Typing = true })
	release := r.graph.HoldReads()
	defer release()
	const ann, bo = "31612340001", "31612340002"
	older := bytes.Replace(graphtest.TextWebhook(testNumber, ann, "Ann", "wamid.A0", "late"),
		[]byte(`"1767611520"`), []byte(`"1767611500"`), 1)
	for i, body := range [][]byte{
		graphtest.TextWebhook(testNumber, ann, "Ann", "wamid.A1", "one"),
		graphtest.TextWebhook(testNumber, ann, "Ann", "wamid.A2", "two"),
		graphtest.TextWebhook(testNumber, ann, "Ann", "wamid.A3", "three"),
		older,
		graphtest.TextWebhook(testNumber, bo, "Bo", "wamid.B1", "hi"),
	} {
		if got := r.post(t, body); got != http.StatusOK {
			t.Fatalf("webhook %d: status %d", i, got)
		}
	}
	if got := r.ch.ReadsInFlight(); got != 2 {
		t.Errorf("chats with receipts under way = %d, want 2", got)
	}
	release()
	deadline := time.Now().Add(10 * time.Second)
	for r.ch.ReadsInFlight() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	var anns, bos []string
	for _, m := range r.graph.Reads() {
		id, _ := m.Body["message_id"].(string)
		if strings.HasPrefix(id, "wamid.A") {
			anns = append(anns, id)
		} else {
			bos = append(bos, id)
		}
	}
	// Ann's first receipt goes for whichever message was latest when its goroutine ran: A1
	// or A2, then A3 ([A1 A3], [A2 A3]), or only A3 if it ran after all three arrived.
	if n := len(anns); n == 0 || n > 2 || anns[n-1] != "wamid.A3" || n == 2 && anns[0] != "wamid.A1" && anns[0] != "wamid.A2" {
		t.Errorf("Ann's receipts = %q, want [wamid.A1 wamid.A3], [wamid.A2 wamid.A3] or [wamid.A3]", anns)
	}
	if !slices.Equal(bos, []string{"wamid.B1"}) {
		t.Errorf("Bo's receipts = %q, want [wamid.B1]", bos)
	}
	// With nothing under way, Ann's next message gets a receipt of its own.
	if got := r.post(t, graphtest.TextWebhook(testNumber, ann, "Ann", "wamid.A4", "four")); got != http.StatusOK {
		t.Fatalf("webhook A4: status %d", got)
	}
	for len(r.graph.Reads()) < len(anns)+2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	reads := r.graph.Reads()
	if last, _ := reads[len(reads)-1].Body["message_id"].(string); len(reads) != len(anns)+2 || last != "wamid.A4" {
		t.Errorf("%d receipts, the last for %q; want %d, the last for wamid.A4", len(reads), last, len(anns)+2)
	}
}
