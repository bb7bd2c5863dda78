package whatsapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// Platform limits on what one message may carry.
const (
	MaxTextLen        = 4096
	MaxCaptionLen     = 1024
	MaxButtons        = 3
	MaxButtonTitleLen = 20
	MaxListRows       = 10
	MaxRowTitleLen    = 24
	// CustomerServiceWindow is how long after the participant's last message free-form
	// replies are allowed.
	CustomerServiceWindow = 24 * time.Hour
	// listButton is the label of the button that opens a list.
	listButton = "Choose"
)

// APIError is an error the Graph API answered with. Permanent errors will fail again however
// often they are retried (not on WhatsApp, outside the 24-hour window, expired token, bad
// template): the engine records Code and Title on the message and does not retry it.
// Non-permanent errors are left after the channel's own bounded retries.
type APIError struct {
	HTTPStatus int
	Code       int
	Title      string
	Details    string
	Permanent  bool
}

func (e *APIError) Error() string {
	kind := "transient"
	if e.Permanent {
		kind = "permanent"
	}
	s := fmt.Sprintf("whatsapp: %s error %d (HTTP %d): %s", kind, e.Code, e.HTTPStatus, e.Title)
	if e.Details != "" {
		s += ": " + e.Details
	}
	return s
}

// Unwrap lets errors.Is see the matching errs kind: expired or missing credentials are
// ErrUnauthorized, other permanent errors ErrInvalid. The platform's marketing refusals also
// match the engine's (engine.ErrMarketingOptOut, ErrMarketingLimit, ErrSpamRate), so the
// broadcast pacer can act on them without knowing WhatsApp's codes.
func (e *APIError) Unwrap() []error {
	var out []error
	switch {
	case e.Code == 0 || e.Code == 190:
		out = append(out, errs.ErrUnauthorized)
	case e.Permanent:
		out = append(out, errs.ErrInvalid)
	}
	if m, ok := marketingRefusals[e.Code]; ok {
		out = append(out, m)
	}
	return out
}

// marketingRefusals are the codes with which the platform holds back a business-initiated
// message for the recipient's or the number's sake (channels.md 1.9).
var marketingRefusals = map[int]error{
	131050: engine.ErrMarketingOptOut,
	131049: engine.ErrMarketingLimit,
	131048: engine.ErrSpamRate,
}

// retryable are the codes worth retrying (rate limits, service unavailable, maintenance).
var retryable = map[int]bool{
	130429: true, 131056: true, 4: true, 80007: true,
	131000: true, 131016: true, 133004: true, 1: true, 2: true, 131057: true,
}

// graphError is the documented error body.
type graphError struct {
	Error struct {
		Message   string `json:"message"`
		Code      int    `json:"code"`
		ErrorData struct {
			Details string `json:"details"`
		} `json:"error_data"`
		ErrorUserTitle string `json:"error_user_title"`
	} `json:"error"`
}

func parseAPIError(status int, body []byte) *APIError {
	var g graphError
	e := &APIError{HTTPStatus: status, Code: -1}
	read := decodeGraphError(body, &g)
	if !read {
		// Not read exactly (decode.go): encoding/json decides.
		g = graphError{}
		read = json.Unmarshal(body, &g) == nil
	}
	if read && (g.Error.Message != "" || g.Error.Code != 0) {
		e.Code = g.Error.Code
		e.Title = g.Error.Message
		if e.Title == "" {
			e.Title = g.Error.ErrorUserTitle
		}
		e.Details = g.Error.ErrorData.Details
	} else {
		e.Title = http.StatusText(status)
	}
	// Meta says to key on the code; a code not known to be retryable is still retried when
	// the HTTP status says the platform, not the request, was the problem.
	e.Permanent = !retryable[e.Code] && status != http.StatusTooManyRequests && status < 500
	return e
}

// backoff is how long to wait before retry number attempt (0-based) after e.
func backoff(e *APIError, attempt int) time.Duration {
	if e.Code == 131056 {
		// Meta's advice for the pair rate limit: 4^X seconds.
		return time.Duration(1<<(2*attempt)) * time.Second
	}
	d := time.Second << attempt
	return min(d, 30*time.Second)
}

