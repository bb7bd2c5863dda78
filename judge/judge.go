// Package judge owns the moderation of entries: the queue of collected photos, videos and
// voice notes, and the verdicts on them; the claims that keep two moderators off one entry;
// the panels of judges an entry is shared out to, with their conflicts of interest and
// abstentions; rubric scores, their locks, their per-judge normalisation and aggregation, and
// the ranking of a round's teams, which advances or eliminates them. A verdict is recorded
// together with the engine event it causes, so the participant hears the outcome exactly once.
// Every judging action is told to an Auditor.
package judge

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// Entry statuses.
const (
	StatusPending  = "pending"
	StatusApproved = campaigns.VerdictApproved
	StatusRejected = campaigns.VerdictRejected
	// Entries may also be shortlisted, named winner, eliminated or advanced: every verdict of
	// campaigns.Verdicts is an entry status.
)

// Entry is a collected entry with its moderation state.
type Entry struct {
	engine.Entry
	Status    string
	DecidedBy string
	DecidedAt time.Time
	Reason    string
}

// Filter narrows a listing of entries. Empty fields match everything.
type Filter struct {
	Campaign string
	Status   string
	Limit    int
}

// Decision is a moderator's verdict on one entry.
type Decision struct {
	EntryID string
	Verdict string
	By      string
	Reason  string
	At      time.Time
}

// Store is what the judge needs from persistence.
type Store interface {
	// Entries lists entries matching f, newest first.
	Entries(ctx context.Context, f Filter) ([]Entry, error)
	// Entry returns one entry, or an error wrapping errs.ErrNotFound.
	Entry(ctx context.Context, id string) (Entry, error)
	// Decide records d on a pending entry and stores ev as an inbound engine event in the same
	// atomic write. It fails with errs.ErrConflict when the entry was already decided (and
	// then changes nothing), errs.ErrNotFound when there is no such entry.
	Decide(ctx context.Context, d Decision, ev engine.Inbound) error
	// SaveInbound stores an engine event (a verdict on a participant rather than an entry),
	// deduplicated by its Channel and PlatformID.
	SaveInbound(ctx context.Context, in engine.Inbound) (id int64, duplicate bool, err error)
	// Participant returns a participant, or an error wrapping errs.ErrNotFound; a verdict on
	// one who finished or opted out is refused.
	Participant(ctx context.Context, id string) (engine.Participant, error)
}

// Service judges entries.
type Service struct {
	Store Store
	// Scores keeps the rubric scores; Score, Rank and Advance need it.
	Scores Scores
	// Seed gives the seed of a round's tie-breaking draw; DrawSeed when nil. The seed is
	// recorded in the Ranking, so anyone can recompute the draw.
	Seed func(campaign, round string) int64
	// Wake is called after a verdict is stored, so the engine picks up its event at once.
	Wake func()
	Now  func() time.Time
	// Leases, when set, makes opening an entry claim it (Claim) and refuses a verdict from
	// anyone but the holder of a live claim; LeaseFor is how long a claim lasts (DefaultLease
	// when zero).
	Leases   Leases
	LeaseFor time.Duration
	// Panels, when set, keeps the panels of campaigns whose definition asks for them
	// (judging: per_entry): Assign, Recuse, and Score only from a seated judge.
	Panels Panels
	// Audit hears of every claim, release, score, assignment and recusal; nothing when nil.
	Audit Auditor
}

// Entries lists entries.
func (s *Service) Entries(ctx context.Context, f Filter) ([]Entry, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	es, err := s.Store.Entries(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("judge: list entries: %w", err)
	}
	return es, nil
}

// Entry returns one entry.
func (s *Service) Entry(ctx context.Context, id string) (Entry, error) {
	e, err := s.Store.Entry(ctx, id)
	if err != nil {
		return Entry{}, fmt.Errorf("judge: entry %s: %w", id, err)
	}
	return e, nil
}

