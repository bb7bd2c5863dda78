package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
)

// RoundMark records that a round of a campaign started or closed, so that a participant who
// joins later can be brought to where the others are (a round's events reach only those
// playing when it starts).
type RoundMark struct {
	Campaign, Round string
	// Event is campaigns.RoundStarted or campaigns.RoundDeadline.
	Event string
	At    time.Time
}

// RoundStore is what the engine keeps of rounds.
type RoundStore interface {
	// MarkRound records a round event; marking the same campaign, round and event again
	// keeps one mark with the later At.
	MarkRound(ctx context.Context, m RoundMark) error
	// RoundMarks returns a campaign's marks, oldest first (none for a campaign without).
	RoundMarks(ctx context.Context, campaign string) ([]RoundMark, error)
}

// openRound is the round running at now: the last round, in the definition's order, that
// started (by its mark, or by its scheduled start once due) and has not closed (by its mark,
// or by its deadline once passed). A start or a close marked later than the other wins, so a
// round started again after it closed runs again. It is "" between rounds.
func (e *Engine) openRound(ctx context.Context, def *campaigns.Definition, now time.Time) (string, error) {
	if len(def.Rounds) == 0 {
		return "", nil
	}
	marks, err := e.store.RoundMarks(ctx, def.ID)
	if err != nil {
		return "", fmt.Errorf("engine: rounds of %s: %w", def.ID, err)
	}
	started, closed := map[string]time.Time{}, map[string]time.Time{}
	for _, m := range marks {
		switch m.Event {
		case campaigns.RoundStarted:
			started[m.Round] = m.At
		case campaigns.RoundDeadline:
			closed[m.Round] = m.At
		}
	}
	open := ""
	for _, rd := range def.Rounds {
		start, ok := started[rd.Name]
		if !ok && !rd.Starts.IsZero() && !rd.Starts.After(now) {
			// Due, but its timer has not fired yet.
			start, ok = rd.Starts, true
		}
		if !ok {
			continue
		}
		end, isClosed := closed[rd.Name]
		if !isClosed && !rd.Deadline.IsZero() && !rd.Deadline.After(now) {
			end, isClosed = rd.Deadline, true
		}
		if !isClosed && rd.Duration > 0 && !start.Add(rd.Duration).After(now) {
			end, isClosed = start.Add(rd.Duration), true
		}
		if isClosed && !start.After(end) {
			continue
		}
		open = rd.Name
	}
	return open, nil
}
