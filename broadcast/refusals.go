package broadcast

import (
	"context"
	"errors"

	"github.com/chatcampaigns/campaign/audit"
	"github.com/chatcampaigns/campaign/engine"
)

// Refused takes a marketing refusal the sender met (engine.OnMarketingRefusal): a person who
// opted out of marketing (131050) is kept so in every later campaign on the channel; one the
// platform held a message back from (131049) gets none for 24 hours; a spam-rate refusal
// (131048) pauses every running broadcast on the number and tells the admins.
func (s *Service) Refused(ctx context.Context, out engine.Outbound, err error) {
	now := s.cfg.Now()
	reason := ""
	switch {
	case errors.Is(err, engine.ErrMarketingOptOut):
		reason = FailOptOut
		if s.cfg.Numbers != nil {
			p := Preference{Channel: out.Channel, Address: out.To, StopMarketing: true, Source: "131050", At: now}
			if err := s.cfg.Numbers.SavePreference(ctx, p); err != nil {
				s.cfg.Log.Error("broadcast: marketing opt-out not kept", "channel", out.Channel, "err", err)
			}
		}
	case errors.Is(err, engine.ErrMarketingLimit):
		reason = FailMarketingLimit
	case errors.Is(err, engine.ErrSpamRate):
		reason = FailSpamRate
	default:
		return
	}
	if out.BroadcastID != "" && out.ParticipantID != "" {
		if err := s.cfg.Store.FailRecipient(ctx, out.BroadcastID, out.ParticipantID, reason, now); err != nil {
			s.cfg.Log.Error("broadcast: refusal not recorded", "broadcast", out.BroadcastID, "reason", reason, "err", err)
		}
	}
	if reason != FailSpamRate {
		return
	}
	number := out.From
	if number == "" {
		number = s.numberOf(out.Campaign, out.Channel, nil)
	}
	bs, lerr := s.cfg.Store.PacedBroadcasts(ctx, "", StatusRunning, 0)
	if lerr != nil {
		s.cfg.Log.Error("broadcast: running broadcasts", "err", lerr)
		return
	}
	for _, b := range bs {
		if b.Channel == out.Channel && b.Number == number {
			if err := s.pause(ctx, b, "the platform refused a message for the number's spam rate (131048)", audit.ActorSystem); err != nil {
				s.cfg.Log.Error("broadcast: pause on 131048", "broadcast", b.ID, "err", err)
			}
		}
	}
}
