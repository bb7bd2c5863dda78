package judge

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/chatcampaigns/campaign/audit"
	"github.com/chatcampaigns/campaign/engine"
)

// record adds e to the audit trail (Service.Audit). The decision it records is stored
// already; a trail that cannot be written fails the call all the same, so the moderator learns
// that the trail misses it rather than nobody.
func (s *Service) record(ctx context.Context, e audit.Event) error {
	if e.Actor == "" {
		e.Actor = audit.ActorSystem
	}
	if e.At.IsZero() {
		e.At = s.now()
	}
	if err := audit.Record(ctx, s.Audit, e); err != nil {
		return fmt.Errorf("judge: %s stored, but not written to the audit trail: %w", e.Action, err)
	}
	return nil
}

// verdictDetail is a verdict as the trail says it: the verdict, and the reason after a colon.
func verdictDetail(verdict, reason string) string {
	if reason == "" {
		return verdict
	}
	return verdict + ": " + reason
}

// scoreDetail lists a scorecard's scores by criterion name: "Composition=5; Originality=7".
func scoreDetail(scores map[string]int) string {
	names := make([]string, 0, len(scores))
	for n := range scores {
		names = append(names, n)
	}
	slices.Sort(names)
	parts := make([]string, 0, len(names))
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s=%d", n, scores[n]))
	}
	return strings.Join(parts, "; ")
}

// crownedDetail says what a winners pick did.
func crownedDetail(top int, c Crowned) string {
	ids := func(rs []engine.Ranked) string {
		var out []string
		for _, r := range rs {
			out = append(out, r.ParticipantID)
		}
		return strings.Join(out, ", ")
	}
	parts := []string{fmt.Sprintf("top %d", top)}
	if len(c.Named) > 0 {
		parts = append(parts, "named "+ids(c.Named))
	}
	if len(c.Already) > 0 {
		parts = append(parts, "already winners "+ids(c.Already))
	}
	if len(c.Waiting) > 0 {
		parts = append(parts, "waiting "+ids(c.Waiting))
	}
	for _, r := range c.Refused {
		parts = append(parts, "refused "+r.ParticipantID+" ("+r.Reason+")")
	}
	return strings.Join(parts, "; ")
}
