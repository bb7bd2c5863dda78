package whatsapp

// MaxReadsInFlight is exported for tests.
const MaxReadsInFlight = maxReadsInFlight

// ReadsInFlight is how many read receipts hold a slot: one whose answer the fake Graph API
// recorded may still hold its slot for a moment.
func (c *Channel) ReadsInFlight() int { return len(c.reads) }
