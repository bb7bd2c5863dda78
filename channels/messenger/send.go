package messenger

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// Messaging types and the one tag the channel uses.
const (
	TypeResponse   = "RESPONSE"
	TypeMessageTag = "MESSAGE_TAG"
	TagHumanAgent  = "HUMAN_AGENT"
)

// What an APIError says happened, for the engine's record and the docs' table.
const (
	ErrRateLimited     = "rate limited"
	ErrWindowClosed    = "outside the messaging window"
	ErrUserUnavailable = "recipient unavailable"
	ErrAuth            = "page token refused"
	ErrRefused         = "refused"
	ErrPlatform        = "platform error"
)

// APIError is a send the Send API refused, or that the channel refused before asking it
// (Code 0): outside the window, a template. Temporary says whether a later try may succeed
// (rate limits, platform errors); the engine records the others on the reply for good.
type APIError struct {
	HTTPStatus int
	Code       int
	Subcode    int
	// Kind is one of the Err* constants.
	Kind    string
	Message string
}

func (e *APIError) Error() string {
	if e.HTTPStatus == 0 {
		return fmt.Sprintf("messenger: %s: %s (not sent)", e.Kind, e.Message)
	}
	return fmt.Sprintf("messenger: %s: error %d/%d (HTTP %d): %s", e.Kind, e.Code, e.Subcode, e.HTTPStatus, e.Message)
}

// Temporary reports whether the send may succeed later.
func (e *APIError) Temporary() bool { return e.Kind == ErrRateLimited || e.Kind == ErrPlatform }

// Unwrap lets errors.Is see the errs kind: a refused token is errs.ErrUnauthorized, every
// other permanent refusal errs.ErrInvalid.
func (e *APIError) Unwrap() error {
	switch {
	case e.Kind == ErrAuth:
		return errs.ErrUnauthorized
	case !e.Temporary():
		return errs.ErrInvalid
	}
	return nil
}

// classify maps a Send API error (code, subcode, HTTP status) to an APIError kind. Codes from
// the Send API reference's error table.
func classify(status, code, subcode int) string {
	switch {
	case code == 4 || code == 32 || code == 613 || status == http.StatusTooManyRequests:
		return ErrRateLimited
	case code == 10 && subcode == 2018278, code == 10 && subcode == 2018065, code == 100 && subcode == 2018109:
		return ErrWindowClosed
	case code == 551, code == 100 && subcode == 2018001, code == 200 && subcode == 1545041:
		return ErrUserUnavailable
	case code == 190 || code == 102 || status == http.StatusUnauthorized:
		return ErrAuth
	case code == 1 || code == 2 || code == -1 || status >= 500:
		return ErrPlatform
	}
	return ErrRefused
}

// Send delivers one reply through the Send API and returns the mid of its first message.
//
//   - Inside the 24-hour window (or to a stranger who just wrote): messaging_type RESPONSE.
//   - After it, a human agent's reply (out.Agent) up to 7 days after the participant's last
//     message: messaging_type MESSAGE_TAG with tag HUMAN_AGENT. Anything else is refused
//     with a permanent *APIError (ErrWindowClosed) and no request: nothing promotional
//     goes out outside the window. So is a reply carrying a template: Messenger has none.
//   - MediaURL: the media as an attachment by URL (image, video, audio or file, by the
//     link's extension), then the text as a message of its own (attachments have no caption).
//   - Buttons: a button template (postback buttons) when there are at most 3 with titles of
//     at most 20 characters and the text fits 640; else quick replies, up to 13; beyond
//     that the titles follow the text, one a line, and the participant types one (the
//     engine takes a typed title as the tap).
//
// Errors are *APIError when the platform (or the window) refused, errs.ErrInvalid when the
// reply cannot be expressed (too long), or a transport error.
func (c *Channel) Send(ctx context.Context, out engine.Outbound) (string, error) {
	kind, tag, err := c.messagingType(out)
	if err != nil {
		return "", err
	}
	msgs, err := buildMessages(out)
	if err != nil {
		return "", err
	}
	if len(out.Buttons) > 0 && msgs[len(msgs)-1]["quick_replies"] == nil && msgs[len(msgs)-1]["attachment"] == nil {
		c.cfg.Log.Info("messenger: buttons beyond a button template's and quick replies' limits sent as lines of text",
			"buttons", len(out.Buttons), "campaign", out.Campaign)
	}
	var first string
	for _, m := range msgs {
		body := map[string]any{"recipient": map[string]string{"id": out.To}, "messaging_type": kind, "message": m}
		if tag != "" {
			body["tag"] = tag
		}
		id, err := c.post(ctx, body)
		if err != nil {
			return first, err
		}
		if first == "" {
			first = id
		}
	}
	return first, nil
}

