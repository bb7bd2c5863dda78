package messenger_test

import (
	"context"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/channels/messenger"
	"github.com/chatcampaigns/campaign/channels/messenger/messengertest"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/media"
)

const (
	appSecret   = "app-secret"
	verifyToken = "verify-me"
	psid        = "6543210987654321"
)

// fakeEngine routes every address to "race" and records what it receives.
type fakeEngine struct {
	mu         sync.Mutex
	received   []engine.Inbound
	receiveErr error
}

func (f *fakeEngine) Route(context.Context, string, string, string, string) (string, bool, error) {
	return "race", true, nil
}

func (f *fakeEngine) Receive(_ context.Context, in engine.Inbound) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.receiveErr != nil {
		return false, f.receiveErr
	}
	f.received = append(f.received, in)
	return false, nil
}

func (f *fakeEngine) Received() []engine.Inbound {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]engine.Inbound(nil), f.received...)
}

// fakeMedia keeps what it is given, refusing with err.
type fakeMedia struct {
	mu     sync.Mutex
	stored [][]byte
	err    error
}

func (f *fakeMedia) PutMedia(_ context.Context, campaign, participant, kind, declared string, r io.Reader) (engine.Media, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return engine.Media{}, err
	}
	if f.err != nil {
		return engine.Media{}, f.err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stored = append(f.stored, data)
	return engine.Media{Kind: kind, Key: campaign + "/" + participant + "/x", MIME: declared, Size: int64(len(data))}, nil
}

func (f *fakeMedia) count() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.stored) }

type fakeDeliveries struct {
	mu  sync.Mutex
	ids []string
}

func (f *fakeDeliveries) UpdateDelivery(_ context.Context, id string, d engine.Delivery) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ids = append(f.ids, id+" "+d.Status)
	return nil
}

type rig struct {
	ch    *messenger.Channel
	app   *fiber.App
	api   *messengertest.Server
	eng   *fakeEngine
	media *fakeMedia
	dels  *fakeDeliveries
	now   time.Time
}

func newRig(tb testing.TB, change func(*messenger.Config)) *rig {
	tb.Helper()
	r := &rig{api: messengertest.New(tb), eng: &fakeEngine{}, media: &fakeMedia{}, dels: &fakeDeliveries{}, now: now}
	cfg := messenger.Config{APIURL: r.api.APIURL, PageToken: messengertest.Token, AppSecret: appSecret,
		VerifyToken: verifyToken, Receiver: r.eng, Media: r.media, Deliveries: r.dels,
		Now: func() time.Time { return r.now }}
	if change != nil {
		change(&cfg)
	}
	ch, err := messenger.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	r.ch = ch
	r.app = fiber.New(fiber.Config{BodyLimit: 8 << 20, Immutable: true})
	ch.Mount(r.app)
	return r
}

func (r *rig) do(tb testing.TB, req *http.Request) int {
	tb.Helper()
	resp, err := r.app.Test(req, -1)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (r *rig) post(tb testing.TB, body []byte) int {
	tb.Helper()
	return r.do(tb, messengertest.SignedWebhook(appSecret, body))
}

// The media store is what the channel hands attachments to.
var _ messenger.MediaStore = (*media.Store)(nil)