// Send delivers one reply and returns its wamid. The message is built from out:
//
//   - out.Template set: the template, and nothing else. The engine sets Template only when it
//     must be used (the participant's 24-hour window is closed); Text is then ignored.
//   - Buttons: up to MaxButtons with titles of at most MaxButtonTitleLen characters become
//     reply buttons (with MediaURL as an image, video or document header); more, up to
//     MaxListRows, become a list (no media). Text is the body and must not be empty.
//   - MediaURL: the media by link, kind from the URL's extension, Text as the caption.
//     Audio carries no caption, so the text follows as a second message.
//   - Otherwise: Text, with a link preview when it contains a URL.
//
// A reply without a template to a participant whose LastInboundAt is 24 hours or more ago
// is refused with a permanent *APIError code 131047 before any request is made.
//
// To is the participant's WhatsApp id (a leading "+" is added) or GroupPrefix+group id. The
// sending number is out.From (the business number the participant wrote to: their chat and
// their 24-hour window are with it), else Config.SenderNumber(out.Campaign), else
// PhoneNumberID. Sends are spaced
// by the number's rate limit and retried on rate-limit and transient errors with backoff,
// at most MaxRetries times. Errors are *APIError when the platform refused (Permanent says
// whether a later retry could succeed), errs.ErrInvalid when the reply cannot be expressed
// on WhatsApp (too long, too many buttons), or a transport error (not retried here: the
// request may have arrived, and a second copy would reach the participant).
func (c *Channel) Send(ctx context.Context, out engine.Outbound) (string, error) {
	number := out.From
	if number == "" {
		number = c.number(out.Campaign)
	}
	if number == "" {
		return "", fmt.Errorf("whatsapp: no sending number for campaign %q (WHATSAPP_PHONE_NUMBER_ID): %w", out.Campaign, errs.ErrInvalid)
	}
	if out.Template == nil && !out.LastInboundAt.IsZero() && c.cfg.Now().Sub(out.LastInboundAt) >= CustomerServiceWindow {
		// The platform would refuse it with 131047; refusing here costs no request and
		// says the same.
		return "", &APIError{Code: 131047, Permanent: true,
			Title: "More than 24 hours have passed since the recipient last replied; only a template may be sent"}
	}
	if isPlainText(out) {
		// Most replies: built with appends, not a map through encoding/json.
		body, err := appendTextMessage(make([]byte, 0, 192+len(out.Text)), out)
		if err != nil {
			return "", err
		}
		return c.post(ctx, number, body)
	}
	msgs, err := buildMessages(out)
	if err != nil {
		return "", err
	}
	var first string
	for _, m := range msgs {
		body, err := json.Marshal(m)
		if err != nil {
			return first, fmt.Errorf("whatsapp: encode messages request: %w", err)
		}
		id, err := c.post(ctx, number, body)
		if err != nil {
			return first, err
		}
		if first == "" {
			first = id
		}
	}
	return first, nil
}

func (c *Channel) number(campaign string) string {
	if c.cfg.SenderNumber != nil {
		if n := c.cfg.SenderNumber(campaign); n != "" {
			return n
		}
	}
	return c.cfg.PhoneNumberID
}

// MarkRead marks an inbound message read on the default number, and with typing shows the
// typing indicator until the reply is sent or 25 seconds pass. Only show it when a reply
// follows. Not supported for group messages.
func (c *Channel) MarkRead(ctx context.Context, messageID string, typing bool) error {
	return c.MarkReadOn(ctx, c.cfg.PhoneNumberID, messageID, typing)
}

// MarkReadOn is MarkRead for a message that arrived on the business number phoneNumberID.
func (c *Channel) MarkReadOn(ctx context.Context, phoneNumberID, messageID string, typing bool) error {
	if messageID == "" {
		return fmt.Errorf("whatsapp: mark read: no message id: %w", errs.ErrInvalid)
	}
	_, err := c.post(ctx, phoneNumberID, appendMarkRead(make([]byte, 0, 128+len(messageID)), messageID, typing))
	return err
}

// sendResponse is the documented answer to a send.
type sendResponse struct {
	Messages []struct {
		ID string `json:"id"`
	} `json:"messages"`
	Success bool `json:"success"`
}

// post sends one request body to /{number}/messages with rate limiting and retries and
// returns the wamid of the message (empty for a mark-read request).
func (c *Channel) post(ctx context.Context, number string, body []byte) (string, error) {
	data, err := c.postTo(ctx, number, "messages", body)
	if err != nil {
		return "", err
	}
	return answerID(data)
}

