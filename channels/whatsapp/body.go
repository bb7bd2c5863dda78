package whatsapp

import (
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/chatcampaigns/campaign/channels/metahook"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// The request bodies of every message are built here with appends rather than as maps
// through encoding/json: a reply and a read receipt go for nearly every message, and the
// maps and reflection cost more than the rest of the request but the HTTP itself. Each is
// byte for byte what json.Marshal writes for the map buildMessages builds (keys in order,
// strings escaped by metahook.AppendString), which body_test.go checks.

// isPlainText says out is a text reply alone: no template, buttons or media.
func isPlainText(out engine.Outbound) bool {
	return out.Template == nil && len(out.Buttons) == 0 && out.MediaURL == "" && out.Text != ""
}

// appendTextMessage appends the request body of the plain text reply out (isPlainText).
func appendTextMessage(dst []byte, out engine.Outbound) ([]byte, error) {
	if n := utf8.RuneCountInString(out.Text); n > MaxTextLen {
		return nil, fmt.Errorf("whatsapp: text of %d characters, more than %d: %w", n, MaxTextLen, errs.ErrInvalid)
	}
	kind, to, err := recipientOf(out.To)
	if err != nil {
		return nil, err
	}
	dst = append(dst, '{')
	if out.ID != 0 {
		dst = append(dst, `"biz_opaque_callback_data":"`...)
		dst = strconv.AppendInt(dst, out.ID, 10)
		dst = append(dst, `",`...)
	}
	dst = append(dst, `"messaging_product":"whatsapp","recipient_type":`...)
	dst = metahook.AppendString(dst, kind)
	dst = append(dst, `,"text":{"body":`...)
	dst = metahook.AppendString(dst, out.Text)
	dst = append(dst, `,"preview_url":`...)
	dst = strconv.AppendBool(dst, previewURL(out.Text))
	dst = append(dst, `},"to":`...)
	dst = metahook.AppendString(dst, to)
	return append(dst, `,"type":"text"}`...), nil
}

// appendMarkRead appends the body of a request marking messageID read, with the typing
// indicator when typing.
func appendMarkRead(dst []byte, messageID string, typing bool) []byte {
	dst = append(dst, `{"message_id":`...)
	dst = metahook.AppendString(dst, messageID)
	dst = append(dst, `,"messaging_product":"whatsapp","status":"read"`...)
	if typing {
		dst = append(dst, `,"typing_indicator":{"type":"text"}`...)
	}
	return append(dst, '}')
}
