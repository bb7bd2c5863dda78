package dashboard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/judge"
)

// Verdicts says which verdicts a participant's current state takes (its verdict:
// transitions); *engine.Engine satisfies it. With it, the buttons of the queue, an entry's
// page and a participant's page are those verdicts, and a verdict the state does not take is
// refused with the reason instead of being given and skipped.
type Verdicts interface {
	Verdicts(ctx context.Context, participantID string) ([]string, error)
}

// verdictButton is one verdict offered on a page.
type verdictButton struct {
	Verdict string
	Label   string
	// Key is the class the keyboard presses: "approve" (a) on the verdict that takes the
	// participant on, "reject" (r) on the one that turns them down, "" for the others.
	Key string
	// Path is where an entry's form posts: the approve and reject routes, or the verdict route
	// with the verdict in a field (Field).
	Path  string
	Field bool
}

var verdictLabels = map[string]string{
	campaigns.VerdictApproved: "Approve", campaigns.VerdictRejected: "Reject", campaigns.VerdictShortlisted: "Shortlist",
	campaigns.VerdictWinner: "Winner", campaigns.VerdictEliminated: "Eliminate", campaigns.VerdictAdvanced: "Advance",
}

// onward and turnDown are the verdicts the a and r keys give, in order of preference; winner
// is left out on purpose: it ends a run for good, and is given with a click, not a key.
var (
	onward   = []string{campaigns.VerdictApproved, campaigns.VerdictShortlisted, campaigns.VerdictAdvanced}
	turnDown = []string{campaigns.VerdictRejected, campaigns.VerdictEliminated}
)

// buttonsFor makes the buttons of verdicts vs; entryID "" makes a participant's buttons.
func buttonsFor(vs []string, entryID string) []verdictButton {
	var out []verdictButton
	onwardKey, downKey := "", ""
	for _, v := range onward {
		if slices.Contains(vs, v) {
			onwardKey = v
			break
		}
	}
	for _, v := range turnDown {
		if slices.Contains(vs, v) {
			downKey = v
			break
		}
	}
	for _, v := range vs {
		b := verdictButton{Verdict: v, Label: verdictLabels[v]}
		switch v {
		case onwardKey:
			b.Key = "approve"
		case downKey:
			b.Key = "reject"
		}
		if entryID != "" {
			switch v {
			case campaigns.VerdictApproved:
				b.Path = "/dashboard/entries/" + entryID + "/approve"
			case campaigns.VerdictRejected:
				b.Path = "/dashboard/entries/" + entryID + "/reject"
			default:
				b.Path, b.Field = "/dashboard/entries/"+entryID+"/verdict", true
			}
		}
		out = append(out, b)
	}
	return out
}

// marksOnly is what an entry whose participant's state takes no verdict is offered: approving
// or rejecting it marks the entry (what an export of approved entries reads) and tells the
// participant nothing.
var marksOnly = []string{campaigns.VerdictApproved, campaigns.VerdictRejected}

// stateVerdicts is what the participant's state takes; nil without Verdicts.
func (d *Dashboard) stateVerdicts(ctx context.Context, participantID string) ([]string, error) {
	if d.verdicts == nil {
		return nil, nil
	}
	vs, err := d.verdicts.Verdicts(ctx, participantID)
	if errors.Is(err, errs.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("dashboard: verdicts of %s: %w", participantID, err)
	}
	return vs, nil
}

// entryVerdicts is what a pending entry is offered, and a note when those only mark it.
func (d *Dashboard) entryVerdicts(ctx context.Context, e judge.Entry) ([]string, string, error) {
	if d.verdicts == nil {
		return marksOnly, "", nil
	}
	vs, err := d.stateVerdicts(ctx, e.ParticipantID)
	if err != nil {
		return nil, "", err
	}
	if len(vs) == 0 {
		return marksOnly, "The participant's step takes no verdict now: approving or rejecting only marks the entry, and they hear nothing.", nil
	}
	return vs, "", nil
}

// verdictReads bounds the participants read at once for one page of the queue: each is a
// point read, and on MongoDB a round trip, so a page of 200 entries waits for about 200/8 of
// them rather than 200.
const verdictReads = 8

// withVerdicts fills the buttons of the pending entries in items, reading each participant
// once.
func (d *Dashboard) withVerdicts(ctx context.Context, items []entryItem) error {
	type answer struct {
		vs   []string
		note string
		err  error
	}
	answers := map[string]*answer{}
	for _, it := range items {
		if it.Pending && answers[it.ParticipantID] == nil {
			answers[it.ParticipantID] = &answer{}
		}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, verdictReads)
	for pid, a := range answers {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			a.vs, a.note, a.err = d.entryVerdicts(ctx, judge.Entry{Entry: engine.Entry{ParticipantID: pid}})
		}()
	}
	wg.Wait()
	for i := range items {
		if !items[i].Pending {
			continue
		}
		a := answers[items[i].ParticipantID]
		if a.err != nil {
			return a.err
		}
		items[i].Buttons, items[i].Note = buttonsFor(a.vs, items[i].ID), a.note
	}
	return nil
}

// notOffered says why verdict is refused for an entry or participant offered vs, "" when it
// is offered.
func notOffered(verdict string, vs []string) string {
	if slices.Contains(vs, verdict) {
		return ""
	}
	var labels []string
	for _, v := range vs {
		labels = append(labels, verdictLabels[v])
	}
	takes := "no verdict"
	if len(labels) > 0 {
		takes = strings.Join(labels, " or ")
	}
	return fmt.Sprintf("the participant's step takes %s now, not %s (it changed since the page was loaded).", takes, verdictLabels[verdict])
}
