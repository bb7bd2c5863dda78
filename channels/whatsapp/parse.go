package whatsapp

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/chatcampaigns/campaign/broadcast"
	"github.com/chatcampaigns/campaign/channels/metahook"
	"github.com/chatcampaigns/campaign/engine"
)

// Webhook is one webhook body, normalized: what it asks the channel to do, in the order the
// platform listed it.
type Webhook struct {
	Messages []Message
	Statuses []Status
	// Groups are group lifecycle and participant events (groups.go).
	Groups []GroupEvent
	// Errors are out-of-band errors (entry.changes.value.errors) that belong to no message;
	// they are only logged.
	Errors []ErrorInfo
	// Health are phone_number_quality_update items: what changed about a sending number
	// (numbers.go).
	Health []HealthUpdate
	// Preferences are user_preferences items: people who stopped or resumed marketing
	// messages (Source "user_preferences").
	Preferences []broadcast.Preference
}

// Message is one inbound message, normalized.
type Message struct {
	// PhoneNumberID is the business number the message was sent to; it decides which campaigns
	// the message can reach.
	PhoneNumberID string
	// Inbound has Channel, PlatformID (the wamid), From, Name, Kind, Text, Choice, Location,
	// ReplyTo and At filled; Campaign, ParticipantID and Media are the handler's business.
	Inbound engine.Inbound
	// Media is set for media the channel fetches (photo, video, audio, document).
	Media *MediaRef
	// Skip, when set, says why the message has no effect on any campaign (a reaction, a
	// system notice); it is logged and acknowledged.
	Skip string
}

// MediaRef is a media attachment as the webhook announces it: an id to resolve through the
// Graph API, and what the platform says about the bytes.
type MediaRef struct {
	ID string
	// Kind is photo, video, audio or document (engine.Media's kinds).
	Kind string
	MIME string
	// SHA256 is the digest as the webhook gives it (base64 in Meta's examples, hex in some).
	SHA256   string
	Filename string
	// Voice marks a voice note (an audio message recorded in the app).
	Voice bool
}

// Status is one delivery status of an outbound message.
type Status struct {
	PhoneNumberID string
	// MessageID is the wamid Send returned for the message.
	MessageID string
	// Recipient is the participant's WhatsApp id, or for a message to a group
	// GroupPrefix+group id, with Member the member the status is about (the platform
	// aggregates a group's statuses: one message, one status, several members).
	Recipient string
	Member    string
	Delivery  Delivery
}

// ErrorInfo is one error object in a webhook.
type ErrorInfo struct {
	Code    int    `json:"code"`
	Title   string `json:"title"`
	Message string `json:"message"`
	Data    struct {
		Details string `json:"details"`
	} `json:"error_data"`
}

// envelope is the documented webhook body; only what the channel uses is decoded. decode.go
// reads it without reflection, and gives the bodies it does not read exactly to
// encoding/json with these tags.
type envelope struct {
	Object string  `json:"object"`
	Entry  []entry `json:"entry"`
}

type entry struct {
	ID string `json:"id"`
	// Time is when the platform sent a WhatsApp Business Account webhook (unix seconds).
	Time    json.RawMessage `json:"time"`
	Changes []change        `json:"changes"`
}

type change struct {
	Field string `json:"field"`
	Value value  `json:"value"`
}

type value struct {
	Metadata struct {
		PhoneNumberID string `json:"phone_number_id"`
	} `json:"metadata"`
	Contacts []contact     `json:"contacts"`
	Messages []message     `json:"messages"`
	Statuses []status      `json:"statuses"`
	Groups   []groupChange `json:"groups"`
	Errors   []ErrorInfo   `json:"errors"`
	// The phone_number_quality_update fields: the number is named by its display number only.
	DisplayPhoneNumber string `json:"display_phone_number"`
	Event              string `json:"event"`
	CurrentLimit       string `json:"current_limit"`
	MaxDaily           string `json:"max_daily_conversations_per_business"`
	OldLimit           string `json:"old_limit"`
	// UserPreferences is the user_preferences field's list.
	UserPreferences []userPreference `json:"user_preferences"`
}

