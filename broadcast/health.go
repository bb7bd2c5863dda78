package broadcast

import "time"

// Quality is a number's quality rating as the platform reports it.
type Quality string

// The ratings WhatsApp reports (quality_rating, and phone_number_quality_update webhooks).
const (
	QualityUnknown Quality = ""
	QualityGreen   Quality = "GREEN"
	QualityYellow  Quality = "YELLOW"
	QualityRed     Quality = "RED"
)

// Rank orders ratings from worst (0, red) to best; unknown ranks as green, so that a number
// whose rating was never read is not taken for a dropped one.
func (q Quality) Rank() int {
	switch q {
	case QualityRed:
		return 0
	case QualityYellow:
		return 1
	}
	return 2
}

// Unlimited is NumberHealth.Limit for a number with no messaging limit.
const Unlimited = -1

// NumberHealth is what a channel knows of one sending number's limits and standing.
type NumberHealth struct {
	// Channel and Number name the number: "whatsapp" and its phone_number_id.
	Channel, Number string
	// Display is the number as people see it (+31 6 …), for the dashboard.
	Display string
	// Limit is how many unique people the number may reach outside their 24-hour window per
	// moving 24 hours (250, 2,000, 10,000, 100,000, or Unlimited); 0 when not known.
	Limit int
	// Throughput is the number's messages per second (80, 1,000); 0 when not known.
	Throughput int
	Quality    Quality
	// Status is the platform's word for the number's standing (CONNECTED, FLAGGED,
	// RESTRICTED…), empty when not known.
	Status string
	// Event is the last quality webhook's event (DOWNGRADE, UPGRADE, FLAGGED,
	// THROUGHPUT_UPGRADE…), empty when the facts come from a read.
	Event string
	// CheckedAt is when these facts were read or reported.
	CheckedAt time.Time
}

// Preference is a person's standing answer about marketing messages on a channel, reported
// by the platform (WhatsApp's user_preferences webhook, error 131050) or given in a chat. It
// holds in every campaign on that channel, not only the one it was given in.
type Preference struct {
	Channel, Address string
	// StopMarketing is true when the person asked for no more marketing messages.
	StopMarketing bool
	// Source says where the answer came from ("user_preferences", "131050", "chat").
	Source string
	At     time.Time
}
