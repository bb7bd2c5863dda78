package dashboard

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/crypto/bcrypt"

	"github.com/chatcampaigns/campaign/accounts"
	"github.com/chatcampaigns/campaign/errs"
)

const msgWrongLogin = "Wrong username or password."

// hashToken is what the store keeps of a session token.
func hashToken(token string) string { return accounts.HashToken(token) }

// loadUser puts the logged-in user, if any, in the request's locals.
func (d *Dashboard) loadUser(c *fiber.Ctx) error {
	token := c.Cookies(sessionCookie)
	if !validToken(token) {
		return c.Next()
	}
	u, err := d.users.SessionUser(c.UserContext(), hashToken(token), d.now())
	switch {
	case errors.Is(err, errs.ErrNotFound):
		// Expired or logged out elsewhere: drop the stale cookie and go on anonymous.
		d.clearCookie(c, sessionCookie, fiber.CookieSameSiteLaxMode)
		return c.Next()
	case err != nil:
		return fmt.Errorf("dashboard: load session: %w", err)
	}
	c.Locals(localUser, &u)
	return c.Next()
}

func currentUser(c *fiber.Ctx) *User {
	u, _ := c.Locals(localUser).(*User)
	return u
}

// requireUser lets only logged-in users with a judging role through. A page visit without a
// session goes to the login form (and back after it); a form post gets 401, because
// redirecting it would lose what was posted without saying so.
func (d *Dashboard) requireUser(c *fiber.Ctx) error {
	u := currentUser(c)
	if u == nil {
		if c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead {
			return c.Redirect("/dashboard/login?next="+url.QueryEscape(c.OriginalURL()), fiber.StatusSeeOther)
		}
		return fmt.Errorf("dashboard: %s %s: %w: no session", c.Method(), c.Path(), errs.ErrUnauthorized)
	}
	if !canJudge(u.Role) {
		return fmt.Errorf("dashboard: user %s with role %q: %w", u.Username, u.Role, errForbidden)
	}
	return c.Next()
}

func (d *Dashboard) index(c *fiber.Ctx) error {
	if u := currentUser(c); u != nil {
		return c.Redirect(d.home(*u), fiber.StatusSeeOther)
	}
	return c.Redirect("/dashboard/login", fiber.StatusSeeOther)
}

// home is where a user starts: the team queues for someone in a hand-off team (the
// conversations waiting for them), the entries for everyone else.
func (d *Dashboard) home(u User) string {
	if len(u.Teams) > 0 && d.queue != nil && d.campaigns != nil && accounts.Can(u.Role, accounts.ReadConversations) {
		return "/dashboard/conversations"
	}
	return "/dashboard/entries"
}

// loginForm is the login form as posted.
type loginForm struct {
	Username string
	Password string
	Next     string
}

func readLoginForm(c *fiber.Ctx) loginForm {
	return loginForm{
		// Usernames are lower case; forgive a capital or a stray space typed at login.
		Username: strings.Clone(strings.ToLower(strings.TrimSpace(c.FormValue("username")))),
		Password: strings.Clone(c.FormValue("password")),
		Next:     localPath(c.FormValue("next"), "/dashboard/entries"),
	}
}

type loginView struct {
	Username string
	Next     string
	Error    string
}

func (d *Dashboard) loginPage(c *fiber.Ctx) error {
	next := localPath(c.Query("next"), "/dashboard/entries")
	if currentUser(c) != nil {
		return c.Redirect(next, fiber.StatusSeeOther)
	}
	return d.render(c, fiber.StatusOK, "login", loginView{Next: next})
}

func (d *Dashboard) login(c *fiber.Ctx) error {
	f := readLoginForm(c)
	if refused, err := d.throttleLogin(c, f); refused {
		return err
	}
	ctx := c.UserContext()
	u, err := d.users.UserByName(ctx, f.Username)
	hash := u.PasswordHash
	switch {
	case errors.Is(err, errs.ErrNotFound):
		hash = d.dummyHash
	case err != nil:
		return fmt.Errorf("dashboard: login %s: %w", f.Username, err)
	}
	// bcrypt runs in both cases, so the answer takes as long for an unknown user as for a
	// wrong password; the message is the same too.
	if bcrypt.CompareHashAndPassword(hash, []byte(f.Password)) != nil || err != nil {
		d.log.Info("dashboard: failed login", "username", f.Username, "ip", c.IP())
		d.loginFailed(c, f)
		return d.render(c, fiber.StatusUnauthorized, "login", loginView{Username: f.Username, Next: f.Next, Error: msgWrongLogin})
	}
	d.loginSucceeded(f)
	token := randomToken()
	expires := d.now().Add(d.ttl)
	if err := d.users.CreateSession(ctx, hashToken(token), u.ID, expires); err != nil {
		return fmt.Errorf("dashboard: login %s: create session: %w", u.Username, err)
	}
	d.setCookie(c, sessionCookie, token, fiber.CookieSameSiteLaxMode, expires)
	d.renewCSRF(c)
	d.log.Info("dashboard: login", "username", u.Username, "ip", c.IP())
	if f.Next == "/dashboard/entries" { // no page asked for: the user's own start
		f.Next = d.home(u)
	}
	return c.Redirect(f.Next, fiber.StatusSeeOther)
}

func (d *Dashboard) logout(c *fiber.Ctx) error {
	if token := c.Cookies(sessionCookie); validToken(token) {
		if err := d.users.DeleteSession(c.UserContext(), hashToken(token)); err != nil {
			return fmt.Errorf("dashboard: logout: %w", err)
		}
	}
	d.clearCookie(c, sessionCookie, fiber.CookieSameSiteLaxMode)
	d.renewCSRF(c)
	return c.Redirect("/dashboard/login", fiber.StatusSeeOther)
}
