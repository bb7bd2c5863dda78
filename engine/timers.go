package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/errs"
)

// FireDueTimers turns the timers due by the engine's clock into events and returns how many
// timers fired. A participant's timer becomes one KindTimer event (PlatformID is the timer's
// key, "timer:<participant>:<transition>:<seq>"); a campaign's timer starts or closes a round
// for every active participant. Each timer fires once: it is deleted in the write that stores
// its events.
//
// It also deletes, once a minute, the leases that ran out (Store.Claim), when the store can.
func (e *Engine) FireDueTimers(ctx context.Context) (int, error) {
	e.timerMu.Lock()
	defer e.timerMu.Unlock()
	e.expireClaims(ctx)
	due, err := e.store.DueTimers(ctx, e.now(), 100)
	if err != nil {
		return 0, fmt.Errorf("engine: due timers: %w", err)
	}
	fired := 0
	for _, t := range due {
		if t.ParticipantID == "" {
			err = e.roundEvent(ctx, t.Campaign, t.Round, t.RoundEvent, t.ID)
		} else {
			_, err = e.store.StoreEvents(ctx, t.ID, []Inbound{{
				Channel: "timer", PlatformID: t.Key, Campaign: t.Campaign, ParticipantID: t.ParticipantID,
				Kind: KindTimer, Timer: t.Transition, Seq: t.Seq, At: t.DueAt,
			}})
		}
		switch {
		case errors.Is(err, errs.ErrNotFound):
			// Fired by another process in the meantime, or its round is gone.
			if t.ParticipantID == "" {
				if _, err := e.store.StoreEvents(ctx, t.ID, nil); err != nil && !errors.Is(err, errs.ErrNotFound) {
					return fired, fmt.Errorf("engine: drop timer %s: %w", t.Key, err)
				}
			}
		case err != nil:
			return fired, fmt.Errorf("engine: fire timer %s: %w", t.Key, err)
		default:
			fired++
		}
	}
	if fired > 0 {
		e.Wake()
	}
	return fired, nil
}

// claimExpirer is a Store that deletes leases that ran out (both stores here). An expired lease
// is free for the taking already; without this a process that died would leave its leases
// stored for ever, one for every reply it had claimed.
type claimExpirer interface {
	ExpireClaims(ctx context.Context, now time.Time) (int, error)
}

// expireClaimsEvery is how often FireDueTimers deletes expired leases.
const expireClaimsEvery = time.Minute

func (e *Engine) expireClaims(ctx context.Context) {
	x, ok := e.store.(claimExpirer)
	now := e.now()
	if !ok || now.Sub(e.claimsExpired) < expireClaimsEvery {
		return
	}
	e.claimsExpired = now
	n, err := x.ExpireClaims(ctx, now)
	switch {
	case err != nil:
		e.log.Warn("expire leases", "err", err)
	case n > 0:
		e.log.Info("expired leases deleted (a process stopped holding them)", "leases", n)
	}
}

// StartRound starts a round of a campaign for every active participant (not finished, not
// opted out, not eliminated): each gets a KindRound "started" event (at most once per round),
// and the round's deadline, when the definition gives one (Deadline, Starts+Duration, or now
// + Duration), is set as a timer that closes it.
func (e *Engine) StartRound(ctx context.Context, campaign, round string) error {
	return e.roundEvent(ctx, campaign, round, campaigns.RoundStarted, 0)
}

// CloseRound closes a round for every active participant: each gets a KindRound "deadline"
// event (at most once per round).
func (e *Engine) CloseRound(ctx context.Context, campaign, round string) error {
	return e.roundEvent(ctx, campaign, round, campaigns.RoundDeadline, 0)
}

// roundEvent stores a round event for every active participant and, when timerID is not 0,
// deletes the timer that caused it in the same write.
func (e *Engine) roundEvent(ctx context.Context, campaign, round, event string, timerID int64) error {
	def, ok := e.Campaign(campaign)
	if !ok {
		return fmt.Errorf("engine: round %s of %s: campaign %w", round, campaign, errs.ErrNotFound)
	}
	rd := findRound(def, round)
	if rd == nil {
		return fmt.Errorf("engine: round %s of %s: %w", round, campaign, errs.ErrNotFound)
	}
	now := e.now()
	if event == campaigns.RoundStarted {
		// The deadline is set before the events, so a crash in between leaves a round that
		// still closes (its events are deduped when the start is repeated).
		deadline := rd.Deadline
		if deadline.IsZero() && rd.Duration > 0 {
			start := rd.Starts
			if start.IsZero() || timerID == 0 {
				start = now
			}
			deadline = start.Add(rd.Duration)
		}
		if !deadline.IsZero() {
			if err := e.store.SaveTimer(ctx, roundTimer(def.ID, rd.Name, campaigns.RoundDeadline, deadline)); err != nil {
				return fmt.Errorf("engine: round %s of %s: %w", round, campaign, err)
			}
		}
	}
	// Marked before the events are listed: a participant who joins from here on is brought
	// into the round by the mark (enterStart), one who joined before gets the event.
	if err := e.store.MarkRound(ctx, RoundMark{Campaign: campaign, Round: round, Event: event, At: now}); err != nil {
		return fmt.Errorf("engine: round %s of %s: %w", round, campaign, err)
	}
	ps, err := e.store.Participants(ctx, ParticipantFilter{Campaign: campaign, Unfinished: true})
	if err != nil {
		return fmt.Errorf("engine: round %s of %s: %w", round, campaign, err)
	}
	events := make([]Inbound, 0, len(ps))
	for _, p := range ps {
		if p.Vars["eliminated"] == "true" || p.State == StateOptedOut {
			continue
		}
		events = append(events, Inbound{
			Channel:    "round",
			PlatformID: fmt.Sprintf("round:%s:%s:%s:%s", campaign, round, event, p.ID),
			Campaign:   campaign, From: p.Address, ParticipantID: p.ID, Kind: KindRound,
			Round: round, RoundEvent: event, At: now,
		})
	}
	if _, err := e.store.StoreEvents(ctx, timerID, events); err != nil {
		return fmt.Errorf("engine: round %s of %s: %w", round, campaign, err)
	}
	e.Wake()
	return nil
}

func roundTimer(campaign, round, event string, due time.Time) Timer {
	return Timer{Key: fmt.Sprintf("round:%s:%s:%s", campaign, round, event), Campaign: campaign,
		Round: round, RoundEvent: event, DueAt: due}
}

// scheduleRounds sets the timers of the rounds whose start or deadline the definition fixes.
// Timers are keyed by campaign, round and event, so scheduling again changes nothing.
func (e *Engine) scheduleRounds(ctx context.Context, def *campaigns.Definition) error {
	for _, rd := range def.Rounds {
		if !rd.Starts.IsZero() {
			if err := e.store.SaveTimer(ctx, roundTimer(def.ID, rd.Name, campaigns.RoundStarted, rd.Starts)); err != nil {
				return fmt.Errorf("schedule round %s: %w", rd.Name, err)
			}
		}
		deadline := rd.Deadline
		if deadline.IsZero() && !rd.Starts.IsZero() && rd.Duration > 0 {
			deadline = rd.Starts.Add(rd.Duration)
		}
		if !deadline.IsZero() {
			if err := e.store.SaveTimer(ctx, roundTimer(def.ID, rd.Name, campaigns.RoundDeadline, deadline)); err != nil {
				return fmt.Errorf("schedule round %s: %w", rd.Name, err)
			}
		}
	}
	return nil
}