// answerID is the wamid an answer to a request to /messages gives, "" for a read receipt's
// success, or an error for anything else.
func answerID(data []byte) (string, error) {
	var a sendAnswer
	if !decodeSendAnswer(data, &a) {
		// Not read exactly (decode.go): encoding/json decides.
		var r sendResponse
		if err := json.Unmarshal(data, &r); err != nil {
			return "", fmt.Errorf("whatsapp: send: unreadable answer: %w", err)
		}
		a = sendAnswer{HasMessage: len(r.Messages) > 0, Success: r.Success}
		if a.HasMessage {
			a.ID = r.Messages[0].ID
		}
	}
	if a.HasMessage {
		return a.ID, nil
	}
	if a.Success {
		return "", nil
	}
	return "", errors.New("whatsapp: send: answer without a message id")
}

// postTo sends one JSON request body to /{number}/{edge} with rate limiting and retries and
// returns the platform's answer.
func (c *Channel) postTo(ctx context.Context, number, edge string, body []byte) ([]byte, error) {
	endpoint := c.endpoint(number, edge)
	for attempt := 0; ; attempt++ {
		if err := c.cfg.Sleep(ctx, c.limiter.reserve(number, c.cfg.Now())); err != nil {
			return nil, err
		}
		data, apiErr, err := c.postOnce(ctx, endpoint, body)
		if err != nil {
			return nil, err
		}
		if apiErr == nil {
			return data, nil
		}
		if apiErr.Permanent || attempt >= c.cfg.MaxRetries {
			return nil, apiErr
		}
		c.cfg.Log.Info("whatsapp: request refused for now; retrying", "edge", edge, "code", apiErr.Code, "attempt", attempt+1)
		if err := c.cfg.Sleep(ctx, backoff(apiErr, attempt)); err != nil {
			return nil, err
		}
	}
}

func (c *Channel) postOnce(ctx context.Context, endpoint string, body []byte) ([]byte, *APIError, error) {
	if c.fast != nil {
		return c.postFast(ctx, endpoint, body)
	}
	rctx, cancel := c.withSendTimeout(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, nil, fmt.Errorf("whatsapp: send: %w", err)
	}
	// Set as they are (canonical keys, values made once): Header.Set canonicalizes the key
	// and allocates a slice for the value, for every request.
	req.Header["Authorization"] = c.auth
	req.Header["Content-Type"] = jsonContentType
	resp, err := c.roundTrip(req)
	if err != nil {
		return nil, nil, fmt.Errorf("whatsapp: send: %w", err)
	}
	defer resp.Body.Close()
	data, err := readAnswer(resp)
	if err != nil {
		return nil, nil, fmt.Errorf("whatsapp: send: read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, parseAPIError(resp.StatusCode, data), nil
	}
	return data, nil, nil
}

// withSendTimeout bounds one request by SendTimeout, unless ctx ends no later anyway (a read
// receipt has 10 s of its own): a second deadline would cost its context and timer for
// nothing.
func (c *Channel) withSendTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= c.cfg.SendTimeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, c.cfg.SendTimeout)
}

// roundTrip sends a request to the Graph API. With the channel's own client it goes to the
// transport directly: http.Client.Do copied the headers for redirects the Graph API does not
// make and set a deadline of its own (2 minutes, behind SendTimeout's) with its context and
// timer, for every request. HTTPS, HTTP/2, proxies from the environment and the connection
// pool are the transport's, and errors read as Do's did ("Post \"…\": …"). A client a caller
// gave (Config.HTTPClient) is used as given.
func (c *Channel) roundTrip(req *http.Request) (*http.Response, error) {
	if c.transport == nil {
		return c.cfg.HTTPClient.Do(req)
	}
	resp, err := c.transport.RoundTrip(req)
	if err != nil {
		return nil, &url.Error{Op: "Post", URL: req.URL.String(), Err: err}
	}
	return resp, nil
}

// maxAnswer is the most of a Graph API answer read.
const maxAnswer = 1 << 20

// readAnswer reads an answer's body (at most maxAnswer), into a buffer of its declared size
// when it has one: io.ReadAll starts at 512 bytes and grows.
func readAnswer(resp *http.Response) ([]byte, error) {
	if n := resp.ContentLength; n >= 0 && n <= maxAnswer {
		data := make([]byte, n)
		_, err := io.ReadFull(resp.Body, data)
		return data, err
	}
	return io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
}

var jsonContentType = []string{"application/json"}

// endpointKey names a Graph API edge of a number.
type endpointKey struct{ number, edge string }

// endpoint is the URL of /{number}/{edge}, made once per number and edge.
func (c *Channel) endpoint(number, edge string) string {
	k := endpointKey{number, edge}
	c.endpointsMu.RLock()
	e, ok := c.endpoints[k]
	c.endpointsMu.RUnlock()
	if ok {
		return e
	}
	e = c.cfg.APIURL + "/" + url.PathEscape(number) + "/" + edge
	c.endpointsMu.Lock()
	if len(c.endpoints) < maxEndpoints {
		c.endpoints[k] = e
	}
	c.endpointsMu.Unlock()
	return e
}

