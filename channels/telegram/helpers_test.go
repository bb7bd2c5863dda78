package telegram_test

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/channels/telegram"
	"github.com/chatcampaigns/campaign/channels/telegram/bottest"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

const secret = "s3cr3t-Token_1"

// fakeEngine records what the channel hands over and routes everything to one campaign.
type fakeEngine struct {
	mu       sync.Mutex
	campaign string
	received []engine.Inbound
	seen     map[string]bool
	joins    [][2]string // group, member
	starts   []string
	fail     error
	teams    bool // the campaign's participants are teams
}

func (f *fakeEngine) Route(ctx context.Context, channel, address, text, number string) (string, bool, error) {
	return f.campaign, f.campaign != "", nil
}

func (f *fakeEngine) RouteStart(ctx context.Context, channel, address, payload string) (string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.starts = append(f.starts, payload)
	return f.campaign, f.campaign != "", nil
}

func (f *fakeEngine) Receive(ctx context.Context, in engine.Inbound) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return false, f.fail
	}
	key := in.Channel + "/" + in.PlatformID
	if f.seen[key] {
		return true, nil
	}
	if f.seen == nil {
		f.seen = map[string]bool{}
	}
	f.seen[key] = true
	f.received = append(f.received, in)
	return false, nil
}

func (f *fakeEngine) JoinGroup(ctx context.Context, campaign, channel, group, name, member string) (engine.Team, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.joins = append(f.joins, [2]string{group, member})
	return engine.Team{ID: group, Campaign: campaign, Channel: channel, Name: name}, nil
}

func (f *fakeEngine) Campaign(id string) (*campaigns.Definition, bool) {
	if id != f.campaign {
		return nil, false
	}
	d := &campaigns.Definition{ID: id, Title: "The Great Escape Race"}
	if f.teams {
		d.Teams = &campaigns.Teams{MinSize: 2, MaxSize: 4}
	}
	return d, true
}

func (f *fakeEngine) Received() []engine.Inbound {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]engine.Inbound(nil), f.received...)
}

// fakeMedia keeps what it is given in memory.
type fakeMedia struct {
	mu   sync.Mutex
	puts map[string][]byte
}

func (m *fakeMedia) PutMedia(ctx context.Context, campaign, participant, kind, mime string, r io.Reader) (engine.Media, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return engine.Media{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.puts == nil {
		m.puts = map[string][]byte{}
	}
	key := campaign + "/" + participant + "/" + kind
	m.puts[key] = data
	return engine.Media{Kind: kind, Key: key, MIME: mime, Size: int64(len(data))}, nil
}

// memAliases is an alias store in memory.
type memAliases struct {
	mu sync.Mutex
	m  map[string]string
}

func (a *memAliases) SetAlias(ctx context.Context, channel, alias, address string) error {
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

type rig struct {
	api     *bottest.Server
	eng     *fakeEngine
	media   *fakeMedia
	aliases *memAliases
	clock   *clock
	ch      *telegram.Channel
	url     string
}

// newRig is a channel on a fake Bot API, with its webhook served on loopback.
func newRig(t *testing.T, change func(*telegram.Config)) *rig {
	t.Helper()
	r := &rig{api: bottest.New(t), eng: &fakeEngine{campaign: "race"}, media: &fakeMedia{}, aliases: &memAliases{},
		clock: &clock{t: time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)}}
	cfg := telegram.Config{APIURL: r.api.URL, Token: bottest.Token, WebhookSecret: secret,
		Receiver: r.eng, Media: r.media, Aliases: r.aliases, Now: r.clock.Now, Sleep: r.clock.Sleep}
	if change != nil {
		change(&cfg)
	}
	ch, err := telegram.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.ch = ch
	app := fiber.New(fiber.Config{Immutable: true, DisableStartupMessage: true})
	ch.Mount(app)
	ln := listen(t)
	go app.Listener(ln)
	t.Cleanup(func() { app.Shutdown() })
	r.url = "http://" + ln.Addr().String() + telegram.WebhookPath
	return r
}
