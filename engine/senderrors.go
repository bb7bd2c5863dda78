package engine

import (
	"errors"
	"time"

	"github.com/chatcampaigns/campaign/errs"
)

// The classes of a Sender's errors, as the engine acts on them (send.go): a permanent failure
// fails the reply at once; any other is retried with backoff, and not before the wait the
// error asks for when it carries one. Channels map their platform's answers onto these, and
// channels/channeltest checks that they do.

// Permanent reports whether a send failure will fail again however often it is tried: the
// reply cannot be expressed (errs.ErrInvalid), the credentials are refused
// (errs.ErrUnauthorized), or the error says it is not Temporary().
func Permanent(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, errs.ErrInvalid) || errors.Is(err, errs.ErrUnauthorized) {
		return true
	}
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && !t.Temporary()
}

// RetryAfter returns the wait a send failure asks for before the next attempt: the platform
// said how long (Telegram's 429 retry_after, an HTTP Retry-After). An error says so by having
// a method RetryAfter() time.Duration anywhere in its chain.
func RetryAfter(err error) (time.Duration, bool) {
	var r interface{ RetryAfter() time.Duration }
	if errors.As(err, &r) && r.RetryAfter() > 0 {
		return r.RetryAfter(), true
	}
	return 0, false
}