// messagingType says how a reply may go out now, or why it may not.
func (c *Channel) messagingType(out engine.Outbound) (kind, tag string, err error) {
	if out.Template != nil {
		return "", "", &APIError{Kind: ErrWindowClosed, Message: "Messenger has no message templates: outside the 24-hour window only a human agent's reply may be sent"}
	}
	if out.To == "" {
		return "", "", fmt.Errorf("messenger: no recipient: %w", errs.ErrInvalid)
	}
	age := c.cfg.Now().Sub(out.LastInboundAt)
	switch {
	case out.LastInboundAt.IsZero() || age < StandardWindow:
		return TypeResponse, "", nil
	case out.Agent != "" && age < HumanAgentWindow:
		return TypeMessageTag, TagHumanAgent, nil
	case out.Agent != "":
		return "", "", &APIError{Kind: ErrWindowClosed, Message: "more than 7 days since the participant's last message: not even a human agent may write"}
	}
	return "", "", &APIError{Kind: ErrWindowClosed, Message: "more than 24 hours since the participant's last message: only a human agent's reply may be sent (HUMAN_AGENT)"}
}

// buildMessages turns a reply into the message objects that carry it, in order.
func buildMessages(out engine.Outbound) ([]map[string]any, error) {
	if n := utf8.RuneCountInString(out.Text); n > MaxTextLen {
		return nil, fmt.Errorf("messenger: text of %d characters, more than %d: %w", n, MaxTextLen, errs.ErrInvalid)
	}
	var msgs []map[string]any
	if out.MediaURL != "" {
		msgs = append(msgs, map[string]any{"attachment": map[string]any{
			"type":    attachmentType(out.MediaURL),
			"payload": map[string]any{"url": out.MediaURL, "is_reusable": true},
		}})
	}
	switch {
	case len(out.Buttons) > 0:
		m, err := choices(out.Text, out.Buttons)
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, m)
	case out.Text != "":
		msgs = append(msgs, map[string]any{"text": out.Text})
	}
	if len(msgs) == 0 {
		return nil, fmt.Errorf("messenger: empty reply: %w", errs.ErrInvalid)
	}
	return msgs, nil
}

// choices is a text with buttons: a button template, quick replies, or the titles as lines.
func choices(text string, buttons []engine.Button) (map[string]any, error) {
	if strings.TrimSpace(text) == "" {
		return nil, fmt.Errorf("messenger: buttons need a text: %w", errs.ErrInvalid)
	}
	short := true
	for _, b := range buttons {
		if b.ID == "" || b.Title == "" {
			return nil, fmt.Errorf("messenger: button without id or title: %w", errs.ErrInvalid)
		}
		short = short && utf8.RuneCountInString(b.Title) <= MaxTitleLen
	}
	switch {
	case short && len(buttons) <= MaxTemplateButtons && utf8.RuneCountInString(text) <= MaxTemplateTextLen:
		list := make([]map[string]string, len(buttons))
		for i, b := range buttons {
			list[i] = map[string]string{"type": "postback", "title": b.Title, "payload": b.ID}
		}
		return map[string]any{"attachment": map[string]any{"type": "template", "payload": map[string]any{
			"template_type": "button", "text": text, "buttons": list,
		}}}, nil
	case short && len(buttons) <= MaxQuickReplies:
		list := make([]map[string]string, len(buttons))
		for i, b := range buttons {
			list[i] = map[string]string{"content_type": "text", "title": b.Title, "payload": b.ID}
		}
		return map[string]any{"text": text, "quick_replies": list}, nil
	}
	var sb strings.Builder
	sb.WriteString(text)
	for _, b := range buttons {
		sb.WriteString("\n• ")
		sb.WriteString(b.Title)
	}
	if n := utf8.RuneCountInString(sb.String()); n > MaxTextLen {
		return nil, fmt.Errorf("messenger: %d choices do not fit one message (%d characters): %w", len(buttons), n, errs.ErrInvalid)
	}
	return map[string]any{"text": sb.String()}, nil
}

