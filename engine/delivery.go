package engine

import "time"

// Delivery is what a platform reported about a reply after accepting it: the delivery
// monitor brands asked for, showing who did not get a message and why.
type Delivery struct {
	// Status is sent, delivered, read, played or failed.
	Status     string
	ErrorCode  int
	ErrorTitle string
	At         time.Time
}

// deliveryRanks orders delivery statuses. Platforms do not promise to report them in order
// (a late "delivered" may arrive after "read"), so a report only replaces one of lower rank.
// A failure after delivery is not believed: the participant has the message.
var deliveryRanks = map[string]int{"sent": 1, "failed": 2, "delivered": 3, "read": 4, "played": 5}

// DeliveryRank is the rank of a delivery status; 0 for an unknown one.
func DeliveryRank(status string) int { return deliveryRanks[status] }
