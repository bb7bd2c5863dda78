package messenger

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/channels/metahook"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// Mount registers GET WebhookPath (the verify handshake) and POST WebhookPath (the events)
// on r (metahook.Mount). Fiber's app-wide BodyLimit must be at least MaxWebhookBody.
func (c *Channel) Mount(r fiber.Router) {
	metahook.Mount(r, WebhookPath, metahook.Hook{
		Channel: ChannelName, Secret: c.cfg.AppSecret, VerifyToken: c.cfg.VerifyToken,
		MaxBody: MaxWebhookBody, Intake: c.cfg.Intake, Log: c.cfg.Log,
	}, c.parse, c.Handle)
}

func (c *Channel) parse(body []byte) (*Webhook, error) { return ParseWebhook(body, c.cfg.Now()) }

// HasMessages says the webhook carries messages or postbacks (metahook.Parsed).
func (w *Webhook) HasMessages() bool { return len(w.Messages) > 0 }

// Handle hands a parsed webhook over: each message is routed, its attachment fetched and
// stored, and Received; each receipt goes to Deliveries. It returns the first transient
// failure after trying every item; what was stored is a duplicate on the redelivery.
func (c *Channel) Handle(ctx context.Context, w *Webhook) error {
	var errList []error
	for _, m := range w.Messages {
		errList = append(errList, c.handleMessage(ctx, m))
	}
	if c.cfg.Deliveries != nil {
		for _, r := range w.Delivered {
			errList = append(errList, c.cfg.Deliveries.UpdateDelivery(ctx, r.MID,
				engine.Delivery{Status: statusDelivered, At: r.At}))
		}
	}
	return cmp.Or(errList...)
}

func (c *Channel) handleMessage(ctx context.Context, m Message) error {
	in := m.Inbound
	log := c.cfg.Log.With("mid", in.PlatformID, "page", m.PageID, "kind", in.Kind)
	if m.Skip != "" {
		log.Debug("messenger: event ignored", "reason", m.Skip)
		return nil
	}
	if c.cfg.Receiver == nil {
		return errors.New("messenger: no receiver configured")
	}
	// One Page per server: the page id is not a WhatsApp number, and campaigns are routed by
	// participant and keyword alone.
	campaign, ok, err := c.cfg.Receiver.Route(ctx, ChannelName, in.From, in.Text, "")
	if err != nil {
		return err
	}
	if !ok {
		log.Info("messenger: message reaches no campaign; ignored")
		return nil
	}
	in.Campaign = campaign
	in.ParticipantID = engine.ParticipantID(campaign, ChannelName, in.From)
	if m.Media != nil {
		stored, err := c.fetch(ctx, campaign, in.ParticipantID, *m.Media)
		switch {
		case errors.Is(err, errRefused):
			log.Warn("messenger: attachment refused; the participant is told", "err", err)
			in.Kind = engine.KindUnsupported
		case err != nil:
			return err
		default:
			in.Media = &stored
		}
	}
	if _, err := c.cfg.Receiver.Receive(ctx, in); err != nil {
		if errors.Is(err, errs.ErrInvalid) {
			log.Warn("messenger: message refused by the engine; dropped", "campaign", campaign, "err", err)
			return nil
		}
		return err
	}
	return nil
}

// errRefused marks an attachment a redelivery cannot bring: too large, not what it claims,
// gone from the CDN.
var errRefused = errors.New("attachment refused")

// fetch downloads an attachment from its URL (a signed CDN link that needs no token) and
// hands it to the media store, which sniffs its type and applies its own limits per kind. One
// announced (Content-Length) as more than Config.MediaLimit is not downloaded.
func (c *Channel) fetch(ctx context.Context, campaign, participant string, a Attachment) (engine.Media, error) {
	if c.cfg.Media == nil {
		return engine.Media{}, errors.New("messenger: no media store configured")
	}
	u, err := url.Parse(a.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return engine.Media{}, fmt.Errorf("messenger: attachment URL %q: %w", a.URL, errRefused)
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.MediaTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return engine.Media{}, fmt.Errorf("messenger: attachment: %w: %w", errRefused, err)
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return engine.Media{}, fmt.Errorf("messenger: download attachment: %w", err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return engine.Media{}, fmt.Errorf("messenger: download attachment: HTTP %d", resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		// The link expired or was never ours: asking again brings the same answer.
		return engine.Media{}, fmt.Errorf("messenger: download attachment: HTTP %d: %w", resp.StatusCode, errRefused)
	case resp.ContentLength > c.cfg.MediaLimit:
		return engine.Media{}, fmt.Errorf("messenger: attachment of %d bytes, more than %d: %w: %w",
			resp.ContentLength, c.cfg.MediaLimit, errRefused, errs.ErrTooLarge)
	}
	// The media store reads no more than its limit for the kind and refuses the rest.
	m, err := c.cfg.Media.PutMedia(ctx, campaign, participant, a.Kind, resp.Header.Get("Content-Type"), resp.Body)
	switch {
	case errors.Is(err, errs.ErrInvalid) || errors.Is(err, errs.ErrTooLarge):
		return engine.Media{}, fmt.Errorf("messenger: store attachment: %w: %w", errRefused, err)
	case err != nil:
		return engine.Media{}, fmt.Errorf("messenger: store attachment: %w", err)
	}
	return m, nil
}

// statusDelivered is the delivery status a receipt records (engine.DeliveryRank's name).
const statusDelivered = "delivered"