// Decide gives a verdict (any of campaigns.Verdicts) on a pending entry; the participant's
// state machine receives it as an event. A second verdict on the same entry fails with
// errs.ErrConflict and changes nothing; so does a verdict while another moderator holds the
// entry's claim (a *ClaimedError, see Claimed); so does a verdict on an entry whose participant opted
// out or finished, with engine.ErrOptedOut or engine.ErrFinished (the entry stays pending).
func (s *Service) Decide(ctx context.Context, d Decision) error {
	if !slices.Contains(campaigns.Verdicts, d.Verdict) {
		return fmt.Errorf("judge: %w: verdict %q (want one of %v)", errs.ErrInvalid, d.Verdict, campaigns.Verdicts)
	}
	if d.At.IsZero() {
		d.At = s.now()
	}
	e, err := s.Store.Entry(ctx, d.EntryID)
	if err != nil {
		return fmt.Errorf("judge: decide entry %s: %w", d.EntryID, err)
	}
	if e.Status != StatusPending {
		return fmt.Errorf("judge: decide entry %s: %w: already %s by %s", d.EntryID, errs.ErrConflict, e.Status, e.DecidedBy)
	}
	if err := s.open(ctx, e.ParticipantID); err != nil {
		return fmt.Errorf("judge: decide entry %s: %w", d.EntryID, err)
	}
	// Deciding takes (or renews) the claim, so a verdict given from the queue without opening
	// the entry is refused just the same while someone else has it open.
	if _, err := s.Claim(ctx, e.Campaign, e.ID, d.By); err != nil {
		return fmt.Errorf("judge: decide entry %s: %w", d.EntryID, err)
	}
	ev := engine.Inbound{
		Channel:       "judge",
		PlatformID:    "verdict:" + e.ID,
		Campaign:      e.Campaign,
		ParticipantID: e.ParticipantID,
		Kind:          engine.KindVerdict,
		Verdict:       d.Verdict,
		EntryID:       e.ID,
		Agent:         d.By,
		At:            d.At,
	}
	if err := s.Store.Decide(ctx, d, ev); err != nil {
		return fmt.Errorf("judge: decide entry %s: %w", d.EntryID, err)
	}
	// The verdict stands whether or not the lease goes: one left behind runs out by itself.
	_ = s.release(ctx, e.Campaign, e.ID, d.By, "decided")
	if s.Wake != nil {
		s.Wake()
	}
	return nil
}

// DecideParticipant gives a verdict on a participant (a team) rather than on one entry, such as
// eliminated or advanced after a round; their state machine receives it as a KindVerdict event
// without an entry.
//
// A verdict on a participant who opted out or finished is refused with engine.ErrOptedOut or
// engine.ErrFinished: nothing would reach them, or move them on.
//
// key names the decision: the same verdict with the same key again (a form submitted twice, a
// double click) stores nothing more and returns an error wrapping errs.ErrConflict, so a
// participant is not eliminated or advanced twice by accident. The dashboard puts a fresh key
// in every page it renders; an empty key stands for "the same verdict by the same moderator at
// the same instant".
func (s *Service) DecideParticipant(ctx context.Context, campaign, participantID, verdict, by, key string) error {
	if !slices.Contains(campaigns.Verdicts, verdict) {
		return fmt.Errorf("judge: %w: verdict %q (want one of %v)", errs.ErrInvalid, verdict, campaigns.Verdicts)
	}
	if campaign == "" || participantID == "" {
		return fmt.Errorf("judge: %w: a participant verdict needs a campaign and a participant", errs.ErrInvalid)
	}
	if len(key) > maxKey {
		return fmt.Errorf("judge: %w: decision key longer than %d characters", errs.ErrInvalid, maxKey)
	}
	if err := s.open(ctx, participantID); err != nil {
		return fmt.Errorf("judge: %s verdict on %s: %w", verdict, participantID, err)
	}
	at := s.now()
	id := fmt.Sprintf("verdict:%s:%s:%s:%d", participantID, verdict, by, at.UnixNano())
	if key != "" {
		id = fmt.Sprintf("verdict:%s:%s:key:%s", participantID, verdict, key)
	}
	ev := engine.Inbound{
		Channel:       "judge",
		PlatformID:    id,
		Campaign:      campaign,
		ParticipantID: participantID,
		Kind:          engine.KindVerdict,
		Verdict:       verdict,
		Agent:         by,
		At:            at,
	}
	_, dup, err := s.Store.SaveInbound(ctx, ev)
	if err != nil {
		return fmt.Errorf("judge: %s verdict on %s: %w", verdict, participantID, err)
	}
	if dup {
		return fmt.Errorf("judge: %s verdict on %s: %w: given already", verdict, participantID, errs.ErrConflict)
	}
	if s.Wake != nil {
		s.Wake()
	}
	return nil
}

// open fails with engine.ErrOptedOut or engine.ErrFinished when the participant can no longer
// be moved on, and with engine.ErrAwaitingConsent while they are asked for consent. The engine
// checks again when the verdict arrives (they may opt out meanwhile): this check is so the
// moderator hears why, at once.
func (s *Service) open(ctx context.Context, participantID string) error {
	p, err := s.Store.Participant(ctx, participantID)
	if err != nil {
		return fmt.Errorf("participant %s: %w", participantID, err)
	}
	return engine.Judgeable(p)
}

// maxKey bounds a decision key, which comes from a form.
const maxKey = 128

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
