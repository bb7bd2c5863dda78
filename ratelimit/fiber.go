package ratelimit

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Handler lets a request on when l allows its key, and otherwise sets Retry-After (whole
// seconds, rounded up) and answers with refuse, which writes the 429 the way its client
// reads errors. A request whose key is empty is not limited by l.
func Handler(l *Limiter, key func(*fiber.Ctx) string, refuse func(c *fiber.Ctx, retry time.Duration) error) fiber.Handler {
	return func(c *fiber.Ctx) error {
		k := key(c)
		if k == "" {
			return c.Next()
		}
		if wait := l.Allow(k); wait > 0 {
			SetRetryAfter(c, wait)
			return refuse(c, wait)
		}
		return c.Next()
	}
}

// SetRetryAfter sets the Retry-After header to wait in whole seconds, at least one.
func SetRetryAfter(c *fiber.Ctx, wait time.Duration) {
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(Seconds(wait)))
}

// Seconds is wait rounded up to whole seconds, at least one: what a person is told to wait.
func Seconds(wait time.Duration) int {
	return max(1, int((wait+time.Second-1)/time.Second))
}
