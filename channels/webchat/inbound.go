package webchat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// receiveTimeout bounds how long a request waits for the engine to store an event.
const receiveTimeout = 10 * time.Second

// multipartSlack is what the multipart framing around a photo may add to MaxUpload before the
// request is refused on its Content-Length alone.
const multipartSlack = 64 << 10

// accepted is the answer to a stored (or recognised duplicate) event.
type accepted struct {
	OK        bool   `json:"ok"`
	Duplicate bool   `json:"duplicate"`
	Media     string `json:"media,omitempty"`
}

// messageForm is what the page posts for a text message, as JSON or as a form.
type messageForm struct {
	ID   string `json:"id" form:"id"`
	Text string `json:"text" form:"text"`
}

// sender is the participant behind a request: the browser, and who it talks as (itself, or
// its team).
type sender struct {
	def     *campaigns.Definition
	browser string
	party
}

// who resolves the campaign and the browser of a request, answering 404 for an unknown
// campaign; ok is false when an answer was written.
func (c *Channel) who(ctx *fiber.Ctx) (s sender, ok bool, err error) {
	def, found := c.campaign(ctx)
	if !found {
		return s, false, jsonError(ctx, fiber.StatusNotFound, "This chat doesn't exist (any more).")
	}
	browser, err := c.browserID(ctx, true)
	if err != nil {
		return s, false, err
	}
	p, err := c.partyOf(ctx.UserContext(), def, browser)
	if err != nil {
		c.log.Error("webchat: resolve participant", "campaign", def.ID, "err", err)
		return s, false, jsonError(ctx, fiber.StatusInternalServerError, "Something went wrong. Please try again.")
	}
	s = sender{def: def, browser: browser, party: p}
	if why := c.closed(ctx.UserContext(), def, p.pid); why != "" {
		// Not taken and not shown as sent: nobody would answer it.
		return s, false, jsonError(ctx, fiber.StatusForbidden, why)
	}
	return s, true, nil
}

// playing answers 409 with the reason when the sender cannot send yet (a team campaign's
// browser without a team, or a team short of members); ok is false then.
func (s sender) playing(ctx *fiber.Ctx) (ok bool, err error) {
	if why := notPlaying(s.def, s.party); why != "" {
		return false, jsonError(ctx, fiber.StatusConflict, why)
	}
	return true, nil
}

func (s sender) inbound(kind engine.Kind, platformID string) engine.Inbound {
	return engine.Inbound{
		Channel:       ChannelName,
		PlatformID:    platformID,
		Campaign:      s.def.ID,
		From:          s.from,
		Name:          s.name,
		ParticipantID: s.pid,
		Kind:          kind,
	}
}

func (c *Channel) handleJoin(ctx *fiber.Ctx) error {
	s, ok, err := c.who(ctx)
	if !ok {
		return err
	}
	if notPlaying(s.def, s.party) != "" {
		// The page shows the team forms or the members still needed; the team's join comes
		// from the engine once it has them.
		return ctx.Status(fiber.StatusAccepted).JSON(accepted{OK: true})
	}
	// One join per browser (or team) and campaign, whatever the number of page loads: a
	// reload must not greet the participant again.
	in := s.inbound(engine.KindJoin, "join:"+s.from)
	in.Locale = joinLocale(ctx)
	return c.receive(ctx, in, "")
}

// joinForm is what the page sends at join: the browser's language (navigator.language).
type joinForm struct {
	Locale string `json:"locale"`
}

// joinLocale is the browser's language, from the page (navigator.language) or else the
// Accept-Language header's first choice; "" when neither is a language tag. The engine
// matches it to the campaign's languages (nl-BE speaks nl).
func joinLocale(ctx *fiber.Ctx) string {
	var f joinForm
	if err := ctx.BodyParser(&f); err == nil && localeRe.MatchString(f.Locale) {
		return f.Locale
	}
	first, _, _ := strings.Cut(ctx.Get(fiber.HeaderAcceptLanguage), ",")
	first, _, _ = strings.Cut(first, ";")
	if first = strings.TrimSpace(first); localeRe.MatchString(first) {
		return first
	}
	return ""
}

