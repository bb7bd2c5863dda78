package dashboard

import (
	"crypto/rand"
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
		Secure: d.secure, HTTPOnly: true, SameSite: sameSite,
	}
	if !expires.IsZero() {
		ck.MaxAge = max(1, int(expires.Sub(d.now()).Seconds()))
	}
	c.Cookie(ck)
}

func (d *Dashboard) clearCookie(c *fiber.Ctx, name, sameSite string) {
	c.Cookie(&fiber.Cookie{
		Name: name, Path: cookiePath, Expires: time.Unix(1, 0),
		Secure: d.secure, HTTPOnly: true, SameSite: sameSite,
	})
}

// csrf protects every form with a double-submit token: the browser holds a random token in
// an HttpOnly, SameSite=Strict cookie, every form echoes it in a hidden field, and every POST
// must carry both, equal.
//
// Why that is enough here: another site cannot read the token (the cookie is HttpOnly and the
// same-origin policy keeps it from reading our pages), so it cannot put it in a forged form;
// and because the cookie is SameSite=Strict, a browser does not even send it with a request
// that another site starts, so a forged POST arrives without the cookie and is refused (the
// session cookie, SameSite=Lax, is not sent on a cross-site POST either). The dashboard keeps
// no server-side token state that way. What double-submit cannot stop is a hostile host on a
// sibling subdomain planting its own cookie pair; serve the dashboard on a host whose
// neighbours are trusted. The login form is protected too, so no other site can log a
// browser into an account of its choosing.
func (d *Dashboard) csrf(c *fiber.Ctx) error {
	token := c.Cookies(csrfCookie)
	received := validToken(token)
	if received {
		token = strings.Clone(token) // the request buffer is reused after the handler
	} else {
		token = randomToken()
		d.setCookie(c, csrfCookie, token, fiber.CookieSameSiteStrictMode, time.Time{})
	}
	c.Locals(localCSRF, token)
	if c.Method() != fiber.MethodPost {
		return c.Next()
	}
	sent := c.FormValue(csrfField)
	if !received || subtle.ConstantTimeCompare([]byte(sent), []byte(token)) != 1 {
		return errCSRF
	}
	return c.Next()
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
