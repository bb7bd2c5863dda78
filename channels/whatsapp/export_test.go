package whatsapp

// MaxReadsInFlight is exported for tests.
const MaxReadsInFlight = maxReadsInFlight
