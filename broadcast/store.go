package broadcast

import (
	"context"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
)

// Store keeps broadcasts and their recipients; store/sqlite and store/mongo implement it and
// store/storetest ("Broadcasts") checks that they agree.
type Store interface {
	// StartBroadcast stores a broadcast with its recipients (Seq 1, 2, … in the order given);
	// errs.ErrConflict when one with the same ID exists.
	StartBroadcast(ctx context.Context, b Broadcast, rs []Recipient) error
	// UpdateBroadcast stores b's Status, PausedReason, Baseline and UpdatedAt; errs.ErrNotFound
	// for an unknown broadcast.
	UpdateBroadcast(ctx context.Context, b Broadcast) error
	// PacedBroadcast returns one broadcast; errs.ErrNotFound for an unknown one.
	PacedBroadcast(ctx context.Context, id string) (Broadcast, error)
	// PacedBroadcasts lists broadcasts, newest first: of one campaign (all when empty), in
	// one status (any when empty), at most limit (all when limit <= 0).
	PacedBroadcasts(ctx context.Context, campaign string, status Status, limit int) ([]Broadcast, error)
	// BroadcastRecipientList returns up to limit of a broadcast's recipients after Seq after,
	// in Seq order; only those in status when it is not empty. OutboxID is filled for the
	// released.
	BroadcastRecipientList(ctx context.Context, id string, status string, after int64, limit int) ([]Recipient, error)
	// RecipientsOf returns the recipients of a broadcast who are among the participants
	// given, in Seq order (any status).
	RecipientsOf(ctx context.Context, id string, participantIDs []string) ([]Recipient, error)
	// ReleaseRecipients settles waiting recipients: each of rs (by Seq) takes its Status,
	// Reason, Template, Number, ReleasedAt and UpdatedAt, and those with a message in out
	// (out[i] for rs[i]; a zero Outbound for a skip) have it queued in the outbox with
	// OutboxID set. A recipient no longer waiting is left alone and its message not queued,
	// so a recipient is released at most once whoever releases it. It returns how many were
	// settled.
	ReleaseRecipients(ctx context.Context, id string, rs []Recipient, out []engine.Outbound) (int, error)
	// FailRecipient records that a released recipient's message was refused (reason, a
	// Fail* constant) at at; errs.ErrNotFound when the broadcast has no such participant.
	FailRecipient(ctx context.Context, id, participantID, reason string, at time.Time) error
	// ReachedOutsideWindow counts the unique addresses sent a broadcast's template on the
	// channel's number since since, by every broadcast: what the messaging limit counts.
	ReachedOutsideWindow(ctx context.Context, channel, number string, since time.Time) (int, error)
	// ReleasedTo counts, per address, the broadcast messages released to it on the channel
	// since since, in every campaign: the frequency ledger. Addresses with none are absent.
	ReleasedTo(ctx context.Context, channel string, addresses []string, since time.Time) (map[string]int, error)
	// RefusedSince reports the addresses on channel whose broadcast message failed with
	// reason (a Fail* constant) since since, in every campaign.
	RefusedSince(ctx context.Context, channel string, addresses []string, reason string, since time.Time) (map[string]bool, error)
}

// Numbers is what the pacer reads of the numbers' facts and people's marketing preferences,
// kept by the stores (the numbers' part of issue 16).
type Numbers interface {
	// NumberHealth returns a number's latest facts; errs.ErrNotFound when none are known.
	NumberHealth(ctx context.Context, channel, number string) (NumberHealth, error)
	// SavePreference stores a person's marketing preference; the latest At wins.
	SavePreference(ctx context.Context, p Preference) error
	// StoppedMarketing reports the addresses on channel that asked for no marketing.
	StoppedMarketing(ctx context.Context, channel string, addresses []string) (map[string]bool, error)
}

// Engine is what the pacer needs of the campaign engine; *engine.Engine satisfies it.
type Engine interface {
	BroadcastAudience(ctx context.Context, campaign string, to engine.Audience, msg campaigns.Message) ([]engine.Participant, error)
	// OptedOutOf counts those the audience would reach had they not opted out.
	OptedOutOf(ctx context.Context, campaign string, to engine.Audience) (int, error)
	BroadcastID(campaign string) string
	RenderBroadcast(ctx context.Context, id, campaign string, msg campaigns.Message, ps []engine.Participant) ([]engine.Outbound, error)
	// WroteSince lists the participants of a campaign who last wrote at or after since.
	WroteSince(ctx context.Context, campaign string, since time.Time) ([]engine.Participant, error)
	// Participant reads one participant as stored now; errs.ErrNotFound when erased.
	Participant(ctx context.Context, id string) (engine.Participant, error)
	Window(channel string) time.Duration
	WakeSender()
	BroadcastReport(ctx context.Context, id string) (engine.BroadcastReport, error)
}

// Notifier tells the admins something in the dashboard's notifications.
type Notifier interface {
	AddNotification(ctx context.Context, n engine.Notification) error
}

// Outcomes lists the outbox rows of a broadcast, for its report (the stores' reports side).
type Outcomes interface {
	BroadcastRecipients(ctx context.Context, id string, after int64, limit int) ([]engine.Outbound, error)
}

var _ Engine = (*engine.Engine)(nil)
