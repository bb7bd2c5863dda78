package whatsapp

import "github.com/chatcampaigns/campaign/channels/metahook"

// The webhook envelope read without reflection (metahook.Reader): every message and status
// goes through here, and encoding/json's reflection was most of the parse. Each function
// fills exactly what json.Unmarshal fills for the tags of parse.go and groups.go; a body it
// does not read exactly fails the Reader, and ParseWebhook decodes it with encoding/json
// instead (FuzzDecodeEnvelope compares the two on every input). A new field of the envelope
// goes into both: its tag, and a case here (with its name in the struct's field list, so
// that a key differing only in case is left to encoding/json).

// decodeEnvelope reads body into env and reports whether it read it exactly.
func decodeEnvelope(body []byte, env *envelope) bool {
	r := metahook.NewReader(body)
	if r.Null() {
		// encoding/json leaves env as it is for a null; so does ParseWebhook's fallback.
		return false
	}
	var seen uint64
	for more := r.Object(); more; more = r.Next() {
		switch string(r.Key()) {
		case "object":
			r.Dup(&seen, 0)
			env.Object = constant(r.StringBytes())
		case "entry":
			r.Dup(&seen, 1)
			env.Entry = readList(&r, env.Entry, readEntry)
		default:
			r.Skip(envelopeFields)
		}
	}
	return r.End()
}

var (
	envelopeFields = []string{"object", "entry"}
	entryFields    = []string{"id", "time", "changes"}
	changeFields   = []string{"field", "value"}
	valueFields    = []string{"metadata", "contacts", "messages", "statuses", "groups", "errors", "display_phone_number",
		"event", "current_limit", "max_daily_conversations_per_business", "old_limit", "user_preferences"}
	metadataFields   = []string{"phone_number_id"}
	contactFields    = []string{"profile", "wa_id"}
	profileFields    = []string{"name"}
	preferenceFields = []string{"wa_id", "category", "value", "detail", "timestamp"}
	mediaFields      = []string{"id", "mime_type", "sha256", "caption", "filename", "voice"}
	messageFields    = []string{"from", "id", "timestamp", "type", "group_id", "context", "text", "image", "video",
		"audio", "document", "sticker", "location", "contacts", "interactive", "button", "reaction", "errors"}
	idFields          = []string{"id"}
	bodyFields        = []string{"body"}
	locationFields    = []string{"latitude", "longitude", "name", "address"}
	sharedFields      = []string{"name", "phones"}
	formattedFields   = []string{"formatted_name"}
	phoneFields       = []string{"phone"}
	interactiveFields = []string{"type", "button_reply", "list_reply"}
	choiceFields      = []string{"id", "title"}
	buttonFields      = []string{"payload", "text"}
	reactionFields    = []string{"message_id", "emoji"}
	errorFields       = []string{"code", "title", "message", "error_data"}
	errorDataFields   = []string{"details"}
	statusFields      = []string{"id", "status", "timestamp", "recipient_id", "recipient_type", "recipient_participant_id", "errors"}
	groupFields       = []string{"type", "group_id", "request_id", "invite_link", "errors", "added_participants", "removed_participants"}
	groupMemberFields = []string{"wa_id"}
)

// constant is s as a string, one of the values the platform repeats in every webhook (the
// object, the field, message types, statuses) without allocating for it.
func constant(s []byte) string {
	switch string(s) {
	case "":
		return ""
	case "whatsapp_business_account":
		return "whatsapp_business_account"
	case "messages":
		return "messages"
	case "text":
		return "text"
	case "image":
		return "image"
	case "video":
		return "video"
	case "audio":
		return "audio"
	case "document":
		return "document"
	case "sticker":
		return "sticker"
	case "location":
		return "location"
	case "contacts":
		return "contacts"
	case "interactive":
		return "interactive"
	case "button":
		return "button"
	case "reaction":
		return "reaction"
	case "button_reply":
		return "button_reply"
	case "list_reply":
		return "list_reply"
	case StatusSent:
		return StatusSent
	case StatusDelivered:
		return StatusDelivered
	case StatusRead:
		return StatusRead
	case StatusFailed:
		return StatusFailed
	case StatusPlayed:
		return StatusPlayed
	case "individual":
		return "individual"
	case "group":
		return "group"
	}
	return string(s)
}

