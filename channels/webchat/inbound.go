package webchat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/media"
)

// receiveTimeout bounds how long a request waits for the engine to store an event.
const receiveTimeout = 10 * time.Second

// multipartSlack is what the multipart framing around an upload may add to its limit before
// the request is refused on its Content-Length alone.
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

// The kinds of media the page sends, as engine.Media.Kind names them.
const (
	kindPhoto = "photo"
	kindVideo = "video"
	kindAudio = "audio"
)

// kindNames are the kinds as the participant reads them.
var kindNames = map[string]string{kindPhoto: "photo", kindVideo: "video", kindAudio: "voice note"}

// notA is what a participant is told when the bytes are not the kind they sent; unknown is for
// a file that is none of them.
var notA = map[string]string{
	kindPhoto: "That doesn't look like a photo. Send a JPEG, PNG, GIF or WebP picture.",
	kindVideo: "That doesn't look like a video. Send an MP4, WebM or QuickTime video.",
	kindAudio: "That doesn't sound like a voice note. Record one again, or send an MP3, M4A, Ogg, WebM or WAV recording.",
	"":        "That doesn't look like a photo, video or voice note. Send a JPEG, PNG, GIF or WebP picture, an MP4 or WebM video, or a recording.",
}

// handleUpload takes a photo, video or voice note: the file in "media" (or "photo", which
// is a photo), and in "kind" what the page recorded (audio for a voice note from the
// microphone). A picked file without a kind is what its bytes are. The bytes must be the
// kind: a WebM voice note with a video track is refused, and so on.
func (c *Channel) handleUpload(ctx *fiber.Ctx) error {
	s, ok, err := c.who(ctx)
	if !ok {
		return err
	}
	if ok, err := s.playing(ctx); !ok {
		return err
	}
	if n := ctx.Request().Header.ContentLength(); n > 0 && int64(n) > c.MaxBody() {
		return c.tooLarge(ctx, "")
	}
	kind := strings.Clone(ctx.FormValue("kind"))
	fh, err := ctx.FormFile("media")
	if err != nil {
		if fh, err = ctx.FormFile("photo"); err == nil && kind == "" {
			kind = kindPhoto
		}
	}
	if err != nil {
		return jsonError(ctx, fiber.StatusBadRequest, "Choose a photo, video or voice note to send.")
	}
	if _, known := c.limits[kind]; kind != "" && !known {
		return jsonError(ctx, fiber.StatusBadRequest, "The kind of media must be photo, video or audio.")
	}
	if fh.Size == 0 {
		return jsonError(ctx, fiber.StatusBadRequest, "That file is empty. Choose another one, or record again.")
	}
	declared := strings.Clone(fh.Header.Get(fiber.HeaderContentType))
	if kind == "" {
		if kind, err = sniffUpload(fh, declared); err != nil {
			return jsonError(ctx, fiber.StatusBadRequest, "Your file could not be read. Please try again.")
		}
		if kind == "" {
			c.log.Info("webchat: upload refused", "campaign", s.def.ID, "participant", s.pid, "declared", declared)
			return jsonError(ctx, fiber.StatusUnsupportedMediaType, notA[""])
		}
	}
	if fh.Size > c.limits[kind] {
		return c.tooLarge(ctx, kind)
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
	m, err := c.put(ctx.UserContext(), s, fh, kind, declared)
	switch {
	case errors.Is(err, errs.ErrTooLarge):
		return c.tooLarge(ctx, kind)
	case errors.Is(err, errs.ErrInvalid):
		c.log.Info("webchat: upload refused", "campaign", s.def.ID, "participant", s.pid, "kind", kind, "err", err)
		return jsonError(ctx, fiber.StatusUnsupportedMediaType, notA[kind])
	case err != nil:
		c.log.Error("webchat: store upload", "campaign", s.def.ID, "participant", s.pid, "err", err)
		return jsonError(ctx, fiber.StatusInternalServerError, fmt.Sprintf("Your %s could not be saved. Please try again.", kindNames[kind]))
	}
	if id == "" {
		// Without a client id, the stored object names the upload: the same file sent twice
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

// sniffUpload says what kind of media a picked file is from its first bytes ("" for none we
// take). An MP4 container is a video unless the browser called the file audio (an M4A voice
// memo may carry a video brand).
func sniffUpload(fh *multipart.FileHeader, declared string) (string, error) {
	f, err := fh.Open()
	if err != nil {
		return "", fmt.Errorf("webchat: open upload: %w", err)
	}
	defer f.Close()
	head := make([]byte, 64<<10)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("webchat: read upload: %w", err)
	}
	kind := media.SniffKind(head[:n])
	if kind == kindVideo && strings.HasPrefix(declared, "audio/") && isISOMedia(head[:n]) {
		kind = kindAudio
	}
	return kind, nil
}

// isISOMedia reports an MP4-family file (an "ftyp" box first).
func isISOMedia(b []byte) bool { return len(b) >= 8 && string(b[4:8]) == "ftyp" }

// put hands the upload to the media store, reading at most the kind's limit: the multipart
// header's size is the client's word, the limited reader is ours.
func (c *Channel) put(ctx context.Context, s sender, fh *multipart.FileHeader, kind, declared string) (engine.Media, error) {
	f, err := fh.Open()
	if err != nil {
		return engine.Media{}, fmt.Errorf("webchat: open upload: %w", err)
	}
	defer f.Close()
	limit := c.limits[kind]
	lr := &limitedReader{r: f, n: limit}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	m, err := c.media.PutMedia(ctx, s.def.ID, s.pid, kind, declared, lr)
	if lr.exceeded {
		return engine.Media{}, fmt.Errorf("webchat: %s upload over %d bytes: %w", kind, limit, errs.ErrTooLarge)
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
// Only an upload can be that big from the page; anything else (a text, a tap, a team form)
// is told it is too long rather than hearing about a photo it never sent.
func (c *Channel) TooLarge(ctx *fiber.Ctx) error {
	if !strings.HasSuffix(ctx.Path(), "/media") {
		return jsonError(ctx, fiber.StatusRequestEntityTooLarge,
			fmt.Sprintf("That message is too long. Keep it under %d characters.", MaxTextLen))
	}
	return c.tooLarge(ctx, "")
}

// tooLarge says the limit of the kind refused, or every kind's when it is not known yet (the
// body was refused on its length alone).
func (c *Channel) tooLarge(ctx *fiber.Ctx, kind string) error {
	if kind == "" {
		return jsonError(ctx, fiber.StatusRequestEntityTooLarge, fmt.Sprintf(
			"That file is too big. Send a photo of at most %s, a video of at most %s or a voice note of at most %s.",
			humanSize(c.limits[kindPhoto]), humanSize(c.limits[kindVideo]), humanSize(c.limits[kindAudio])))
	}
	return jsonError(ctx, fiber.StatusRequestEntityTooLarge,
		fmt.Sprintf("That %s is too big. Send one of at most %s.", kindNames[kind], humanSize(c.limits[kind])))
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
	if c.intake != nil {
		if retry, err := c.intake.Admit(rctx); err != nil {
			ctx.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(max(retry, time.Second)/time.Second)))
			return jsonError(ctx, fiber.StatusServiceUnavailable, "Lots of people are writing right now. Please send that again in a moment.")
		}
	}
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