// maxEndpoints bounds the URLs kept: a server has a few sending numbers, but the numbers
// come from campaigns and webhooks.
const maxEndpoints = 1024

// recipient fills in to and recipient_type (recipientOf).
func recipient(m map[string]any, to string) error {
	kind, addr, err := recipientOf(to)
	if err != nil {
		return err
	}
	m["recipient_type"] = kind
	m["to"] = addr
	return nil
}

// recipientOf returns the recipient_type and to of a request to to: "individual" and "+" and
// the number for a person, "group" and the bare id for a group.
func recipientOf(to string) (kind, addr string, err error) {
	if g, ok := strings.CutPrefix(to, GroupPrefix); ok {
		if g == "" {
			return "", "", fmt.Errorf("whatsapp: empty group id: %w", errs.ErrInvalid)
		}
		return "group", g, nil
	}
	digits := strings.TrimPrefix(to, "+")
	if digits == "" {
		return "", "", fmt.Errorf("whatsapp: no recipient: %w", errs.ErrInvalid)
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			return "", "", fmt.Errorf("whatsapp: recipient %q is not a phone number: %w", to, errs.ErrInvalid)
		}
	}
	if len(to) > len(digits) {
		return "individual", to, nil // already "+" and the digits
	}
	return "individual", "+" + digits, nil
}

// buildMessages turns an outbound reply into the request bodies that carry it (one, or two for
// audio with text).
func buildMessages(out engine.Outbound) ([]map[string]any, error) {
	if len(out.Buttons) > 0 && strings.HasPrefix(out.To, GroupPrefix) {
		out = inGroup(out)
	}
	base := func(typ string, obj any) (map[string]any, error) {
		m := map[string]any{"messaging_product": "whatsapp", "type": typ, typ: obj}
		if err := recipient(m, out.To); err != nil {
			return nil, err
		}
		if out.ID != 0 {
			// Echoed in status webhooks: ties a status to the outbox row even if the wamid
			// was never recorded (a crash right after the send).
			m["biz_opaque_callback_data"] = strconv.FormatInt(out.ID, 10)
		}
		return m, nil
	}
	one := func(m map[string]any, err error) ([]map[string]any, error) {
		if err != nil {
			return nil, err
		}
		return []map[string]any{m}, nil
	}
	if utf8.RuneCountInString(out.Text) > MaxTextLen {
		return nil, fmt.Errorf("whatsapp: text of %d characters, more than %d: %w", utf8.RuneCountInString(out.Text), MaxTextLen, errs.ErrInvalid)
	}
	switch {
	case out.Template != nil:
		return one(base("template", templateObject(out.Template)))
	case len(out.Buttons) > 0:
		obj, err := interactive(out)
		if err != nil {
			return nil, err
		}
		return one(base("interactive", obj))
	case out.MediaURL != "":
		kind := mediaKind(out.MediaURL)
		obj := map[string]any{"link": out.MediaURL}
		if kind == "audio" {
			audio, err := base("audio", obj)
			if err != nil || out.Text == "" {
				return one(audio, err)
			}
			text, err := base("text", textObject(out.Text))
			if err != nil {
				return nil, err
			}
			return []map[string]any{audio, text}, nil
		}
		if out.Text != "" {
			if utf8.RuneCountInString(out.Text) > MaxCaptionLen {
				return nil, fmt.Errorf("whatsapp: caption of %d characters, more than %d: %w", utf8.RuneCountInString(out.Text), MaxCaptionLen, errs.ErrInvalid)
			}
			obj["caption"] = out.Text
		}
		if kind == "document" {
			if name := fileName(out.MediaURL); name != "" {
				obj["filename"] = name
			}
		}
		return one(base(kind, obj))
	case out.Text != "":
		return one(base("text", textObject(out.Text)))
	}
	return nil, fmt.Errorf("whatsapp: empty reply: %w", errs.ErrInvalid)
}

// inGroup is a reply with buttons as a group can get it: groups get no buttons or lists, so
// the titles follow the text, one a line; a member who types one has tapped it (the engine
// takes a typed title as the tap).
func inGroup(out engine.Outbound) engine.Outbound {
	var b strings.Builder
	b.WriteString(out.Text)
	for _, btn := range out.Buttons {
		b.WriteString("\n• ")
		b.WriteString(btn.Title)
	}
	out.Text, out.Buttons = strings.TrimPrefix(b.String(), "\n"), nil
	return out
}

