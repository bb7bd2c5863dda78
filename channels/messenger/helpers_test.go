package messenger_test

import (
	"context"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/channels/channeltest"
	"github.com/chatcampaigns/campaign/channels/messenger"
	"github.com/chatcampaigns/campaign/channels/messenger/messengertest"
	"github.com/chatcampaigns/campaign/channels/metahook"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/media"
)

var _ = flag.Bool("update", false, "rewrite the golden files in testdata (channeltest reads it)")

const (
	appSecret   = "app-secret"
	verifyToken = "verify-me"
	psid        = "6543210987654321"
)

var now = time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)

// fakeMedia keeps what it is given, refusing with err; each object stored is recorded as
// "media" for the golden files.
type fakeMedia struct {
	mu     sync.Mutex
	stored int
	err    error
	rec    *channeltest.Recorder
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
	f.stored++
	f.mu.Unlock()
	m := engine.Media{Kind: kind, Key: campaign + "/" + participant + "/x", MIME: declared, Size: int64(len(data))}
	f.rec.Record("media", m)
	return m, nil
}

// fakeDeliveries records each receipt as "delivery".
type fakeDeliveries struct{ rec *channeltest.Recorder }

type receipt struct {
	MID      string
	Delivery engine.Delivery
}

func (f fakeDeliveries) UpdateDelivery(_ context.Context, id string, d engine.Delivery) error {
	f.rec.Record("delivery", receipt{id, d})
	return nil
}

// rig is a channel wired to a channeltest.Recorder and the fake Send API, mounted on a Fiber
// app: the channel's fixture for the conformance harness.
type rig struct {
	ch    *messenger.Channel
	app   *fiber.App
	api   *messengertest.Server
	rec   *channeltest.Recorder
	media *fakeMedia
	now   time.Time
	cfg   messenger.Config
}

var _ channeltest.Fixture = (*rig)(nil)

func (r *rig) App() *fiber.App                   { return r.app }
func (r *rig) Recorder() *channeltest.Recorder   { return r.rec }
func (r *rig) Sender() engine.Sender             { return r.ch }
func (r *rig) Platform() *channeltest.RequestLog { return r.api.Log }
func (r *rig) Sign(req *http.Request, body []byte) {
	req.Header.Set(metahook.SignatureHeader, metahook.Sign(appSecret, body))
	req.Header.Set("Content-Type", "application/json")
}

func fixture(tb testing.TB) *rig { return newRig(tb, nil) }

func newRig(tb testing.TB, change func(*messenger.Config)) *rig {
	tb.Helper()
	rec := channeltest.NewRecorder("race")
	r := &rig{api: messengertest.New(tb), rec: rec, media: &fakeMedia{rec: rec}, now: now}
	r.cfg = messenger.Config{APIURL: r.api.APIURL, PageToken: messengertest.Token, AppSecret: appSecret,
		VerifyToken: verifyToken, Receiver: rec, Media: r.media, Deliveries: fakeDeliveries{rec},
		HTTPClient: r.api.Client(), Now: func() time.Time { return r.now }}
	if err := r.rebuild(change); err != nil {
		tb.Fatal(err)
	}
	return r
}

// rebuild makes the rig's channel again from its configuration with change applied.
func (r *rig) rebuild(change func(*messenger.Config)) error {
	cfg := r.cfg
	if change != nil {
		change(&cfg)
	}
	ch, err := messenger.New(cfg)
	if err != nil {
		return err
	}
	r.ch = ch
	r.app = fiber.New(fiber.Config{BodyLimit: 8 << 20, Immutable: true})
	ch.Mount(r.app)
	return nil
}

func mustRead(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "webhooks", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// The media store is what the channel hands attachments to.
var _ messenger.MediaStore = (*media.Store)(nil)
