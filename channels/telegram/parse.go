package telegram

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// Update is one webhook update, normalized: what it asks the channel to do.
type Update struct {
	// ID is the update_id, the dedupe key Telegram documents.
	ID int64
	// Chat is the chat the update happened in; Address is its id as the engine keeps it.
	Chat    Chat
	Address string
	// Member is who wrote or acted (in a private chat the participant, in a group the member).
	Member User
	// Inbound has Channel, PlatformID, From, Name, Kind, Text, Choice, Location, ReplyTo and
	// At filled for a message or a tapped button; Campaign, ParticipantID and Media are the
	// handler's business.
	Inbound engine.Inbound
	// Media is set for a file the channel fetches (photo, video, voice, audio, document).
	Media *FileRef
	// Start is set for a /start command; Payload is the deep link's payload after it.
	Start   bool
	Payload string
	// CallbackID is the callback query to answer (answerCallbackQuery).
	CallbackID string
	// Joined are members who came into a group (new_chat_members, chat_member).
	Joined []User
	// BotAdded says the bot was added to a group (my_chat_member: member or administrator).
	BotAdded bool
	// MigratedTo is the supergroup a group became (migrate_to_chat_id, in the old group);
	// MigratedFrom the group a supergroup was (migrate_from_chat_id, in the new one).
	MigratedTo, MigratedFrom int64
	// Skip, when set, says why the update has no effect on any campaign (an edit, a channel
	// post, a service message); it is logged and acknowledged.
	Skip string
}

