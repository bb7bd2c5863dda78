package whatsapp

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// WebhookPath is where Meta delivers webhooks; the brand enters it as the callback URL.
const WebhookPath = "/webhooks/whatsapp"

// SignatureHeader carries "sha256=<hex HMAC-SHA256 of the raw body, keyed with the app secret>".
const SignatureHeader = "X-Hub-Signature-256"

// Mount registers GET and POST WebhookPath on r. Fiber's app-wide BodyLimit must be at least
// MaxWebhookBody, or Fiber refuses large (valid) webhooks itself.
func (c *Channel) Mount(r fiber.Router) {
	r.Get(WebhookPath, c.handleVerify)
	r.Post(WebhookPath, c.handleWebhook)
}

// handleVerify answers the subscription handshake Meta makes when the callback URL or the
// verify token is saved in the App Dashboard.
func (c *Channel) handleVerify(ctx *fiber.Ctx) error {
	mode := ctx.Query("hub.mode")
	token := ctx.Query("hub.verify_token")
	challenge := strings.Clone(ctx.Query("hub.challenge"))
	if mode != "subscribe" || !hmac.Equal([]byte(token), []byte(c.cfg.VerifyToken)) {
		c.cfg.Log.Warn("whatsapp: webhook verification refused", "mode", mode)
		return ctx.SendStatus(fiber.StatusForbidden)
	}
	ctx.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	return ctx.Status(fiber.StatusOK).SendString(challenge)
}

// validSignature checks header against the HMAC of the raw body in constant time.
func validSignature(secret string, body []byte, header string) bool {
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

func (c *Channel) handleWebhook(ctx *fiber.Ctx) error {
	if n := ctx.Request().Header.ContentLength(); n > MaxWebhookBody {
		return ctx.SendStatus(fiber.StatusRequestEntityTooLarge)
	}
	body := ctx.Body()
	if len(body) > MaxWebhookBody {
		return ctx.SendStatus(fiber.StatusRequestEntityTooLarge)
	}
	// The signature is checked on the bytes as received, before anything is parsed: a
	// forged body never reaches the JSON decoder, let alone the store.
	if !validSignature(c.cfg.AppSecret, body, ctx.Get(SignatureHeader)) {
		c.cfg.Log.Warn("whatsapp: webhook with a bad or missing signature refused", "ip", ctx.IP())
		return ctx.SendStatus(fiber.StatusUnauthorized)
	}
	w, err := ParseWebhook(body, c.cfg.Now())
	if err != nil {
		c.cfg.Log.Warn("whatsapp: malformed webhook refused", "err", err)
		return ctx.SendStatus(fiber.StatusBadRequest)
	}
	if len(w.Messages) > 0 && c.cfg.Intake != nil {
		// Statuses pass: they are cheap and hold nothing up. Messages wait for room in the
		// engine's backlog, or are refused for the platform to deliver again later; nothing
		// of the webhook is stored then, so the redelivery is no duplicate.
		retry, err := c.cfg.Intake.Admit(ctx.UserContext())
		if err != nil {
			if engine.IsBusy(err) {
				c.cfg.Log.Debug("whatsapp: webhook refused, backlog full", "retry_after", retry)
				ctx.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(retry/time.Second)))
				return ctx.Status(fiber.StatusServiceUnavailable).SendString("too many messages waiting; retry later")
			}
			return ctx.SendStatus(fiber.StatusServiceUnavailable)
		}
	}
	if err := c.Handle(ctx.UserContext(), w); err != nil {
		c.cfg.Log.Error("whatsapp: webhook not handled; the platform will redeliver", "err", err)
		return ctx.SendStatus(fiber.StatusInternalServerError)
	}
	return ctx.SendStatus(fiber.StatusOK)
}

