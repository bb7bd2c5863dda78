// Package whatsapp owns the WhatsApp Cloud API channel: the webhook a brand points its
// WhatsApp Business number at (verification handshake, signature check on the raw body,
// every message type normalized to engine.Inbound, delivery statuses), media fetched through
// the Graph API and handed to the media store, and a Sender that delivers engine.Outbound
// replies (text, media by link, reply buttons and lists, templates) with a rate limit per
// sending number and bounded retries on the platform's rate-limit and transient errors. It
// also keeps watch on the sending numbers' health (messaging limit, throughput, quality) and
// takes people's marketing stop / resume answers (numbers.go); the platform's marketing
// refusals (131048, 131049, 131050) match the engine's errors of engine/marketing.go.
//
// The webhook answers 200 only once everything in the body has been handed over durably:
// messages to Receiver.Receive, statuses to Deliveries.UpdateDelivery. Any failure answers
// 500 so that Meta redelivers (it does so for days); the store recognises a redelivered
// message by its wamid, so a retry has no second effect.
//
// Media is fetched synchronously inside the webhook, within Config.MediaTimeout, because the
// channel has no durable queue of its own: the media id is only useful while the message is
// unacknowledged, and acknowledging before the bytes are in S3 could lose them. A transient
// failure (network, Graph API 5xx, S3) answers 500 and Meta retries; a permanent one (too
// large, wrong type, digest mismatch, media gone) is delivered as engine.KindUnsupported so
// the participant is told, instead of a week of retries. The cost is webhook latency for
// media messages; see docs/whatsapp.md.
package whatsapp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/chatcampaigns/campaign/broadcast"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// ChannelName is the channel's name in engine events, participant ids and sender maps.
const ChannelName = "whatsapp"

// Defaults for Config fields left zero.
const (
	DefaultAPIURL       = "https://graph.facebook.com/v23.0"
	DefaultRateLimit    = 80
	DefaultMaxRetries   = 3
	DefaultMediaTimeout = 10 * time.Second
	DefaultSendTimeout  = 15 * time.Second
	// DefaultNumberCheck is how often `campaign serve` reads the numbers' health: the
	// platform raises a limit within hours and tells of drops by webhook at once.
	DefaultNumberCheck = time.Hour
	// MaxWebhookBody is the largest webhook body accepted: Meta's documented 3 MB plus a
	// margin for the envelope; bigger bodies are answered 413 before the signature is checked.
	MaxWebhookBody = 3<<20 + 512<<10
)

// DefaultMediaLimits are the per-kind download caps: Meta's own limits for what it carries.
var DefaultMediaLimits = map[string]int64{
	"photo":    5 << 20,
	"video":    16 << 20,
	"audio":    16 << 20,
	"document": 100 << 20,
	"sticker":  500 << 10,
}

// Delivery statuses, as the platform names them.
const (
	StatusSent      = "sent"
	StatusDelivered = "delivered"
	StatusRead      = "read"
	StatusFailed    = "failed"
	// StatusPlayed is the first play of a voice message.
	StatusPlayed = "played"
)

// Receiver is what the channel needs from the engine.
type Receiver interface {
	// Route picks the campaign a message from address (the sender's WhatsApp id, or
	// GroupPrefix+group id) to the business number number (its phone_number_id) belongs to:
	// the campaign the sender already takes part in through that number, else the one whose
	// entry keyword text matches. ok is false when no campaign takes the message; err is for
	// failures worth a redelivery.
	Route(ctx context.Context, channel, address, text, number string) (campaign string, ok bool, err error)
	// Receive stores an inbound event durably; duplicate is true when the same Channel and
	// PlatformID was stored before (nothing happens then). Errors wrapping errs.ErrInvalid or
	// errs.ErrNotFound are permanent (the message is dropped and logged); any other error is
	// answered 500 so the platform redelivers.
	Receive(ctx context.Context, in engine.Inbound) (duplicate bool, err error)
}

// Admitter decides whether a message may be taken in now (engine.Intake.Admit): nil after
// waiting for room if need be, or engine.ErrBusy and how long the platform should wait before
// delivering it again.
type Admitter interface {
	Admit(ctx context.Context) (retryAfter time.Duration, err error)
}

// MediaStore keeps fetched media; *media.Store satisfies it.
type MediaStore interface {
	// PutMedia checks and stores one media object of kind (photo, video, audio, document)
	// for a participant. Errors wrapping errs.ErrInvalid (not what it claims to be) or
	// errs.ErrTooLarge are permanent; others are transient.
	PutMedia(ctx context.Context, campaign, participant, kind, declaredMIME string, r io.Reader) (engine.Media, error)
}

