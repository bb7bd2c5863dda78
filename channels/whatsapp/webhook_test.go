package whatsapp_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/channels/whatsapp"
	"github.com/chatcampaigns/campaign/channels/whatsapp/graphtest"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

func TestVerificationHandshake(t *testing.T) {
	r := newRig(t, nil)
	tests := []struct {
		name, mode, token string
		status            int
	}{
		{"AcceptsTheVerifyToken", "subscribe", verifyToken, 200},
		{"RefusesAWrongToken", "subscribe", "guess", 403},
		{"RefusesAMissingToken", "subscribe", "", 403},
		{"RefusesAnotherMode", "unsubscribe", verifyToken, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := url.Values{"hub.mode": {tt.mode}, "hub.verify_token": {tt.token}, "hub.challenge": {"1158201444"}}
			req, _ := http.NewRequest(http.MethodGet, "http://localhost/webhooks/whatsapp?"+q.Encode(), nil)
			resp, err := r.app.Test(req, -1)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.status == 200 && string(body) != "1158201444" {
				t.Errorf("body %q, want the challenge", body)
			}
		})
	}
}

func TestWebhookRefusesBadRequestsWithoutSideEffects(t *testing.T) {
	body := mustRead(t, "text.json")
	unsigned := func() *http.Request {
		req, _ := http.NewRequest(http.MethodPost, "http://localhost/webhooks/whatsapp", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		return req
	}
	withSig := func(sig string) *http.Request {
		req := unsigned()
		req.Header.Set(whatsapp.SignatureHeader, sig)
		return req
	}
	tampered := graphtest.SignedWebhook(appSecret, body)
	tampered.Body = io.NopCloser(bytes.NewReader(bytes.Replace(body, []byte("Let me in"), []byte("Let us in"), 1)))
	huge := append([]byte(`{"object":"whatsapp_business_account","entry":[],"pad":"`), bytes.Repeat([]byte("x"), whatsapp.MaxWebhookBody)...)
	huge = append(huge, `"}`...)
	tests := []struct {
		name   string
		req    *http.Request
		status int
	}{
		{"RejectsForgedSignature", graphtest.SignedWebhook("not-the-secret", body), 401},
		{"RejectsMissingSignature", unsigned(), 401},
		{"RejectsSignatureWithoutPrefix", withSig(strings.TrimPrefix(graphtest.Sign(appSecret, body), "sha256=")), 401},
		{"RejectsSignatureThatIsNotHex", withSig("sha256=zz"), 401},
		{"RejectsSHA1Signature", withSig("sha1=" + strings.TrimPrefix(graphtest.Sign(appSecret, body), "sha256=")), 401},
		{"RejectsTamperedBody", tampered, 401},
		{"RejectsMalformedJSON", graphtest.SignedWebhook(appSecret, []byte(`{"entry":[{"changes":`)), 400},
		{"RejectsNonEnvelopeJSON", graphtest.SignedWebhook(appSecret, []byte(`["entry"]`)), 400},
		{"RejectsBodiesOverTheLimit", graphtest.SignedWebhook(appSecret, huge), 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, nil)
			if got := r.do(t, tt.req); got != tt.status {
				t.Fatalf("status %d, want %d", got, tt.status)
			}
			if len(r.eng.routes) != 0 || len(r.eng.Received()) != 0 {
				t.Errorf("routed %q and received %d events; want nothing", r.eng.routes, len(r.eng.Received()))
			}
		})
	}
}

func TestWebhookHandsMessagesOver(t *testing.T) {
	r := newRig(t, nil)
	if got := r.post(t, mustRead(t, "text_unicode_escaped.json")); got != 200 {
		t.Fatalf("status %d, want 200", got)
	}
	got := r.eng.Received()
	if len(got) != 1 {
		t.Fatalf("received %d events, want 1", len(got))
	}
	want := engine.Inbound{Channel: "whatsapp", PlatformID: "wamid.UNICODE1", Campaign: "bouncer", From: "447911123456",
		Name: "Zoë", To: testNumber, ParticipantID: engine.ParticipantID("bouncer", "whatsapp", "447911123456"),
		Kind: engine.KindText, Text: "Hallo äöå 🎉", At: sentAt}
	if fmt.Sprint(got[0]) != fmt.Sprint(want) {
		t.Errorf("received\n %+v\nwant\n %+v", got[0], want)
	}
	if want := "whatsapp 447911123456 " + testNumber + " Hallo äöå 🎉"; len(r.eng.routes) != 1 || r.eng.routes[0] != want {
		t.Errorf("routes = %q, want [%q]", r.eng.routes, want)
	}
}