// Handle hands a parsed webhook over: each message is routed, its media fetched and stored,
// and Received; each status goes to Deliveries. It returns the first transient failure after
// trying every item, so that one failure does not hold back the rest of the batch (what was
// stored is recognised as a duplicate when the platform redelivers).
func (c *Channel) Handle(ctx context.Context, w *Webhook) error {
	var first error
	keep := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	for _, m := range w.Messages {
		keep(c.handleMessage(ctx, m))
	}
	for _, s := range w.Statuses {
		keep(c.handleStatus(ctx, s))
	}
	for _, g := range w.Groups {
		keep(c.handleGroup(ctx, g))
	}
	for _, e := range w.Errors {
		c.cfg.Log.Warn("whatsapp: platform error", "code", e.Code, "title", e.Title, "details", e.Data.Details)
	}
	return first
}

func (c *Channel) handleMessage(ctx context.Context, m Message) error {
	in := m.Inbound
	log := c.cfg.Log.With("wamid", in.PlatformID, "number", m.PhoneNumberID, "type", in.Kind)
	if m.Skip != "" {
		log.Debug("whatsapp: message ignored", "reason", m.Skip)
		return nil
	}
	if c.cfg.Receiver == nil {
		return errors.New("whatsapp: no receiver configured")
	}
	campaign, ok, err := c.cfg.Receiver.Route(ctx, ChannelName, in.From, in.Text, m.PhoneNumberID)
	if err != nil {
		return err
	}
	if !ok {
		log.Info("whatsapp: message reaches no campaign; ignored")
		return nil
	}
	in.Campaign = campaign
	in.ParticipantID = engine.ParticipantID(campaign, ChannelName, in.From)
	// The number written to is the one to answer from (engine.Inbound.To).
	in.To = m.PhoneNumberID
	if m.Media != nil {
		media, err := c.fetchAndStore(ctx, campaign, in.ParticipantID, *m.Media)
		switch {
		case errors.Is(err, errPermanent):
			log.Warn("whatsapp: media refused; the participant is told", "media", m.Media.ID, "err", err)
			in.Kind = engine.KindUnsupported
		case err != nil:
			return err
		default:
			in.Media = &media
		}
	}
	dup, err := c.cfg.Receiver.Receive(ctx, in)
	if err != nil {
		// Only a message the engine can never take is dropped. Anything else, a store that
		// failed included, answers 500 so Meta delivers it again: dedupe makes that safe, and
		// dropping would lose the message for good.
		if errors.Is(err, errs.ErrInvalid) {
			log.Warn("whatsapp: message refused by the engine; dropped", "campaign", campaign, "err", err)
			return nil
		}
		return err
	}
	if c.cfg.Typing && !dup && !strings.HasPrefix(in.From, GroupPrefix) {
		c.markReadLater(ctx, m.PhoneNumberID, in.PlatformID)
	}
	return nil
}

// markReadLater marks a new message read and shows the typing indicator while the persona
// "types" its answer, without holding up the webhook's answer: the message is stored, and a
// read receipt that fails costs nothing but the blue ticks. Groups support neither.
//
// At most maxReadsInFlight receipts are under way at once; past that one is skipped rather
// than queued. Under a flood an unbounded goroutine (and connection) per message competed
// with the replies themselves, and a receipt that arrives late is worth nothing.
func (c *Channel) markReadLater(ctx context.Context, number, wamid string) {
	select {
	case c.reads <- struct{}{}:
	default:
		c.cfg.Log.Debug("whatsapp: read receipt skipped, too many in flight", "wamid", wamid)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	go func() {
		defer func() { <-c.reads }()
		defer cancel()
		if err := c.MarkReadOn(ctx, number, wamid, true); err != nil {
			c.cfg.Log.Warn("whatsapp: mark read", "wamid", wamid, "err", err)
		}
	}()
}

func (c *Channel) handleStatus(ctx context.Context, s Status) error {
	if c.cfg.Deliveries == nil {
		return nil
	}
	if s.Delivery.Status == StatusFailed {
		c.cfg.Log.Warn("whatsapp: message not delivered", "wamid", s.MessageID,
			"code", s.Delivery.ErrorCode, "title", s.Delivery.ErrorTitle)
	}
	return c.cfg.Deliveries.UpdateDelivery(ctx, s.MessageID, s.Delivery)
}