type contact struct {
	Profile struct {
		Name string `json:"name"`
	} `json:"profile"`
	WaID string `json:"wa_id"`
}

type userPreference struct {
	WaID     string          `json:"wa_id"`
	Category string          `json:"category"`
	Value    string          `json:"value"`
	Detail   string          `json:"detail"`
	At       json.RawMessage `json:"timestamp"`
}

type mediaObject struct {
	ID       string `json:"id"`
	MIME     string `json:"mime_type"`
	SHA256   string `json:"sha256"`
	Caption  string `json:"caption"`
	Filename string `json:"filename"`
	Voice    bool   `json:"voice"`
}

type message struct {
	From        string          `json:"from"`
	ID          string          `json:"id"`
	Timestamp   string          `json:"timestamp"`
	Type        string          `json:"type"`
	GroupID     string          `json:"group_id"`
	Context     *msgContext     `json:"context"`
	Text        *msgText        `json:"text"`
	Image       *mediaObject    `json:"image"`
	Video       *mediaObject    `json:"video"`
	Audio       *mediaObject    `json:"audio"`
	Document    *mediaObject    `json:"document"`
	Sticker     *mediaObject    `json:"sticker"`
	Location    *msgLocation    `json:"location"`
	Contacts    []sharedContact `json:"contacts"`
	Interactive *msgInteractive `json:"interactive"`
	Button      *msgButton      `json:"button"`
	Reaction    *msgReaction    `json:"reaction"`
	Errors      []ErrorInfo     `json:"errors"`
}

type msgContext struct {
	ID string `json:"id"`
}

type msgText struct {
	Body string `json:"body"`
}

type msgLocation struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Name      string  `json:"name"`
	Address   string  `json:"address"`
}

type sharedContact struct {
	Name struct {
		FormattedName string `json:"formatted_name"`
	} `json:"name"`
	Phones []sharedPhone `json:"phones"`
}

type sharedPhone struct {
	Phone string `json:"phone"`
}

type msgInteractive struct {
	Type        string     `json:"type"`
	ButtonReply *msgChoice `json:"button_reply"`
	ListReply   *msgChoice `json:"list_reply"`
}

type msgChoice struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

type msgButton struct {
	Payload string `json:"payload"`
	Text    string `json:"text"`
}

type msgReaction struct {
	MessageID string `json:"message_id"`
	Emoji     string `json:"emoji"`
}

type status struct {
	ID                     string      `json:"id"`
	Status                 string      `json:"status"`
	Timestamp              string      `json:"timestamp"`
	RecipientID            string      `json:"recipient_id"`
	RecipientType          string      `json:"recipient_type"`
	RecipientParticipantID string      `json:"recipient_participant_id"`
	Errors                 []ErrorInfo `json:"errors"`
}

// GroupPrefix marks a WhatsApp group in an address: a message from a group belongs to the
// group (the team), and a reply to an address with this prefix goes to the group.
const GroupPrefix = "group:"

