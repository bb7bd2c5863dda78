// Package messenger owns the Facebook Messenger channel: the webhook a brand subscribes its
// Page to (verification handshake and signature check through metahook; batched entries of
// messages, quick replies, postbacks, attachments and delivery receipts normalized to
// engine.Inbound and engine.Delivery), attachments fetched from their URL into the media
// store, and a Sender that delivers engine.Outbound replies through the Send API
// ({APIURL}/me/messages): text, media by URL, button templates or quick replies for buttons.
//
// Messenger's standard messaging window is 24 hours after the participant's last message.
// Inside it replies go out with messaging_type RESPONSE. After it only a human agent's reply
// (engine.Outbound.Agent, written in the dashboard) may go out, with the HUMAN_AGENT message
// tag, up to 7 days after the participant's last message; anything else is refused before a
// request is made (a permanent *APIError the engine records on the reply). Messenger has no
// templates, so a definition's WhatsApp template never goes out here.
//
// As on WhatsApp, the webhook answers 200 only once everything in the body is stored (any
// failure answers 500 and Meta redelivers; the store recognises a redelivered message by its
// mid), and attachments are fetched inside the webhook, within Config.MediaTimeout.
package messenger

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/chatcampaigns/campaign/channels/metahook"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// ChannelName is the channel's name in engine events, participant ids and sender maps.
const ChannelName = "messenger"

// WebhookPath is where Meta delivers the Page's webhooks; the brand enters it as the callback
// URL.
const WebhookPath = "/webhooks/messenger"

// Defaults for Config fields left zero.
const (
	DefaultAPIURL       = "https://graph.facebook.com/v23.0"
	DefaultMediaTimeout = 10 * time.Second
	DefaultSendTimeout  = 15 * time.Second
	// DefaultMediaLimit caps one attachment: Messenger's own limit for what it carries.
	DefaultMediaLimit = 25 << 20
	// MaxWebhookBody is the largest webhook body accepted; Meta documents none for
	// Messenger, so WhatsApp's 3 MB plus a margin.
	MaxWebhookBody = 4 << 20
)

// Platform limits (Send API reference; see docs/messenger.md).
const (
	// StandardWindow is how long after the participant's last message any reply may go out.
	StandardWindow = 24 * time.Hour
	// HumanAgentWindow is how long after it a human agent's reply may, with the HUMAN_AGENT tag.
	HumanAgentWindow = 7 * 24 * time.Hour
	MaxTextLen       = 2000
	// A button template holds 1 to 3 buttons and a text of at most 640 characters.
	MaxTemplateButtons = 3
	MaxTemplateTextLen = 640
	// Quick replies: at most 13, titles of at most 20 characters (buttons too).
	MaxQuickReplies = 13
	MaxTitleLen     = 20
)

// Receiver is what the channel needs from the engine (*engine.Engine).
type Receiver interface {
	// Route picks the campaign a message from the participant's page-scoped id belongs to.
	Route(ctx context.Context, channel, address, text, number string) (campaign string, ok bool, err error)
	// Receive stores an inbound event durably; duplicate when the same mid was stored before.
	Receive(ctx context.Context, in engine.Inbound) (duplicate bool, err error)
}

// MediaStore keeps fetched attachments; *media.Store satisfies it. Errors wrapping
// errs.ErrInvalid or errs.ErrTooLarge are permanent.
type MediaStore interface {
	PutMedia(ctx context.Context, campaign, participant, kind, declaredMIME string, r io.Reader) (engine.Media, error)
}

// Deliveries records delivery receipts; the stores satisfy it. It must never downgrade a
// status (a late delivered after a read).
type Deliveries interface {
	UpdateDelivery(ctx context.Context, platformID string, d engine.Delivery) error
}

// Config is what a Channel is built from. PageToken, AppSecret and VerifyToken are required.
type Config struct {
	// APIURL is the Graph API base including the version (default DefaultAPIURL);
	// MESSENGER_API_URL.
	APIURL string
	// PageToken is the Page access token (pages_messaging); MESSENGER_PAGE_TOKEN.
	PageToken string
	// AppSecret signs webhooks (X-Hub-Signature-256); MESSENGER_APP_SECRET.
	AppSecret string
	// VerifyToken is the string entered with the callback URL; MESSENGER_VERIFY_TOKEN.
	VerifyToken string
	// MediaLimit caps one attachment by its announced size (default DefaultMediaLimit); the
	// media store's own per-kind limits apply while it is read.
	MediaLimit   int64
	MediaTimeout time.Duration
	SendTimeout  time.Duration

	Receiver   Receiver
	Media      MediaStore
	Deliveries Deliveries
	// Intake, when set, may make a webhook with messages wait or refuse it (503).
	Intake metahook.Admitter

	HTTPClient *http.Client
	Now        func() time.Time
	Log        *slog.Logger
}

// Channel is the Messenger channel: Mount serves the webhook, Send talks to the Send API. Its
// methods are safe for concurrent use.
type Channel struct {
	cfg Config
}

var (
	_ engine.Sender = (*Channel)(nil)
	_ Receiver      = (*engine.Engine)(nil)
)

// New checks cfg and fills in its defaults. A missing secret is errs.ErrInvalid: a webhook
// without an app secret would accept forgeries.
func New(cfg Config) (*Channel, error) {
	for _, need := range []struct{ value, what string }{
		{cfg.PageToken, "page access token (MESSENGER_PAGE_TOKEN)"},
		{cfg.AppSecret, "app secret (MESSENGER_APP_SECRET)"},
		{cfg.VerifyToken, "verify token (MESSENGER_VERIFY_TOKEN)"},
	} {
		if need.value == "" {
			return nil, fmt.Errorf("messenger: no %s: %w", need.what, errs.ErrInvalid)
		}
	}
	cfg.APIURL = strings.TrimRight(cmp.Or(cfg.APIURL, DefaultAPIURL), "/")
	cfg.MediaLimit = orDefault(cfg.MediaLimit, DefaultMediaLimit)
	cfg.MediaTimeout = orDefault(cfg.MediaTimeout, DefaultMediaTimeout)
	cfg.SendTimeout = orDefault(cfg.SendTimeout, DefaultSendTimeout)
	cfg.HTTPClient = cmp.Or(cfg.HTTPClient, &http.Client{Timeout: 2 * time.Minute})
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Log = cmp.Or(cfg.Log, slog.New(slog.DiscardHandler))
	return &Channel{cfg: cfg}, nil
}

// orDefault is v when it is positive, else d.
func orDefault[T int64 | time.Duration](v, d T) T {
	if v > 0 {
		return v
	}
	return d
}