func textObject(text string) map[string]any {
	return map[string]any{"preview_url": previewURL(text), "body": text}
}

// previewURL says whether a text gets a link preview: when it contains a URL.
func previewURL(text string) bool {
	return strings.Contains(text, "https://") || strings.Contains(text, "http://")
}

func templateObject(t *engine.TemplateCall) map[string]any {
	lang := t.Language
	if lang == "" {
		lang = "en"
	}
	obj := map[string]any{
		"name":     t.Name,
		"language": map[string]string{"code": lang, "policy": "deterministic"},
	}
	if len(t.Params) > 0 {
		params := make([]map[string]string, len(t.Params))
		for i, p := range t.Params {
			params[i] = map[string]string{"type": "text", "text": p}
		}
		obj["components"] = []map[string]any{{"type": "body", "parameters": params}}
	}
	return obj
}

func interactive(out engine.Outbound) (map[string]any, error) {
	if strings.TrimSpace(out.Text) == "" {
		return nil, fmt.Errorf("whatsapp: buttons need a text: %w", errs.ErrInvalid)
	}
	fitsButtons := len(out.Buttons) <= MaxButtons
	for _, b := range out.Buttons {
		if b.ID == "" || b.Title == "" {
			return nil, fmt.Errorf("whatsapp: button without id or title: %w", errs.ErrInvalid)
		}
		if utf8.RuneCountInString(b.Title) > MaxButtonTitleLen {
			fitsButtons = false
		}
	}
	if fitsButtons {
		if utf8.RuneCountInString(out.Text) > MaxCaptionLen {
			return nil, fmt.Errorf("whatsapp: button text of %d characters, more than %d: %w", utf8.RuneCountInString(out.Text), MaxCaptionLen, errs.ErrInvalid)
		}
		buttons := make([]map[string]any, len(out.Buttons))
		for i, b := range out.Buttons {
			buttons[i] = map[string]any{"type": "reply", "reply": map[string]string{"id": b.ID, "title": b.Title}}
		}
		obj := map[string]any{
			"type":   "button",
			"body":   map[string]string{"text": out.Text},
			"action": map[string]any{"buttons": buttons},
		}
		if out.MediaURL != "" {
			kind := mediaKind(out.MediaURL)
			if kind == "audio" {
				return nil, fmt.Errorf("whatsapp: audio cannot head reply buttons: %w", errs.ErrInvalid)
			}
			obj["header"] = map[string]any{"type": kind, kind: map[string]string{"link": out.MediaURL}}
		}
		return obj, nil
	}
	if len(out.Buttons) > MaxListRows {
		return nil, fmt.Errorf("whatsapp: %d choices, more than the %d a list holds: %w", len(out.Buttons), MaxListRows, errs.ErrInvalid)
	}
	if out.MediaURL != "" {
		return nil, fmt.Errorf("whatsapp: a list cannot carry media: %w", errs.ErrInvalid)
	}
	rows := make([]map[string]string, len(out.Buttons))
	for i, b := range out.Buttons {
		if utf8.RuneCountInString(b.Title) > MaxRowTitleLen {
			return nil, fmt.Errorf("whatsapp: choice %q longer than %d characters: %w", b.Title, MaxRowTitleLen, errs.ErrInvalid)
		}
		rows[i] = map[string]string{"id": b.ID, "title": b.Title}
	}
	return map[string]any{
		"type": "list",
		"body": map[string]string{"text": out.Text},
		"action": map[string]any{
			"button":   listButton,
			"sections": []map[string]any{{"rows": rows}},
		},
	}, nil
}

// mediaKind guesses the WhatsApp media type from a link's extension; what it cannot place is
// sent as a document, which WhatsApp delivers whatever it is.
func mediaKind(link string) string {
	p := link
	if u, err := url.Parse(link); err == nil {
		p = u.Path
	}
	switch strings.ToLower(path.Ext(p)) {
	case ".jpg", ".jpeg", ".png":
		return "image"
	case ".mp4", ".3gp":
		return "video"
	case ".ogg", ".opus", ".mp3", ".m4a", ".aac", ".amr":
		return "audio"
	}
	return "document"
}

func fileName(link string) string {
	u, err := url.Parse(link)
	if err != nil {
		return ""
	}
	name := path.Base(u.Path)
	if name == "." || name == "/" {
		return ""
	}
	return name
}
