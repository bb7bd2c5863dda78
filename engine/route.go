package engine

import (
	"context"
	"fmt"
	"slices"

	"github.com/chatcampaigns/campaign/campaigns"
)

// Route says which campaign a message from address on channel (to the business number
// number, on WhatsApp) belongs to, for channels where one number serves several campaigns:
//
//  1. the campaign of the most recently active unfinished participant at that address, if it
//     is live or paused and serves the channel and number;
//  2. otherwise the campaign whose entry keywords match the whole text (case-insensitive) and
//     that serves the channel and number (a closed one too, so the stranger hears it is not
//     running);
//  3. otherwise, if exactly one live (or paused) campaign without keywords serves the
//     channel and number, that one.
//
// Draft campaigns are never routed to. ok is false when no campaign fits.
func (e *Engine) Route(ctx context.Context, channel, address, text, number string) (campaign string, ok bool, err error) {
	ps, err := e.store.ParticipantsAt(ctx, channel, address)
	if err != nil {
		return "", false, fmt.Errorf("engine: route %s/%s: %w", channel, address, err)
	}
	for _, p := range ps {
		def, ok := e.Campaign(p.Campaign)
		if p.Finished || !ok || !serves(def, channel, number) {
			continue
		}
		if s := e.Status(def.ID); s == StatusLive || s == StatusPaused {
			return def.ID, true, nil
		}
	}
	var open, closed []string
	for _, def := range e.Campaigns() {
		status := e.Status(def.ID)
		if status == StatusDraft || !serves(def, channel, number) {
			continue
		}
		if matchWord(def.Keywords, text) {
			return def.ID, true, nil
		}
		if len(def.Keywords) > 0 {
			continue
		}
		if status == StatusClosed {
			closed = append(closed, def.ID)
		} else {
			open = append(open, def.ID)
		}
	}
	switch {
	case len(open) == 1:
		return open[0], true, nil
	case len(open) == 0 && len(closed) == 1:
		return closed[0], true, nil
	}
	return "", false, nil
}

func serves(def *campaigns.Definition, channel, number string) bool {
	if len(def.Channels) > 0 && !slices.Contains(def.Channels, channel) {
		return false
	}
	return def.WhatsAppNumber == "" || number == "" || def.WhatsAppNumber == number
}
