// Package engine owns the campaign runtime: it takes normalized inbound messages and moderator
// verdicts, runs each participant's state machine (one looplab/fsm machine, rebuilt from the
// compiled definition and the stored state for every event), and queues the replies in an
// outbox that a sender delivers through the channels. It knows no HTTP, no SQL and no platform.
package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Kind is what an inbound event carries.
type Kind string

// The inbound kinds.
const (
	// KindJoin is a participant opening the conversation (a web chat page load, an entry
	// keyword); it creates the participant and enters the start state.
	KindJoin    Kind = "join"
	KindText    Kind = "text"
	KindMedia   Kind = "media"
	KindVerdict Kind = "verdict"
	// KindChoice is a tapped button or list row: Choice is its id, Text its title.
	KindChoice Kind = "choice"
	// KindLocation is a shared location.
	KindLocation Kind = "location"
	// KindTimer is a due timer of the participant: Timer names the transition that set it.
	KindTimer Kind = "timer"
	// KindRound is a round starting or closing: Round and RoundEvent say which.
	KindRound Kind = "round"
	// KindHandback is a human agent handing the conversation back to the bot.
	KindHandback Kind = "handback"
	// KindUnsupported is a message the channel could not read (a sticker where none is
	// expected, an unknown type); the participant is told so instead of meeting silence.
	KindUnsupported Kind = "unsupported"
)

// Inbound is one event for one participant, normalized by a channel or made by the judge.
type Inbound struct {
	// Channel and PlatformID identify the event for dedupe: a second event with the same pair
	// is acknowledged and ignored.
	Channel    string
	PlatformID string
	Campaign   string
	// From is the participant's address on the channel (phone number, chat id, browser id).
	From string
	// Name is the participant's profile name when the channel knows it.
	Name string
	// ParticipantID is filled by Receive from Campaign, Channel and From.
	ParticipantID string
	Kind          Kind
	Text          string
	Media         *Media
	// Verdict and EntryID are set for KindVerdict.
	Verdict string
	EntryID string
	// Choice is the button or row id of a KindChoice.
	Choice   string
	Location *Location
	// ReplyTo is the platform id of the message this one answers, when the channel says.
	ReplyTo string
	// Timer is set for KindTimer; Round and RoundEvent for KindRound.
	Timer      string
	Round      string
	RoundEvent string
	At         time.Time
}

// Location is a shared place.
type Location struct {
	Latitude, Longitude float64
	Name, Address       string
}

// Media is a stored media object an inbound message carries.
type Media struct {
	// Kind is photo, video, audio or document.
	Kind     string
	Key      string
	ThumbKey string
	MIME     string
	Size     int64
}

// StoredInbound is an inbound event as the store keeps it until it is processed.
type StoredInbound struct {
	ID int64
	Inbound
}

// Participant is one person (or team) playing one campaign on one channel.
type Participant struct {
	ID       string
	Campaign string
	Channel  string
	// Address is where replies go on the channel.
	Address string
	State   string
	Vars    map[string]string
	// Version increases with every committed step; a step commits only if the stored version
	// is still the one it read (compare-and-swap).
	Version    int64
	DefVersion string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// ParticipantID derives a participant's id from where they talk to the campaign, so channels
// and the engine agree on it without a lookup.
func ParticipantID(campaign, channel, from string) string {
	sum := sha256.Sum256([]byte(campaign + "\x00" + channel + "\x00" + from))
	return hex.EncodeToString(sum[:12])
}

// Direction says who wrote a transcript line.
type Direction string

// The directions.
const (
	In  Direction = "in"
	Out Direction = "out"
)

// Line is one line of a participant's transcript.
type Line struct {
	ID            int64
	ParticipantID string
	Direction     Direction
	Text          string
	MediaKey      string
	At            time.Time
}

// Entry is a media item collected from a participant for judging.
type Entry struct {
	ID            string
	Campaign      string
	ParticipantID string
	// State is the state the participant was in when the entry was collected.
	State     string
	Kind      string
	MediaKey  string
	ThumbKey  string
	MIME      string
	Caption   string
	CreatedAt time.Time
}

// Outbound is one reply waiting in, or delivered from, the outbox.
type Outbound struct {
	ID            int64
	ParticipantID string
	Campaign      string
	Channel       string
	To            string
	Text          string
	// Buttons are quick-reply choices offered with the text.
	Buttons []Button
	// MediaURL is media sent with the text as its caption.
	MediaURL string
	// Template is sent instead of the text when the participant's 24-hour window is closed.
	Template *TemplateCall
	// DueAt is when the reply may go out: the persona's typing delay after the previous one.
	DueAt time.Time
	// Status is pending, sent or failed.
	Status     string
	PlatformID string
	Error      string
	Attempts   int
}

// Button is a rendered quick-reply choice.
type Button struct {
	ID, Title string
}

// TemplateCall is a pre-approved template with its parameters filled in.
type TemplateCall struct {
	Name, Language string
	Params         []string
}

// Outbox statuses.
const (
	StatusPending = "pending"
	StatusSent    = "sent"
	StatusFailed  = "failed"
)

// Step is everything one event changed, committed together or not at all.
type Step struct {
	// InboundID is the stored inbound event this step consumes; it is marked processed in the
	// same commit, so a crash before the commit replays the event and after it never does.
	InboundID   int64
	Participant Participant
	// Created says the participant is new (the commit inserts instead of updating).
	Created bool
	// PrevVersion is the version the step was computed from.
	PrevVersion int64
	Lines       []Line
	Entries     []Entry
	Outbox      []Outbound
	// Codes are unique codes issued in this step; the store refuses a code already issued in
	// the campaign with errs.ErrConflict wrapping ErrCodeTaken.
	Codes []string
}

// Store is what the engine needs from persistence. Implementations return errors wrapping
// errs.ErrNotFound and errs.ErrConflict as documented per method.
type Store interface {
	// SaveInbound stores an event durably. It reports duplicate=true, and stores nothing, when
	// an event with the same Channel and PlatformID was stored before.
	SaveInbound(ctx context.Context, in Inbound) (id int64, duplicate bool, err error)
	// PendingInbound returns up to limit unprocessed events, oldest first.
	PendingInbound(ctx context.Context, limit int) ([]StoredInbound, error)
	// SkipInbound marks an event processed without any other effect (it could not apply).
	SkipInbound(ctx context.Context, id int64, reason string) error
	// Participant returns a participant, or an error wrapping errs.ErrNotFound.
	Participant(ctx context.Context, id string) (Participant, error)
	// Commit writes a step atomically. It fails with errs.ErrConflict when the participant's
	// stored version is no longer PrevVersion (or, when Created, the participant exists), and
	// with ErrCodeTaken when a code was issued before.
	Commit(ctx context.Context, s Step) error
	// DueOutbox returns up to limit pending replies due at or before now, oldest first.
	DueOutbox(ctx context.Context, now time.Time, limit int) ([]Outbound, error)
	// MarkSent records a delivered reply and adds it to the participant's transcript.
	MarkSent(ctx context.Context, id int64, platformID string, at time.Time) error
	// MarkFailed records a reply that could not be delivered, with the reason.
	MarkFailed(ctx context.Context, id int64, reason string, at time.Time) error
	// Transcript returns a participant's lines, oldest first.
	Transcript(ctx context.Context, participantID string) ([]Line, error)
}

// Sender delivers replies on one channel. Send returns the platform's id for the message.
type Sender interface {
	Send(ctx context.Context, out Outbound) (platformID string, err error)
}