func TestWebhookDuplicateDeliveryIsPassedOnWithTheSameID(t *testing.T) {
	r := newRig(t, nil)
	body := mustRead(t, "text.json")
	for range 2 {
		if got := r.post(t, body); got != 200 {
			t.Fatalf("status %d, want 200", got)
		}
	}
	got := r.eng.Received()
	if len(got) != 2 || got[0].PlatformID != got[1].PlatformID || got[0].PlatformID != "wamid.TEXT1" {
		t.Errorf("received %d events; want two with PlatformID wamid.TEXT1 (the store dedupes)", len(got))
	}
}

func TestWebhookBatch(t *testing.T) {
	r := newRig(t, nil)
	if got := r.post(t, mustRead(t, "batch.json")); got != 200 {
		t.Fatalf("status %d, want 200", got)
	}
	var ids []string
	for _, in := range r.eng.Received() {
		ids = append(ids, in.PlatformID)
	}
	if strings.Join(ids, " ") != "wamid.BATCH1 wamid.BATCH2 wamid.BATCH3" {
		t.Errorf("received %q, want the three in order", ids)
	}
}

func TestWebhookOutcomes(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		setup    func(*rig)
		status   int
		received int
	}{
		{"NoCampaignIsAcknowledgedAndIgnored", "text.json", func(r *rig) { r.eng.noCampaign = true }, 200, 0},
		{"RouteFailureAsksForRedelivery", "text.json", func(r *rig) { r.eng.routeErr = errTransient }, 500, 0},
		{"ReceiveFailureAsksForRedelivery", "text.json", func(r *rig) { r.eng.receiveErr = errTransient }, 500, 0},
		{"MessageTheEngineRefusesIsDropped", "text.json", func(r *rig) { r.eng.receiveErr = fmt.Errorf("bad: %w", errs.ErrInvalid) }, 200, 0},
		{"StoreNotFoundAsksForRedelivery", "text.json", func(r *rig) { r.eng.receiveErr = fmt.Errorf("store: %w", errs.ErrNotFound) }, 500, 0},
		{"ReactionIsIgnored", "reaction.json", nil, 200, 0},
		{"SystemNoticeIsIgnored", "system.json", nil, 200, 0},
		{"StickerReachesTheEngineAsUnsupported", "sticker.json", nil, 200, 1},
		{"UnknownTypeReachesTheEngineAsUnsupported", "unknown_type.json", nil, 200, 1},
		{"OutOfBandErrorsAreAcknowledged", "value_errors.json", nil, 200, 0},
		{"OtherFieldsAreAcknowledged", "other_field.json", nil, 200, 0},
		{"DeliveryFailureAsksForRedelivery", "status_read.json", func(r *rig) { r.dels.err = errTransient }, 500, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, nil)
			if tt.setup != nil {
				tt.setup(r)
			}
			if got := r.post(t, mustRead(t, tt.file)); got != tt.status {
				t.Fatalf("status %d, want %d", got, tt.status)
			}
			if got := len(r.eng.Received()); got != tt.received {
				t.Errorf("received %d events, want %d", got, tt.received)
			}
		})
	}
}

func TestWebhookStatusesUpdateDeliveries(t *testing.T) {
	r := newRig(t, nil)
	for _, f := range []string{"status_sent.json", "status_read.json", "status_delivered.json", "status_failed.json"} {
		if got := r.post(t, mustRead(t, f)); got != 200 {
			t.Fatalf("%s: status %d, want 200", f, got)
		}
	}
	var got []string
	for _, u := range r.dels.updates {
		got = append(got, fmt.Sprintf("%s %s %d %s", u.ID, u.D.Status, u.D.ErrorCode, u.D.ErrorTitle))
	}
	want := []string{"wamid.OUT1 sent 0 ", "wamid.OUT1 read 0 ", "wamid.OUT1 delivered 0 ", "wamid.OUT2 failed 131026 Message undeliverable"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("updates = %q, want %q (ordering is the store's business)", got, want)
	}
}

