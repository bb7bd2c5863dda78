package engine

import "errors"

// Refusals a channel reports when a platform will not deliver a business-initiated
// (marketing) message; a channel's send error wraps one of them (errors.Is), and the
// broadcast pacer acts on it. Each is permanent for the reply that met it.
var (
	// ErrMarketingOptOut: the person opted out of marketing messages on this channel
	// (WhatsApp 131050); never send them marketing again until they opt back in.
	ErrMarketingOptOut = errors.New("recipient opted out of marketing messages")
	// ErrMarketingLimit: the platform held the message back to limit how much marketing
	// one person gets (WhatsApp 131049); do not send them another within 24 hours.
	ErrMarketingLimit = errors.New("recipient reached the platform's marketing limit")
	// ErrSpamRate: the platform refuses because too many people report or block the
	// number (WhatsApp 131048); stop the number's broadcasts and check its quality.
	ErrSpamRate = errors.New("number's spam rate limit hit")
)
