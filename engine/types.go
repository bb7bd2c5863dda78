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
	KindJoin Kind = "join"
	// KindOptIn is the brand starting a conversation with someone who opted in elsewhere (a
	// form on the brand's website): it creates the participant like a join, but the
	// participant has not written, so no customer-service window opens and the first replies
	// go out as templates where the channel needs them.
	KindOptIn   Kind = "optin"
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
	// Locale is the language the participant's app or browser is set to, when the channel
	// knows it (the web chat sends navigator.language at join): a newcomer whose language
	// nothing else sets speaks the campaign language it matches (nl-BE → nl).
	Locale string
	// To is the business address the participant wrote to, when the channel has several (for
	// WhatsApp the phone_number_id): the engine keeps it on the participant (VarSender) so
	// replies go out from the number the participant knows, inside its 24-hour window.
	To string
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
	// Seq is, for KindTimer, the participant's state entry (Participant.Entered) the timer was
	// set in: a timer from an earlier visit to the same state is stale and ignored.
	Seq int64
	// Agent is who handed the conversation back, for KindHandback, or gave the verdict.
	Agent string
	At    time.Time
}

// fromParticipant reports whether the participant wrote the event (rather than a moderator,
// an agent or a clock): only these open the 24-hour window and get replies when a campaign
// is not running.
func (in Inbound) fromParticipant() bool {
	switch in.Kind {
	case KindJoin, KindText, KindMedia, KindChoice, KindLocation, KindUnsupported:
		return true
	}
	return false
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
	// Entered is the Version at which the participant entered their current state; timers
	// set on entering carry it, so a timer from an earlier visit is recognised as stale.
	Entered int64
	// Finished is set when the participant reached a final state, ended, or opted out: they
	// get no timers, rounds, verdicts or broadcasts, nothing moves them into another state,
	// and they no longer pin their definition version.
	Finished bool
	// LastInboundAt is when the participant last wrote; it opens the 24-hour window.
	LastInboundAt time.Time
	// LastReplyDue is when the latest reply a step queued for the participant is due: the
	// persona types a later step's replies after it, so replies keep the order of the
	// messages that caused them.
	LastReplyDue time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
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
	State    string
	Kind     string
	MediaKey string
	ThumbKey string
	MIME     string
	Caption  string
	// Location is the participant's last shared location when the entry was collected, as
	// LAT,LNG (decimal degrees); empty when they shared none.
	Location  string
	CreatedAt time.Time
}

// Outbound is one reply waiting in, or delivered from, the outbox.
type Outbound struct {
	ID            int64
	ParticipantID string
	Campaign      string
	Channel       string
	To            string
	// From is the business address the reply goes out from (for WhatsApp a phone_number_id):
	// the one the participant last wrote to. Empty means the campaign's own number, else the
	// channel's default.
	From string
	// Agent is the dashboard user who wrote the reply (AgentSay); empty for the persona's.
	// On a channel with an agent window (Config.AgentWindows, Messenger's human-agent tag) an
	// agent's reply may go out after the customer-service window closed, up to that long after
	// the participant's last message.
	Agent string
	Text  string
	// Buttons are quick-reply choices offered with the text.
	Buttons []Button
	// MediaURL is media sent with the text as its caption.
	MediaURL string
	// Template is what to send when the participant's 24-hour window is closed. The sender
	// gets it set only then (SendDue clears it inside the window and on channels without
	// one); a channel sends the template when it is set, the text otherwise.
	Template *TemplateCall
	// DueAt is when the reply may go out: the persona's typing delay after the previous one.
	// A reply also waits for the participant's replies queued before it (Store.DueOutbox).
	DueAt time.Time
	// Status is pending, sent, failed or cancelled.
	Status     string
	PlatformID string
	Error      string
	// Attempts counts the sends tried: each is recorded (Store.AttemptOutbox) before the reply
	// goes to the platform.
	Attempts int
	// AttemptedAt and AttemptedBy are when and by which engine (Config.Owner) the last attempt
	// was made (zero and empty before the first).
	AttemptedAt time.Time
	AttemptedBy string
	// InFlight says an attempt was recorded whose outcome never was: its process died (or
	// lost the store) while sending, so the platform may have the reply already.
	InFlight bool
	// MaybeTwice says the reply was sent again after such an attempt: the participant may
	// have received it twice.
	MaybeTwice bool
	// Delivery is the latest delivery report from the platform (empty until one arrives).
	Delivery Delivery
	// BroadcastID groups the rows of one broadcast for its delivery report.
	BroadcastID string
	// LastInboundAt is filled by Store.DueOutbox from the participant (zero for a reply to a
	// stranger, who just wrote), so the sender can check the 24-hour window.
	LastInboundAt time.Time
	// OptedOut is filled by Store.DueOutbox from the participant: they are opted out now. The
	// sender holds back a broadcast to them (it was queued from a list read before they opted
	// out); a step's replies were held when the step was computed.
	OptedOut bool
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
	StatusPending   = "pending"
	StatusSent      = "sent"
	StatusFailed    = "failed"
	StatusCancelled = "cancelled"
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
	// Places are places taken from capacity pools; the store refuses a pool already at its
	// capacity with ErrPoolFull, so a pool is never oversubscribed.
	Places []Place
	// Claims are codes of code pools handed to the participant in this step. The store hands
	// each code out once: it refuses a code handed out before with ErrCodeClaimed, and the
	// engine then works the step out again with the next code.
	Claims []CodeClaim
	// CancelTimers deletes the participant's pending timers before Timers are stored (the
	// participant left the state that set them, or finished).
	CancelTimers bool
	Timers       []Timer
	// CancelOutbox marks the participant's unsent replies cancelled before Outbox is queued
	// (the participant opted out).
	CancelOutbox  bool
	Notifications []Notification
}

