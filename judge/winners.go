package judge

import (
	"context"
	"errors"
	"fmt"

	"github.com/chatcampaigns/campaign/audit"
	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// Crowned is what PickWinners did, each list in ranking order.
type Crowned struct {
	// Named got the verdict winner now; Already had it from an earlier pick.
	Named, Already []engine.Ranked
	// Refused are winners no verdict can move: their run ended, or they are asked the consent
	// question again. They stay winners in the ranking; the moderator tells them otherwise.
	Refused []RefusedWinner
	// Waiting are in the top but still playing, in a state that answers no verdict winner:
	// they are not named now (the verdict would tell them nothing and mark them winner for
	// good), and a pick once they wait for the verdict names them.
	Waiting []engine.Ranked
}

// RefusedWinner is a winner the verdict was refused for, and why (engine.Refusal's words).
type RefusedWinner struct {
	engine.Ranked
	Reason string
}

// winnerKey keys the verdicts of PickWinners, so each participant is named winner by rank
// once, however often the top is picked (a double click, a second pick after someone moved
// up names only the newcomer).
const winnerKey = "ranking"

// PickWinners gives the verdict winner to the top of a campaign's ranking (engine.Winners:
// ties at the boundary included), as DecideParticipant gives one verdict: each participant's
// state machine receives it, so a verdict: winner transition announces it. top < 1 is
// errs.ErrInvalid, an empty ranking errs.ErrConflict.
func (s *Service) PickWinners(ctx context.Context, campaign string, ranked []engine.Ranked, top int, by string) (Crowned, error) {
	var out Crowned
	if top < 1 {
		return out, fmt.Errorf("judge: pick winners of %s: %w: the top is at least 1", campaign, errs.ErrInvalid)
	}
	if len(ranked) == 0 {
		return out, fmt.Errorf("judge: pick winners of %s: %w: nobody is ranked yet", campaign, errs.ErrConflict)
	}
	for _, w := range engine.Winners(ranked, top) {
		if w.Winner {
			// Told before; their run may have ended with it, which is no refusal.
			out.Already = append(out.Already, w)
			continue
		}
		if w.Unanswered != "" {
			out.Waiting = append(out.Waiting, w)
			continue
		}
		err := s.DecideParticipant(ctx, campaign, w.ParticipantID, campaigns.VerdictWinner, by, winnerKey)
		switch {
		case err == nil:
			out.Named = append(out.Named, w)
		case engine.Refusal(err) != "":
			out.Refused = append(out.Refused, RefusedWinner{Ranked: w, Reason: engine.Refusal(err)})
		case errors.Is(err, errs.ErrConflict):
			out.Already = append(out.Already, w)
		default:
			return out, fmt.Errorf("judge: pick winners of %s: %w", campaign, err)
		}
	}
	if err := s.record(ctx, audit.Event{Actor: by, Action: audit.Winners, Campaign: campaign, Detail: crownedDetail(top, out)}); err != nil {
		return out, err
	}
	return out, nil
}
