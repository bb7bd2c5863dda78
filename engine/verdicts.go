package engine

import (
	"context"
	"fmt"
	"slices"

	"github.com/chatcampaigns/campaign/campaigns"
)

// Verdicts returns the verdicts the participant's current state takes: those of its
// verdict: transitions whose condition (if:) holds now, in the definition's order, each once.
// Those are what a moderator can give them and see something happen; any other verdict
// would be skipped (the engine logs "no … transition"). None for a participant who finished,
// opted out or is asked for consent, or whose definition version is not loaded.
func (e *Engine) Verdicts(ctx context.Context, participantID string) ([]string, error) {
	p, err := e.store.Participant(ctx, participantID)
	if err != nil {
		return nil, fmt.Errorf("engine: verdicts of %s: %w", participantID, err)
	}
	if Judgeable(p) != nil {
		return nil, nil
	}
	def, ok := e.definition(p.Campaign, p.DefVersion)
	if !ok {
		return nil, nil
	}
	st := def.States[p.State]
	if st == nil {
		return nil, nil
	}
	if p.Vars == nil {
		p.Vars = map[string]string{}
	}
	r := &run{e: e, ctx: ctx, def: def, step: &Step{}, p: &p, now: e.now()}
	var out []string
	for _, t := range st.On {
		if t.Kind == campaigns.OnVerdict && !slices.Contains(out, t.Verdict) && r.holds(t) {
			out = append(out, t.Verdict)
		}
	}
	return out, nil
}
