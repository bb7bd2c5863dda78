package broadcast

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chatcampaigns/campaign/audit"
	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
)

// ErrNobody is what Start says of a broadcast that reaches nobody (wrapped with the plan's
// reasons): nothing is stored.
var ErrNobody = errors.New("nobody to send to")

// decision is what the rules say of one participant now: skipped (skip says why), or sent
// inside the window or, counted against the limit, as the template.
type decision struct {
	p               engine.Participant
	number, country string
	template        bool
	skip            string
	// charged is the budget the pacer took room from for them (nil: none taken).
	charged *budget
}

// numberOf is the business number a participant of campaign is sent from on channel.
func (s *Service) numberOf(campaign, channel string, p *engine.Participant) string {
	if channel != "whatsapp" {
		return s.cfg.DefaultNumber[channel]
	}
	if p != nil && p.Vars[campaigns.VarSender] != "" {
		return p.Vars[campaigns.VarSender]
	}
	if s.cfg.CampaignNumber != nil {
		if n := s.cfg.CampaignNumber(campaign); n != "" {
			return n
		}
	}
	return s.cfg.DefaultNumber[channel]
}

// category is the template's category, marketing unless told.
func (s *Service) category(campaign, template string) string {
	if s.cfg.Category != nil && template != "" {
		if c := s.cfg.Category(campaign, template); c != "" {
			return c
		}
	}
	return "marketing"
}

// inWindow reports whether p can be sent free-form on their channel now, with the margin:
// always on a channel without a window.
func (s *Service) inWindow(p engine.Participant, now time.Time) bool {
	w := s.cfg.Engine.Window(p.Channel)
	return w <= 0 || now.Add(s.cfg.WindowMargin).Before(p.LastInboundAt.Add(w))
}

// window decides, for each participant, by their window alone: in it, the template, or
// skipped because there is none for them.
func (s *Service) window(p engine.Participant, msg campaigns.Message, now time.Time) (template bool, skip string) {
	switch {
	case p.Finished:
		return false, SkipOptedOut
	case s.inWindow(p, now):
		return false, ""
	case !s.cfg.Templates[p.Channel]:
		return false, SkipWindowClosed
	case msg.Template == "":
		return false, SkipNoTemplate
	}
	return true, ""
}

// marketingRules skips those of ds not skipped yet whom the person-level rules keep out:
// a marketing stop (user_preferences, 131050), a marketing limit (131049) in the last 24
// hours, the frequency cap.
func (s *Service) marketingRules(ctx context.Context, ds []*decision, now time.Time) error {
	byChannel := map[string][]string{}
	for _, d := range ds {
		if d.skip == "" {
			byChannel[d.p.Channel] = append(byChannel[d.p.Channel], d.p.Address)
		}
	}
	for ch, addrs := range byChannel {
		var stopped map[string]bool
		var err error
		if s.cfg.Numbers != nil {
			stopped, err = s.cfg.Numbers.StoppedMarketing(ctx, ch, addrs)
		} else {
			// Without the preferences kept, the 131050 refusals are what is known.
			stopped, err = s.cfg.Store.RefusedSince(ctx, ch, addrs, FailOptOut, time.Time{})
		}
		if err != nil {
			return fmt.Errorf("marketing preferences on %s: %w", ch, err)
		}
		limited, err := s.cfg.Store.RefusedSince(ctx, ch, addrs, FailMarketingLimit, now.Add(-Window))
		if err != nil {
			return fmt.Errorf("marketing limits on %s: %w", ch, err)
		}
		var had map[string]int
		if c := s.cfg.FrequencyCap; !c.IsZero() {
			if had, err = s.cfg.Store.ReleasedTo(ctx, ch, addrs, now.Add(-c.Per)); err != nil {
				return fmt.Errorf("frequency cap on %s: %w", ch, err)
			}
		}
		for _, d := range ds {
			if d.skip != "" || d.p.Channel != ch {
				continue
			}
			switch a := d.p.Address; {
			case stopped[a]:
				d.skip = SkipStoppedMarketing
			case limited[a]:
				d.skip = SkipMarketingLimit
			case had != nil && had[a] >= s.cfg.FrequencyCap.N:
				d.skip = SkipFrequencyCap
			}
		}
	}
	return nil
}

