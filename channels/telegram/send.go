package telegram

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
	MaxTextLen    = 4096
	MaxCaptionLen = 1024
	// MaxCallbackData is the most bytes a button's callback_data holds.
	MaxCallbackData = 64
)

// APIError is an error the Bot API answered with ({"ok":false,"error_code":…}). Permanent
// errors fail again however often they are tried (a blocked bot, a chat that is gone, a bad
// request); the others (429, 5xx) are left after the channel's own bounded retries, for the
// engine to try again later.
type APIError struct {
	Method      string
	Code        int
	Description string
	// Wait is parameters.retry_after: how long Telegram asks the bot to wait.
	Wait time.Duration
	// MigrateTo is parameters.migrate_to_chat_id: the supergroup a group became.
	MigrateTo int64
	Permanent bool
}

func (e *APIError) Error() string {
	kind := "transient"
	if e.Permanent {
		kind = "permanent"
	}
	return fmt.Sprintf("telegram: %s: %s error %d: %s", e.Method, kind, e.Code, e.Description)
}

// Unwrap lets errors.Is see the matching errs kind: a refused token is ErrUnauthorized, other
// permanent errors ErrInvalid.
func (e *APIError) Unwrap() error {
	switch {
	case e.Code == http.StatusUnauthorized:
		return errs.ErrUnauthorized
	case e.Permanent:
		return errs.ErrInvalid
	}
	return nil
}

// Temporary says whether trying again later may succeed.
func (e *APIError) Temporary() bool { return !e.Permanent }

// RetryAfter is how long Telegram asked the bot to wait (engine.RetryAfter): the engine sends
// the reply again no earlier.
func (e *APIError) RetryAfter() time.Duration { return e.Wait }

// pacedError is a send the pacer could not fit before the send's deadline: the engine tries it
// again later, when the chat's window has room.
type pacedError struct{ wait time.Duration }

func (p pacedError) Error() string {
	return fmt.Sprintf("telegram: the chat's pace allows the next message in %s; sending later", p.wait)
}
func (p pacedError) Temporary() bool { return true }

// RetryAfter is when the chat's pace has room again (engine.RetryAfter).
func (p pacedError) RetryAfter() time.Duration { return p.wait }

// answer is the Bot API's envelope.
type answer struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  *struct {
		RetryAfter      int   `json:"retry_after"`
		MigrateToChatID int64 `json:"migrate_to_chat_id"`
	} `json:"parameters"`
}

