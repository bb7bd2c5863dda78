package whatsapp_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/channels/channeltest"
	"github.com/chatcampaigns/campaign/channels/whatsapp"
	"github.com/chatcampaigns/campaign/channels/whatsapp/graphtest"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/media"
)

const (
	appSecret   = "app-secret"
	verifyToken = "verify-me"
)

// fakeMedia stores in memory what PutMedia is given, refusing what err says; each object
// stored is recorded as "media" for the conformance golden files.
type fakeMedia struct {
	mu     sync.Mutex
	stored map[string][]byte
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
	defer f.mu.Unlock()
	sum := sha256.Sum256(data)
	key := campaign + "/" + participant + "/" + hex.EncodeToString(sum[:])
	if f.stored == nil {
		f.stored = make(map[string][]byte)
	}
	f.stored[key] = data
	m := engine.Media{Kind: kind, Key: key, MIME: declared, Size: int64(len(data))}
	f.rec.Record("media", m)
	return m, nil
}

func (f *fakeMedia) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.stored)
}

type deliveryUpdate struct {
	ID       string
	Delivery whatsapp.Delivery
}

// fakeDeliveries records each status as "delivery" for the conformance golden files.
type fakeDeliveries struct {
	mu      sync.Mutex
	updates []deliveryUpdate
	err     error
	rec     *channeltest.Recorder
}

func (f *fakeDeliveries) UpdateDelivery(_ context.Context, id string, d whatsapp.Delivery) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.updates = append(f.updates, deliveryUpdate{id, d})
	f.rec.Record("delivery", deliveryUpdate{id, d})
	return nil
}

// fakeGroups records the group events handed over as "group" for the golden files.
type fakeGroups struct {
	rec *channeltest.Recorder
	err error
}

type groupEvent struct {
	Event, Channel, RequestID, Group, InviteLink, Failure string
	Members                                               []string
}

func (f *fakeGroups) GroupCreated(_ context.Context, channel, requestID, address, link, failure string) error {
	if f.err != nil {
		return f.err
	}
	f.rec.Record("group", groupEvent{Event: "created", Channel: channel, RequestID: requestID, Group: address, InviteLink: link, Failure: failure})
	return nil
}

func (f *fakeGroups) GroupJoined(_ context.Context, channel, address string, members []string) error {
	if f.err != nil {
		return f.err
	}
	f.rec.Record("group", groupEvent{Event: "joined", Channel: channel, Group: address, Members: members})
	return nil
}

// fakeClock moves only when the channel sleeps; it records every sleep.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	if d > 0 {
		c.now = c.now.Add(d)
	}
	return ctx.Err()
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Duration
	for _, d := range c.sleeps {
		if d > 0 {
			out = append(out, d)
		}
	}
	return out
}

// rig is a channel wired to fakes and a fake Graph API, mounted on a Fiber app; it is the
// channel's fixture for the conformance harness (channeltest.Fixture).
type rig struct {
	ch     *whatsapp.Channel
	app    *fiber.App
	graph  *graphtest.Server
	rec    *channeltest.Recorder
	media  *fakeMedia
	dels   *fakeDeliveries
	groups *fakeGroups
	clock  *fakeClock
	nums   *fakeNumbers
}

var _ channeltest.Fixture = (*rig)(nil)

func (r *rig) App() *fiber.App                   { return r.app }
func (r *rig) Recorder() *channeltest.Recorder   { return r.rec }
func (r *rig) Sender() engine.Sender             { return r.ch }
func (r *rig) Platform() *channeltest.RequestLog { return r.graph.Log }
func (r *rig) Sign(req *http.Request, body []byte) {
	req.Header.Set(whatsapp.SignatureHeader, graphtest.Sign(appSecret, body))
	req.Header.Set("Content-Type", "application/json")
}

// fixture is newRig with the defaults, for the harness.
func fixture(tb testing.TB) *rig { return newRig(tb, nil) }

func newRig(tb testing.TB, change func(*whatsapp.Config)) *rig {
	tb.Helper()
	rec := channeltest.NewRecorder("bouncer")
	r := &rig{graph: graphtest.New(tb), rec: rec, media: &fakeMedia{rec: rec}, dels: &fakeDeliveries{rec: rec},
		groups: &fakeGroups{rec: rec}, clock: &fakeClock{now: now}, nums: newFakeNumbers(rec)}
	cfg := whatsapp.Config{
		APIURL: r.graph.APIURL, AccessToken: graphtest.Token, AppSecret: appSecret, VerifyToken: verifyToken,
		PhoneNumberID: testNumber, Receiver: r.rec, Media: r.media, Deliveries: r.dels, Groups: r.groups,
		Numbers: r.nums, Now: r.clock.Now, Sleep: r.clock.Sleep,
	}
	onPath(&cfg)
	if change != nil {
		change(&cfg)
	}
	ch, err := whatsapp.New(cfg)
	if err != nil {
		tb.Fatalf("whatsapp.New: %v", err)
	}
	r.ch = ch
	r.app = fiber.New(fiber.Config{BodyLimit: 8 << 20})
	ch.Mount(r.app)
	return r
}

// post sends a webhook signed with the app secret and returns the status.
func (r *rig) post(tb testing.TB, body []byte) int {
	tb.Helper()
	return r.do(tb, graphtest.SignedWebhook(appSecret, body))
}

func (r *rig) do(tb testing.TB, req *http.Request) int {
	tb.Helper()
	resp, err := r.app.Test(req, -1)
	if err != nil {
		tb.Fatalf("request: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

var errTransient = errors.New("disk on fire")

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// The media store is what the channel hands fetched media to.
var _ whatsapp.MediaStore = (*media.Store)(nil)
