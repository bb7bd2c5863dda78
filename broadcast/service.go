package broadcast

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/chatcampaigns/campaign/audit"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// Audit actions of the broadcasts (audit.Broadcast is the start).
const (
	AuditPause  = "broadcast.pause"
	AuditResume = "broadcast.resume"
	AuditCancel = "broadcast.cancel"
)

// Defaults of Config.
const (
	DefaultInterval = time.Minute
	// DefaultBacklog is how many seconds of a number's throughput the pacer keeps queued in
	// the outbox at most: enough that the sender never waits for the next tick, little
	// enough that a pause stops the broadcast within a minute.
	DefaultBacklog = 60 * time.Second
	// DefaultWindowMargin: a recipient whose window closes sooner than this is counted as
	// outside it, so a message queued inside the window never goes out as an uncounted
	// template because the sender got to it late.
	DefaultWindowMargin = time.Hour
	// PairGap is WhatsApp's pair rate limit: one message to the same person per 6 seconds.
	PairGap = 6 * time.Second
	// WhatsAppThroughput is a WhatsApp number's messages per second when the platform has
	// not said (channels.md 1.8).
	WhatsAppThroughput = 80
)

// Config is what a Service is built from.
type Config struct {
	Store  Store
	Engine Engine
	// Numbers gives the numbers' facts and people's marketing preferences; nil means none
	// are known (limits unknown: UnknownLimit), and 131050 refusals are kept in the
	// recipients only.
	Numbers Numbers
	// Outcomes gives the outbox rows for Report; nil leaves the sent/delivered counts empty.
	Outcomes Outcomes
	// Pricer prices the plan's templates; nil leaves Plan.Cost empty and countries "".
	Pricer Pricer
	Audit  audit.Recorder
	// Notify tells the admins of a pause; nil logs it only.
	Notify Notifier
	Now    func() time.Time
	Log    *slog.Logger
	// Interval is how often Run ticks (DefaultInterval when zero).
	Interval time.Duration
	// FrequencyCap bounds broadcasts per person across campaigns (--broadcast-frequency-cap).
	FrequencyCap FrequencyCap
	// Numbers of the channels: CampaignNumber is the campaign's own WhatsApp number
	// (definition's whatsapp phone_number_id), DefaultNumber the channel's default.
	CampaignNumber func(campaign string) string
	DefaultNumber  map[string]string
	// Templates are the channels where a template crosses the window (WhatsApp); on another
	// channel with a window (Messenger) a recipient outside it is skipped. Default whatsapp.
	Templates map[string]bool
	// Windows are the channels with a customer-service window (default whatsapp and
	// messenger): the pacer looks there for who wrote lately.
	Windows []string
	// Throughput is messages per second per channel for those the platform says nothing of
	// (telegram 30: its sender paces groups at 20/min itself); whatsapp uses the number's.
	Throughput map[string]int
	// Category is the template's category (marketing when nil or empty).
	Category func(campaign, template string) string
	// Backlog, WindowMargin: DefaultBacklog, DefaultWindowMargin when zero.
	Backlog, WindowMargin time.Duration
	// Leases, when set, make one pacing pass at a time across every process sharing the
	// store: a pass first claims the key "broadcast:pacer" for Owner, and a process that
	// does not get it skips its pass (the holder paces for all).
	Leases Leases
	Owner  string
}

// Leases are the store's leases on work (engine.Store's Claim and Release).
type Leases interface {
	Claim(ctx context.Context, owner string, keys []string, now, until time.Time) ([]string, error)
	Release(ctx context.Context, owner string, keys []string) error
}

// pacerKey is the lease a pacing pass holds.
const pacerKey = "broadcast:pacer"

// Service plans, starts, paces, pauses and reports broadcasts.
type Service struct {
	cfg Config
	// mu makes one pacing pass at a time in this process.
	mu sync.Mutex
	// health is the latest facts told by HealthChanged, for when Numbers has none.
	healthMu sync.Mutex
	health   map[numberKey]NumberHealth
	// untemplated says, per broadcast, whether its last full pass left recipients waiting
	// on a channel without templates (absent: not known yet), which a pass then reads
	// whatever the number's room.
	scanMu      sync.Mutex
	untemplated map[string]bool
}