// localeRe is a BCP 47 language tag, loosely: en, nl-BE, zh-Hant-TW.
var localeRe = regexp.MustCompile(`^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8}){0,3}$`)

func (c *Channel) handleMessage(ctx *fiber.Ctx) error {
	s, ok, err := c.who(ctx)
	if !ok {
		return err
	}
	if ok, err := s.playing(ctx); !ok {
		return err
	}
	var f messageForm
	if err := ctx.BodyParser(&f); err != nil {
		return jsonError(ctx, fiber.StatusBadRequest, "That message could not be read.")
	}
	text := strings.Clone(f.Text)
	if strings.TrimSpace(text) == "" {
		return jsonError(ctx, fiber.StatusBadRequest, "Type a message first.")
	}
	if !utf8.ValidString(text) {
		return jsonError(ctx, fiber.StatusBadRequest, "That message contains characters that could not be read.")
	}
	if n := utf8.RuneCountInString(text); n > MaxTextLen {
		return jsonError(ctx, fiber.StatusBadRequest, fmt.Sprintf("That message is too long (%d characters). Keep it under %d.", n, MaxTextLen))
	}
	id, err := clientID(f.ID)
	if err != nil {
		return jsonError(ctx, fiber.StatusBadRequest, err.Error())
	}
	in := s.inbound(engine.KindText, id)
	in.Text = text
	if err := c.receive(ctx, in, ""); err != nil || ctx.Response().StatusCode() != fiber.StatusAccepted {
		return err
	}
	c.relay(s.party, id, text, "")
	return nil
}

// clientID validates the id the page made for a message, so a retried request is recognised
// as the same message; a client that sends none gets a fresh one (and no dedupe).
func clientID(id string) (string, error) {
	if id == "" {
		return uuid.NewString(), nil
	}
	if len(id) < 8 || len(id) > 64 {
		return "", errors.New("The message id must be 8 to 64 characters long.")
	}
	for _, r := range id {
		if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return "", errors.New("The message id may only contain letters, digits and dashes.")
		}
	}
	return strings.Clone(id), nil
}

func (c *Channel) handleUpload(ctx *fiber.Ctx) error {
	s, ok, err := c.who(ctx)
	if !ok {
		return err
	}
	if ok, err := s.playing(ctx); !ok {
		return err
	}
	if n := ctx.Request().Header.ContentLength(); n > 0 && int64(n) > c.maxUpload+multipartSlack {
		return c.tooLarge(ctx)
	}
	fh, err := ctx.FormFile("photo")
	if err != nil {
		return jsonError(ctx, fiber.StatusBadRequest, "Choose a photo to send.")
	}
	if fh.Size > c.maxUpload {
		return c.tooLarge(ctx)
	}
	id := strings.Clone(ctx.FormValue("id"))
	if id != "" {
		if id, err = clientID(id); err != nil {
			return jsonError(ctx, fiber.StatusBadRequest, err.Error())
		}
	}
	caption := strings.Clone(ctx.FormValue("caption"))
	if utf8.RuneCountInString(caption) > MaxTextLen || !utf8.ValidString(caption) {
		return jsonError(ctx, fiber.StatusBadRequest, fmt.Sprintf("That caption is too long. Keep it under %d characters.", MaxTextLen))
	}
	m, err := c.put(ctx.UserContext(), s, fh)
	switch {
	case errors.Is(err, errs.ErrTooLarge):
		return c.tooLarge(ctx)
	case errors.Is(err, errs.ErrInvalid):
		c.log.Info("webchat: upload refused", "campaign", s.def.ID, "participant", s.pid, "err", err)
		return jsonError(ctx, fiber.StatusUnsupportedMediaType, "That doesn't look like a photo. Send a JPEG, PNG, GIF or WebP picture.")
	case err != nil:
		c.log.Error("webchat: store upload", "campaign", s.def.ID, "participant", s.pid, "err", err)
		return jsonError(ctx, fiber.StatusInternalServerError, "Your photo could not be saved. Please try again.")
	}
	if id == "" {
		// Without a client id, the stored object names the upload: the same photo sent twice
		// by one browser is one message.
		id = "media:" + s.browser + ":" + m.Key
	}
	in := s.inbound(engine.KindMedia, id)
	in.Text = caption
	in.Media = &m
	url := mediaURL(s.def.ID, m.Key)
	if err := c.receive(ctx, in, url); err != nil || ctx.Response().StatusCode() != fiber.StatusAccepted {
		return err
	}
	c.relay(s.party, id, caption, url)
	return nil
}