// decide applies every rule to the audience at now.
func (s *Service) decide(ctx context.Context, campaign string, msg campaigns.Message, ps []engine.Participant, now time.Time) ([]*decision, error) {
	ds := make([]*decision, len(ps))
	seen := map[[2]string]bool{}
	for i, p := range ps {
		d := &decision{p: p, number: s.numberOf(campaign, p.Channel, &p)}
		if k := [2]string{p.Channel, p.Address}; seen[k] {
			d.skip = SkipDuplicate
		} else {
			seen[k] = true
			d.template, d.skip = s.window(p, msg, now)
		}
		if s.cfg.Pricer != nil && s.cfg.Templates[p.Channel] {
			d.country = s.cfg.Pricer.Country(p.Address)
		}
		ds[i] = d
	}
	if err := s.marketingRules(ctx, ds, now); err != nil {
		return nil, err
	}
	return ds, nil
}

// Plan works out what a broadcast would reach, when and at what cost, without starting it:
// errs.ErrInvalid and errs.ErrNotFound as engine.BroadcastTo.
func (s *Service) Plan(ctx context.Context, req Request) (Plan, error) {
	p, _, err := s.plan(ctx, req)
	return p, err
}

func (s *Service) plan(ctx context.Context, req Request) (Plan, []*decision, error) {
	ps, err := s.cfg.Engine.BroadcastAudience(ctx, req.Campaign, req.Audience, req.Message)
	if err != nil {
		return Plan{}, nil, fmt.Errorf("broadcast: plan: %w", err)
	}
	now := s.cfg.Now()
	ds, err := s.decide(ctx, req.Campaign, req.Message, ps, now)
	if err != nil {
		return Plan{}, nil, fmt.Errorf("broadcast: plan for %s: %w", req.Campaign, err)
	}
	plan := Plan{Request: req, Audience: len(ps), Skipped: map[string]int{}, ByCountry: map[string]int{},
		Category: s.category(req.Campaign, req.Message.Template), Limit: Unlimited}
	for _, d := range ds {
		if d.skip == "" && d.p.Channel == "whatsapp" {
			plan.OnWhatsApp++
		}
	}
	number := ""
	if plan.OnWhatsApp > 0 {
		// Only a broadcast that sends from the number has its limit to keep to: one to web chat
		// or Telegram players names no number (a server without WhatsApp has none to name).
		number = s.numberOf(req.Campaign, "whatsapp", nil)
		if plan.Number, err = s.numberHealth(ctx, "whatsapp", number); err != nil {
			return Plan{}, nil, fmt.Errorf("broadcast: plan for %s: %w", req.Campaign, err)
		}
		plan.Limit = limitOf(plan.Number)
	}
	for _, d := range ds {
		switch {
		case d.skip != "":
			plan.Skipped[d.skip]++
		case d.template:
			plan.NeedTemplate++
			plan.ByCountry[d.country]++
		default:
			plan.InWindow++
		}
	}
	// Those who opted out are no recipients, but the plan says how many there are.
	optedOut, err := s.cfg.Engine.OptedOutOf(ctx, req.Campaign, req.Audience)
	if err != nil {
		return Plan{}, nil, fmt.Errorf("broadcast: plan for %s: %w", req.Campaign, err)
	}
	if optedOut > 0 {
		plan.Skipped[SkipOptedOut] += optedOut
		plan.Audience += optedOut
	}
	if number != "" {
		if plan.UsedLast24h, err = s.cfg.Store.ReachedOutsideWindow(ctx, "whatsapp", number, now.Add(-Window)); err != nil {
			return Plan{}, nil, fmt.Errorf("broadcast: plan for %s: %w", req.Campaign, err)
		}
	}
	plan.AllowedToday = plan.NeedTemplate
	if plan.Limit != Unlimited {
		plan.AllowedToday = min(plan.NeedTemplate, max(0, plan.Limit-plan.UsedLast24h))
	}
	plan.Days = []PlanDay{{Start: now, Count: plan.InWindow + plan.AllowedToday}}
	for left, k := plan.NeedTemplate-plan.AllowedToday, 1; left > 0 && plan.Limit > 0; k++ {
		n := min(left, plan.Limit)
		plan.Days = append(plan.Days, PlanDay{Start: now.Add(time.Duration(k) * Window), Count: n})
		left -= n
	}
	plan.Finish = plan.Days[len(plan.Days)-1].Start
	if s.cfg.Pricer != nil {
		counts := map[[2]string]int{}
		for c, n := range plan.ByCountry {
			counts[[2]string{c, plan.Category}] = n
		}
		plan.Cost = s.cost(counts)
	}
	return plan, ds, nil
}

