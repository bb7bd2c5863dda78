package messenger

import (
	"cmp"
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/chatcampaigns/campaign/channels/metahook"
	"github.com/chatcampaigns/campaign/engine"
)

// Webhook is one webhook body, normalized.
type Webhook struct {
	// Messages are the participants' messages and postbacks of every entry, ordered by their
	// timestamp (Meta may deliver out of order after failures).
	Messages []Message
	// Delivered are the mids of sent messages a delivery receipt reports.
	Delivered []Receipt
}

// Message is one inbound message, normalized.
type Message struct {
	// PageID is the Page the participant wrote to.
	PageID string
	// Inbound has Channel, PlatformID (the mid; mid#2 and on for a message's further
	// attachments), From (the page-scoped id), Kind, Text, Choice, ReplyTo and At.
	Inbound engine.Inbound
	// Media is set for an attachment the channel fetches.
	Media *Attachment
	// Skip, when set, says why the message has no effect (an echo, a reaction).
	Skip string
}

// Attachment is an attachment as the webhook announces it.
type Attachment struct {
	// Kind is photo, video, audio or document (engine.Media's kinds).
	Kind string
	URL  string
}

// Receipt is one delivery receipt for a sent message.
type Receipt struct {
	MID string
	At  time.Time
}

type envelope struct {
	Object string `json:"object"`
	Entry  []struct {
		ID string `json:"id"`
		// Each event is decoded on its own, so that one in an odd shape is skipped rather
		// than refusing the whole batch.
		Messaging []json.RawMessage `json:"messaging"`
	} `json:"entry"`
}

type attachment struct {
	Type    string `json:"type"`
	Payload *struct {
		URL       string      `json:"url"`
		StickerID json.Number `json:"sticker_id"`
	} `json:"payload"`
}

type event struct {
	Sender struct {
		ID string `json:"id"`
	} `json:"sender"`
	Recipient struct {
		ID string `json:"id"`
	} `json:"recipient"`
	Timestamp json.Number `json:"timestamp"`
	Message   *struct {
		MID        string `json:"mid"`
		Text       string `json:"text"`
		IsEcho     bool   `json:"is_echo"`
		QuickReply *struct {
			Payload string `json:"payload"`
		} `json:"quick_reply"`
		ReplyTo *struct {
			MID string `json:"mid"`
		} `json:"reply_to"`
		Attachments []attachment `json:"attachments"`
	} `json:"message"`
	Postback *struct {
		MID     string `json:"mid"`
		Title   string `json:"title"`
		Payload string `json:"payload"`
	} `json:"postback"`
	Delivery *struct {
		MIDs      []string    `json:"mids"`
		Watermark json.Number `json:"watermark"`
	} `json:"delivery"`
	Read     *struct{} `json:"read"`
	Reaction *struct{} `json:"reaction"`
}

// attachmentKinds maps Messenger's attachment types to engine.Media kinds; the others (a
// shared post, a reel, a fallback link) are not entries.
var attachmentKinds = map[string]string{"image": "photo", "video": "video", "audio": "audio", "file": "document"}

// ParseWebhook normalizes a webhook body. It fails, wrapping errs.ErrInvalid, only when the
// body is not a JSON object in the documented shape; unknown events and attachment types are
// skipped or normalized to engine.KindUnsupported, so one odd event cannot hold back the rest
// of a batch. now stamps events without a readable timestamp.
func ParseWebhook(body []byte, now time.Time) (*Webhook, error) {
	var env envelope
	if err := metahook.Decode(ChannelName, body, &env); err != nil {
		return nil, err
	}
	w := &Webhook{}
	if env.Object != "page" {
		// An app subscribed for Instagram too gets those webhooks here; they are not ours.
		return w, nil
	}
	for _, e := range env.Entry {
		for _, raw := range e.Messaging {
			var ev event
			if err := json.Unmarshal(raw, &ev); err != nil {
				w.Messages = append(w.Messages, Message{PageID: e.ID, Skip: "event not in the documented shape: " + err.Error(),
					Inbound: engine.Inbound{Channel: ChannelName, At: now}})
				continue
			}
			w.add(e.ID, ev, now)
		}
	}
	slices.SortStableFunc(w.Messages, func(a, b Message) int { return a.Inbound.At.Compare(b.Inbound.At) })
	return w, nil
}

