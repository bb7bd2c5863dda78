package whatsapp

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/channels/metahook"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// WebhookPath is where Meta delivers webhooks; the brand enters it as the callback URL.
const WebhookPath = "/webhooks/whatsapp"

// SignatureHeader carries the webhook signature (metahook.SignatureHeader).
const SignatureHeader = metahook.SignatureHeader

// Mount registers GET and POST WebhookPath on r. Fiber's app-wide BodyLimit must be at least
// MaxWebhookBody, or Fiber refuses large (valid) webhooks itself. The signature is checked on
// the bytes as received, before anything is parsed: a forged body never reaches the JSON
// decoder, let alone the store. Statuses pass a full backlog; messages wait for room or are
// refused for the platform to deliver again later (metahook.Handler).
func (c *Channel) Mount(r fiber.Router) {
	hook := metahook.Hook{Channel: ChannelName, Secret: c.cfg.AppSecret, VerifyToken: c.cfg.VerifyToken,
		MaxBody: MaxWebhookBody, Intake: c.cfg.Intake, Log: c.cfg.Log}
	metahook.Mount(r, WebhookPath, hook, func(body []byte) (*Webhook, error) { return ParseWebhook(body, c.cfg.Now()) }, c.Handle)
}

// HasMessages says the webhook carries messages (metahook.Parsed).
func (w *Webhook) HasMessages() bool { return len(w.Messages) > 0 }

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
	for _, u := range w.Health {
		keep(c.handleHealth(ctx, u))
	}
	for _, p := range w.Preferences {
		keep(c.handlePreference(ctx, p))
	}
	for _, e := range w.Errors {
		c.cfg.Log.Warn("whatsapp: platform error", "code", e.Code, "title", e.Title, "details", e.Data.Details)
	}
	return first
}

func (c *Channel) handleMessage(ctx context.Context, m Message) error {
	in := m.Inbound
	// Made only when something is logged: With copies the attributes into a new handler, for
	// every message, logged or not.
	wamid, kind := in.PlatformID, in.Kind
	log := func() *slog.Logger {
		return c.cfg.Log.With("wamid", wamid, "number", m.PhoneNumberID, "type", kind)
	}
	if m.Skip != "" {
		log().Debug("whatsapp: message ignored", "reason", m.Skip)
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
		log().Info("whatsapp: message reaches no campaign; ignored")
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
			log().Warn("whatsapp: media refused; the participant is told", "media", m.Media.ID, "err", err)
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
			log().Warn("whatsapp: message refused by the engine; dropped", "campaign", campaign, "err", err)
			return nil
		}
		return err
	}
	if c.cfg.Typing && !dup && !strings.HasPrefix(in.From, GroupPrefix) {
		c.markReadLater(ctx, m.PhoneNumberID, in.From, in.PlatformID, in.At)
	}
	return nil
}

// readKey names a chat: a participant's WhatsApp id and the business number they wrote to.
type readKey struct{ number, from string }

// readsOf is the read receipts of one chat while its receipt goroutine runs: the latest
// message waiting for one (next, "" when none), and the time of the latest message marked
// or waiting, which a message must not be older than to take next's place.
type readsOf struct {
	next   string
	latest time.Time
}

// markReadLater marks a new message read and shows the typing indicator while the persona
// "types" its answer, without holding up the webhook's answer: the message is stored, and a
// read receipt that fails costs nothing but the blue ticks. Groups support neither.
//
// One receipt per chat is under way at a time, and it marks only the latest of the chat's
// messages waiting for one: WhatsApp marks every earlier message of the chat read with it,
// so a participant who sends three messages while a receipt is under way gets one more
// receipt, for the third, not three. (The latest by the message's time; of two in the same
// second, the one that arrived last.)
//
// At most maxReadsInFlight chats have receipts under way at once; past that a new chat's
// receipt is skipped rather than queued. Under a flood an unbounded goroutine (and
// connection) per message competed with the replies themselves, and a receipt that arrives
// late is worth nothing.
func (c *Channel) markReadLater(ctx context.Context, number, from, wamid string, at time.Time) {
	k := readKey{number, from}
	c.readsMu.Lock()
	if q, ok := c.waiting[k]; ok {
		if !at.Before(q.latest) {
			q.next, q.latest = wamid, at
		}
		c.readsMu.Unlock()
		return
	}
	select {
	case c.reads <- struct{}{}:
	default:
		c.readsMu.Unlock()
		c.cfg.Log.Debug("whatsapp: read receipt skipped, too many in flight", "wamid", wamid)
		return
	}
	q := &readsOf{next: wamid, latest: at}
	c.waiting[k] = q
	c.readsMu.Unlock()
	c.startReads(readJob{ctx: context.WithoutCancel(ctx), key: k, q: q})
}

// readJob is one chat's receipts to send: q's latest until none waits, then the chat's slot
// is given back.
type readJob struct {
	ctx context.Context
	key readKey
	q   *readsOf
}

// readWorkerIdle is how long a receipt worker waits for another chat before it ends.
const readWorkerIdle = 5 * time.Second

// startReads hands j to an idle receipt worker, or starts one. The workers outlive a chat's
// receipts because the request is made on their goroutine (fastpost.go): a new goroutine
// for every chat grew its stack from its first 8 KB in fasthttp's header writer, ~5 µs a
// message under load. At most maxReadsInFlight hold a chat at once; idle ones end after
// readWorkerIdle.
func (c *Channel) startReads(j readJob) {
	select {
	case c.readJobs <- j:
	default:
		go c.readWorker(j)
	}
}

func (c *Channel) readWorker(j readJob) {
	idle := time.NewTimer(readWorkerIdle)
	defer idle.Stop()
	for {
		c.sendReads(j)
		idle.Reset(readWorkerIdle) // Go 1.23 timers: no stale tick to drain
		select {
		case j = <-c.readJobs:
		case <-idle.C:
			return
		}
	}
}

// sendReads sends the receipts of j's chat until none waits, and gives back its slot.
func (c *Channel) sendReads(j readJob) {
	defer func() { <-c.reads }()
	for {
		c.readsMu.Lock()
		wamid := j.q.next
		if wamid == "" {
			delete(c.waiting, j.key)
			c.readsMu.Unlock()
			return
		}
		j.q.next = ""
		c.readsMu.Unlock()
		rctx, cancel := context.WithTimeout(j.ctx, 10*time.Second)
		if err := c.MarkReadOn(rctx, j.key.number, wamid, true); err != nil {
			c.cfg.Log.Warn("whatsapp: mark read", "wamid", wamid, "err", err)
		}
		cancel()
	}
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