// limitOf is the limit the pacer keeps to on a number.
func limitOf(h NumberHealth) int {
	switch {
	case h.Limit == Unlimited:
		return Unlimited
	case h.Limit <= 0:
		return UnknownLimit
	}
	return h.Limit
}

// Start plans the broadcast again, stores its recipients (those the rules skip with their
// reason) and starts releasing them at once: those inside their window now, and as many
// outside it as the number's limit allows today. ErrNobody when it reaches nobody. The
// audit line (audit.Broadcast) is written when req.By names who asked.
func (s *Service) Start(ctx context.Context, req Request) (Broadcast, error) {
	plan, ds, err := s.plan(ctx, req)
	if err != nil {
		return Broadcast{}, err
	}
	if plan.InWindow+plan.NeedTemplate == 0 {
		return Broadcast{}, fmt.Errorf("broadcast to %s: %w", req.Campaign, ErrNobody)
	}
	now := s.cfg.Now()
	b := Broadcast{ID: s.cfg.Engine.BroadcastID(req.Campaign), Request: req, Plan: plan, Status: StatusRunning,
		Baseline: plan.Number.Quality, Channel: "whatsapp", Number: plan.Number.Number, At: now, UpdatedAt: now}
	rs := make([]Recipient, len(ds))
	for i, d := range ds {
		rs[i] = Recipient{Seq: int64(i + 1), ParticipantID: d.p.ID, Channel: d.p.Channel, Number: d.number,
			Address: d.p.Address, Country: d.country, Template: d.template, Status: RecipientWaiting, UpdatedAt: now}
		if d.skip != "" {
			rs[i].Status, rs[i].Reason = RecipientSkipped, d.skip
		}
	}
	if plan.OnWhatsApp == 0 {
		// Nobody gets it from the number: its quality is no reason to pause this one.
		b.Channel, b.Number, b.Baseline = "", "", ""
	}
	if err := s.cfg.Store.StartBroadcast(ctx, b, rs); err != nil {
		return Broadcast{}, fmt.Errorf("broadcast to %s: %w", req.Campaign, err)
	}
	if req.By != "" {
		// A caller that names no one (the dashboard's form) records its own line.
		s.record(ctx, req.By, audit.Broadcast, b, fmt.Sprintf("%d in their window, %d with the template (%d allowed today), %d skipped; %d day(s)",
			plan.InWindow, plan.NeedTemplate, plan.AllowedToday, len(ds)-plan.InWindow-plan.NeedTemplate, len(plan.Days)))
	}
	if err := s.Tick(ctx); err != nil {
		// Stored and running: the next tick releases what this one could not.
		s.cfg.Log.Error("broadcast: first release", "broadcast", b.ID, "err", err)
	}
	if got, err := s.Get(ctx, b.ID); err == nil {
		b = got
	}
	return b, nil
}