// ParseWebhook normalizes a webhook body. It fails, wrapping errs.ErrInvalid, only when the
// body is not the documented JSON object; unknown fields, types and statuses are normalized
// (to engine.KindUnsupported) or skipped, never an error, so one odd item cannot hold back
// the rest of a batch. now stamps messages without a readable timestamp.
func ParseWebhook(body []byte, now time.Time) (*Webhook, error) {
	var env envelope
	if !decodeEnvelope(body, &env) {
		// Not read exactly (decode.go): encoding/json decides, errors included. Its own
		// envelope, as what encoding/json reads into goes to the heap: env stays on the stack
		// for every webhook read exactly.
		slow := new(envelope)
		if err := metahook.Decode(ChannelName, body, slow); err != nil {
			return nil, err
		}
		env = *slow
	}
	w := &Webhook{}
	for _, e := range env.Entry {
		for i := range e.Changes {
			ch := &e.Changes[i]
			v := &ch.Value
			number := v.Metadata.PhoneNumberID
			switch ch.Field {
			case "phone_number_quality_update":
				if u, ok := normalizeHealth(*v, rawUnix(e.Time, now)); ok {
					w.Health = append(w.Health, u)
				}
				continue
			case "user_preferences":
				for _, p := range v.UserPreferences {
					if pref, ok := normalizePreference(p, now); ok {
						w.Preferences = append(w.Preferences, pref)
					}
				}
				continue
			}
			if ch.Field == "group_lifecycle_update" || ch.Field == "group_participants_update" {
				for _, g := range v.Groups {
					if ev, ok := normalizeGroup(number, g); ok {
						w.Groups = append(w.Groups, ev)
					}
				}
				continue
			}
			// Other fields (account updates, group settings, templates) are not messages;
			// an app subscribed to them gets them acknowledged and ignored.
			if ch.Field != "messages" {
				continue
			}
			for _, m := range v.Messages {
				w.Messages = append(w.Messages, normalize(number, v.name(m.From), m, now))
			}
			for _, s := range v.Statuses {
				if st, ok := normalizeStatus(number, s, now); ok {
					w.Statuses = append(w.Statuses, st)
				}
			}
			w.Errors = append(w.Errors, v.Errors...)
		}
	}
	return w, nil
}

// rawUnix reads a unix time given as a JSON number or string; anything else is now.
func rawUnix(raw json.RawMessage, now time.Time) time.Time {
	return unixTime(strings.Trim(string(raw), `"`), now)
}

func unixTime(s string, now time.Time) time.Time {
	n, err := strconv.ParseInt(s, 10, 64)
	// Anything before 2009 (WhatsApp's birth) or far in the future is not a real timestamp.
	if err != nil || n < 1_230_000_000 || n > 1<<40 {
		return now
	}
	return time.Unix(n, 0).UTC()
}

// name is the profile name the value's contacts give the WhatsApp id waID (the last, if
// several do). A change names one contact or a few: a look through them costs less than the
// map it replaced.
func (v *value) name(waID string) string {
	name := ""
	for _, c := range v.Contacts {
		if c.WaID == waID {
			name = c.Profile.Name
		}
	}
	return name
}