// Deliveries records delivery statuses of sent messages.
type Deliveries interface {
	// UpdateDelivery records d for the outbound message the platform knows as platformID.
	// It must never downgrade: a status replaces the recorded one only when
	// Supersedes(recorded, d.Status) (read stays read when a late delivered arrives), and
	// the same status twice is a no-op. An unknown platformID is not an error (the status
	// may belong to a message sent by another tool on the same number).
	UpdateDelivery(ctx context.Context, platformID string, d Delivery) error
}

// Delivery is one status the platform reported for an outbound message.
type Delivery struct {
	// Status is sent, delivered, read, failed or played.
	Status string
	// ErrorCode and ErrorTitle are set for failed.
	ErrorCode  int
	ErrorTitle string
	At         time.Time
}

// Config is what a Channel is built from. AccessToken, AppSecret and VerifyToken are
// required; the rest has defaults.
type Config struct {
	// APIURL is the Graph API base including the version (default DefaultAPIURL);
	// WHATSAPP_API_URL.
	APIURL string
	// AccessToken is the system user's token for the Graph API; WHATSAPP_ACCESS_TOKEN.
	AccessToken string
	// AppSecret signs webhooks (X-Hub-Signature-256); WHATSAPP_APP_SECRET.
	AppSecret string
	// VerifyToken is the string entered in the App Dashboard's webhook configuration;
	// WHATSAPP_VERIFY_TOKEN.
	VerifyToken string
	// PhoneNumberID is the default sending number; WHATSAPP_PHONE_NUMBER_ID.
	PhoneNumberID string
	// SenderNumber picks the sending number (phone_number_id) for a campaign's replies;
	// nil or an empty answer means PhoneNumberID.
	SenderNumber func(campaign string) string
	// RateLimit is messages per second per sending number (default DefaultRateLimit); Burst
	// how many may go at once (default 1: evenly spaced).
	RateLimit float64
	Burst     int
	// MaxRetries bounds retries of one send on rate-limit and transient errors (default
	// DefaultMaxRetries; negative: none).
	MaxRetries int
	// MediaLimits overrides DefaultMediaLimits per kind.
	MediaLimits map[string]int64
	// MediaTimeout bounds fetching and storing one media object inside the webhook.
	MediaTimeout time.Duration
	// SendTimeout bounds one HTTP request to the Graph API.
	SendTimeout time.Duration

	Receiver   Receiver
	Media      MediaStore
	Deliveries Deliveries
	// Groups takes the group webhooks (a group made, members joined); nil ignores them.
	Groups GroupReceiver
	// Numbers keeps the sending numbers' health and people's marketing preferences
	// (numbers.go); nil ignores the quality and preference webhooks and reads nothing.
	Numbers NumberStore
	// Intake, when set, is asked before a webhook carrying messages is handled: it may make
	// the webhook wait for the engine to catch up, or refuse it (engine.ErrBusy), answered 503
	// with Retry-After (docs/performance.md, "Back-pressure"). *engine.Intake satisfies it.
	Intake Admitter

	// HTTPClient, when set, makes every Graph API request, as given. When nil the channel
	// makes its own: requests to /{number}/{edge} (replies, read receipts) then go through a
	// fasthttp client unless the environment names a proxy for APIURL (HTTP_PROXY,
	// HTTPS_PROXY, NO_PROXY), in which case they stay on net/http like media and number
	// checks (fastpost.go).
	HTTPClient *http.Client
	// Typing marks each new message read and shows the typing indicator while the persona
	// prepares its answer (WhatsApp hides it after 25 s or at the reply).
	Typing bool
	// Now and Sleep are the clock; tests inject a fake one to check spacing and backoff
	// without waiting.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	Log   *slog.Logger

	// Set by tests only (export_test.go): proxy replaces http.ProxyFromEnvironment (which
	// reads the environment once a process), roots the system's certificate pool, and
	// netHTTPOnly keeps every request on net/http.
	proxy       func(*http.Request) (*url.URL, error)
	roots       *x509.CertPool
	netHTTPOnly bool
}