// attachmentType guesses the attachment type from a link's extension; what it cannot place
// goes as a file, which Messenger delivers whatever it is.
func attachmentType(link string) string {
	p := link
	if u, err := url.Parse(link); err == nil {
		p = u.Path
	}
	switch strings.ToLower(path.Ext(p)) {
	case ".jpg", ".jpeg", ".png", ".gif", ".webp":
		return "image"
	case ".mp4", ".mov", ".webm":
		return "video"
	case ".mp3", ".m4a", ".aac", ".ogg", ".wav", ".opus":
		return "audio"
	}
	return "file"
}

// sendAnswer is the Send API's answer.
type sendAnswer struct {
	RecipientID string `json:"recipient_id"`
	MessageID   string `json:"message_id"`
}

// apiError reads the Graph API's error body (or, unreadable, the HTTP status alone).
func apiError(status int, body []byte) *APIError {
	var g struct {
		Error struct {
			Message string `json:"message"`
			Code    int    `json:"code"`
			Subcode int    `json:"error_subcode"`
		} `json:"error"`
	}
	e := &APIError{HTTPStatus: status, Code: -1, Message: http.StatusText(status)}
	if json.Unmarshal(body, &g) == nil && (g.Error.Code != 0 || g.Error.Message != "") {
		e.Code, e.Subcode, e.Message = g.Error.Code, g.Error.Subcode, g.Error.Message
	}
	e.Kind = classify(status, e.Code, e.Subcode)
	return e
}

// post makes one Send API request. It does not retry: a rate limit or platform error is
// Temporary, and the engine tries the reply again after its backoff.
func (c *Channel) post(ctx context.Context, payload map[string]any) (string, error) {
	body, err := json.Marshal(payload)
	if err != nil {
		return "", fmt.Errorf("messenger: encode message: %w", err)
	}
	data, status, err := c.call(ctx, http.MethodPost, "/me/messages", body)
	if err != nil {
		return "", err
	}
	var a sendAnswer
	if status != http.StatusOK {
		return "", apiError(status, data)
	}
	if json.Unmarshal(data, &a) != nil || a.MessageID == "" {
		return "", fmt.Errorf("messenger: send: answer without a message_id: %s", bytes.TrimSpace(data))
	}
	return a.MessageID, nil
}

// call makes one Graph API request with the page token and returns the answer's body.
func (c *Channel) call(ctx context.Context, method, endpoint string, body []byte) ([]byte, int, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.SendTimeout)
	defer cancel()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.cfg.APIURL+endpoint, r)
	if err != nil {
		return nil, 0, fmt.Errorf("messenger: %s: %w", endpoint, err)
	}
	// The Graph API takes the token as a Bearer header as well as access_token=: a header
	// keeps it out of proxies' access logs.
	req.Header.Set("Authorization", "Bearer "+c.cfg.PageToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("messenger: %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, 0, fmt.Errorf("messenger: %s: read answer: %w", endpoint, err)
	}
	return data, resp.StatusCode, nil
}