// millis reads a timestamp in milliseconds since 1970 (Messenger's), or now when it is not one.
func millis(n json.Number, now time.Time) time.Time {
	ms, err := strconv.ParseInt(n.String(), 10, 64)
	// Before 2011 (the Send API's birth) or far in the future is not a real timestamp.
	if err != nil || ms < 1_300_000_000_000 || ms > 1<<50 {
		return now
	}
	return time.UnixMilli(ms).UTC()
}

func (w *Webhook) add(page string, ev event, now time.Time) {
	at := millis(ev.Timestamp, now)
	if d := ev.Delivery; d != nil {
		for _, mid := range d.MIDs {
			if mid != "" {
				w.Delivered = append(w.Delivered, Receipt{MID: mid, At: millis(d.Watermark, at)})
			}
		}
		return
	}
	in := engine.Inbound{Channel: ChannelName, From: ev.Sender.ID, At: at}
	msg := Message{PageID: cmp.Or(ev.Recipient.ID, page), Inbound: in}
	skip := func(reason string) {
		msg.Skip = reason
		w.Messages = append(w.Messages, msg)
	}
	switch {
	case ev.Postback != nil:
		pb := ev.Postback
		// A postback from the Get Started button or the persistent menu has no mid; the
		// sender and time identify it as well for dedupe.
		msg.Inbound.PlatformID = cmp.Or(pb.MID, "postback:"+ev.Sender.ID+":"+ev.Timestamp.String())
		msg.Inbound.Kind, msg.Inbound.Choice, msg.Inbound.Text = engine.KindChoice, pb.Payload, pb.Title
		if pb.Payload == "" && pb.Title == "" {
			msg.Inbound.Kind = engine.KindUnsupported
			msg.Inbound.Text = "postback"
		}
	case ev.Message != nil:
		m := ev.Message
		msg.Inbound.PlatformID = m.MID
		if m.ReplyTo != nil {
			msg.Inbound.ReplyTo = m.ReplyTo.MID
		}
		switch {
		case m.IsEcho:
			skip("echo of a message the page sent")
			return
		case m.QuickReply != nil:
			msg.Inbound.Kind, msg.Inbound.Choice, msg.Inbound.Text = engine.KindChoice, m.QuickReply.Payload, m.Text
		case len(m.Attachments) > 0:
			w.attachments(msg, m.Text, m.Attachments)
			return
		case m.Text != "":
			msg.Inbound.Kind, msg.Inbound.Text = engine.KindText, m.Text
		default:
			msg.Inbound.Kind, msg.Inbound.Text = engine.KindUnsupported, "message"
		}
	case ev.Read != nil:
		skip("read receipt")
		return
	case ev.Reaction != nil:
		// A reaction is not an answer: a 👍 must not move a participant on by accident.
		skip("reaction")
		return
	default:
		skip("event the channel does not use")
		return
	}
	if msg.Inbound.PlatformID == "" || msg.Inbound.From == "" {
		skip("event without a mid or a sender")
		return
	}
	w.Messages = append(w.Messages, msg)
}

// attachments adds one message per attachment: Messenger sends several photos as one
// message, and each is an entry of its own. The first keeps the mid (and the text, as its
// caption); the others get mid#2, mid#3, so each is deduplicated on a redelivery.
func (w *Webhook) attachments(base Message, text string, atts []attachment) {
	if base.Inbound.PlatformID == "" || base.Inbound.From == "" {
		base.Skip = "event without a mid or a sender"
		w.Messages = append(w.Messages, base)
		return
	}
	for i, a := range atts {
		msg := base
		if i > 0 {
			msg.Inbound.PlatformID = base.Inbound.PlatformID + "#" + strconv.Itoa(i+1)
			text = ""
		}
		kind, ok := attachmentKinds[a.Type]
		switch {
		case a.Payload != nil && a.Payload.StickerID != "":
			// Stickers (the like button too) are decoration, not entries.
			msg.Inbound.Kind, msg.Inbound.Text = engine.KindUnsupported, "sticker"
		case !ok || a.Payload == nil || a.Payload.URL == "":
			msg.Inbound.Kind, msg.Inbound.Text = engine.KindUnsupported, cmp.Or(a.Type, "attachment")
		default:
			msg.Inbound.Kind, msg.Inbound.Text = engine.KindMedia, text
			msg.Media = &Attachment{Kind: kind, URL: a.Payload.URL}
		}
		w.Messages = append(w.Messages, msg)
	}
}
