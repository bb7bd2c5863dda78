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
//  2. otherwise the campaign whose entry keywords match the whole text (case-insensitive), or,
//     for a team campaign on a channel that makes groups, begin it followed by a team's name, and
//     that serves the channel and number (a closed one too, so the stranger hears it is not
//     running); otherwise, for someone playing a campaign that was closed since, that one, so
//     they hear that it is not running;
//  3. otherwise the campaign of a finished or opted-out participant at that address whose
//     rejoin words match the text (their way back, START by default);
//  4. otherwise, if exactly one live (or paused) campaign without keywords serves the
//     channel and number, that one; a campaign that names the number (its phone_number_id)
//     comes before those that answer on any number, so of those only the ones naming it
//     count when there is one;
//  5. otherwise the campaign of the most recently active finished or opted-out participant at
//     that address, so they hear its finished text (or, opted out, nothing).
//
// Draft campaigns are never routed to. ok is false when no campaign fits.
func (e *Engine) Route(ctx context.Context, channel, address, text, number string) (campaign string, ok bool, err error) {
	ps, err := e.store.ParticipantsAt(ctx, channel, address)
	if err != nil {
		return "", false, fmt.Errorf("engine: route %s/%s: %w", channel, address, err)
	}
	// ended are the campaigns, live or paused and serving the channel and number, of the
	// address's finished or opted-out participants, most recently active first.
	var ended []*campaigns.Definition
	closedPlay := "" // the campaign, closed since, that the sender was playing
	for _, p := range ps {
		def, ok := e.Campaign(p.Campaign)
		if !ok || !serves(def, channel, number) {
			continue
		}
		if s := e.Status(def.ID); s != StatusLive && s != StatusPaused {
			if s == StatusClosed && !p.Finished && closedPlay == "" {
				closedPlay = def.ID
			}
			continue
		}
		if p.Finished {
			ended = append(ended, def)
			continue
		}
		return def.ID, true, nil
	}
	// open and closed are the campaigns without keywords: [0] those that name the number,
	// [1] those that answer on any.
	var open, closed [2][]string
	for _, def := range e.Campaigns() {
		status := e.Status(def.ID)
		if status == StatusDraft || !serves(def, channel, number) {
			continue
		}
		if matchWord(def.Keywords, text) {
			return def.ID, true, nil
		}
		if def.Teams != nil && keywordWithName(def, text) && e.makesGroups(channel) {
			return def.ID, true, nil // a captain asking for their team's group (groups.go)
		}
		if len(def.Keywords) > 0 {
			continue
		}
		tier := 1
		if number != "" && def.WhatsAppNumber == number {
			tier = 0
		}
		if status == StatusClosed {
			closed[tier] = append(closed[tier], def.ID)
		} else {
			open[tier] = append(open[tier], def.ID)
		}
	}
	if closedPlay != "" {
		return closedPlay, true, nil // they hear that it is not running, rather than nothing
	}
	tier := 1
	if len(open[0])+len(closed[0]) > 0 {
		tier = 0
	}
	for _, def := range ended {
		if comesBack(def, text) {
			return def.ID, true, nil
		}
	}
	switch {
	case len(open[tier]) == 1:
		return open[tier][0], true, nil
	case len(open[tier]) == 0 && len(closed[tier]) == 1:
		return closed[tier][0], true, nil
	case len(ended) > 0:
		return ended[0].ID, true, nil
	}
	return "", false, nil
}

func serves(def *campaigns.Definition, channel, number string) bool {
	if len(def.Channels) > 0 && !slices.Contains(def.Channels, channel) {
		return false
	}
	return def.WhatsAppNumber == "" || number == "" || def.WhatsAppNumber == number
}
