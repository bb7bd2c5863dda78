package channels

// Check is one thing `campaign channels check` verifies about a configured channel against
// its platform: that the platform answers (reachable), that it accepts the credentials, that
// its webhook points at this server. Every channel package offers a Check method returning
// them in that order; what failed says why in Detail, plainly enough to act on.
type Check struct {
	// What is "reachable", "credentials" or "webhook".
	What   string
	OK     bool
	Detail string
}

// The checks every channel reports.
const (
	CheckReachable   = "reachable"
	CheckCredentials = "credentials"
	CheckWebhook     = "webhook"
)