// Place is one place taken from a pool.
type Place struct {
	Campaign, Pool string
	Capacity       int
}

// CodeClaim is one code of a pool of codes (campaigns.Pool.Codes) handed to a participant.
type CodeClaim struct {
	Campaign, Pool, Code string
}

// Timer is a durable timer. A participant's timer becomes a KindTimer event; a campaign's
// timer (no ParticipantID) starts or closes a round.
type Timer struct {
	ID int64
	// Key is the PlatformID of the event the timer becomes; the store keeps one timer per key.
	Key           string
	Campaign      string
	ParticipantID string
	// Transition and Seq are set for a participant's timer; Round and RoundEvent for a
	// campaign's.
	Transition string
	Seq        int64
	Round      string
	RoundEvent string
	DueAt      time.Time
}

// Notification is a message to the moderators, shown in the dashboard.
type Notification struct {
	ID            int64
	Campaign      string
	ParticipantID string
	Text          string
	At            time.Time
}

// CampaignRecord is a launched definition version as the store keeps it, with the campaign's
// status (shared by every version of the campaign).
type CampaignRecord struct {
	ID, Version string
	File        string
	Source      []byte
	Status      string
	At          time.Time
	// Path is the file on disk the version was loaded from when `campaign serve` started (an
	// absolute path); empty for a version launched through the admin API. Hash is the sha256
	// of Source (hex). Together they tell, at the next start, whether the file changed since.
	Path, Hash string
	// Launched is when the campaign was first stored, whatever the version: the times a
	// definition writes as a duration after launch (7d) count from it. Campaigns and
	// LoadedFile fill it in; SaveCampaign takes it from At when the campaign is new.
	Launched time.Time
}

// Campaign statuses.
const (
	// StatusDraft campaigns are processed but not routed to strangers: only the simulator
	// reaches them.
	StatusDraft = "draft"
	StatusLive  = "live"
	// StatusPaused campaigns keep their events stored until resumed.
	StatusPaused = "paused"
	// StatusClosed campaigns answer everyone that they are not running.
	StatusClosed = "closed"
)

// ParticipantFilter narrows a listing of participants; empty fields match everything.
type ParticipantFilter struct {
	Campaign string
	State    string
	// Unfinished leaves out participants who finished or opted out.
	Unfinished bool
	// WroteSince, when set, keeps the participants who last wrote (LastInboundAt) at or
	// after it: those inside their 24-hour window, for a paced broadcast.
	WroteSince time.Time
	Limit      int
}

// BroadcastReport counts a broadcast's rows by delivery status.
type BroadcastReport struct {
	ID                               string
	Campaign                         string
	Pending, Sent, Failed, Cancelled int
	Total                            int
}