// readList reads an array of T into a list as encoding/json does: null leaves it nil, [] is
// an empty list that is not nil.
func readList[T any](r *metahook.Reader, list []T, read func(*metahook.Reader, *T)) []T {
	if r.Null() {
		return list
	}
	list = []T{}
	for more := r.Array(); more; more = r.NextElem() {
		var zero T
		list = append(list, zero)
		read(r, &list[len(list)-1])
	}
	return list
}

func readEntry(r *metahook.Reader, e *entry) {
	var seen uint64
	for more := r.Object(); more; more = r.Next() {
		switch string(r.Key()) {
		case "id":
			r.Dup(&seen, 0)
			e.ID = r.String()
		case "time":
			r.Dup(&seen, 1)
			e.Time = r.Raw()
		case "changes":
			r.Dup(&seen, 2)
			e.Changes = readList(r, e.Changes, readChange)
		default:
			r.Skip(entryFields)
		}
	}
}

func readChange(r *metahook.Reader, c *change) {
	var seen uint64
	for more := r.Object(); more; more = r.Next() {
		switch string(r.Key()) {
		case "field":
			r.Dup(&seen, 0)
			c.Field = constant(r.StringBytes())
		case "value":
			r.Dup(&seen, 1)
			readValue(r, &c.Value)
		default:
			r.Skip(changeFields)
		}
	}
}

func readValue(r *metahook.Reader, v *value) {
	var seen uint64
	for more := r.Object(); more; more = r.Next() {
		switch string(r.Key()) {
		case "metadata":
			r.Dup(&seen, 0)
			var mseen uint64
			for more := r.Object(); more; more = r.Next() {
				if string(r.Key()) != "phone_number_id" {
					r.Skip(metadataFields)
					continue
				}
				r.Dup(&mseen, 0)
				v.Metadata.PhoneNumberID = r.String()
			}
		case "contacts":
			r.Dup(&seen, 1)
			v.Contacts = readList(r, v.Contacts, readContact)
		case "messages":
			r.Dup(&seen, 2)
			v.Messages = readList(r, v.Messages, readMessage)
		case "statuses":
			r.Dup(&seen, 3)
			v.Statuses = readList(r, v.Statuses, readStatus)
		case "groups":
			r.Dup(&seen, 4)
			v.Groups = readList(r, v.Groups, readGroup)
		case "errors":
			r.Dup(&seen, 5)
			v.Errors = readList(r, v.Errors, readError)
		case "display_phone_number":
			r.Dup(&seen, 6)
			v.DisplayPhoneNumber = r.String()
		case "event":
			r.Dup(&seen, 7)
			v.Event = r.String()
		case "current_limit":
			r.Dup(&seen, 8)
			v.CurrentLimit = r.String()
		case "max_daily_conversations_per_business":
			r.Dup(&seen, 9)
			v.MaxDaily = r.String()
		case "old_limit":
			r.Dup(&seen, 10)
			v.OldLimit = r.String()
		case "user_preferences":
			r.Dup(&seen, 11)
			v.UserPreferences = readList(r, v.UserPreferences, readPreference)
		default:
			r.Skip(valueFields)
		}
	}
}

func readContact(r *metahook.Reader, c *contact) {
	var seen uint64
	for more := r.Object(); more; more = r.Next() {
		switch string(r.Key()) {
		case "profile":
			r.Dup(&seen, 0)
			var pseen uint64
			for more := r.Object(); more; more = r.Next() {
				if string(r.Key()) != "name" {
					r.Skip(profileFields)
					continue
				}
				r.Dup(&pseen, 0)
				c.Profile.Name = r.String()
			}
		case "wa_id":
			r.Dup(&seen, 1)
			c.WaID = r.String()
		default:
			r.Skip(contactFields)
		}
	}
}