// put hands the upload to the media store, reading at most MaxUpload bytes: the multipart
// header's size is the client's word, the limited reader is ours.
func (c *Channel) put(ctx context.Context, s sender, fh *multipart.FileHeader) (engine.Media, error) {
	f, err := fh.Open()
	if err != nil {
		return engine.Media{}, fmt.Errorf("webchat: open upload: %w", err)
	}
	defer f.Close()
	lr := &limitedReader{r: f, n: c.maxUpload}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	m, err := c.media.Put(ctx, s.def.ID, s.pid, lr)
	if lr.exceeded {
		return engine.Media{}, fmt.Errorf("webchat: upload over %d bytes: %w", c.maxUpload, errs.ErrTooLarge)
	}
	if err != nil {
		return engine.Media{}, fmt.Errorf("webchat: put upload: %w", err)
	}
	return m, nil
}

// limitedReader fails, rather than ending quietly like io.LimitReader, when the limit is
// passed, so a truncated photo is never stored as if it were whole.
type limitedReader struct {
	r        io.Reader
	n        int64
	exceeded bool
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.exceeded {
		return 0, errs.ErrTooLarge
	}
	if int64(len(p)) > l.n+1 {
		p = p[:l.n+1]
	}
	n, err := l.r.Read(p)
	if int64(n) > l.n {
		l.exceeded = true
		return int(l.n), errs.ErrTooLarge
	}
	l.n -= int64(n)
	return n, err
}

// TooLarge answers a request refused for its size, the same way wherever it was refused: the
// app's error handler calls it for a web chat request that passed Fiber's app-wide BodyLimit,
// which is refused before any route runs and would otherwise get Fiber's bare text.
// Only a photo upload can be that big from the page; anything else (a text, a tap, a team form)
// is told it is too long rather than hearing about a photo it never sent.
func (c *Channel) TooLarge(ctx *fiber.Ctx) error {
	if !strings.HasSuffix(ctx.Path(), "/media") {
		return jsonError(ctx, fiber.StatusRequestEntityTooLarge,
			fmt.Sprintf("That message is too long. Keep it under %d characters.", MaxTextLen))
	}
	return c.tooLarge(ctx)
}

func (c *Channel) tooLarge(ctx *fiber.Ctx) error {
	return jsonError(ctx, fiber.StatusRequestEntityTooLarge,
		fmt.Sprintf("That photo is too big. Send one of at most %s.", humanSize(c.maxUpload)))
}

// humanSize writes a limit the way a participant reads it.
func humanSize(n int64) string {
	const mb = 1 << 20
	if n >= mb {
		if n%mb == 0 {
			return fmt.Sprintf("%d MB", n/mb)
		}
		return fmt.Sprintf("%.1f MB", float64(n)/mb)
	}
	return fmt.Sprintf("%d KB", (n+1023)/1024)
}

// receive stores the event with the engine and answers the page.
func (c *Channel) receive(ctx *fiber.Ctx, in engine.Inbound, media string) error {
	rctx, cancel := context.WithTimeout(ctx.UserContext(), receiveTimeout)
	defer cancel()
	dup, err := c.eng.Receive(rctx, in)
	switch {
	case errors.Is(err, errs.ErrInvalid):
		return jsonError(ctx, fiber.StatusBadRequest, "That message could not be sent.")
	case errors.Is(err, errs.ErrNotFound):
		return jsonError(ctx, fiber.StatusNotFound, "This chat doesn't exist (any more).")
	case err != nil:
		c.log.Error("webchat: receive", "campaign", in.Campaign, "participant", in.ParticipantID, "kind", in.Kind, "err", err)
		return jsonError(ctx, fiber.StatusInternalServerError, "Something went wrong. Please try again.")
	}
	return ctx.Status(fiber.StatusAccepted).JSON(accepted{OK: true, Duplicate: dup, Media: media})
}