// Store is what the engine needs from persistence. Implementations return errors wrapping
// errs.ErrNotFound and errs.ErrConflict as documented per method.
type Store interface {
	// SaveInbound stores an event durably. It reports duplicate=true, and stores nothing, when
	// an event with the same Channel and PlatformID was stored before.
	SaveInbound(ctx context.Context, in Inbound) (id int64, duplicate bool, err error)
	// PendingInbound returns up to limit unprocessed events, oldest first.
	PendingInbound(ctx context.Context, limit int) ([]StoredInbound, error)
	// SkipInbound marks an event processed without any other effect (it could not apply). It
	// fails with ErrProcessed for an event processed before.
	SkipInbound(ctx context.Context, id int64, reason string) error
	// Participant returns a participant, or an error wrapping errs.ErrNotFound.
	Participant(ctx context.Context, id string) (Participant, error)
	// Commit writes a step atomically. It fails with errs.ErrConflict when the participant's
	// stored version is no longer PrevVersion (or, when Created, the participant exists), with
	// ErrCodeTaken when a code was issued before, with ErrPoolFull when a place is taken from a
	// pool at capacity, with ErrCodeClaimed when a code of Claims was handed out before, and with ErrProcessed when the step's event was processed before (by
	// another process, or by an earlier attempt whose answer was lost). A step whose Participant.ID is empty writes no participant: it
	// answers a stranger (its Outbox rows have no ParticipantID).
	Commit(ctx context.Context, s Step) error
	// DueOutbox returns up to limit pending replies due at or before now, in the order they
	// were queued (by ID). It leaves out a participant's reply while one queued before it for
	// the same participant waits to be tried again (pending, Attempts > 0, not due: a failed
	// send's backoff). The engine queues a participant's replies with rising due times, so
	// what it returns of one participant's replies is always the oldest of their pending ones.
	DueOutbox(ctx context.Context, now time.Time, limit int) ([]Outbound, error)
	// MarkSent records a delivered reply and adds it to the participant's transcript.
	MarkSent(ctx context.Context, id int64, platformID string, at time.Time) error
	// MarkFailed records a reply that could not be delivered, with the reason.
	MarkFailed(ctx context.Context, id int64, reason string, at time.Time) error
	// Transcript returns a participant's lines, oldest first.
	Transcript(ctx context.Context, participantID string) ([]Line, error)

	// PendingInboundExcept is PendingInbound leaving out the events of the given campaigns
	// (paused ones), so they wait without blocking the others.
	PendingInboundExcept(ctx context.Context, except []string, limit int) ([]StoredInbound, error)
	// ParticipantsAt returns the participants talking from address on channel, in any
	// campaign, most recently updated first.
	ParticipantsAt(ctx context.Context, channel, address string) ([]Participant, error)
	// Participants lists participants matching f, oldest first.
	Participants(ctx context.Context, f ParticipantFilter) ([]Participant, error)
	// StateCounts returns how many participants of a campaign are in each state.
	StateCounts(ctx context.Context, campaign string) (map[string]int, error)
	// PoolTaken returns how many places of a pool are taken (0 for a pool never used).
	PoolTaken(ctx context.Context, campaign, pool string) (int, error)
	// AddCodes adds codes to a pool of codes, after those it has, in the order given; a code
	// the pool has already (handed out or not) is left as it is, so loading the same file
	// again adds nothing. It returns how many were new.
	AddCodes(ctx context.Context, campaign, pool string, codes []string) (int, error)
	// NextCode returns the pool's first code, in the order added, not handed out yet; an
	// error wrapping errs.ErrNotFound when every code is handed out (or the pool has none).
	NextCode(ctx context.Context, campaign, pool string) (string, error)
	// CodesLeft returns how many codes of a pool are not handed out yet, and how many it has.
	CodesLeft(ctx context.Context, campaign, pool string) (left, total int, err error)
	// MarkCancelled records a reply that will not be sent. Errors as MarkFailed.
	MarkCancelled(ctx context.Context, id int64, reason string, at time.Time) error
	// SaveTimer stores a timer unless one with the same Key exists (then it does nothing).
	SaveTimer(ctx context.Context, t Timer) error
	// DueTimers returns up to limit timers due at or before now, earliest first.
	DueTimers(ctx context.Context, now time.Time, limit int) ([]Timer, error)
	// StoreEvents stores events as SaveInbound does (duplicates are ignored) and, when
	// timerID is not 0, deletes that timer in the same atomic write: a timer becomes its
	// events exactly once. It fails with errs.ErrNotFound, storing nothing, when the timer is
	// gone. It returns how many events were new.
	StoreEvents(ctx context.Context, timerID int64, events []Inbound) (int, error)
	// Enqueue queues replies that belong to no step (broadcasts, agent replies).
	Enqueue(ctx context.Context, out []Outbound) error
	// BroadcastReport counts a broadcast's replies by status; errs.ErrNotFound if it has none.
	BroadcastReport(ctx context.Context, id string) (BroadcastReport, error)
	// Notifications returns up to limit notifications of a campaign (all campaigns when
	// empty), newest first.
	Notifications(ctx context.Context, campaign string, limit int) ([]Notification, error)
	// SaveCampaign stores a definition version and sets the campaign's status. Saving a
	// version stored before keeps its source and takes the new At, so it becomes the latest.
	SaveCampaign(ctx context.Context, r CampaignRecord) error
	// SetCampaignStatus sets a stored campaign's status; errs.ErrNotFound for an unknown one.
	SetCampaignStatus(ctx context.Context, id, status string, at time.Time) error
	// Campaigns returns the latest version of every campaign and the older versions that
	// unfinished participants still play, by At per campaign (the last is the latest).
	Campaigns(ctx context.Context) ([]CampaignRecord, error)
	// LoadedFile returns the version last stored from the file at path (SaveCampaign with
	// that Path): ID, Version, Path, Hash, At and Launched, without the source. It fails with
	// errs.ErrNotFound when nothing was loaded from path.
	LoadedFile(ctx context.Context, path string) (CampaignRecord, error)

	// Claim takes leases on keys for owner until until, deciding atomically across every
	// process sharing the store: a key is won when nobody holds it, when its lease ran out by
	// now, or when owner holds it already (the lease is renewed). It returns the keys won, in
	// the order given. The engine claims a participant ("participant:<id>") before applying
	// their events and a reply ("outbox:<id>") before sending it, except on a store one
	// process uses (soleProcess), where there is nobody to keep out.
	Claim(ctx context.Context, owner string, keys []string, now, until time.Time) ([]string, error)
	// Release gives up owner's leases on keys; keys owner does not hold are left alone.
	Release(ctx context.Context, owner string, keys []string) error
	// TakeBack gives up every lease owner holds, at once, and returns how many there were and
	// how many pending replies owner's last attempt left in flight (InFlight, AttemptedBy
	// owner). A restarted engine with the same Owner calls it at start: what its previous
	// run claimed is its own to do again now, not after the leases run out.
	TakeBack(ctx context.Context, owner string) (claims, inFlight int, err error)
	// AttemptOutbox records, before the send, that owner tries a pending reply at at: one
	// more attempt, AttemptedAt and AttemptedBy set, InFlight until the outcome is stored (by
	// MarkSent, MarkFailed, MarkCancelled or RetryOutbox, which then count no attempt of
	// their own). A reply InFlight already gets MaybeTwice. It fails with errs.ErrNotFound
	// for an unknown reply and errs.ErrConflict for one no longer pending.
	AttemptOutbox(ctx context.Context, id int64, owner string, at time.Time) error
	// RetryOutbox leaves a pending reply pending, due again at due, recording reason and one
	// more attempt (none when the attempt was recorded already: AttemptOutbox). It fails with errs.ErrNotFound for an unknown reply and errs.ErrConflict
	// for one no longer pending.
	RetryOutbox(ctx context.Context, id int64, reason string, due, at time.Time) error

	// TeamStore keeps the teams formed on channels without group chats (teams.go);
	// RoundStore keeps which rounds started and closed (rounds.go).
	TeamStore
	RoundStore
	// GroupStore keeps captains' requests for group chats (groups.go).
	GroupStore
}

// Sender delivers replies on one channel. Send returns the platform's id for the message.
type Sender interface {
	Send(ctx context.Context, out Outbound) (platformID string, err error)
}
