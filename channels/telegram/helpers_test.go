package telegram_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/channels/channeltest"
	"github.com/chatcampaigns/campaign/channels/telegram"
	"github.com/chatcampaigns/campaign/channels/telegram/bottest"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

var _ = flag.Bool("update", false, "rewrite the golden files in testdata (channeltest reads it)")

const secret = "s3cr3t-Token_1"

var errTransient = errors.New("disk on fire")

// receiver is the harness's Recorder with what the Telegram channel needs of the engine
// besides Route and Receive: deep links route like messages (recorded as "start PAYLOAD"),
// and a group's members are recorded as "team".
type receiver struct {
	*channeltest.Recorder
	mu sync.Mutex
	// teams makes the campaign's participants teams.
	teams   bool
	joinErr error
}

func (r *receiver) RouteStart(ctx context.Context, channel, address, payload string) (string, bool, error) {
	return r.Route(ctx, channel, address, "start "+payload, "")
}

func (r *receiver) JoinGroup(ctx context.Context, campaign, channel, group, name, member string) (engine.Team, error) {
	r.mu.Lock()
	err := r.joinErr
	r.mu.Unlock()
	if err != nil {
		return engine.Team{}, err
	}
	r.Record("team", map[string]string{"campaign": campaign, "group": group, "name": name, "member": member})
	return engine.Team{ID: group, Campaign: campaign, Channel: channel, Name: name}, nil
}

func (r *receiver) Campaign(id string) (*campaigns.Definition, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	d := &campaigns.Definition{ID: id, Title: "The Great Escape Race"}
	if r.teams {
		d.Teams = &campaigns.Teams{MinSize: 2, MaxSize: 4}
	}
	return d, true
}

// joins returns the recorded group members as [group, member] pairs.
func (r *receiver) joins() [][2]string {
	var out [][2]string
	for _, v := range r.Snapshot().Other["team"] {
		m := v.(map[string]string)
		out = append(out, [2]string{m["group"], m["member"]})
	}
	return out
}

// fakeMedia keeps what it is given and records it, refusing with err when set.
type fakeMedia struct {
	rec *channeltest.Recorder
	mu  sync.Mutex
	err error
}

func (m *fakeMedia) PutMedia(ctx context.Context, campaign, participant, kind, mime string, r io.Reader) (engine.Media, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return engine.Media{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return engine.Media{}, m.err
	}
	media := engine.Media{Kind: kind, Key: campaign + "/" + participant + "/" + kind, MIME: mime, Size: int64(len(data))}
	m.rec.Record("media", media)
	return media, nil
}

// memAliases is an alias store in memory; what is set is recorded.
type memAliases struct {
	rec *channeltest.Recorder
	mu  sync.Mutex
	m   map[string]string
}

func (a *memAliases) SetAlias(ctx context.Context, channel, alias, address string) error {
	a.rec.Record("alias", map[string]string{"channel": channel, "alias": alias, "address": address})
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil {
		a.m = map[string]string{}
	}
	a.m[channel+"/"+alias] = address
	return nil
}

func (a *memAliases) Alias(ctx context.Context, channel, alias string) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	v, ok := a.m[channel+"/"+alias]
	if !ok {
		return "", errs.ErrNotFound
	}
	return v, nil
}

// clock is a fake clock: Sleep moves it on and records how long was slept.
type clock struct {
	mu    sync.Mutex
	t     time.Time
	slept []time.Duration
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.t = c.t.Add(d)
		c.slept = append(c.slept, d)
	}
	return ctx.Err()
}

func (c *clock) Slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}

// rig is one Telegram channel on a fake Bot API, its webhook on a Fiber app: the harness's
// fixture, and the ordinary tests' too.
type rig struct {
	api     *bottest.Server
	rec     *receiver
	media   *fakeMedia
	aliases *memAliases
	clock   *clock
	ch      *telegram.Channel
	app     *fiber.App
}

var _ channeltest.Fixture = (*rig)(nil)

func (r *rig) App() *fiber.App                   { return r.app }
func (r *rig) Recorder() *channeltest.Recorder   { return r.rec.Recorder }
func (r *rig) Sender() engine.Sender             { return r.ch }
func (r *rig) Platform() *channeltest.RequestLog { return r.api.Log }
func (r *rig) Sign(req *http.Request, body []byte) {
	req.Header.Set(telegram.SecretHeader, secret)
	req.Header.Set("Content-Type", "application/json")
}

// fixture is newRig with the defaults, for the harness.
func fixture(tb testing.TB) *rig { return newRig(tb, nil) }

func newRig(tb testing.TB, change func(*telegram.Config)) *rig {
	tb.Helper()
	rec := &receiver{Recorder: channeltest.NewRecorder("race")}
	r := &rig{api: bottest.New(tb), rec: rec, media: &fakeMedia{rec: rec.Recorder}, aliases: &memAliases{rec: rec.Recorder},
		clock: &clock{t: time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)}}
	// What the channel asks of the Bot API while it takes an update in is part of what it
	// does with the update: the golden files show it.
	r.api.Observe(func(c bottest.Call) { rec.Record("bot_api", map[string]any{"method": c.Method, "params": c.Params}) })
	cfg := telegram.Config{APIURL: r.api.URL, Token: bottest.Token, WebhookSecret: secret,
		Receiver: rec, Media: r.media, Aliases: r.aliases, Now: r.clock.Now, Sleep: r.clock.Sleep}
	if change != nil {
		change(&cfg)
	}
	ch, err := telegram.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	r.ch = ch
	r.app = fiber.New(fiber.Config{Immutable: true, DisableStartupMessage: true})
	ch.Mount(r.app)
	return r
}

// deliver posts body to the webhook with the secret header.
func (r *rig) deliver(tb testing.TB, body []byte) int {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodPost, telegram.WebhookPath, nil)
	r.Sign(req, body)
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	resp, err := r.app.Test(req, -1)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
