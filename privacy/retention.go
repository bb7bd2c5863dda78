package privacy

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
)

// Lister lists a campaign's participants; both stores implement it.
type Lister interface {
	Participants(ctx context.Context, f engine.ParticipantFilter) ([]engine.Participant, error)
}

// RetentionObserver hears what a retention pass did (the /metrics counters).
type RetentionObserver interface {
	RetentionErased(campaign string, n int)
	RetentionFailed(campaign string)
}

// Retention enforces the campaigns' retention_days. A participant is erased (as Erase does,
// by "retention") once retention_days have passed since the later of the campaign's end and
// their own last activity; the campaign's end is the later of its schedule's end and hard
// stop, and a campaign without either counts from the participant's last activity alone. A
// campaign with retention_days 0 keeps everything. Tombstones are kept: they hold nothing
// personal.
type Retention struct {
	Service   *Service
	Lister    Lister
	Campaigns func() []*campaigns.Definition
	Now       func() time.Time
	Log       *slog.Logger
	Observer  RetentionObserver // nil: none
}

// Due reports whether p's data has outlived def's retention at now.
func Due(def *campaigns.Definition, p engine.Participant, now time.Time) bool {
	if def.RetentionDays <= 0 || engine.IsTombstone(p) {
		return false
	}
	from := p.UpdatedAt
	for _, t := range []time.Time{def.Schedule.End, def.Schedule.HardStop} {
		if t.After(from) {
			from = t
		}
	}
	return !now.Before(from.Add(time.Duration(def.RetentionDays) * 24 * time.Hour))
}

// Run makes one pass over every campaign and returns how many participants it erased. It
// goes on past a participant it could not erase (logged, counted) and reports the first
// such error at the end.
func (r *Retention) Run(ctx context.Context) (int, error) {
	var (
		total int
		first error
	)
	for _, def := range r.Campaigns() {
		if def.RetentionDays <= 0 {
			continue
		}
		ps, err := r.Lister.Participants(ctx, engine.ParticipantFilter{Campaign: def.ID})
		if err != nil {
			r.failed(def.ID)
			if first == nil {
				first = fmt.Errorf("privacy: retention of %s: %w", def.ID, err)
			}
			continue
		}
		now := r.Now()
		n := 0
		for _, p := range ps {
			if ctx.Err() != nil {
				return total + n, ctx.Err()
			}
			if !Due(def, p, now) {
				continue
			}
			if _, err := r.Service.Erase(ctx, p.ID, "retention"); err != nil {
				r.Log.Warn("retention: participant not erased", "campaign", def.ID, "participant", p.ID, "err", err)
				r.failed(def.ID)
				if first == nil {
					first = err
				}
				continue
			}
			n++
		}
		if n > 0 {
			r.Log.Info("retention: participants erased", "campaign", def.ID, "erased", n,
				"retention_days", def.RetentionDays, "of", len(ps))
			if r.Observer != nil {
				r.Observer.RetentionErased(def.ID, n)
			}
		}
		total += n
	}
	return total, first
}

func (r *Retention) failed(campaign string) {
	if r.Observer != nil {
		r.Observer.RetentionFailed(campaign)
	}
}

// Loop runs a pass now and then every interval until ctx ends. wait returns a channel that
// fires after the interval (time.After in production, a test clock's in tests).
func (r *Retention) Loop(ctx context.Context, interval time.Duration, wait func(time.Duration) <-chan time.Time) {
	for {
		if _, err := r.Run(ctx); err != nil && ctx.Err() == nil {
			r.Log.Warn("retention pass incomplete", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-wait(interval):
		}
	}
}
