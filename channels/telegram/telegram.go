// Package telegram owns the Telegram Bot API channel: the webhook Telegram delivers updates
// to (secret-token header, update_id dedupe, messages, callback queries, chat member updates,
// group to supergroup migrations, /start deep links), media fetched with getFile and handed to
// the media store, a Sender that delivers engine.Outbound replies (text, media by link, inline
// keyboards) paced per chat, per group and per bot and retried after a 429's retry_after, and
// the Bot API calls `campaign channels setup|check telegram` make (setWebhook, getMe,
// getWebhookInfo).
//
// A private chat is a participant addressed by its chat id; a group chat is a team addressed
// by the group's (negative) chat id: its members are recorded as they show up, and what any of
// them sends counts for the team (docs/telegram.md).
//
// The webhook answers 200 only once the update has been handed over durably; any failure
// answers 500 and Telegram delivers the update again. The store recognises a redelivered
// update by its update_id, so a retry has no second effect.
package telegram

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// ChannelName is the channel's name in engine events, participant ids and sender maps.
const ChannelName = "telegram"

// Defaults for Config fields left zero. The pacing figures are the Bots FAQ's advice, not
// documented hard limits: Telegram answers 429 with retry_after when a bot goes faster, and
// the channel honours it whatever the figures say.
const (
	DefaultAPIURL = "https://api.telegram.org"
	// DefaultChatInterval spaces messages to one private chat ("avoid more than one message
	// per second").
	DefaultChatInterval = time.Second
	// DefaultGroupPerMinute caps messages to one group ("no more than 20 messages per minute").
	DefaultGroupPerMinute = 20
	// DefaultBotPerSecond caps the bot's messages overall ("about 30 messages per second").
	DefaultBotPerSecond = 30
	DefaultMaxRetries   = 3
	DefaultMediaTimeout = 30 * time.Second
	DefaultSendTimeout  = 15 * time.Second
	// MaxDownload is the largest file the Bot API lets a bot download.
	MaxDownload = 20 << 20
	// MaxWebhookBody bounds an update body: updates are small JSON objects (a message with
	// its caption and entities is a few KB), so 1 MB leaves room for any documented one.
	MaxWebhookBody = 1 << 20
)

// Receiver is what the channel needs from the engine; *engine.Engine satisfies it.
type Receiver interface {
	// Route picks the campaign a message from address (a chat id) belongs to; see
	// engine.Engine.Route. number is always empty: a bot is one address.
	Route(ctx context.Context, channel, address, text, number string) (campaign string, ok bool, err error)
	// RouteStart picks the campaign a deep link's payload names (see engine.Engine.RouteStart).
	RouteStart(ctx context.Context, channel, address, payload string) (campaign string, ok bool, err error)
	// Receive stores an inbound event durably; duplicate is true when the same Channel and
	// PlatformID was stored before. Errors wrapping errs.ErrInvalid are permanent (dropped and
	// logged); any other error answers 500 so Telegram delivers the update again.
	Receive(ctx context.Context, in engine.Inbound) (duplicate bool, err error)
	// JoinGroup records member as one of the group's team in campaign and starts the team;
	// see engine.Engine.JoinGroup.
	JoinGroup(ctx context.Context, campaign, channel, group, name, member string) (engine.Team, error)
	// Campaign returns a campaign's definition: a team campaign is played in groups only.
	Campaign(id string) (*campaigns.Definition, bool)
}

// Admitter decides whether an update may be taken in now (engine.Intake.Admit).
type Admitter interface {
	Admit(ctx context.Context) (retryAfter time.Duration, err error)
}

// MediaStore keeps fetched media; *media.Store satisfies it.
type MediaStore interface {
	// PutMedia checks and stores one media object of kind for a participant. Errors wrapping
	// errs.ErrInvalid or errs.ErrTooLarge are permanent; others are transient.
	PutMedia(ctx context.Context, campaign, participant, kind, declaredMIME string, r io.Reader) (engine.Media, error)
}

// Aliases keeps the chat ids a group had before Telegram upgraded it to a supergroup: the
// team keeps the address it started with, and replies go to the chat's current id.
type Aliases interface {
	// SetAlias records that alias stands for address on channel; setting it again is no
	// change.
	SetAlias(ctx context.Context, channel, alias, address string) error
	// Alias returns what alias stands for, or an error wrapping errs.ErrNotFound.
	Alias(ctx context.Context, channel, alias string) (string, error)
}

