package dashboard

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Cookie names. All cookies are scoped to /dashboard so no other part of the server (the web
// chat, the webhooks) ever receives them.
const (
	cookiePath    = "/dashboard"
	sessionCookie = "dashboard_session"
	csrfCookie    = "dashboard_csrf"
	flashCookie   = "dashboard_flash"
	csrfField     = "csrf"
)

// localKey names the values middleware hands to handlers through c.Locals; its own type keeps
// them apart from any other middleware's.
type localKey int

const (
	localCSRF localKey = iota
	localUser
	// localFlash is a message for the page rendered by this very request (a form shown again
	// with what was typed), rather than for the next one (setFlash).
	localFlash
)

// randomToken returns 256 random bits, base64url-encoded (43 characters).
func randomToken() string {
	var b [32]byte
	// crypto/rand.Read never returns an error; it crashes the program if the system's
	// randomness fails, which is what we want rather than a guessable token.
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func validToken(s string) bool {
	if len(s) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// setCookie sets a cookie that lasts until expires (zero: the browser session). The lifetime
// goes out as Max-Age, relative, rather than as an Expires date, so a browser whose clock
// disagrees with the server's still keeps the cookie as long as the server means it to.
func (d *Dashboard) setCookie(c *fiber.Ctx, name, value, sameSite string, expires time.Time) {
	ck := &fiber.Cookie{
		Name: name, Value: value, Path: cookiePath, SessionOnly: expires.IsZero(),
		Secure: d.secureFor(c), HTTPOnly: true, SameSite: sameSite,
	}
	if !expires.IsZero() {
		ck.MaxAge = max(1, int(expires.Sub(d.now()).Seconds()))
	}
	c.Cookie(ck)
}

func (d *Dashboard) clearCookie(c *fiber.Ctx, name, sameSite string) {
	c.Cookie(&fiber.Cookie{
		Name: name, Path: cookiePath, Expires: time.Unix(1, 0),
		Secure: d.secureFor(c), HTTPOnly: true, SameSite: sameSite,
	})
}

// csrf protects every form. Signed in, the token is derived from the session cookie
// (sessionCSRF): it is HttpOnly and never leaves the browser except to us, so nobody who can
// plant cookies for our host (a hostile sibling subdomain, a man in the middle of a plain HTTP
// visit) can make a token that passes with the victim's session. Before signing in (the login
// form) it is a double-submit token: a random value in an HttpOnly, SameSite=Strict cookie
// that the form echoes, so no other site can log a browser into an account of its choosing.
//
// The token is read from the form body or the X-CSRF-Token header only, never the query
// string, where it would end up in logs and Referer headers.
func (d *Dashboard) csrf(c *fiber.Ctx) error {
	var token string
	received := false
	if session := c.Cookies(sessionCookie); validToken(session) {
		token, received = sessionCSRF(session), true
	} else if ck := c.Cookies(csrfCookie); validToken(ck) {
		token, received = strings.Clone(ck), true // the request buffer is reused after the handler
	} else {
		token = randomToken()
		d.setCookie(c, csrfCookie, token, fiber.CookieSameSiteStrictMode, time.Time{})
	}
	c.Locals(localCSRF, token)
	if c.Method() != fiber.MethodPost {
		return c.Next()
	}
	sent := sentCSRF(c)
	if !received || subtle.ConstantTimeCompare([]byte(sent), []byte(token)) != 1 {
		return errCSRF
	}
	return c.Next()
}

// sessionCSRF is the CSRF token of a session: a hash of the session token under a label of its
// own, so it reveals nothing of the session and needs no key shared between processes.
func sessionCSRF(session string) string {
	sum := sha256.Sum256([]byte("campaign dashboard csrf\x00" + session))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// sentCSRF is the token a POST carries in its header or its body, not its URL.
func sentCSRF(c *fiber.Ctx) string {
	if h := c.Get(csrfHeader); h != "" {
		return h
	}
	if v := c.Request().PostArgs().Peek(csrfField); len(v) > 0 {
		return string(v)
	}
	if strings.HasPrefix(c.Get(fiber.HeaderContentType), fiber.MIMEMultipartForm) {
		if form, err := c.MultipartForm(); err == nil && len(form.Value[csrfField]) > 0 {
			return form.Value[csrfField][0]
		}
	}
	return ""
}

// csrfHeader carries the token for requests made from scripts.
const csrfHeader = "X-CSRF-Token"

// secureFor reports whether cookies set on c must be Secure: the dashboard is configured for
// HTTPS (--public-url https://…), the connection is TLS, or a trusted proxy says the browser
// used HTTPS (Fiber only believes X-Forwarded-Proto from --trusted-proxy addresses).
func (d *Dashboard) secureFor(c *fiber.Ctx) bool {
	return d.secure || c.Protocol() == "https"
}

// renewCSRF gives the browser a fresh token, so a token from before a login is not the one
// used after it.
func (d *Dashboard) renewCSRF(c *fiber.Ctx) {
	token := randomToken()
	d.setCookie(c, csrfCookie, token, fiber.CookieSameSiteStrictMode, time.Time{})
	c.Locals(localCSRF, token)
}

// flash is a one-time message shown on the next page, after a redirect.
type flash struct {
	Message string
	// Error marks a message about something that did not happen.
	Error bool
}

// setFlash stores a message for the next page. The cookie lives a minute: long enough for
// the redirect, short enough that a message never shows up on an unrelated visit later.
func (d *Dashboard) setFlash(c *fiber.Ctx, f flash) {
	v := "ok:"
	if f.Error {
		v = "error:"
	}
	d.setCookie(c, flashCookie, url.QueryEscape(v+f.Message), fiber.CookieSameSiteLaxMode, d.now().Add(time.Minute))
}

// takeFlash returns the pending message, if any, and clears it.
func (d *Dashboard) takeFlash(c *fiber.Ctx) flash {
	raw := c.Cookies(flashCookie)
	if raw == "" {
		return flash{}
	}
	d.clearCookie(c, flashCookie, fiber.CookieSameSiteLaxMode)
	v, err := url.QueryUnescape(raw)
	if err != nil {
		return flash{}
	}
	kind, msg, ok := strings.Cut(v, ":")
	if !ok || msg == "" {
		return flash{}
	}
	return flash{Message: strings.Clone(msg), Error: kind == "error"}
}