func readPreference(r *metahook.Reader, p *userPreference) {
	var seen uint64
	for more := r.Object(); more; more = r.Next() {
		switch string(r.Key()) {
		case "wa_id":
			r.Dup(&seen, 0)
			p.WaID = r.String()
		case "category":
			r.Dup(&seen, 1)
			p.Category = r.String()
		case "value":
			r.Dup(&seen, 2)
			p.Value = r.String()
		case "detail":
			r.Dup(&seen, 3)
			p.Detail = r.String()
		case "timestamp":
			r.Dup(&seen, 4)
			p.At = r.Raw()
		default:
			r.Skip(preferenceFields)
		}
	}
}

func readMessage(r *metahook.Reader, m *message) {
	var seen uint64
	for more := r.Object(); more; more = r.Next() {
		switch string(r.Key()) {
		case "from":
			r.Dup(&seen, 0)
			m.From = r.String()
		case "id":
			r.Dup(&seen, 1)
			m.ID = r.String()
		case "timestamp":
			r.Dup(&seen, 2)
			m.Timestamp = r.String()
		case "type":
			r.Dup(&seen, 3)
			m.Type = constant(r.StringBytes())
		case "group_id":
			r.Dup(&seen, 4)
			m.GroupID = r.String()
		case "context":
			r.Dup(&seen, 5)
			m.Context = readPointer(r, m.Context, func(r *metahook.Reader, c *msgContext) {
				readOne(r, "id", idFields, &c.ID)
			})
		case "text":
			r.Dup(&seen, 6)
			m.Text = readPointer(r, m.Text, func(r *metahook.Reader, t *msgText) {
				readOne(r, "body", bodyFields, &t.Body)
			})
		case "image":
			r.Dup(&seen, 7)
			m.Image = readPointer(r, m.Image, readMedia)
		case "video":
			r.Dup(&seen, 8)
			m.Video = readPointer(r, m.Video, readMedia)
		case "audio":
			r.Dup(&seen, 9)
			m.Audio = readPointer(r, m.Audio, readMedia)
		case "document":
			r.Dup(&seen, 10)
			m.Document = readPointer(r, m.Document, readMedia)
		case "sticker":
			r.Dup(&seen, 11)
			m.Sticker = readPointer(r, m.Sticker, readMedia)
		case "location":
			r.Dup(&seen, 12)
			m.Location = readPointer(r, m.Location, readLocation)
		case "contacts":
			r.Dup(&seen, 13)
			m.Contacts = readList(r, m.Contacts, readShared)
		case "interactive":
			r.Dup(&seen, 14)
			m.Interactive = readPointer(r, m.Interactive, readInteractive)
		case "button":
			r.Dup(&seen, 15)
			m.Button = readPointer(r, m.Button, func(r *metahook.Reader, b *msgButton) {
				readTwo(r, "payload", "text", buttonFields, &b.Payload, &b.Text)
			})
		case "reaction":
			r.Dup(&seen, 16)
			m.Reaction = readPointer(r, m.Reaction, func(r *metahook.Reader, x *msgReaction) {
				readTwo(r, "message_id", "emoji", reactionFields, &x.MessageID, &x.Emoji)
			})
		case "errors":
			r.Dup(&seen, 17)
			m.Errors = readList(r, m.Errors, readError)
		default:
			r.Skip(messageFields)
		}
	}
}

// readPointer reads an object into a new T, as encoding/json fills a pointer field: a null
// leaves it nil.
func readPointer[T any](r *metahook.Reader, p *T, read func(*metahook.Reader, *T)) *T {
	if r.Null() {
		return p
	}
	p = new(T)
	read(r, p)
	return p
}

// readOne reads an object of one string field, key.
func readOne(r *metahook.Reader, key string, fields []string, dst *string) {
	var seen uint64
	for more := r.Object(); more; more = r.Next() {
		if string(r.Key()) != key {
			r.Skip(fields)
			continue
		}
		r.Dup(&seen, 0)
		*dst = r.String()
	}
}

