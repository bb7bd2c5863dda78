package broadcast

import (
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
)

// Request is a broadcast an admin asks for: one message to a campaign's audience.
type Request struct {
	Campaign string
	Audience engine.Audience
	Message  campaigns.Message
	// By is the dashboard user (or audit.ActorCLI, audit.ActorAPI) who asked.
	By string
}

// Plan is what a broadcast will reach, when and at what cost, worked out before it starts.
type Plan struct {
	Request Request
	// Number is the sending number's facts (Limit 0 = unknown: the pacer then keeps to the
	// lowest tier, UnknownLimit, and the plan page says so). Zero when OnWhatsApp is.
	Number NumberHealth
	// OnWhatsApp is how many of the recipients (not the skipped) get it on WhatsApp, from
	// Number. With none, no number and no messaging limit apply.
	OnWhatsApp int
	// Audience is how many participants the audience selects: InWindow + NeedTemplate + the
	// skipped, those who opted out of the campaign among them.
	Audience int
	// InWindow are inside their 24-hour window now: free-form, not counted against the limit.
	InWindow int
	// NeedTemplate are outside it, getting the template: counted against the limit.
	NeedTemplate int
	// Skipped counts, by reason (the Skip* constants), those who will not get it.
	Skipped map[string]int
	// UsedLast24h is how many unique people were reached outside their window in the
	// moving 24 hours on this number, by every broadcast.
	UsedLast24h int
	// AllowedToday is how many of NeedTemplate may go in the next 24 hours.
	AllowedToday int
	// Days is when they go: day 0 is now, each day at most the limit.
	Days []PlanDay
	// Finish is when the last one goes.
	Finish time.Time
	// Category is the template's category (marketing, utility, authentication).
	Category string
	// ByCountry counts NeedTemplate by country (ISO 3166 alpha-2, "" unknown).
	ByCountry map[string]int
	// Cost is filled from the Pricer when one is given.
	Cost Cost
	// Limit is the limit the pacer keeps to: Number.Limit, UnknownLimit when that is not
	// known, Unlimited for a channel without one.
	Limit int
}

// PlanDay is one day of a plan: from Start, Count recipients.
type PlanDay struct {
	Start time.Time
	Count int
}

// Cost is what template messages cost, by country and category.
type Cost struct {
	Currency string
	Total    float64
	Lines    []CostLine
	// Unpriced counts the messages the price table has no price for.
	Unpriced int
}

// CostLine is the cost of the messages to one country in one category.
type CostLine struct {
	Country, Category string
	Count             int
	Each, Total       float64
}

// Pricer prices one template message; implemented by package pricing.
type Pricer interface {
	// Country is the country of an address (E.164 for WhatsApp), "" when unknown.
	Country(address string) string
	Price(category, country string) (each float64, currency string, ok bool)
}

// Status is where a broadcast stands.
type Status string

// The statuses of a broadcast.
const (
	// StatusRunning broadcasts are released by the pacer.
	StatusRunning Status = "running"
	// StatusPaused broadcasts wait (PausedReason says why) until resumed.
	StatusPaused Status = "paused"
	// StatusDone broadcasts released or skipped every recipient.
	StatusDone Status = "done"
	// StatusCancelled broadcasts were stopped for good; their waiting recipients are skipped.
	StatusCancelled Status = "cancelled"
)

// Broadcast is a started broadcast as the store keeps it.
type Broadcast struct {
	ID      string
	Request Request
	// Plan is the plan it was started with.
	Plan         Plan
	Status       Status
	PausedReason string
	// Baseline is the number's quality rating the broadcast runs at: a drop below it pauses
	// the broadcast. Set at Start, and at Resume to the rating then.
	Baseline Quality
	// Channel and Number are the number its WhatsApp recipients are paced on (the campaign's
	// number, else the channel's default); empty Number for a campaign without WhatsApp.
	Channel, Number string
	At, UpdatedAt   time.Time
}

// Report is how far a broadcast got.
type Report struct {
	Planned, Waiting, Sent, Delivered, Read int
	// Released counts recipients handed to the outbox, whatever became of their message.
	Released int
	// Failed counts, by reason, the messages that could not be delivered.
	Failed map[string]int
	// Skipped counts, by reason, the recipients that were not sent the message.
	Skipped map[string]int
	// Cost is the cost of the templates sent so far.
	Cost Cost
}

// Recipient is one person a broadcast goes to, stored at Start and released by the pacer.
type Recipient struct {
	// Seq orders a broadcast's recipients (1, 2, …): they are released in this order.
	Seq           int64
	ParticipantID string
	// Channel is the participant's channel; Number the business number they are sent from
	// (WhatsApp's phone_number_id), empty where the channel has one.
	Channel, Number  string
	Address, Country string
	// Template says the message went (or, while waiting, would go) as the template: outside
	// the 24-hour window, counted against the number's limit.
	Template bool
	// Status is RecipientWaiting, RecipientReleased, RecipientSkipped or RecipientFailed;
	// Reason says why for the last two (a Skip* or Fail* constant).
	Status, Reason string
	ReleasedAt     time.Time
	// OutboxID is the outbox row of the released message (0 before).
	OutboxID int64
	// UpdatedAt is when the status last changed.
	UpdatedAt time.Time
}

// Recipient statuses.
const (
	RecipientWaiting  = "waiting"
	RecipientReleased = "released"
	RecipientSkipped  = "skipped"
	// RecipientFailed is a released recipient whose message the platform refused with a
	// marketing refusal (Reason is a Fail* constant).
	RecipientFailed = "failed"
)

// Why a recipient is skipped (Recipient.Reason, Plan.Skipped, Report.Skipped).
const (
	// SkipOptedOut: the participant opted out of the campaign (or finished) since.
	SkipOptedOut = "opted_out"
	// SkipStoppedMarketing: the person asked the platform for no marketing (user_preferences,
	// or an earlier 131050), in any campaign on the channel.
	SkipStoppedMarketing = "stopped_marketing"
	// SkipMarketingLimit: the platform refused them a marketing message (131049) less than
	// 24 hours ago.
	SkipMarketingLimit = "marketing_limit"
	// SkipFrequencyCap: they had as many broadcasts as the frequency cap allows.
	SkipFrequencyCap = "frequency_cap"
	// SkipNoTemplate: outside their 24-hour window and the broadcast has no template.
	SkipNoTemplate = "no_template"
	// SkipWindowClosed: outside their window on a channel with no templates (Messenger).
	SkipWindowClosed = "window_closed"
	// SkipCancelled: the broadcast was cancelled before their turn.
	SkipCancelled = "cancelled"
	// SkipDuplicate: the same person (channel and address) is listed twice.
	SkipDuplicate = "duplicate"
)

// Why a released recipient's message failed (Recipient.Reason of RecipientFailed).
const (
	FailOptOut         = "131050_opted_out"
	FailMarketingLimit = "131049_marketing_limit"
	FailSpamRate       = "131048_spam_rate"
)

// UnknownLimit is the limit the pacer keeps to on a number whose limit was never read: the
// lowest tier, so that not knowing never costs the number its standing.
const UnknownLimit = 250

// Window is the moving period the messaging limit counts unique people in.
const Window = 24 * time.Hour
