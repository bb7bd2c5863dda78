// Package webchat owns the web chat channel: the /play/{campaign} page a brand can link to,
// the browser identity cookie, the JSON and multipart endpoints that turn what the page sends
// into engine.Inbound events, the Server-Sent Events stream that shows the transcript and the
// live replies, and the in-process hub through which Send pushes replies to open pages.
package webchat

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
)

// ChannelName is the channel's name in engine events, participant ids and sender maps.
const ChannelName = "webchat"

// DefaultMaxUpload is the photo size limit when Config.MaxUpload is zero; DefaultMaxVideo
// and DefaultMaxAudio those of a video and a voice note (WhatsApp's own limits, so the web
// chat takes what a participant could send there).
const (
	DefaultMaxUpload = 10 << 20
	DefaultMaxVideo  = 16 << 20
	DefaultMaxAudio  = 16 << 20
)

// MaxTextLen is the longest text message, in characters, the page may send.
const MaxTextLen = 4096

// cookieName holds the browser id; it is scoped to /play/ so the dashboard never sees it.
const cookieName = "webchat_id"

// Engine is what the channel needs from the engine; *engine.Engine satisfies it.
type Engine interface {
	// Receive stores an inbound event; duplicate is true when the same Channel and PlatformID
	// was stored before (nothing happens then). Errors wrap errs.ErrInvalid or
	// errs.ErrNotFound (unknown campaign).
	Receive(ctx context.Context, in engine.Inbound) (duplicate bool, err error)
	// Transcript returns a participant's lines, oldest first.
	Transcript(ctx context.Context, participantID string) ([]engine.Line, error)
	// Campaign returns a loaded definition.
	Campaign(id string) (*campaigns.Definition, bool)
	// Status returns a campaign's status (draft, live, paused or closed).
	Status(id string) string
	// Offered returns the buttons a participant can tap in their current state. Errors wrap
	// errs.ErrNotFound for an unknown participant.
	Offered(ctx context.Context, participantID string) ([]engine.Button, error)
	// FormTeam, JoinTeam and TeamOf keep the teams of a team campaign (engine/teams.go):
	// errors wrap errs.ErrNotFound (unknown code; no team), *engine.TeamNameError,
	// engine.ErrTeamFull, ErrTeamNameTaken, ErrInTeam and ErrTeamsClosed.
	FormTeam(ctx context.Context, campaign, channel, member, name string) (engine.Team, error)
	JoinTeam(ctx context.Context, campaign, channel, member, code string) (engine.Team, error)
	TeamOf(ctx context.Context, campaign, channel, member string) (engine.Team, error)
}

// Media is what the channel needs from the media store; *media.Store satisfies it.
type Media interface {
	// PutMedia verifies and stores an upload of a kind (photo, video or audio) for a
	// participant; declaredMIME is the type the browser gave the file. Errors wrap
	// errs.ErrInvalid (not that kind, with a human reason) or errs.ErrTooLarge.
	PutMedia(ctx context.Context, campaign, participant, kind, declaredMIME string, r io.Reader) (engine.Media, error)
	// Open streams a stored object; errors wrap errs.ErrNotFound for a missing key.
	Open(ctx context.Context, key string) (body io.ReadCloser, contentType string, err error)
}

// Config is what a Channel is built from.
type Config struct {
	Engine Engine
	Media  Media
	// MaxUpload limits one photo upload in bytes (default DefaultMaxUpload), MaxVideo one
	// video (DefaultMaxVideo) and MaxAudio one voice note or other recording
	// (DefaultMaxAudio). Fiber's BodyLimit is app-wide and must be at least the largest plus
	// a little multipart overhead (MaxBody), or Fiber answers 413 before the channel sees the
	// request. The media store's own limits must be at least these.
	MaxUpload int64
	MaxVideo  int64
	MaxAudio  int64
	Log       *slog.Logger
	// Secure sets the Secure flag on the browser cookie (serve over HTTPS).
	Secure bool
	// Now is the clock the campaign's schedule is read with; nil means time.Now.
	Now func() time.Time
	// Intake, when set, is asked before a message is stored (engine.Intake): the answer may
	// wait for the engine to catch up, and past the limit the page is told to send again
	// (503 with Retry-After; docs/performance.md, "Back-pressure").
	Intake interface {
		Admit(ctx context.Context) (retryAfter time.Duration, err error)
	}
}