// Config is what a Channel is built from. Token and WebhookSecret are required.
type Config struct {
	// APIURL is the Bot API root (default DefaultAPIURL); TELEGRAM_API_URL. Methods are called
	// at {APIURL}/bot{Token}/{method}, files downloaded from {APIURL}/file/bot{Token}/{path}.
	APIURL string
	// Token is the bot's token from @BotFather; TELEGRAM_BOT_TOKEN.
	Token string
	// WebhookSecret is the secret_token given to setWebhook, which Telegram sends back in
	// X-Telegram-Bot-Api-Secret-Token; TELEGRAM_WEBHOOK_SECRET. 1–256 of A-Z a-z 0-9 _ -.
	WebhookSecret string
	// ChatInterval, GroupPerMinute and BotPerSecond pace sends (defaults above).
	ChatInterval   time.Duration
	GroupPerMinute int
	BotPerSecond   int
	// MaxRetries bounds retries of one send after a 429 or a 5xx (default DefaultMaxRetries;
	// negative: none).
	MaxRetries int
	// MaxMedia caps a download (default and at most MaxDownload).
	MaxMedia     int64
	MediaTimeout time.Duration
	SendTimeout  time.Duration

	Receiver Receiver
	Media    MediaStore
	Aliases  Aliases
	Intake   Admitter

	HTTPClient *http.Client
	// Typing shows "typing…" in the chat (sendChatAction) when a new message arrives, while
	// the persona prepares its answer; Telegram hides it after 5 s or at the reply.
	Typing bool
	// Now and Sleep are the clock; tests inject a fake one to check pacing and retry_after
	// without waiting.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	Log   *slog.Logger
}

// Channel is the Telegram channel: Mount serves the webhook, Send and the setup methods talk
// to the Bot API. Its methods are safe for concurrent use.
type Channel struct {
	cfg     Config
	pacer   *pacer
	aliases aliasCache
	// members are the group members this process recorded (campaign, group, member): a
	// group's every message names its sender, and asking the engine each time would cost a
	// store read per message for nothing.
	members sync.Map
	// typing bounds the chat actions in flight (showTyping).
	typing chan struct{}
	// botName is the bot's username, from getMe the first time a message needs it.
	botMu   sync.Mutex
	botName string
}

var (
	_ engine.Sender = (*Channel)(nil)
	_ Receiver      = (*engine.Engine)(nil)
)

// New checks cfg, fills in its defaults and returns a Channel. It fails with errs.ErrInvalid
// when the token or the webhook secret is missing or the secret has characters Telegram does
// not allow: a webhook without a secret would accept anyone's updates.
func New(cfg Config) (*Channel, error) {
	if cfg.Token == "" {
		return nil, fmt.Errorf("telegram: no bot token (TELEGRAM_BOT_TOKEN): %w", errs.ErrInvalid)
	}
	if err := CheckSecret(cfg.WebhookSecret); err != nil {
		return nil, err
	}
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&cfg.ChatInterval, DefaultChatInterval}, {&cfg.MediaTimeout, DefaultMediaTimeout}, {&cfg.SendTimeout, DefaultSendTimeout}} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	for _, n := range []struct {
		v   *int
		def int
	}{{&cfg.GroupPerMinute, DefaultGroupPerMinute}, {&cfg.BotPerSecond, DefaultBotPerSecond}} {
		if *n.v <= 0 {
			*n.v = n.def
		}
	}
	// MaxRetries: zero is the default, negative none.
	cfg.MaxRetries = max(cmp.Or(cfg.MaxRetries, DefaultMaxRetries), 0)
	if cfg.MaxMedia <= 0 || cfg.MaxMedia > MaxDownload {
		cfg.MaxMedia = MaxDownload
	}
	// Sends, getFile and downloads all go to one host: keep connections to it for reuse.
	cfg.HTTPClient = cmp.Or(cfg.HTTPClient, &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{
		Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: 32, IdleConnTimeout: 90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second, ForceAttemptHTTP2: true}})
	cfg.Log = cmp.Or(cfg.Log, slog.New(slog.DiscardHandler))
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = wait
	}
	return &Channel{cfg: cfg, pacer: newPacer(cfg.ChatInterval, cfg.GroupPerMinute, cfg.BotPerSecond),
		typing: make(chan struct{}, 16)}, nil
}

// CheckSecret says whether s may be a webhook secret_token: 1 to 256 characters, each a
// letter, a digit, _ or -. Errors wrap errs.ErrInvalid.
func CheckSecret(s string) error {
	if s == "" {
		return fmt.Errorf("telegram: no webhook secret (TELEGRAM_WEBHOOK_SECRET): %w", errs.ErrInvalid)
	}
	if len(s) > 256 {
		return fmt.Errorf("telegram: webhook secret of %d characters, more than Telegram's 256 (TELEGRAM_WEBHOOK_SECRET): %w", len(s), errs.ErrInvalid)
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return fmt.Errorf("telegram: webhook secret may hold only A-Z, a-z, 0-9, _ and - (TELEGRAM_WEBHOOK_SECRET): %w", errs.ErrInvalid)
		}
	}
	return nil
}

// wait is the real clock's Sleep: d, or until ctx ends.
func wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
