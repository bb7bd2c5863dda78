// Package bottest is a fake Telegram Bot API on loopback for tests: it answers the documented
// methods the channel uses (setWebhook, getMe, getWebhookInfo, sendMessage and the media send
// methods, sendChatAction, answerCallbackQuery, getFile and the file download) at /bot{token}/{method} and
// /file/bot{token}/{path}, records every call, and answers with the documented error shapes
// on demand (a 429 with retry_after, a group upgraded to a supergroup). It also delivers
// updates to a webhook, so a test can play a participant or a group end to end.
package bottest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/chatcampaigns/campaign/channels/channeltest"
)

// Token is the bot token the server accepts.
const Token = "123456:bottest-token"

// BotID and BotUsername are who getMe says the bot is.
const (
	BotID       = 7000000001
	BotUsername = "campaign_bot"
)

// Call is one accepted Bot API request.
type Call struct {
	Method string
	// Params is the request's JSON body, decoded.
	Params map[string]any
	Raw    []byte
}

// ChatID returns the call's chat_id as text ("" when it has none).
func (c Call) ChatID() string {
	switch v := c.Params["chat_id"].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatInt(int64(v), 10)
	}
	return ""
}

// Text returns the call's text, or its caption.
func (c Call) Text() string {
	if s, ok := c.Params["text"].(string); ok {
		return s
	}
	s, _ := c.Params["caption"].(string)
	return s
}

type fileItem struct {
	path string
	data []byte
	size int64
}

type failure struct {
	method      string
	code        int
	description string
	retryAfter  int
}

// Server is the fake Bot API. Its methods are safe for concurrent use.
type Server struct {
	// URL is what TELEGRAM_API_URL should be set to.
	URL string
	// Log records every request the server receives, for the channel conformance harness.
	Log *channeltest.RequestLog

	mu        sync.Mutex
	calls     []Call
	files     map[string]fileItem
	fails     []failure
	migrated  map[string]int64
	webhook   map[string]any
	privacy   bool
	messageID int64
	observe   func(Call)
	srv       *httptest.Server
}

// Observe makes f see every call the server accepts, as it accepts it.
func (s *Server) Observe(f func(Call)) { s.mu.Lock(); s.observe = f; s.mu.Unlock() }

// accept records an accepted call (s.mu held).
func (s *Server) accept(c Call) {
	s.calls = append(s.calls, c)
	if s.observe != nil {
		s.observe(c)
	}
}

// New starts a fake Bot API on loopback and stops it when the test ends.
func New(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{files: map[string]fileItem{}, migrated: map[string]int64{}, privacy: true, messageID: 1000,
		Log: &channeltest.RequestLog{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /{bot}/{method}", s.handleMethod)
	mux.HandleFunc("GET /file/{bot}/{path...}", s.handleFile)
	s.srv = httptest.NewServer(s.Log.Wrap(mux))
	s.URL = s.srv.URL
	tb.Cleanup(s.srv.Close)
	return s
}

// Calls returns every accepted call so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Sent returns the messages sent so far (sendMessage, sendPhoto, …; not chat actions), in
// order.
func (s *Server) Sent() []Call {
	var out []Call
	for _, c := range s.Calls() {
		if strings.HasPrefix(c.Method, "send") && c.Method != "sendChatAction" {
			out = append(out, c)
		}
	}
	return out
}

// SentTo returns the messages sent to chat, in order.
func (s *Server) SentTo(chat string) []Call {
	var out []Call
	for _, c := range s.Sent() {
		if c.ChatID() == chat {
			out = append(out, c)
		}
	}
	return out
}

// Method returns the calls of one method, in order.
func (s *Server) Method(name string) []Call {
	var out []Call
	for _, c := range s.Calls() {
		if c.Method == name {
			out = append(out, c)
		}
	}
	return out
}

// AddFile makes fileID resolvable with getFile (at path) and downloadable.
func (s *Server) AddFile(fileID, path string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[fileID] = fileItem{path: path, data: append([]byte(nil), data...), size: int64(len(data))}
}

// AddBigFile makes fileID a file of size bytes: getFile refuses it with "file is too big"
// when size is over 20 MB, as the Bot API does.
func (s *Server) AddBigFile(fileID string, size int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[fileID] = fileItem{path: "big/" + fileID, size: size}
}

// Fail makes the next call of method (any method when empty) fail with the documented error
// body: code and description, and parameters.retry_after when retryAfter > 0.
func (s *Server) Fail(method string, code int, description string, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fails = append(s.fails, failure{method, code, description, retryAfter})
}

// Migrate makes chat a group upgraded to the supergroup to: sends to chat are refused with
// parameters.migrate_to_chat_id, as the Bot API does.
func (s *Server) Migrate(chat string, to int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.migrated[chat] = to
}

// PrivacyOff makes getMe say the bot reads all group messages.
func (s *Server) PrivacyOff() { s.mu.Lock(); s.privacy = false; s.mu.Unlock() }

// Webhook returns the parameters of the last setWebhook (nil before one).
func (s *Server) Webhook() map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhook
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func refuse(w http.ResponseWriter, code int, description string, params map[string]any) {
	body := map[string]any{"ok": false, "error_code": code, "description": description}
	if params != nil {
		body["parameters"] = params
	}
	writeJSON(w, code, body)
}

func ok(w http.ResponseWriter, result any) {
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "result": result})
}