type numberKey struct{ channel, number string }

// New makes a Service.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Backlog <= 0 {
		cfg.Backlog = DefaultBacklog
	}
	if cfg.WindowMargin <= 0 {
		cfg.WindowMargin = DefaultWindowMargin
	}
	if cfg.Templates == nil {
		cfg.Templates = map[string]bool{"whatsapp": true}
	}
	if cfg.Windows == nil {
		cfg.Windows = []string{"whatsapp", "messenger"}
	}
	if cfg.Throughput == nil {
		cfg.Throughput = map[string]int{"telegram": 30, "messenger": 40}
	}
	return &Service{cfg: cfg, health: map[numberKey]NumberHealth{}, untemplated: map[string]bool{}}
}

// Get returns a broadcast; errs.ErrNotFound for an unknown one.
func (s *Service) Get(ctx context.Context, id string) (Broadcast, error) {
	b, err := s.cfg.Store.PacedBroadcast(ctx, id)
	if err != nil {
		return Broadcast{}, fmt.Errorf("broadcast %s: %w", id, err)
	}
	return b, nil
}

// List returns a campaign's broadcasts (every campaign's when empty), newest first.
func (s *Service) List(ctx context.Context, campaign string, limit int) ([]Broadcast, error) {
	bs, err := s.cfg.Store.PacedBroadcasts(ctx, campaign, "", limit)
	if err != nil {
		return nil, fmt.Errorf("broadcasts of %s: %w", campaign, err)
	}
	return bs, nil
}

// Recipients returns a page of a broadcast's recipients after Seq after.
func (s *Service) Recipients(ctx context.Context, id string, after int64, limit int) ([]Recipient, error) {
	rs, err := s.cfg.Store.BroadcastRecipientList(ctx, id, "", after, limit)
	if err != nil {
		return nil, fmt.Errorf("recipients of broadcast %s: %w", id, err)
	}
	return rs, nil
}

// Pause stops releasing a running broadcast's recipients until Resume; what is queued
// already goes out. errs.ErrConflict for a broadcast paused already (its reason stays the
// one it was paused for), done or cancelled, as Resume refuses a running one: the admin who
// asks learns that nothing changed.
func (s *Service) Pause(ctx context.Context, id, reason, by string) error {
	b, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if b.Status == StatusPaused {
		return fmt.Errorf("broadcast %s: %w: it is paused already (%s)", b.ID, errs.ErrConflict, b.PausedReason)
	}
	return s.pause(ctx, b, reason, by)
}

// pause is Pause for the pacer's own pauses (a quality drop, a 131048), which may find the
// broadcast paused already: that is no error there.
func (s *Service) pause(ctx context.Context, b Broadcast, reason, by string) error {
	switch b.Status {
	case StatusPaused:
		return nil
	case StatusDone, StatusCancelled:
		return fmt.Errorf("broadcast %s: %w: it is %s", b.ID, errs.ErrConflict, b.Status)
	}
	if reason == "" {
		reason = "paused by " + by
	}
	b.Status, b.PausedReason, b.UpdatedAt = StatusPaused, reason, s.cfg.Now()
	if err := s.cfg.Store.UpdateBroadcast(ctx, b); err != nil {
		return fmt.Errorf("pause broadcast %s: %w", b.ID, err)
	}
	s.record(ctx, by, AuditPause, b, reason)
	if by == audit.ActorSystem {
		s.notify(ctx, b, fmt.Sprintf("Broadcast %s paused: %s. Check the number's quality, then resume it on its page.", b.ID, reason))
	}
	return nil
}

// Resume releases a paused broadcast's recipients again, at the number's quality now (a
// drop below it pauses again). errs.ErrConflict for one not paused.
func (s *Service) Resume(ctx context.Context, id, by string) error {
	b, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if b.Status != StatusPaused {
		return fmt.Errorf("resume broadcast %s: %w: it is %s", id, errs.ErrConflict, b.Status)
	}
	if b.Number != "" {
		h, _ := s.numberHealth(ctx, b.Channel, b.Number)
		b.Baseline = h.Quality
	}
	b.Status, b.PausedReason, b.UpdatedAt = StatusRunning, "", s.cfg.Now()
	if err := s.cfg.Store.UpdateBroadcast(ctx, b); err != nil {
		return fmt.Errorf("resume broadcast %s: %w", id, err)
	}
	s.record(ctx, by, AuditResume, b, "")
	return nil
}