func normalize(number, name string, m message, now time.Time) Message {
	in := engine.Inbound{
		Channel:    ChannelName,
		PlatformID: m.ID,
		From:       m.From,
		Name:       name,
		At:         unixTime(m.Timestamp, now),
	}
	if m.GroupID != "" {
		in.From = GroupPrefix + m.GroupID
	}
	if m.Context != nil {
		in.ReplyTo = m.Context.ID
	}
	out := Message{PhoneNumberID: number, Inbound: in}
	if m.ID == "" || m.From == "" {
		out.Skip = "message without id or sender"
		return out
	}
	if len(m.Errors) > 0 {
		// The platform could not give us the message (unsupported type, media too large):
		// the participant hears that rather than nothing.
		out.Inbound.Kind = engine.KindUnsupported
		out.Inbound.Text = fmt.Sprintf("error %d: %s", m.Errors[0].Code, m.Errors[0].Title)
		return out
	}
	unsupported := func() Message {
		out.Inbound.Kind = engine.KindUnsupported
		out.Inbound.Text = m.Type
		return out
	}
	withMedia := func(kind string, o *mediaObject) Message {
		if o == nil || o.ID == "" {
			return unsupported()
		}
		out.Inbound.Kind = engine.KindMedia
		out.Inbound.Text = o.Caption
		out.Media = &MediaRef{ID: o.ID, Kind: kind, MIME: o.MIME, SHA256: o.SHA256, Filename: o.Filename, Voice: o.Voice}
		return out
	}
	switch m.Type {
	case "text":
		if m.Text == nil {
			return unsupported()
		}
		out.Inbound.Kind = engine.KindText
		out.Inbound.Text = m.Text.Body
	case "image":
		return withMedia("photo", m.Image)
	case "video":
		return withMedia("video", m.Video)
	case "audio":
		return withMedia("audio", m.Audio)
	case "document":
		return withMedia("document", m.Document)
	case "sticker":
		// Stickers are decoration, not entries: the engine answers them like any message it
		// cannot use, and nothing is fetched.
		out.Inbound.Kind = engine.KindUnsupported
		out.Inbound.Text = "sticker"
	case "location":
		if m.Location == nil {
			return unsupported()
		}
		out.Inbound.Kind = engine.KindLocation
		out.Inbound.Location = &engine.Location{
			Latitude: m.Location.Latitude, Longitude: m.Location.Longitude,
			Name: m.Location.Name, Address: m.Location.Address,
		}
	case "contacts":
		if len(m.Contacts) == 0 {
			return unsupported()
		}
		var b strings.Builder
		for i, c := range m.Contacts {
			if i > 0 {
				b.WriteString("\n")
			}
			b.WriteString("Shared contact: ")
			b.WriteString(c.Name.FormattedName)
			for _, p := range c.Phones {
				b.WriteString(" ")
				b.WriteString(p.Phone)
			}
		}
		out.Inbound.Kind = engine.KindText
		out.Inbound.Text = b.String()
	case "interactive":
		switch {
		case m.Interactive == nil:
			return unsupported()
		case m.Interactive.ButtonReply != nil:
			out.Inbound.Kind = engine.KindChoice
			out.Inbound.Choice = m.Interactive.ButtonReply.ID
			out.Inbound.Text = m.Interactive.ButtonReply.Title
		case m.Interactive.ListReply != nil:
			out.Inbound.Kind = engine.KindChoice
			out.Inbound.Choice = m.Interactive.ListReply.ID
			out.Inbound.Text = m.Interactive.ListReply.Title
		default:
			return unsupported()
		}
	case "button":
		if m.Button == nil {
			return unsupported()
		}
		out.Inbound.Kind = engine.KindChoice
		out.Inbound.Choice = m.Button.Payload
		out.Inbound.Text = m.Button.Text
	case "reaction":
		// A reaction is not an answer: feeding "👍" to a step that waits for a name or a
		// photo would move the participant on by accident.
		out.Skip = "reaction"
	case "system", "request_welcome":
		out.Skip = m.Type + " notice"
	default:
		return unsupported()
	}
	return out
}

// statusRank orders delivery statuses; a status never replaces one of a higher rank. failed
// ranks below delivered because Meta does not promise order: a message that was delivered
// reached the participant, whatever a late "failed" says.
var statusRank = map[string]int{
	StatusSent:      1,
	StatusFailed:    2,
	StatusDelivered: 3,
	StatusRead:      4,
	StatusPlayed:    5,
}

// Supersedes reports whether a delivery status next may replace the recorded status prev:
// statuses only move forward (sent → failed → delivered → read → played), so a late
// "delivered" never turns a "read" message back. An empty prev is replaced by anything known.
func Supersedes(prev, next string) bool {
	return statusRank[next] > statusRank[prev]
}

func normalizeStatus(number string, s status, now time.Time) (Status, bool) {
	if s.ID == "" {
		return Status{}, false
	}
	if _, known := statusRank[s.Status]; !known {
		return Status{}, false
	}
	d := Delivery{Status: s.Status, At: unixTime(s.Timestamp, now)}
	if len(s.Errors) > 0 {
		d.ErrorCode = s.Errors[0].Code
		d.ErrorTitle = s.Errors[0].Title
		if d.ErrorTitle == "" {
			d.ErrorTitle = s.Errors[0].Message
		}
	}
	st := Status{PhoneNumberID: number, MessageID: s.ID, Recipient: s.RecipientID, Delivery: d}
	if s.RecipientType == "group" {
		st.Recipient, st.Member = GroupPrefix+s.RecipientID, s.RecipientParticipantID
	}
	return st, true
}