// Chat is the documented Chat object, what the channel uses of it.
type Chat struct {
	ID        int64  `json:"id"`
	Type      string `json:"type"`
	Title     string `json:"title"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Username  string `json:"username"`
}

// Group reports whether the chat is a group or a supergroup.
func (c Chat) Group() bool { return c.Type == "group" || c.Type == "supergroup" }

// User is the documented User object, what the channel uses of it.
type User struct {
	ID           int64  `json:"id"`
	IsBot        bool   `json:"is_bot"`
	FirstName    string `json:"first_name"`
	LastName     string `json:"last_name"`
	Username     string `json:"username"`
	LanguageCode string `json:"language_code"`
}

// Name is the user's name as Telegram shows it.
func (u User) Name() string { return strings.TrimSpace(u.FirstName + " " + u.LastName) }

// FileRef is a file as an update announces it: an id to resolve with getFile.
type FileRef struct {
	FileID string
	// Kind is photo, video, audio or document (engine.Media's kinds).
	Kind string
	MIME string
	// Size is the file_size the update gives, 0 when it gives none.
	Size     int64
	Filename string
	Voice    bool
}

// update is the documented Update object; only what the channel uses is decoded.
type update struct {
	UpdateID          int64          `json:"update_id"`
	Message           *message       `json:"message"`
	EditedMessage     *message       `json:"edited_message"`
	ChannelPost       *message       `json:"channel_post"`
	EditedChannelPost *message       `json:"edited_channel_post"`
	CallbackQuery     *callbackQuery `json:"callback_query"`
	MyChatMember      *memberUpdated `json:"my_chat_member"`
	ChatMember        *memberUpdated `json:"chat_member"`
}

type file struct {
	FileID   string `json:"file_id"`
	FileSize int64  `json:"file_size"`
	MIME     string `json:"mime_type"`
	FileName string `json:"file_name"`
	Width    int64  `json:"width"`
	Height   int64  `json:"height"`
}

type message struct {
	MessageID int64  `json:"message_id"`
	From      *User  `json:"from"`
	Chat      Chat   `json:"chat"`
	Date      int64  `json:"date"`
	Text      string `json:"text"`
	Caption   string `json:"caption"`
	Photo     []file `json:"photo"`
	Video     *file  `json:"video"`
	VideoNote *file  `json:"video_note"`
	Voice     *file  `json:"voice"`
	Audio     *file  `json:"audio"`
	Document  *file  `json:"document"`
	Sticker   *file  `json:"sticker"`
	Location  *struct {
		Latitude  float64 `json:"latitude"`
		Longitude float64 `json:"longitude"`
	} `json:"location"`
	Venue *struct {
		Title   string `json:"title"`
		Address string `json:"address"`
	} `json:"venue"`
	Contact *struct {
		PhoneNumber string `json:"phone_number"`
		FirstName   string `json:"first_name"`
		LastName    string `json:"last_name"`
	} `json:"contact"`
	ReplyTo *struct {
		MessageID int64 `json:"message_id"`
	} `json:"reply_to_message"`
	NewChatMembers    []User `json:"new_chat_members"`
	LeftChatMember    *User  `json:"left_chat_member"`
	MigrateToChatID   int64  `json:"migrate_to_chat_id"`
	MigrateFromChatID int64  `json:"migrate_from_chat_id"`
	GroupChatCreated  bool   `json:"group_chat_created"`
	NewChatTitle      string `json:"new_chat_title"`
	ReplyMarkup       *struct {
		InlineKeyboard [][]struct {
			Text         string `json:"text"`
			CallbackData string `json:"callback_data"`
		} `json:"inline_keyboard"`
	} `json:"reply_markup"`
}

type callbackQuery struct {
	ID      string   `json:"id"`
	From    User     `json:"from"`
	Message *message `json:"message"`
	Data    string   `json:"data"`
}

type chatMember struct {
	Status string `json:"status"`
	User   User   `json:"user"`
}

type memberUpdated struct {
	Chat          Chat       `json:"chat"`
	From          User       `json:"from"`
	Date          int64      `json:"date"`
	OldChatMember chatMember `json:"old_chat_member"`
	NewChatMember chatMember `json:"new_chat_member"`
}

// ParseUpdate normalizes a webhook body. It fails, wrapping errs.ErrInvalid, only when the
// body is not one documented Update object with an update_id; unknown fields and kinds of
// update are skipped or normalized to engine.KindUnsupported, never an error. now stamps
// messages without a readable date.
func ParseUpdate(body []byte, now time.Time) (*Update, error) {
	var u update
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&u); err != nil {
		return nil, fmt.Errorf("telegram: update is not the documented JSON: %v: %w", err, errs.ErrInvalid)
	}
	if dec.More() {
		return nil, fmt.Errorf("telegram: update has data after the JSON object: %w", errs.ErrInvalid)
	}
	if u.UpdateID <= 0 {
		return nil, fmt.Errorf("telegram: update without an update_id: %w", errs.ErrInvalid)
	}
	out := &Update{ID: u.UpdateID}
	out.Inbound = engine.Inbound{Channel: ChannelName, PlatformID: strconv.FormatInt(u.UpdateID, 10)}
	switch {
	case u.Message != nil:
		out.fromMessage(u.Message, now)
	case u.CallbackQuery != nil:
		out.fromCallback(u.CallbackQuery, now)
	case u.MyChatMember != nil:
		out.fromMember(u.MyChatMember, true, now)
	case u.ChatMember != nil:
		out.fromMember(u.ChatMember, false, now)
	case u.EditedMessage != nil:
		// The engine acted on the message as first sent: a corrected caption taken as a new
		// message would be a second entry, a corrected answer a second answer. An edit is
		// acknowledged and changes nothing (docs/telegram.md).
		out.setChat(u.EditedMessage.Chat)
		out.Skip = "edited message"
	case u.ChannelPost != nil || u.EditedChannelPost != nil:
		out.Skip = "channel post"
	default:
		out.Skip = "update of a kind the channel does not use"
	}
	return out, nil
}

func (u *Update) setChat(c Chat) {
	u.Chat = c
	u.Address = strconv.FormatInt(c.ID, 10)
	u.Inbound.From = u.Address
	if c.Group() {
		u.Inbound.Name = c.Title
	}
}

func (u *Update) setMember(m User) {
	u.Member = m
	if !u.Chat.Group() {
		u.Inbound.Name = m.Name()
		u.Inbound.Locale = m.LanguageCode
	}
}

func unixTime(n int64, now time.Time) time.Time {
	// Anything before 2013 (Telegram's birth) or far in the future is not a real date.
	if n < 1_370_000_000 || n > 1<<40 {
		return now
	}
	return time.Unix(n, 0).UTC()
}

func (u *Update) fromMessage(m *message, now time.Time) {
	u.setChat(m.Chat)
	if m.From != nil {
		u.setMember(*m.From)
	}
	u.Inbound.At = unixTime(m.Date, now)
	if m.ReplyTo != nil {
		u.Inbound.ReplyTo = strconv.FormatInt(m.ReplyTo.MessageID, 10)
	}
	switch {
	case m.Chat.ID == 0:
		u.Skip = "message without a chat"
		return
	case m.Chat.Type == "channel":
		u.Skip = "channel post"
		return
	case m.MigrateToChatID != 0:
		u.MigratedTo = m.MigrateToChatID
		return
	case m.MigrateFromChatID != 0:
		u.MigratedFrom = m.MigrateFromChatID
		return
	case len(m.NewChatMembers) > 0:
		u.Joined = m.NewChatMembers
		return
	case m.From == nil || m.From.IsBot:
		u.Skip = "message from no one or from a bot"
		return
	case m.LeftChatMember != nil, m.GroupChatCreated, m.NewChatTitle != "":
		u.Skip = "service message"
		return
	}
	in := &u.Inbound
	media := func(kind string, f *file) {
		if f == nil || f.FileID == "" {
			in.Kind = engine.KindUnsupported
			in.Text = kind
			return
		}
		in.Kind = engine.KindMedia
		in.Text = m.Caption
		u.Media = &FileRef{FileID: f.FileID, Kind: kind, MIME: f.MIME, Size: f.FileSize, Filename: f.FileName}
	}
	switch {
	case m.Text != "":
		if payload, ok := startCommand(m.Text); ok {
			u.Start, u.Payload = true, payload
			in.Kind = engine.KindJoin
			in.Text = payload
			return
		}
		in.Kind = engine.KindText
		in.Text = m.Text
	case len(m.Photo) > 0:
		media("photo", largest(m.Photo))
		if u.Media != nil && u.Media.MIME == "" {
			u.Media.MIME = "image/jpeg" // Telegram re-encodes every photo as JPEG
		}
	case m.Video != nil:
		media("video", m.Video)
	case m.VideoNote != nil:
		media("video", m.VideoNote)
	case m.Voice != nil:
		media("audio", m.Voice)
		if u.Media != nil {
			u.Media.Voice = true
		}
	case m.Audio != nil:
		media("audio", m.Audio)
	case m.Document != nil:
		media("document", m.Document)
	case m.Sticker != nil:
		// Stickers are decoration, not entries; nothing is fetched.
		in.Kind = engine.KindUnsupported
		in.Text = "sticker"
	case m.Location != nil:
		in.Kind = engine.KindLocation
		in.Location = &engine.Location{Latitude: m.Location.Latitude, Longitude: m.Location.Longitude}
		if m.Venue != nil {
			in.Location.Name, in.Location.Address = m.Venue.Title, m.Venue.Address
		}
	case m.Contact != nil:
		in.Kind = engine.KindText
		in.Text = strings.TrimSpace("Shared contact: " + strings.TrimSpace(m.Contact.FirstName+" "+m.Contact.LastName) + " " + m.Contact.PhoneNumber)
	default:
		in.Kind = engine.KindUnsupported
		in.Text = "message"
	}
}

// startCommand splits "/start PAYLOAD" and "/start@bot_name PAYLOAD" (what a deep link sends
// in a private chat and in a group).
func startCommand(text string) (payload string, ok bool) {
	first, rest, _ := strings.Cut(strings.TrimSpace(text), " ")
	name, _, _ := strings.Cut(first, "@")
	if name != "/start" {
		return "", false
	}
	return strings.TrimSpace(rest), true
}

// largest is the photo size with the most pixels (Telegram lists them smallest first, but
// does not promise it), the bigger file on a tie.
func largest(sizes []file) *file {
	var best *file
	for i := range sizes {
		s := &sizes[i]
		if s.FileID == "" {
			continue
		}
		if best == nil || s.Width*s.Height > best.Width*best.Height ||
			s.Width*s.Height == best.Width*best.Height && s.FileSize > best.FileSize {
			best = s
		}
	}
	return best
}

func (u *Update) fromCallback(q *callbackQuery, now time.Time) {
	u.CallbackID = q.ID
	if q.Message == nil || q.Message.Chat.ID == 0 {
		// A button on a message the bot sent inline in someone else's chat: not ours.
		u.Skip = "callback query without its message"
		return
	}
	u.setChat(q.Message.Chat)
	u.setMember(q.From)
	u.Inbound.At = now
	u.Inbound.ReplyTo = strconv.FormatInt(q.Message.MessageID, 10)
	if q.Data == "" {
		u.Skip = "callback query without data"
		return
	}
	u.Inbound.Kind = engine.KindChoice
	u.Inbound.Choice = q.Data
	u.Inbound.Text = q.Data
	if q.Message.ReplyMarkup != nil {
		for _, row := range q.Message.ReplyMarkup.InlineKeyboard {
			for _, b := range row {
				if b.CallbackData == q.Data {
					u.Inbound.Text = b.Text
				}
			}
		}
	}
}

// present are the chat member statuses of someone in the chat.
var present = map[string]bool{"creator": true, "administrator": true, "member": true, "restricted": true}

func (u *Update) fromMember(m *memberUpdated, bot bool, now time.Time) {
	u.setChat(m.Chat)
	u.setMember(m.From)
	u.Inbound.At = unixTime(m.Date, now)
	in := present[m.NewChatMember.Status] && !present[m.OldChatMember.Status]
	switch {
	case !m.Chat.Group():
		// In a private chat this is the participant blocking or unblocking the bot; sends
		// to a blocked bot fail and are recorded as failed.
		u.Skip = "bot " + m.NewChatMember.Status + " in a private chat"
	case bot && in:
		u.BotAdded = true
	case bot:
		u.Skip = "bot is " + m.NewChatMember.Status + " in the group"
	case in && !m.NewChatMember.User.IsBot:
		u.Joined = []User{m.NewChatMember.User}
	default:
		u.Skip = "member " + m.NewChatMember.Status
	}
}
