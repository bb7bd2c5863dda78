package dashboard

import (
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/ratelimit"
)

// LoginThrottle remembers failed sign-ins per key and says how long a key must wait;
// ratelimit.Backoff is one.
type LoginThrottle interface {
	Wait(keys ...string) time.Duration
	Fail(keys ...string)
	Reset(key string)
}

// loginKeys are what a sign-in is throttled by: the account tried and the address it came
// from, so neither guessing one account from many addresses nor many accounts from one
// address goes fast.
func loginKeys(c *fiber.Ctx, f loginForm) []string {
	return []string{"account:" + f.Username, "address:" + c.IP()}
}

// throttleLogin answers 429 with the login form and how long to wait while the account or
// the address is locked after repeated failures, and reports whether it did; otherwise the
// sign-in goes ahead. The password is not even checked then, so waiting out the delay is the
// only way on.
func (d *Dashboard) throttleLogin(c *fiber.Ctx, f loginForm) (bool, error) {
	if d.logins == nil {
		return false, nil
	}
	wait := d.logins.Wait(loginKeys(c, f)...)
	if wait <= 0 {
		return false, nil
	}
	d.log.Warn("dashboard: sign-in refused, too many failures", "username", f.Username, "ip", c.IP(), "wait", wait)
	ratelimit.SetRetryAfter(c, wait)
	return true, d.render(c, fiber.StatusTooManyRequests, "login", loginView{Username: f.Username, Next: f.Next,
		Error: fmt.Sprintf(msgTooManyLogins, ratelimit.Seconds(wait))})
}

// msgTooManyLogins says what happened and what to do, without saying whether the account
// exists.
const msgTooManyLogins = "Too many wrong passwords for this account or from this address. Wait %d seconds and try again."

func (d *Dashboard) loginFailed(c *fiber.Ctx, f loginForm) {
	if d.logins != nil {
		d.logins.Fail(loginKeys(c, f)...)
	}
}

func (d *Dashboard) loginSucceeded(f loginForm) {
	if d.logins != nil {
		d.logins.Reset("account:" + f.Username)
	}
}