func (s *Server) handleMethod(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("bot") != "bot"+Token {
		refuse(w, http.StatusUnauthorized, "Unauthorized", nil)
		return
	}
	method := r.PathValue("method")
	var raw bytes.Buffer
	if _, err := raw.ReadFrom(r.Body); err != nil {
		refuse(w, http.StatusBadRequest, "Bad Request: unreadable body", nil)
		return
	}
	params := map[string]any{}
	if raw.Len() > 0 {
		if err := json.Unmarshal(raw.Bytes(), &params); err != nil {
			refuse(w, http.StatusBadRequest, "Bad Request: can't parse JSON", nil)
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.fails {
		if f.method == "" || f.method == method {
			s.fails = append(s.fails[:i:i], s.fails[i+1:]...)
			var p map[string]any
			if f.retryAfter > 0 {
				p = map[string]any{"retry_after": f.retryAfter}
			}
			refuse(w, f.code, f.description, p)
			return
		}
	}
	call := Call{Method: method, Params: params, Raw: raw.Bytes()}
	switch method {
	case "getMe":
		s.accept(call)
		ok(w, map[string]any{"id": BotID, "is_bot": true, "first_name": "Campaign", "username": BotUsername,
			"can_join_groups": true, "can_read_all_group_messages": !s.privacy})
	case "setWebhook":
		if _, has := params["url"].(string); !has {
			refuse(w, http.StatusBadRequest, "Bad Request: url is required", nil)
			return
		}
		s.accept(call)
		s.webhook = params
		ok(w, true)
	case "getWebhookInfo":
		s.accept(call)
		info := map[string]any{"url": "", "has_custom_certificate": false, "pending_update_count": 0}
		if s.webhook != nil {
			info["url"] = s.webhook["url"]
			info["max_connections"] = 40
			if a, has := s.webhook["allowed_updates"]; has {
				info["allowed_updates"] = a
			}
		}
		ok(w, info)
	case "sendMessage", "sendPhoto", "sendVideo", "sendVoice", "sendAudio", "sendDocument":
		s.send(w, call)
	case "sendChatAction":
		if a, _ := params["action"].(string); a == "" || call.ChatID() == "" {
			refuse(w, http.StatusBadRequest, "Bad Request: wrong parameter action in request", nil)
			return
		}
		s.accept(call)
		ok(w, true)
	case "answerCallbackQuery":
		if id, _ := params["callback_query_id"].(string); id == "" {
			refuse(w, http.StatusBadRequest, "Bad Request: query is too old and response timeout expired or query ID is invalid", nil)
			return
		}
		s.accept(call)
		ok(w, true)
	case "getFile":
		id, _ := params["file_id"].(string)
		f, has := s.files[id]
		if !has {
			refuse(w, http.StatusBadRequest, "Bad Request: invalid file_id", nil)
			return
		}
		s.accept(call)
		if f.size > 20<<20 {
			refuse(w, http.StatusBadRequest, "Bad Request: file is too big", nil)
			return
		}
		ok(w, map[string]any{"file_id": id, "file_unique_id": "u" + id, "file_size": f.size, "file_path": f.path})
	default:
		refuse(w, http.StatusNotFound, "Not Found: method not found", nil)
	}
}

// send answers a send method (s.mu held).
func (s *Server) send(w http.ResponseWriter, call Call) {
	chat := call.ChatID()
	id, err := strconv.ParseInt(chat, 10, 64)
	if err != nil {
		refuse(w, http.StatusBadRequest, "Bad Request: chat not found", nil)
		return
	}
	if to, has := s.migrated[chat]; has {
		refuse(w, http.StatusBadRequest, "Bad Request: group chat was upgraded to a supergroup chat",
			map[string]any{"migrate_to_chat_id": to})
		return
	}
	field := map[string]string{"sendMessage": "text", "sendPhoto": "photo", "sendVideo": "video",
		"sendVoice": "voice", "sendAudio": "audio", "sendDocument": "document"}[call.Method]
	if v, _ := call.Params[field].(string); v == "" {
		refuse(w, http.StatusBadRequest, fmt.Sprintf("Bad Request: %s is empty", field), nil)
		return
	}
	s.accept(call)
	s.messageID++
	chatType := "private"
	if id < 0 {
		chatType = "supergroup"
	}
	ok(w, map[string]any{"message_id": s.messageID, "date": 1767611530,
		"from": map[string]any{"id": BotID, "is_bot": true, "first_name": "Campaign", "username": BotUsername},
		"chat": map[string]any{"id": id, "type": chatType}})
}

func (s *Server) handleFile(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("bot") != "bot"+Token {
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	path := r.PathValue("path")
	s.mu.Lock()
	var data []byte
	found := false
	for _, f := range s.files {
		if f.path == path && f.data != nil {
			data, found = f.data, true
		}
	}
	s.mu.Unlock()
	if !found {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}

// Deliver posts update (a JSON document, or a value to encode) to the webhook at url with
// the secret header, as Telegram does, and returns the status code.
func Deliver(tb testing.TB, url, secret string, update any) int {
	tb.Helper()
	body, isBytes := update.([]byte)
	if !isBytes {
		var err error
		if body, err = json.Marshal(update); err != nil {
			tb.Fatalf("bottest: encode update: %v", err)
		}
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		tb.Fatalf("bottest: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("bottest: deliver update: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