// Channel is the web chat channel. Its methods are safe for concurrent use.
type Channel struct {
	eng       Engine
	media     Media
	maxUpload int64
	// limits is the largest upload per kind: photo, video, audio.
	limits map[string]int64
	log    *slog.Logger
	secure bool
	hub    *hub
	page   *pageRenderer
	now    func() time.Time
	intake interface {
		Admit(ctx context.Context) (retryAfter time.Duration, err error)
	}
}

var (
	_ engine.Sender    = (*Channel)(nil)
	_ engine.Announcer = (*Channel)(nil)
	_ Engine           = (*engine.Engine)(nil)
)

// New returns a Channel for cfg.
func New(cfg Config) *Channel {
	c := &Channel{
		eng:       cfg.Engine,
		media:     cfg.Media,
		maxUpload: cfg.MaxUpload,
		log:       cfg.Log,
		secure:    cfg.Secure,
		hub:       newHub(),
		page:      newPageRenderer(),
		now:       cfg.Now,
		intake:    cfg.Intake,
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.maxUpload <= 0 {
		c.maxUpload = DefaultMaxUpload
	}
	c.limits = map[string]int64{kindPhoto: c.maxUpload, kindVideo: cfg.MaxVideo, kindAudio: cfg.MaxAudio}
	if c.limits[kindVideo] <= 0 {
		c.limits[kindVideo] = DefaultMaxVideo
	}
	if c.limits[kindAudio] <= 0 {
		c.limits[kindAudio] = DefaultMaxAudio
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c
}

// MaxBody is the largest request body the channel takes: the largest upload with room for
// its multipart framing. Fiber's BodyLimit should be at least this.
func (c *Channel) MaxBody() int64 {
	return max(c.limits[kindPhoto], c.limits[kindVideo], c.limits[kindAudio]) + multipartSlack
}

// Mount registers the /play/... routes on r.
func (c *Channel) Mount(r fiber.Router) {
	r.Get("/play/:campaign", c.handlePage)
	r.Post("/play/:campaign/join", c.sameSite, c.handleJoin)
	r.Post("/play/:campaign/team", c.sameSite, c.handleTeam)
	r.Post("/play/:campaign/messages", c.sameSite, c.handleMessage)
	r.Post("/play/:campaign/media", c.sameSite, c.handleUpload)
	r.Post("/play/:campaign/choices", c.sameSite, c.handleChoice)
	r.Post("/play/:campaign/location", c.sameSite, c.handleLocation)
	r.Get("/play/:campaign/events", c.handleEvents)
	r.Get("/play/:campaign/media/*", c.handleMedia)
}

// Send pushes a reply to every open page of the participant. It never blocks on a slow page
// and succeeds when no page is open: the reply is in the transcript the next page loads.
func (c *Channel) Send(_ context.Context, out engine.Outbound) (string, error) {
	at := out.DueAt
	if at.IsZero() {
		at = time.Now()
	}
	ev := event{
		ID:   fmt.Sprintf("o%d", out.ID),
		Dir:  string(engine.Out),
		Text: out.Text,
		At:   at.UTC().Format(time.RFC3339),
	}
	for _, b := range out.Buttons {
		ev.Buttons = append(ev.Buttons, button{ID: b.ID, Title: b.Title})
	}
	c.hub.publish(out.ParticipantID, ev)
	return fmt.Sprintf("webchat:%d", out.ID), nil
}

// Queued tells the participant's open pages that a reply is on its way (engine.Announcer):
// they show "typing…" until it arrives. The event is "typing", its at the reply's due time.
func (c *Channel) Queued(out engine.Outbound) {
	c.hub.signal(out.ParticipantID, event{ID: fmt.Sprintf("t%d", out.ID), At: out.DueAt.UTC().Format(time.RFC3339), name: "typing"})
}

// Close ends every open event stream, so that a server shutdown does not wait for browsers
// that would otherwise keep their streams open forever. Send still works afterwards.
func (c *Channel) Close() {
	c.hub.close()
}

// sameSite refuses state-changing requests a browser marks as coming from another site. The
// Lax cookie already keeps the participant's identity out of such requests; this also stops
// other sites from creating participants on a visitor's behalf.
func (c *Channel) sameSite(ctx *fiber.Ctx) error {
	if ctx.Get("Sec-Fetch-Site") == "cross-site" {
		return jsonError(ctx, fiber.StatusForbidden, "This chat only accepts messages from its own page.")
	}
	return ctx.Next()
}

// campaign returns the definition named in the path, copied out of Fiber's reused buffers.
// A draft is not there for the public (it is rehearsed with `campaign simulate`), and neither
// is a campaign that does not run on the web chat.
func (c *Channel) campaign(ctx *fiber.Ctx) (*campaigns.Definition, bool) {
	id := strings.Clone(ctx.Params("campaign"))
	d, ok := c.eng.Campaign(id)
	if !ok || !d.RunsOn(ChannelName) || c.eng.Status(id) == engine.StatusDraft {
		return nil, false
	}
	return d, true
}

// closed says why the campaign does not answer this browser's participant now, in the words
// the engine would use, or "" when it does: outside the schedule a stranger (a browser that
// never wrote) is turned away, while someone who joined before the end plays on until the hard
// stop or a close.
func (c *Channel) closed(ctx context.Context, def *campaigns.Definition, pid string) string {
	status, now := c.eng.Status(def.ID), c.now()
	why := engine.Unavailable(def, status, now, false)
	if why == "" || engine.Unavailable(def, status, now, true) != "" {
		return why
	}
	if lines, err := c.eng.Transcript(ctx, pid); err == nil && len(lines) > 0 {
		return ""
	}
	return why
}

// browserID returns the browser's id from its cookie, creating and setting one when the
// browser has none (or a malformed one), unless create is false.
func (c *Channel) browserID(ctx *fiber.Ctx, create bool) (string, error) {
	if id := ctx.Cookies(cookieName); validBrowserID(id) {
		return strings.Clone(id), nil
	}
	if !create {
		return "", nil
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("webchat: new browser id: %w", err)
	}
	id := hex.EncodeToString(b[:])
	ctx.Cookie(&fiber.Cookie{
		Name:     cookieName,
		Value:    id,
		Path:     "/play/",
		MaxAge:   int((365 * 24 * time.Hour).Seconds()),
		HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode,
		// Also Secure when a trusted proxy says the page came over HTTPS (Fiber believes
		// X-Forwarded-Proto only from the app's trusted proxies).
		Secure: c.secure || ctx.Protocol() == "https",
	})
	return id, nil
}

func validBrowserID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune("0123456789abcdef", rune(s[i])) {
			return false
		}
	}
	return true
}

// errorBody is every JSON error answer; the page shows Error as a note in the chat.
type errorBody struct {
	Error string `json:"error"`
}

func jsonError(ctx *fiber.Ctx, status int, msg string) error {
	return ctx.Status(status).JSON(errorBody{Error: msg})
}

// mediaURL is where the page loads a stored object from; each segment is escaped so a key
// can never leave the media route.
func mediaURL(campaign, key string) string {
	if key == "" {
		return ""
	}
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return "/play/" + url.PathEscape(campaign) + "/media/" + strings.Join(segs, "/")
}