// Channel is the WhatsApp channel: Mount serves the webhook, Send and MarkRead talk to the
// Graph API. Its methods are safe for concurrent use.
type Channel struct {
	cfg     Config
	limits  map[string]int64
	limiter *limiters
	// reads bounds the chats with read receipts in flight; waiting, guarded by readsMu, is
	// the receipts of each of them (markReadLater).
	reads   chan struct{}
	readsMu sync.Mutex
	waiting map[readKey]*readsOf
	// readJobs hands a chat's receipts to an idle receipt worker (startReads).
	readJobs chan readJob
	// auth is the Authorization header's value; endpoints the request URLs by number and
	// edge (send.go).
	auth        []string
	endpointsMu sync.RWMutex
	// transport is the channel's own client's, when it made one: requests to /messages go to
	// it directly (send.go, roundTrip).
	transport http.RoundTripper
	// fast, when set, takes those requests instead (fastpost.go).
	fast      *fastClient
	endpoints map[endpointKey]string

	// healthMu guards onHealth and byDisplay (numbers.go); recordMu serialises the records
	// of number facts; recheck asks WatchNumbers for a read before its time.
	healthMu  sync.Mutex
	onHealth  []func(context.Context, broadcast.NumberHealth)
	byDisplay map[string]string
	recordMu  sync.Mutex
	recheck   chan struct{}
}

// maxReadsInFlight bounds concurrent read receipts; see markReadLater.
const maxReadsInFlight = 32

var (
	_ engine.Sender = (*Channel)(nil)
	_ Receiver      = (*engine.Engine)(nil)
)

// New checks cfg, fills in its defaults and returns a Channel. It fails with errs.ErrInvalid
// when a required secret is missing: a webhook without an app secret would accept forgeries.
func New(cfg Config) (*Channel, error) {
	switch {
	case cfg.AccessToken == "":
		return nil, fmt.Errorf("whatsapp: no access token (WHATSAPP_ACCESS_TOKEN): %w", errs.ErrInvalid)
	case cfg.AppSecret == "":
		return nil, fmt.Errorf("whatsapp: no app secret (WHATSAPP_APP_SECRET): %w", errs.ErrInvalid)
	case cfg.VerifyToken == "":
		return nil, fmt.Errorf("whatsapp: no verify token (WHATSAPP_VERIFY_TOKEN): %w", errs.ErrInvalid)
	}
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	for len(cfg.APIURL) > 0 && cfg.APIURL[len(cfg.APIURL)-1] == '/' {
		cfg.APIURL = cfg.APIURL[:len(cfg.APIURL)-1]
	}
	if cfg.RateLimit <= 0 {
		cfg.RateLimit = DefaultRateLimit
	}
	if cfg.Burst <= 0 {
		cfg.Burst = 1
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = DefaultMaxRetries
	}
	if cfg.MaxRetries < 0 {
		cfg.MaxRetries = 0
	}
	if cfg.MediaTimeout <= 0 {
		cfg.MediaTimeout = DefaultMediaTimeout
	}
	if cfg.SendTimeout <= 0 {
		cfg.SendTimeout = DefaultSendTimeout
	}
	var transport http.RoundTripper
	var fast *fastClient
	if cfg.HTTPClient == nil {
		// The default transport keeps two idle connections per host; replies, read receipts
		// and media all go to one host, and under load every request beyond two dialled anew.
		// Up to 32 replies and 32 read receipts (maxReadsInFlight) go at once, media and
		// number checks besides: room for twice that, and the transport's cap on all idle
		// connections (100 by default) raised to match.
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 128
		t.MaxIdleConns = 256
		if cfg.proxy != nil {
			t.Proxy = cfg.proxy
		}
		if cfg.roots != nil {
			t.TLSClientConfig = &tls.Config{RootCAs: cfg.roots}
		}
		cfg.HTTPClient = &http.Client{Timeout: 2 * time.Minute, Transport: t}
		transport = t
		if !cfg.netHTTPOnly {
			// The transport's own proxy function, asked once: a proxy keeps net/http.
			fast = newFastClient(cfg, t.Proxy, cfg.roots)
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	limits := make(map[string]int64, len(DefaultMediaLimits))
	for k, v := range DefaultMediaLimits {
		limits[k] = v
	}
	for k, v := range cfg.MediaLimits {
		if v > 0 {
			limits[k] = v
		}
	}
	return &Channel{cfg: cfg, limits: limits, limiter: newLimiters(cfg.RateLimit, cfg.Burst),
		reads: make(chan struct{}, maxReadsInFlight), waiting: make(map[readKey]*readsOf), readJobs: make(chan readJob), byDisplay: make(map[string]string), recheck: make(chan struct{}, 1),
		auth: []string{"Bearer " + cfg.AccessToken}, endpoints: make(map[endpointKey]string), transport: transport, fast: fast}, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