// call makes one Bot API request with a JSON body and decodes its result into result (when
// not nil). It does not retry; transport errors are returned as they are.
func (c *Channel) call(ctx context.Context, method string, params, result any) error {
	body, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("telegram: %s: encode: %w", method, err)
	}
	rctx, cancel := context.WithTimeout(ctx, c.cfg.SendTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, c.cfg.APIURL+"/bot"+c.cfg.Token+"/"+method, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("telegram: %s: %w", method, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("telegram: %s: %w", method, hideURL(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("telegram: %s: read answer: %w", method, err)
	}
	var a answer
	if err := json.Unmarshal(data, &a); err != nil {
		if resp.StatusCode == http.StatusOK {
			return fmt.Errorf("telegram: %s: unreadable answer: %w", method, err)
		}
		a = answer{ErrorCode: resp.StatusCode, Description: http.StatusText(resp.StatusCode)}
	}
	if !a.OK {
		e := &APIError{Method: method, Code: a.ErrorCode, Description: a.Description}
		if e.Code == 0 {
			e.Code = resp.StatusCode
		}
		if p := a.Parameters; p != nil {
			e.Wait = time.Duration(p.RetryAfter) * time.Second
			e.MigrateTo = p.MigrateToChatID
		}
		e.Permanent = e.Code != http.StatusTooManyRequests && e.Code < 500 && e.MigrateTo == 0
		return e
	}
	if result != nil {
		if err := json.Unmarshal(a.Result, result); err != nil {
			return fmt.Errorf("telegram: %s: unreadable result: %w", method, err)
		}
	}
	return nil
}

// sentMessage is what the send methods answer with, what the channel uses of it.
type sentMessage struct {
	MessageID int64 `json:"message_id"`
	Chat      Chat  `json:"chat"`
}

// Send delivers one reply and returns "chat_id:message_id". The request is built from out:
//
//   - MediaURL: sendPhoto, sendVideo, sendVoice, sendAudio or sendDocument by link (kind from
//     the extension), Text as its caption;
//   - otherwise sendMessage with Text;
//   - Buttons: an inline keyboard under either, one button a row, each button's id as its
//     callback_data (a tap comes back as a callback query, engine.KindChoice).
//
// Templates are a WhatsApp matter; Telegram has no messaging window, so the engine never sets
// one for this channel. To is the chat id; a group upgraded to a supergroup is written to at
// its new id. Sends are paced (Config.ChatInterval, GroupPerMinute, BotPerSecond) and retried
// after a 429 (waiting its retry_after) or a 5xx at most MaxRetries times. Errors are
// *APIError when Telegram refused, errs.ErrInvalid when the reply cannot be expressed on
// Telegram, or a transport error (not retried here: the message may have arrived).
func (c *Channel) Send(ctx context.Context, out engine.Outbound) (string, error) {
	method, params, err := buildRequest(out)
	if err != nil {
		return "", err
	}
	chat := c.currentChat(ctx, out.To)
	for attempt, moved := 0, false; ; attempt++ {
		params["chat_id"] = chat
		if err := c.pace(ctx, chat); err != nil {
			return "", err
		}
		var m sentMessage
		err := c.call(ctx, method, params, &m)
		var apiErr *APIError
		switch {
		case err == nil:
			return strconv.FormatInt(m.Chat.ID, 10) + ":" + strconv.FormatInt(m.MessageID, 10), nil
		case !errors.As(err, &apiErr):
			return "", err
		case apiErr.MigrateTo != 0 && !moved:
			// The group became a supergroup and this is the first we hear of it: remember the
			// new id and write there.
			moved = true
			chat = strconv.FormatInt(apiErr.MigrateTo, 10)
			if err := c.migrated(ctx, out.To, chat); err != nil {
				c.cfg.Log.Warn("telegram: group became a supergroup", "err", err)
			}
			attempt--
			continue
		case apiErr.Permanent || attempt >= c.cfg.MaxRetries:
			return "", apiErr
		}
		d := apiErr.Wait
		if d <= 0 {
			d = min(time.Second<<attempt, 30*time.Second)
		}
		// A context's deadline is on the real clock, whatever clock the channel is given.
		if dl, ok := ctx.Deadline(); ok && d > time.Until(dl) {
			// Waiting would outlast the send's deadline: the engine tries again later.
			return "", apiErr
		}
		c.cfg.Log.Info("telegram: send refused for now; retrying", "code", apiErr.Code, "retry_after", d, "attempt", attempt+1)
		if err := c.cfg.Sleep(ctx, d); err != nil {
			return "", err
		}
	}
}

// pace waits for chat's next slot, or gives the send back when the slot lies past ctx's
// deadline.
func (c *Channel) pace(ctx context.Context, chat string) error {
	limit := time.Duration(1<<63 - 1)
	if dl, ok := ctx.Deadline(); ok {
		limit = time.Until(dl) - time.Second
	}
	d, ok := c.pacer.reserve(chat, strings.HasPrefix(chat, "-"), c.cfg.Now(), limit)
	if !ok {
		return pacedError{d}
	}
	return c.cfg.Sleep(ctx, d)
}

// buildRequest picks the send method for out and fills its parameters, all but chat_id.
func buildRequest(out engine.Outbound) (string, map[string]any, error) {
	if out.To == "" {
		return "", nil, fmt.Errorf("telegram: no chat to send to: %w", errs.ErrInvalid)
	}
	if _, err := strconv.ParseInt(out.To, 10, 64); err != nil {
		return "", nil, fmt.Errorf("telegram: chat %q is not a chat id: %w", out.To, errs.ErrInvalid)
	}
	params := map[string]any{}
	method := "sendMessage"
	if out.MediaURL != "" {
		var field string
		method, field = mediaMethod(out.MediaURL)
		params[field] = out.MediaURL
		if out.Text != "" {
			if n := utf8.RuneCountInString(out.Text); n > MaxCaptionLen {
				return "", nil, fmt.Errorf("telegram: caption of %d characters, more than %d: %w", n, MaxCaptionLen, errs.ErrInvalid)
			}
			params["caption"] = out.Text
		}
	} else {
		if strings.TrimSpace(out.Text) == "" {
			return "", nil, fmt.Errorf("telegram: empty reply: %w", errs.ErrInvalid)
		}
		if n := utf8.RuneCountInString(out.Text); n > MaxTextLen {
			return "", nil, fmt.Errorf("telegram: text of %d characters, more than %d: %w", n, MaxTextLen, errs.ErrInvalid)
		}
		params["text"] = out.Text
	}
	if len(out.Buttons) > 0 {
		rows := make([][]map[string]string, len(out.Buttons))
		for i, b := range out.Buttons {
			if b.ID == "" || b.Title == "" {
				return "", nil, fmt.Errorf("telegram: button without id or title: %w", errs.ErrInvalid)
			}
			if len(b.ID) > MaxCallbackData {
				return "", nil, fmt.Errorf("telegram: button id %q longer than %d bytes: %w", b.ID, MaxCallbackData, errs.ErrInvalid)
			}
			rows[i] = []map[string]string{{"text": b.Title, "callback_data": b.ID}}
		}
		params["reply_markup"] = map[string]any{"inline_keyboard": rows}
	}
	return method, params, nil
}

// mediaMethod picks the send method and its file field from a link's extension; what it
// cannot place goes as a document, which Telegram delivers whatever it is.
func mediaMethod(link string) (method, field string) {
	p := link
	if u, err := url.Parse(link); err == nil {
		p = u.Path
	}
	switch strings.ToLower(path.Ext(p)) {
	case ".jpg", ".jpeg", ".png", ".webp":
		return "sendPhoto", "photo"
	case ".mp4", ".mov":
		return "sendVideo", "video"
	case ".ogg", ".oga", ".opus":
		// Telegram plays OGG/OPUS as a voice message.
		return "sendVoice", "voice"
	case ".mp3", ".m4a":
		return "sendAudio", "audio"
	}
	return "sendDocument", "document"
}

// answerCallback stops the button's spinner; a failure costs only the spinner, so it is
// logged, not returned.
func (c *Channel) answerCallback(ctx context.Context, id string) {
	if id == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := c.call(ctx, "answerCallbackQuery", map[string]any{"callback_query_id": id}, nil); err != nil {
		c.cfg.Log.Warn("telegram: answer callback query", "err", err)
	}
}

// say sends a message of the channel's own (the answer to a file above the download limit),
// paced like any other.
func (c *Channel) say(ctx context.Context, chat, text string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := c.Send(ctx, engine.Outbound{To: chat, Text: text}); err != nil {
		c.cfg.Log.Warn("telegram: tell the chat", "chat", chat, "err", err)
	}
}

// hideURL drops the URL from a transport error: it holds the bot's token, which must not
// reach a log.
func hideURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
