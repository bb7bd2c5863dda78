// Package audit owns the audit trail: an append-only record of who did what, and when, to an
// entry, a participant, a draw, a campaign or an account. Verdicts, scores, claims, draws,
// exports, broadcasts and role changes each add one Event; nothing changes or removes an Event
// once it is written (a Store has no method that could), so the trail can be shown to whoever
// asks how a winner was chosen.
package audit

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/chatcampaigns/campaign/errs"
)

// Actors that are not dashboard users.
const (
	// ActorSystem is the server itself: a deadline, a lease running out, a draw it ran.
	ActorSystem = "system"
	// ActorCLI is a command run on the server's data (campaign user, campaign draw, …): the
	// operator at the shell, whose name the binary does not know.
	ActorCLI = "cli"
	// ActorAPI is whoever holds the server's admin token: `campaign launch` and the /api/ routes.
	ActorAPI = "api"
)

// Actions. Another package may record an action not listed here; the trail keeps any
// non-empty action, and these are the ones the binary writes today.
const (
	// Verdict: Detail is the verdict (and ": reason" when one was given).
	Verdict = "verdict"
	// Score: Detail lists the criteria and scores, "Originality=7; Composition=5".
	Score = "score"
	// Claim, ClaimRelease: a moderator took, or let go of, an entry (Detail: until when,
	// RFC 3339; "released", or "decided" when the lease ended with their verdict).
	Claim        = "claim"
	ClaimRelease = "claim.release"
	// Conflict, Abstain: a judge declared a conflict of interest or abstained on an entry.
	Conflict = "conflict"
	Abstain  = "abstain"
	// Assign: the system seated a judge on an entry's panel; Subject is the judge, Detail
	// "JUDGE, seat N", or "JUDGE replaces NAME" after a conflict.
	Assign = "assign"
	// AssignConversation: a conversation was assigned to a dashboard user (Subject), or to
	// nobody; Detail "to anna", "to ben (was anna)", "to nobody (was anna)".
	AssignConversation = "conversation.assign"
	// Winners: the top of a ranking was named winner (each verdict is recorded as well).
	Winners = "winners"
	// DrawCommit, DrawClose: a draw's commitment was published, and its seed revealed.
	DrawCommit = "draw.commit"
	DrawClose  = "draw.close"
	// Export: data left the system; Subject says what (audit, entries, media, …).
	Export = "export"
	// Broadcast: a broadcast was sent; Subject is its id.
	Broadcast = "broadcast"
	// UserAdd, UserRemove, UserTeams, UserPassword, Role: account changes; Subject is the user.
	UserAdd      = "user.add"
	UserRemove   = "user.remove"
	UserTeams    = "user.teams"
	UserPassword = "user.password"
	Role         = "role"
	// CampaignStatus, Round: a campaign was paused, made live or closed; a round started or
	// closed by hand.
	CampaignStatus = "campaign.status"
	Round          = "round"
	// Launch: a definition became its campaign's current version through the admin API.
	Launch = "campaign.launch"
	// Erase is a participant erased (a data request, retention or a purge); the event names
	// only the tombstone left in the rankings, never the person.
	Erase = "participant.erase"
)

// Event is one line of the trail.
type Event struct {
	// ID is given by the store when the event is appended; later events have larger ids.
	ID int64
	At time.Time
	// Actor is the dashboard user who acted, ActorSystem or ActorCLI.
	Actor  string
	Action string
	// Campaign, ParticipantID and EntryID say what the event is about; any may be empty.
	Campaign      string
	ParticipantID string
	EntryID       string
	// Subject names anything else it is about: a user, a draw, a round, a broadcast.
	Subject string
	// Detail is what was done, in words ("approved", "Originality=7; Composition=5").
	Detail string
}

// Recorder adds events to the trail. The judge, the dashboard and the commands call it after
// each action they take; *Log satisfies it.
type Recorder interface {
	// Record appends e. A zero e.At is filled with the recorder's clock; e.ID is ignored.
	// An event without an Actor or Action fails with errs.ErrInvalid.
	Record(ctx context.Context, e Event) error
}

// Query selects events. Empty fields match everything.
type Query struct {
	Campaign      string
	ParticipantID string
	EntryID       string
	// AfterID skips the events up to and including this id: the next page of a listing.
	AfterID int64
	// Limit caps the events returned; 0 or less is DefaultLimit.
	Limit int
}

// DefaultLimit is how many events one query returns when Query.Limit is not set.
const DefaultLimit = 1000

// Store keeps the trail. It can append and list, nothing else: no update, no delete.
type Store interface {
	// AppendAudit stores e with a new id, larger than every id before, and returns it.
	AppendAudit(ctx context.Context, e Event) (int64, error)
	Lister
}

// Lister reads the trail.
type Lister interface {
	// AuditEvents returns the events matching q, oldest (smallest id) first.
	AuditEvents(ctx context.Context, q Query) ([]Event, error)
}

// Log records events in a Store with a clock.
type Log struct {
	Store Store
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

var _ Recorder = (*Log)(nil)

// Record appends e to the store.
func (l *Log) Record(ctx context.Context, e Event) error {
	if err := check(e); err != nil {
		return fmt.Errorf("audit: record: %w", err)
	}
	if e.At.IsZero() {
		if l.Now != nil {
			e.At = l.Now()
		} else {
			e.At = time.Now()
		}
	}
	e.At = e.At.UTC()
	if _, err := l.Store.AppendAudit(ctx, e); err != nil {
		return fmt.Errorf("audit: record %s by %s: %w", e.Action, e.Actor, err)
	}
	return nil
}

// maxField bounds each text field: a reason typed in a form is a note, and the trail should
// not grow by megabytes through one event.
const maxField = 2000

func check(e Event) error {
	if strings.TrimSpace(e.Actor) == "" {
		return fmt.Errorf("%w: an audit event needs an actor (a user, %q or %q)", errs.ErrInvalid, ActorSystem, ActorCLI)
	}
	if strings.TrimSpace(e.Action) == "" {
		return fmt.Errorf("%w: an audit event needs an action", errs.ErrInvalid)
	}
	for _, f := range []string{e.Actor, e.Action, e.Campaign, e.ParticipantID, e.EntryID, e.Subject, e.Detail} {
		if len(f) > maxField {
			return fmt.Errorf("%w: an audit field is longer than %d bytes", errs.ErrInvalid, maxField)
		}
	}
	return nil
}

// AuditEvents reads the trail, so a Log is all a reader and recorder of the trail needs.
func (l *Log) AuditEvents(ctx context.Context, q Query) ([]Event, error) {
	return l.Store.AuditEvents(ctx, q)
}

// Record appends e through r, doing nothing when r is nil (a Service built without a trail, in
// a test of something else).
func Record(ctx context.Context, r Recorder, e Event) error {
	if r == nil {
		return nil
	}
	return r.Record(ctx, e)
}

// Each calls fn with every event matching q, oldest first, reading the store page by page,
// so an export of a long trail never holds it all in memory. q.Limit is the page size.
func Each(ctx context.Context, s Lister, q Query, fn func(Event) error) error {
	for {
		page, err := s.AuditEvents(ctx, q)
		if err != nil {
			return fmt.Errorf("audit: list: %w", err)
		}
		for _, e := range page {
			if err := fn(e); err != nil {
				return err
			}
		}
		limit := q.Limit
		if limit <= 0 {
			limit = DefaultLimit
		}
		if len(page) < limit {
			return nil
		}
		q.AfterID = page[len(page)-1].ID
	}
}