// Cancel stops a broadcast for good: its waiting recipients are skipped (SkipCancelled).
// What is queued already goes out. errs.ErrConflict for one done or cancelled.
func (s *Service) Cancel(ctx context.Context, id, by string) error {
	b, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if b.Status == StatusDone || b.Status == StatusCancelled {
		return fmt.Errorf("cancel broadcast %s: %w: it is %s", id, errs.ErrConflict, b.Status)
	}
	b.Status, b.UpdatedAt = StatusCancelled, s.cfg.Now()
	if err := s.cfg.Store.UpdateBroadcast(ctx, b); err != nil {
		return fmt.Errorf("cancel broadcast %s: %w", id, err)
	}
	if err := s.skipWaiting(ctx, id, SkipCancelled); err != nil {
		return err
	}
	s.record(ctx, by, AuditCancel, b, "")
	return nil
}

// skipWaiting skips every waiting recipient of a broadcast with reason.
func (s *Service) skipWaiting(ctx context.Context, id, reason string) error {
	now := s.cfg.Now()
	for {
		rs, err := s.cfg.Store.BroadcastRecipientList(ctx, id, RecipientWaiting, 0, 1000)
		if err != nil {
			return fmt.Errorf("broadcast %s: %w", id, err)
		}
		if len(rs) == 0 {
			return nil
		}
		for i := range rs {
			rs[i].Status, rs[i].Reason, rs[i].UpdatedAt = RecipientSkipped, reason, now
		}
		if _, err := s.cfg.Store.ReleaseRecipients(ctx, id, rs, make([]engine.Outbound, len(rs))); err != nil {
			return fmt.Errorf("broadcast %s: %w", id, err)
		}
	}
}

// HealthChanged takes a number's new facts (the WhatsApp channel's OnHealth): a quality below
// the one a running broadcast on the number runs at, or a red rating, pauses it.
func (s *Service) HealthChanged(ctx context.Context, h NumberHealth) {
	s.healthMu.Lock()
	s.health[numberKey{h.Channel, h.Number}] = h
	s.healthMu.Unlock()
	bs, err := s.cfg.Store.PacedBroadcasts(ctx, "", StatusRunning, 0)
	if err != nil {
		s.cfg.Log.Error("broadcast: running broadcasts", "err", err)
		return
	}
	for _, b := range bs {
		if b.Channel != h.Channel || b.Number != h.Number {
			continue
		}
		if reason := dropped(b, h); reason != "" {
			if err := s.pause(ctx, b, reason, audit.ActorSystem); err != nil {
				s.cfg.Log.Error("broadcast: pause on a quality drop", "broadcast", b.ID, "err", err)
			}
		}
	}
}

// dropped says why h is a reason to pause b, "" when it is none.
func dropped(b Broadcast, h NumberHealth) string {
	switch {
	case h.Quality == QualityRed && b.Baseline != QualityRed:
		return fmt.Sprintf("the number's quality is %s", h.Quality)
	case h.Quality.Rank() < b.Baseline.Rank():
		return fmt.Sprintf("the number's quality dropped from %s to %s", b.Baseline, h.Quality)
	case h.Event == "FLAGGED":
		return "the platform flagged the number"
	}
	return ""
}

// numberHealth is a number's latest facts: the store's, or what HealthChanged was told.
func (s *Service) numberHealth(ctx context.Context, channel, number string) (NumberHealth, error) {
	s.healthMu.Lock()
	told, ok := s.health[numberKey{channel, number}]
	s.healthMu.Unlock()
	if s.cfg.Numbers != nil {
		h, err := s.cfg.Numbers.NumberHealth(ctx, channel, number)
		switch {
		case err == nil && (!ok || !h.CheckedAt.Before(told.CheckedAt)):
			return h, nil
		case err != nil && !errors.Is(err, errs.ErrNotFound):
			return NumberHealth{}, fmt.Errorf("number %s: %w", number, err)
		}
	}
	if ok {
		return told, nil
	}
	return NumberHealth{Channel: channel, Number: number}, nil
}