func TestWebhookMedia(t *testing.T) {
	photo := []byte("\xff\xd8\xff\xe0 pretend JPEG bytes")
	tests := []struct {
		name   string
		setup  func(*rig)
		body   func(*rig) []byte
		status int
		kind   engine.Kind
		stored int
	}{
		{"IsFetchedCheckedAndStored", func(r *rig) { r.graph.AddMedia("m1", "image/jpeg", photo) },
			func(*rig) []byte {
				return graphtest.ImageWebhook(testNumber, "447911123456", "Amira", "wamid.IMG", "m1", "image/jpeg", photo, "me")
			}, 200, engine.KindMedia, 1},
		{"HexDigestFromTheMediaEndpoint", func(r *rig) { r.graph.AddMedia("m1", "image/jpeg", photo); r.graph.HexDigests(true) },
			func(*rig) []byte {
				// No digest in the webhook: the media endpoint's (hex) one is checked.
				return bytes.Replace(graphtest.ImageWebhook(testNumber, "447911123456", "Amira", "wamid.IMG", "m1", "image/jpeg", photo, ""),
					[]byte(`"sha256":"`), []byte(`"sha256_":"`), 1)
			}, 200, engine.KindMedia, 1},
		{"DigestMismatchStoresNothing", func(r *rig) { r.graph.AddMedia("m1", "image/jpeg", photo) },
			func(*rig) []byte {
				return graphtest.ImageWebhook(testNumber, "447911123456", "Amira", "wamid.IMG", "m1", "image/jpeg", []byte("other bytes"), "")
			}, 200, engine.KindUnsupported, 0},
		{"OversizeIsRefusedWhileStreaming", func(r *rig) { r.graph.AddMedia("m1", "image/jpeg", bytes.Repeat([]byte("x"), 5<<20+1)) },
			func(*rig) []byte {
				return graphtest.ImageWebhook(testNumber, "447911123456", "Amira", "wamid.IMG", "m1", "image/jpeg", bytes.Repeat([]byte("x"), 5<<20+1), "")
			}, 200, engine.KindUnsupported, 0},
		{"OversizeIsRefusedWhileStreamingWithoutADeclaredSize", func(r *rig) {
			r.graph.AddMedia("m1", "image/jpeg", bytes.Repeat([]byte("x"), 5<<20+1))
			r.graph.OmitFileSizes(true)
		}, func(*rig) []byte {
			return graphtest.ImageWebhook(testNumber, "447911123456", "Amira", "wamid.IMG", "m1", "image/jpeg", bytes.Repeat([]byte("x"), 5<<20+1), "")
		}, 200, engine.KindUnsupported, 0},
		{"UnknownMediaIDIsUnsupported", nil,
			func(*rig) []byte {
				return graphtest.ImageWebhook(testNumber, "447911123456", "Amira", "wamid.IMG", "gone", "image/jpeg", photo, "")
			}, 200, engine.KindUnsupported, 0},
		{"MediaTheStoreRefusesIsUnsupported", func(r *rig) {
			r.graph.AddMedia("m1", "image/jpeg", photo)
			r.media.err = fmt.Errorf("not a photo: %w", errs.ErrInvalid)
		}, func(*rig) []byte {
			return graphtest.ImageWebhook(testNumber, "447911123456", "Amira", "wamid.IMG", "m1", "image/jpeg", photo, "")
		}, 200, engine.KindUnsupported, 0},
		{"StoreFailureAsksForRedelivery", func(r *rig) {
			r.graph.AddMedia("m1", "image/jpeg", photo)
			r.media.err = errTransient
		}, func(*rig) []byte {
			return graphtest.ImageWebhook(testNumber, "447911123456", "Amira", "wamid.IMG", "m1", "image/jpeg", photo, "")
		}, 500, "", 0},
		{"ExpiredTokenAsksForRedelivery", func(r *rig) {
			r.graph.AddMedia("m1", "image/jpeg", photo)
			r.graph.SetToken("renewed")
		}, func(*rig) []byte {
			return graphtest.ImageWebhook(testNumber, "447911123456", "Amira", "wamid.IMG", "m1", "image/jpeg", photo, "")
		}, 500, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, nil)
			if tt.setup != nil {
				tt.setup(r)
			}
			if got := r.post(t, tt.body(r)); got != tt.status {
				t.Fatalf("status %d, want %d", got, tt.status)
			}
			if got := r.media.count(); got != tt.stored {
				t.Errorf("stored %d objects, want %d", got, tt.stored)
			}
			got := r.eng.Received()
			if tt.kind == "" {
				if len(got) != 0 {
					t.Errorf("received %+v, want nothing", got)
				}
				return
			}
			if len(got) != 1 || got[0].Kind != tt.kind {
				t.Fatalf("received %+v, want one %s event", got, tt.kind)
			}
			if tt.kind == engine.KindMedia {
				m := got[0].Media
				pid := engine.ParticipantID("bouncer", "whatsapp", "447911123456")
				if m == nil || m.Kind != "photo" || !strings.HasPrefix(m.Key, "bouncer/"+pid+"/") || m.Size != int64(len(photo)) {
					t.Errorf("media = %+v, want the stored photo under bouncer/%s/", m, pid)
				}
			} else if got[0].Media != nil {
				t.Errorf("unsupported event carries media %+v", got[0].Media)
			}
		})
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
	if got := len(r.eng.received); got != n {
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