// readTwo reads an object of two string fields, k1 and k2.
func readTwo(r *metahook.Reader, k1, k2 string, fields []string, d1, d2 *string) {
	var seen uint64
	for more := r.Object(); more; more = r.Next() {
		switch string(r.Key()) {
		case k1:
			r.Dup(&seen, 0)
			*d1 = r.String()
		case k2:
			r.Dup(&seen, 1)
			*d2 = r.String()
		default:
			r.Skip(fields)
		}
	}
}

func readMedia(r *metahook.Reader, o *mediaObject) {
	var seen uint64
	for more := r.Object(); more; more = r.Next() {
		switch string(r.Key()) {
		case "id":
			r.Dup(&seen, 0)
			o.ID = r.String()
		case "mime_type":
			r.Dup(&seen, 1)
			o.MIME = r.String()
		case "sha256":
			r.Dup(&seen, 2)
			o.SHA256 = r.String()
		case "caption":
			r.Dup(&seen, 3)
			o.Caption = r.String()
		case "filename":
			r.Dup(&seen, 4)
			o.Filename = r.String()
		case "voice":
			r.Dup(&seen, 5)
			o.Voice = r.Bool()
		default:
			r.Skip(mediaFields)
		}
	}
}

func readLocation(r *metahook.Reader, l *msgLocation) {
	var seen uint64
	for more := r.Object(); more; more = r.Next() {
		switch string(r.Key()) {
		case "latitude":
			r.Dup(&seen, 0)
			l.Latitude = r.Float()
		case "longitude":
			r.Dup(&seen, 1)
			l.Longitude = r.Float()
		case "name":
			r.Dup(&seen, 2)
			l.Name = r.String()
		case "address":
			r.Dup(&seen, 3)
			l.Address = r.String()
		default:
			r.Skip(locationFields)
		}
	}
}

func readShared(r *metahook.Reader, c *sharedContact) {
	var seen uint64
	for more := r.Object(); more; more = r.Next() {
		switch string(r.Key()) {
		case "name":
			r.Dup(&seen, 0)
			readOne(r, "formatted_name", formattedFields, &c.Name.FormattedName)
		case "phones":
			r.Dup(&seen, 1)
			c.Phones = readList(r, c.Phones, readPhone)
		default:
			r.Skip(sharedFields)
		}
	}
}

func readPhone(r *metahook.Reader, p *sharedPhone) { readOne(r, "phone", phoneFields, &p.Phone) }

func readInteractive(r *metahook.Reader, x *msgInteractive) {
	var seen uint64
	for more := r.Object(); more; more = r.Next() {
		switch string(r.Key()) {
		case "type":
			r.Dup(&seen, 0)
			x.Type = constant(r.StringBytes())
		case "button_reply":
			r.Dup(&seen, 1)
			x.ButtonReply = readPointer(r, x.ButtonReply, readChoice)
		case "list_reply":
			r.Dup(&seen, 2)
			x.ListReply = readPointer(r, x.ListReply, readChoice)
		default:
			r.Skip(interactiveFields)
		}
	}
}

func readChoice(r *metahook.Reader, c *msgChoice) {
	readTwo(r, "id", "title", choiceFields, &c.ID, &c.Title)
}

func readError(r *metahook.Reader, e *ErrorInfo) {
	var seen uint64
	for more := r.Object(); more; more = r.Next() {
		switch string(r.Key()) {
		case "code":
			r.Dup(&seen, 0)
			e.Code = r.Int()
		case "title":
			r.Dup(&seen, 1)
			e.Title = r.String()
		case "message":
			r.Dup(&seen, 2)
			e.Message = r.String()
		case "error_data":
			r.Dup(&seen, 3)
			readOne(r, "details", errorDataFields, &e.Data.Details)
		default:
			r.Skip(errorFields)
		}
	}
}

func readStatus(r *metahook.Reader, s *status) {
	var seen uint64
	for more := r.Object(); more; more = r.Next() {
		switch string(r.Key()) {
		case "id":
			r.Dup(&seen, 0)
			s.ID = r.String()
		case "status":
			r.Dup(&seen, 1)
			s.Status = constant(r.StringBytes())
		case "timestamp":
			r.Dup(&seen, 2)
			s.Timestamp = r.String()
		case "recipient_id":
			r.Dup(&seen, 3)
			s.RecipientID = r.String()
		case "recipient_type":
			r.Dup(&seen, 4)
			s.RecipientType = constant(r.StringBytes())
		case "recipient_participant_id":
			r.Dup(&seen, 5)
			s.RecipientParticipantID = r.String()
		case "errors":
			r.Dup(&seen, 6)
			s.Errors = readList(r, s.Errors, readError)
		default:
			r.Skip(statusFields)
		}
	}
}