// record writes an audit line; a failure is logged (the action is done).
func (s *Service) record(ctx context.Context, by, action string, b Broadcast, detail string) {
	if s.cfg.Audit == nil {
		return
	}
	if by == "" {
		by = audit.ActorSystem
	}
	e := audit.Event{Actor: by, Action: action, Campaign: b.Request.Campaign, Subject: b.ID, Detail: detail}
	if err := s.cfg.Audit.Record(ctx, e); err != nil {
		s.cfg.Log.Error("broadcast: audit line not written", "broadcast", b.ID, "action", action, "err", err)
	}
}

// notify tells the admins; a failure is logged.
func (s *Service) notify(ctx context.Context, b Broadcast, text string) {
	s.cfg.Log.Warn("broadcast: "+text, "broadcast", b.ID)
	if s.cfg.Notify == nil {
		return
	}
	n := engine.Notification{Campaign: b.Request.Campaign, Text: text, At: s.cfg.Now()}
	if err := s.cfg.Notify.AddNotification(ctx, n); err != nil {
		s.cfg.Log.Error("broadcast: notification not stored", "broadcast", b.ID, "err", err)
	}
}

// Run paces the running broadcasts every Interval until ctx ends.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		if err := s.Tick(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Log.Error("broadcast: pacing", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Report tells how far a broadcast got: its recipients by status and reason, and what
// became of the messages released.
func (s *Service) Report(ctx context.Context, id string) (Report, error) {
	b, err := s.Get(ctx, id)
	if err != nil {
		return Report{}, err
	}
	r := Report{Planned: b.Plan.InWindow + b.Plan.NeedTemplate, Failed: map[string]int{}, Skipped: map[string]int{}}
	byParticipant := map[string]Recipient{}
	var after int64
	for {
		rs, err := s.cfg.Store.BroadcastRecipientList(ctx, id, "", after, 1000)
		if err != nil {
			return Report{}, fmt.Errorf("report of broadcast %s: %w", id, err)
		}
		for _, rc := range rs {
			switch rc.Status {
			case RecipientWaiting:
				r.Waiting++
			case RecipientSkipped:
				r.Skipped[rc.Reason]++
			case RecipientReleased, RecipientFailed:
				r.Released++
				byParticipant[rc.ParticipantID] = rc
			}
		}
		if len(rs) < 1000 {
			break
		}
		after = rs[len(rs)-1].Seq
	}
	if s.cfg.Outcomes == nil {
		return r, nil
	}
	sentBy := map[[2]string]int{}
	var outAfter int64
	for {
		outs, err := s.cfg.Outcomes.BroadcastRecipients(ctx, id, outAfter, 1000)
		if err != nil {
			return Report{}, fmt.Errorf("report of broadcast %s: %w", id, err)
		}
		for _, o := range outs {
			rc := byParticipant[o.ParticipantID]
			switch o.Status {
			case engine.StatusSent:
				r.Sent++
				switch o.Delivery.Status {
				case "delivered":
					r.Delivered++
				case "read", "played":
					r.Delivered++
					r.Read++
				}
				if rc.Template {
					sentBy[[2]string{rc.Country, b.Plan.Category}]++
				}
			case engine.StatusFailed:
				reason := o.Error
				if rc.Status == RecipientFailed && rc.Reason != "" {
					reason = rc.Reason
				}
				r.Failed[reason]++
			case engine.StatusCancelled:
				r.Skipped[SkipOptedOut]++
			}
		}
		if len(outs) < 1000 {
			break
		}
		outAfter = outs[len(outs)-1].ID
	}
	r.Cost = s.cost(sentBy)
	return r, nil
}

// cost prices count messages by country and category with the configured pricer.
func (s *Service) cost(counts map[[2]string]int) Cost { return Price(s.cfg.Pricer, counts) }
