package dashboard

import (
	"context"
	"fmt"
	"maps"
	"slices"
)

// channelDelivery is how far one channel's replies got, and what its platform can tell.
type channelDelivery struct {
	Channel string
	// Receipts says the platform reports delivered and read, and this server records it.
	// Without, "sent" is as far as anyone can know: it is not counted as undelivered.
	Receipts                                bool
	Sent, Reported, Delivered, Read, Failed int
	Pending, Cancelled                      int
	// NoReport counts sent replies without a report yet (with receipts only: waiting for it).
	NoReport int
}

// channelNames are the channels as the monitor names them.
var channelNames = map[string]string{"whatsapp": "WhatsApp", "webchat": "Web chat", "telegram": "Telegram", "messenger": "Messenger"}

// channelDeliveries counts a campaign's replies per channel; nil without Reports.
func (d *Dashboard) channelDeliveries(ctx context.Context, campaign string) ([]channelDelivery, error) {
	if d.reports == nil {
		return nil, nil
	}
	by, err := d.reports.DeliveryByChannel(ctx, campaign)
	if err != nil {
		return nil, fmt.Errorf("dashboard: deliveries of %s by channel: %w", campaign, err)
	}
	var out []channelDelivery
	for _, ch := range slices.Sorted(maps.Keys(by)) {
		n := by[ch]
		cd := channelDelivery{Channel: ch, Receipts: d.receipts[ch],
			Delivered: n["delivered"], Read: n["read"] + n["played"], Failed: n["failed"],
			Pending: n["pending"], Cancelled: n["cancelled"], NoReport: n["sent"]}
		cd.Reported = cd.Delivered + cd.Read
		cd.Sent = cd.NoReport + cd.Reported
		out = append(out, cd)
	}
	return out, nil
}

// ChannelName is the channel's name as people say it.
func (c channelDelivery) ChannelName() string {
	if n := channelNames[c.Channel]; n != "" {
		return n
	}
	return c.Channel
}
