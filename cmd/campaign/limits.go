package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/metrics"
	"github.com/chatcampaigns/campaign/ratelimit"
)

// Limits are the abuse limits of `campaign serve` (docs/security.md). The zero value limits
// nothing; the flags' defaults are defaultLimits.
type Limits struct {
	// Messages and Uploads are per participant (their browser cookie) on one campaign; the
	// same address may send addressFactor times as much, so a household or an office behind
	// one address still plays while a script rotating cookies does not.
	Messages, Uploads ratelimit.Rule
	// Joins are new web chat participants per address.
	Joins ratelimit.Rule
	// Admin is admin API requests per address.
	Admin ratelimit.Rule
	// LoginFailures is how many wrong passwords an account or an address may type before
	// each further one locks it, for one second doubling up to loginMaxDelay; 0 means no
	// delays.
	LoginFailures int
}

const (
	addressFactor = 4
	loginMaxDelay = 15 * time.Minute
)

func defaultLimits() Limits {
	return Limits{
		Messages:      ratelimit.Rule{Burst: 30, Every: 2 * time.Second},
		Uploads:       ratelimit.Rule{Burst: 10, Every: 6 * time.Second},
		Joins:         ratelimit.Rule{Burst: 10, Every: 6 * time.Second},
		Admin:         ratelimit.Rule{Burst: 60, Every: time.Second},
		LoginFailures: 5,
	}
}

func limitFlags(fs *flag.FlagSet, l *Limits) {
	*l = defaultLimits()
	fs.Var(ratelimit.RuleFlag{R: &l.Messages}, "limit-messages", "web chat messages, choices and locations per participant, like 30/1m (per address 4 times as many; off: no limit)")
	fs.Var(ratelimit.RuleFlag{R: &l.Uploads}, "limit-uploads", "web chat uploads per participant, like 10/1m (per address 4 times as many)")
	fs.Var(ratelimit.RuleFlag{R: &l.Joins}, "limit-joins", "web chat joins per address, like 10/1m")
	fs.Var(ratelimit.RuleFlag{R: &l.Admin}, "limit-admin", "admin API requests per address, like 60/1m")
	fs.IntVar(&l.LoginFailures, "login-failures", l.LoginFailures, "wrong dashboard passwords per account or address before each one more locks it (1s, doubling to 15m; 0: no delays)")
}

// loginThrottle is the dashboard's sign-in backoff, nil when there are no delays.
func loginThrottle(l Limits, now func() time.Time, m *metrics.Metrics) *ratelimit.Backoff {
	if l.LoginFailures <= 0 {
		return nil
	}
	return ratelimit.NewBackoff("login", l.LoginFailures, time.Second, loginMaxDelay, now, m.RateLimited)
}

// mountLimits registers the limiters in front of the routes they protect; it must run
// before those routes are mounted, and each limiter passes the request on with Next.
func mountLimits(app *fiber.App, l Limits, now func() time.Time, m *metrics.Metrics) {
	scaled := func(r ratelimit.Rule) ratelimit.Rule {
		if r.Off() {
			return r
		}
		return ratelimit.Rule{Burst: r.Burst * addressFactor, Every: r.Every / addressFactor}
	}
	participant := func(c *fiber.Ctx) string {
		// The raw cookie is enough for a key: a forged one is just another participant, and the
		// address limit catches a script that makes up new ones.
		id := c.Cookies("webchat_id")
		if id == "" {
			return ""
		}
		return c.Params("campaign") + "/" + id
	}
	address := func(c *fiber.Ctx) string { return c.IP() }
	chatRefusal := func(what string) func(*fiber.Ctx, time.Duration) error {
		return func(c *fiber.Ctx, wait time.Duration) error {
			return c.Status(fiber.StatusTooManyRequests).JSON(fiber.Map{
				"error": fmt.Sprintf("You're %s too fast. Wait %d seconds and try again.", what, ratelimit.Seconds(wait))})
		}
	}
	mount := func(paths []string, h ...fiber.Handler) {
		for _, p := range paths {
			app.Post(p, h...)
		}
	}
	mount([]string{"/play/:campaign/messages", "/play/:campaign/choices", "/play/:campaign/location", "/play/:campaign/team"},
		ratelimit.Handler(ratelimit.New("chat_participant", l.Messages, now, m.RateLimited), participant, chatRefusal("sending messages")),
		ratelimit.Handler(ratelimit.New("chat_address", scaled(l.Messages), now, m.RateLimited), address, chatRefusal("sending messages")))
	mount([]string{"/play/:campaign/media"},
		ratelimit.Handler(ratelimit.New("upload_participant", l.Uploads, now, m.RateLimited), participant, chatRefusal("sending files")),
		ratelimit.Handler(ratelimit.New("upload_address", scaled(l.Uploads), now, m.RateLimited), address, chatRefusal("sending files")))
	mount([]string{"/play/:campaign/join"},
		ratelimit.Handler(ratelimit.New("join_address", l.Joins, now, m.RateLimited), address, chatRefusal("joining")))
	app.Use("/api", ratelimit.Handler(ratelimit.New("admin_address", l.Admin, now, m.RateLimited), address,
		func(c *fiber.Ctx, wait time.Duration) error {
			return c.Status(fiber.StatusTooManyRequests).JSON(fiber.Map{
				"error": fmt.Sprintf("too many admin API requests from this address; retry in %d seconds", ratelimit.Seconds(wait))})
		}))
}
