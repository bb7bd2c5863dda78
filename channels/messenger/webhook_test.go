package messenger_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/channels/messenger"
	"github.com/chatcampaigns/campaign/channels/messenger/messengertest"
	"github.com/chatcampaigns/campaign/channels/metahook"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

func TestVerifyHandshake(t *testing.T) {
	r := newRig(t, nil)
	for token, want := range map[string]int{verifyToken: 200, "guess": 403, "": 403} {
		q := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {token}, "hub.challenge": {"1158201444"}}
		req, _ := http.NewRequest(http.MethodGet, "http://localhost/webhooks/messenger?"+q.Encode(), nil)
		resp, err := r.app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want || (want == 200 && string(body) != "1158201444") {
			t.Errorf("token %q: %d %q, want %d", token, resp.StatusCode, body, want)
		}
	}
}

func TestWebhookRefusesBadRequestsAndStoresNothing(t *testing.T) {
	body, _ := os.ReadFile("testdata/in/text.json")
	unsigned := func(b []byte) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, "http://localhost/webhooks/messenger", bytes.NewReader(b))
		return req
	}
	tampered := unsigned(bytes.Replace(body, []byte("Let me in"), []byte("Let us in"), 1))
	tampered.Header.Set(metahook.SignatureHeader, metahook.Sign(appSecret, body))
	huge := append([]byte(`{"object":"page","pad":"`), bytes.Repeat([]byte("x"), messenger.MaxWebhookBody)...)
	huge = append(huge, `"}`...)
	tests := []struct {
		name   string
		req    *http.Request
		status int
	}{
		{"Forged", messengertest.SignedWebhook("not-the-secret", body), 401},
		{"Unsigned", unsigned(body), 401},
		{"Tampered", tampered, 401},
		{"Malformed", messengertest.SignedWebhook(appSecret, []byte(`{"entry":[`)), 400},
		{"NotAnObject", messengertest.SignedWebhook(appSecret, []byte(`[1]`)), 400},
		{"TooLarge", messengertest.SignedWebhook(appSecret, huge), 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, nil)
			if got := r.do(t, tt.req); got != tt.status {
				t.Errorf("status %d, want %d", got, tt.status)
			}
			if n := len(r.eng.Received()); n != 0 {
				t.Errorf("%d messages stored from a refused webhook", n)
			}
		})
	}
}

// TestWebhookHandsOverEveryEventOfABatch: all entries and messaging events of a body reach
// the engine, in time order, and the delivery receipts the store.
func TestWebhookHandsOverEveryEventOfABatch(t *testing.T) {
	r := newRig(t, nil)
	body, _ := os.ReadFile("testdata/in/batch.json")
	if st := r.post(t, body); st != 200 {
		t.Fatalf("status %d", st)
	}
	var got []string
	for _, in := range r.eng.Received() {
		got = append(got, in.PlatformID+" "+in.ParticipantID)
		if in.Campaign != "race" || in.ParticipantID != engine.ParticipantID("race", messenger.ChannelName, in.From) {
			t.Errorf("inbound %+v not routed", in)
		}
	}
	want := []string{"m_first", "m_other", "m_second"}
	if len(got) != 3 || !strings.HasPrefix(got[0], want[0]) || !strings.HasPrefix(got[1], want[1]) || !strings.HasPrefix(got[2], want[2]) {
		t.Errorf("received %v, want %v in that order", got, want)
	}
	if fmt.Sprint(r.dels.ids) != "[m_sent_1 delivered m_sent_2 delivered]" {
		t.Errorf("deliveries %v", r.dels.ids)
	}
}

func TestWebhookFetchesAttachmentsIntoTheMediaStore(t *testing.T) {
	photo := bytes.Repeat([]byte{0xff, 0xd8, 0xff}, 100)
	tests := []struct {
		name     string
		change   func(*messenger.Config)
		mediaErr error
		path     string // the attachment's path on the fake CDN (default: served)
		status   int
		kind     engine.Kind
		stored   int
	}{
		{name: "Stored", status: 200, kind: engine.KindMedia, stored: 1},
		{name: "OverTheLimit", change: func(c *messenger.Config) { c.MediaLimit = 100 }, status: 200, kind: engine.KindUnsupported},
		{name: "NotAPhoto", mediaErr: fmt.Errorf("not a photo: %w", errs.ErrInvalid), status: 200, kind: engine.KindUnsupported},
		{name: "LinkExpired", path: "/cdn/files/gone", status: 200, kind: engine.KindUnsupported},
		{name: "StoreDown", mediaErr: errors.New("S3 unreachable"), status: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, tt.change)
			r.media.err = tt.mediaErr
			link := r.api.AddAttachment("a1", "image/jpeg", photo)
			if tt.path != "" {
				link = r.api.URL + tt.path
			}
			if st := r.post(t, messengertest.Webhook(psid, 1767611520000, messengertest.Image("m_img", link))); st != tt.status {
				t.Fatalf("status %d, want %d", st, tt.status)
			}
			if r.media.count() != tt.stored {
				t.Errorf("stored %d, want %d", r.media.count(), tt.stored)
			}
			got := r.eng.Received()
			if tt.status != 200 {
				if len(got) != 0 {
					t.Errorf("received %+v although the webhook will be redelivered", got)
				}
				return
			}
			if len(got) != 1 || got[0].Kind != tt.kind {
				t.Fatalf("received %+v, want one %s", got, tt.kind)
			}
			if tt.kind == engine.KindMedia && (got[0].Media == nil || got[0].Media.Size != int64(len(photo))) {
				t.Errorf("media %+v, want the photo's %d bytes", got[0].Media, len(photo))
			}
		})
	}
}

func TestWebhookRedeliveryOnStoreFailure(t *testing.T) {
	r := newRig(t, nil)
	body := messengertest.Webhook(psid, 1767611520000, messengertest.Text("m_1", "hi"))
	r.eng.receiveErr = errors.New("disk on fire")
	if st := r.post(t, body); st != 500 {
		t.Errorf("store down: %d, want 500 for a redelivery", st)
	}
	r.eng.receiveErr = fmt.Errorf("empty: %w", errs.ErrInvalid)
	if st := r.post(t, body); st != 200 {
		t.Errorf("refused by the engine: %d, want 200 (dropped, not redelivered for days)", st)
	}
}

type busy struct{}

func (busy) Admit(context.Context) (time.Duration, error) { return 3 * time.Second, engine.ErrBusy }

func TestWebhookBackPressure(t *testing.T) {
	r := newRig(t, func(c *messenger.Config) { c.Intake = busy{} })
	if st := r.post(t, messengertest.Webhook(psid, 1767611520000, messengertest.Text("m_1", "hi"))); st != 503 {
		t.Errorf("busy: %d, want 503", st)
	}
	if len(r.eng.Received()) != 0 {
		t.Error("stored while refusing")
	}
}