func readGroup(r *metahook.Reader, g *groupChange) {
	var seen uint64
	for more := r.Object(); more; more = r.Next() {
		switch string(r.Key()) {
		case "type":
			r.Dup(&seen, 0)
			g.Type = r.String()
		case "group_id":
			r.Dup(&seen, 1)
			g.GroupID = r.String()
		case "request_id":
			r.Dup(&seen, 2)
			g.RequestID = r.String()
		case "invite_link":
			r.Dup(&seen, 3)
			g.InviteLink = r.String()
		case "errors":
			r.Dup(&seen, 4)
			g.Errors = readList(r, g.Errors, readError)
		case "added_participants":
			r.Dup(&seen, 5)
			g.Added = readList(r, g.Added, readGroupMember)
		case "removed_participants":
			r.Dup(&seen, 6)
			g.Removed = readList(r, g.Removed, readGroupMember)
		default:
			r.Skip(groupFields)
		}
	}
}

func readGroupMember(r *metahook.Reader, m *groupMember) {
	readOne(r, "wa_id", groupMemberFields, &m.WaID)
}

var (
	sendAnswerFields  = []string{"messages", "success"}
	graphErrorFields  = []string{"error"}
	graphErrorDetails = []string{"message", "code", "error_data", "error_user_title"}
)

// sendAnswer is what post takes from the answer to a send or a read receipt: the first
// message's id, whether there was a message, and success.
type sendAnswer struct {
	ID         string
	HasMessage bool
	Success    bool
}

// decodeSendAnswer reads the answer to a request to /messages (sendResponse) and reports
// whether it read it exactly; the list of messages is not kept, only what post uses of it.
func decodeSendAnswer(data []byte, a *sendAnswer) bool {
	r := metahook.NewReader(data)
	if r.Null() {
		return false
	}
	var seen uint64
	for more := r.Object(); more; more = r.Next() {
		switch string(r.Key()) {
		case "messages":
			r.Dup(&seen, 0)
			if r.Null() {
				continue
			}
			for more := r.Array(); more; more = r.NextElem() {
				first := !a.HasMessage
				a.HasMessage = true
				var iseen uint64
				for more := r.Object(); more; more = r.Next() {
					if string(r.Key()) != "id" {
						r.Skip(idFields)
						continue
					}
					r.Dup(&iseen, 0)
					if first {
						a.ID = r.String()
					} else {
						r.StringBytes()
					}
				}
			}
		case "success":
			r.Dup(&seen, 1)
			a.Success = r.Bool()
		default:
			r.Skip(sendAnswerFields)
		}
	}
	return r.End()
}

// decodeGraphError reads the documented error body into g and reports whether it read it
// exactly.
func decodeGraphError(data []byte, g *graphError) bool {
	r := metahook.NewReader(data)
	if r.Null() {
		return false
	}
	var seen uint64
	for more := r.Object(); more; more = r.Next() {
		if string(r.Key()) != "error" {
			r.Skip(graphErrorFields)
			continue
		}
		r.Dup(&seen, 0)
		var eseen uint64
		e := &g.Error
		for more := r.Object(); more; more = r.Next() {
			switch string(r.Key()) {
			case "message":
				r.Dup(&eseen, 0)
				e.Message = r.String()
			case "code":
				r.Dup(&eseen, 1)
				e.Code = r.Int()
			case "error_data":
				r.Dup(&eseen, 2)
				readOne(&r, "details", errorDataFields, &e.ErrorData.Details)
			case "error_user_title":
				r.Dup(&eseen, 3)
				e.ErrorUserTitle = r.String()
			default:
				r.Skip(graphErrorDetails)
			}
		}
	}
	return r.End()
}
