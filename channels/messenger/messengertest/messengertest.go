// Package messengertest is a fake Messenger Platform (Graph API Send API) on loopback for
// tests: it accepts POST /{version}/me/messages with the page token, checks the documented
// shape and limits (messaging_type, tag, quick replies, button templates), records what was
// sent, answers GET /{version}/me with the Page, serves attachments for webhooks to point at,
// and answers with the documented error shapes on demand. It also builds signed webhook
// bodies, so a test can play a participant end to end.
package messengertest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/chatcampaigns/campaign/channels/channeltest"
	"github.com/chatcampaigns/campaign/channels/metahook"
)

// Token is the page access token the server accepts.
const Token = "messengertest-page-token"

// PageID and PageName are the Page the token belongs to.
const (
	PageID   = "104857600000001"
	PageName = "Campaign Test Page"
)

// Version is the Graph API version in APIURL; any version is accepted.
const Version = "v23.0"

// Message is one request the server accepted on /me/messages.
type Message struct {
	// ID is the mid the server answered with.
	ID   string
	Body map[string]any
	Raw  []byte
}

// To is the recipient's id.
func (m Message) To() string {
	r, _ := m.Body["recipient"].(map[string]any)
	s, _ := r["id"].(string)
	return s
}

// Type is messaging_type; Tag the message tag.
func (m Message) Type() string { s, _ := m.Body["messaging_type"].(string); return s }
func (m Message) Tag() string  { s, _ := m.Body["tag"].(string); return s }

// Text is the message's text, or its button template's text.
func (m Message) Text() string {
	msg, _ := m.Body["message"].(map[string]any)
	if s, ok := msg["text"].(string); ok {
		return s
	}
	att, _ := msg["attachment"].(map[string]any)
	p, _ := att["payload"].(map[string]any)
	s, _ := p["text"].(string)
	return s
}

type failure struct{ status, code, subcode int }

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	// URL is the server's root; APIURL what MESSENGER_API_URL should be set to.
	URL, APIURL string

	// Log records every request the server received, for the conformance harness.
	Log *channeltest.RequestLog

	mu    sync.Mutex
	sent  []Message
	files map[string]file
	fails []failure
	n     int
	// fields are the webhook fields the Page is subscribed to (SetSubscribedFields).
	fields []string
	srv    *httptest.Server
}

type file struct {
	mime string
	data []byte
}

// New starts a fake on loopback and stops it when the test ends.
func New(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{files: map[string]file{}, Log: &channeltest.RequestLog{},
		fields: []string{"messages", "messaging_postbacks", "message_deliveries"}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /{version}/me/messages", s.handleMessages)
	mux.HandleFunc("GET /{version}/me", s.handleMe)
	mux.HandleFunc("GET /{version}/me/subscribed_apps", s.handleSubscribedApps)
	mux.HandleFunc("GET /cdn/files/{id}", s.handleFile)
	s.srv = httptest.NewServer(s.Log.Wrap(mux))
	s.URL, s.APIURL = s.srv.URL, s.srv.URL+"/"+Version
	tb.Cleanup(s.srv.Close)
	return s
}

// Sent returns the messages accepted so far, in order.
func (s *Server) Sent() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.sent...)
}

// Requests counts the /me/messages requests, failed ones included.
func (s *Server) Requests() int { s.mu.Lock(); defer s.mu.Unlock(); return s.n }

// CDNHost is the host of CDNURL's links: Client sends requests for it to this server, so a
// payload file can name an attachment before the server (and its port) exists.
const CDNHost = "cdn.messengertest.invalid"

// CDNURL is the fixed link of the attachment id, served through Client.
func CDNURL(id string) string { return "https://" + CDNHost + "/cdn/files/" + id }

// Client is an HTTP client that sends requests for CDNHost to this server (plain HTTP) and
// everything else where it is addressed.
func (s *Server) Client() *http.Client {
	return &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		if r.URL.Host == CDNHost {
			r = r.Clone(r.Context())
			r.URL.Scheme, r.URL.Host, r.Host = "http", s.srv.Listener.Addr().String(), ""
		}
		return http.DefaultTransport.RoundTrip(r)
	})}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// AddAttachment serves data as the attachment id and returns its URL on this server, for a
// webhook's payload.url (Messenger's CDN links need no token); CDNURL(id) serves it too.
func (s *Server) AddAttachment(id, mime string, data []byte) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[id] = file{mime, append([]byte(nil), data...)}
	return s.URL + "/cdn/files/" + id
}

// FailNext makes the next /me/messages request fail with the documented error body; calls
// queue up, one per request.
func (s *Server) FailNext(httpStatus, code, subcode int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fails = append(s.fails, failure{httpStatus, code, subcode})
}

// WriteError answers with the Graph API's documented error shape.
func WriteError(w http.ResponseWriter, status, code, subcode int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	e := map[string]any{"message": msg, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEfGhIjK"}
	if subcode != 0 {
		e["error_subcode"] = subcode
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"error": e})
}

func authorized(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get("Authorization") == "Bearer "+Token || r.URL.Query().Get("access_token") == Token {
		return true
	}
	WriteError(w, http.StatusUnauthorized, 190, 0, "Invalid OAuth access token - Cannot parse access token")
	return false
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	if !authorized(w, r) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"id": PageID, "name": PageName})
}

// SetSubscribedFields sets the webhook fields the Page is subscribed to (by default messages,
// messaging_postbacks and message_deliveries); none means the app is not subscribed at all.
func (s *Server) SetSubscribedFields(fields ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fields = fields
}

func (s *Server) handleSubscribedApps(w http.ResponseWriter, r *http.Request) {
	if !authorized(w, r) {
		return
	}
	s.mu.Lock()
	fields := append([]string(nil), s.fields...)
	s.mu.Unlock()
	apps := []any{}
	if len(fields) > 0 {
		apps = append(apps, map[string]any{"category": "Business", "link": "https://example.com", "name": "Campaign Engine",
			"id": "1517776481860111", "subscribed_fields": fields})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"data": apps})
}

func (s *Server) handleFile(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	f, ok := s.files[r.PathValue("id")]
	s.mu.Unlock()
	if !ok {
		http.Error(w, "URL signature expired", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", f.mime)
	w.Header().Set("Content-Length", strconv.Itoa(len(f.data)))
	_, _ = w.Write(f.data)
}

func (s *Server) handleMessages(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.n++
	var fail *failure
	if len(s.fails) > 0 {
		fail = &s.fails[0]
		s.fails = s.fails[1:]
	}
	s.mu.Unlock()
	if !authorized(w, r) {
		return
	}
	if fail != nil {
		WriteError(w, fail.status, fail.code, fail.subcode, "messengertest failure")
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var body map[string]any
	if err != nil || json.Unmarshal(raw, &body) != nil {
		WriteError(w, http.StatusBadRequest, 100, 0, "(#100) Invalid JSON")
		return
	}
	if problem := check(body); problem != "" {
		WriteError(w, http.StatusBadRequest, 100, 0, "(#100) "+problem)
		return
	}
	m := Message{Body: body, Raw: raw}
	s.mu.Lock()
	m.ID = "m_messengertest." + strconv.Itoa(len(s.sent)+1)
	s.sent = append(s.sent, m)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"recipient_id": m.To(), "message_id": m.ID})
}

// check says what is wrong with a send body, by the Send API reference; "" when nothing.
func check(b map[string]any) string {
	m := Message{Body: b}
	if m.To() == "" {
		return "recipient.id is required"
	}
	switch m.Type() {
	case "RESPONSE", "UPDATE":
		if m.Tag() != "" {
			return "tag goes only with messaging_type MESSAGE_TAG"
		}
	case "MESSAGE_TAG":
		switch m.Tag() {
		case "HUMAN_AGENT", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "ACCOUNT_UPDATE":
		default:
			return "tag is not a valid message tag"
		}
	default:
		return "messaging_type must be RESPONSE, UPDATE or MESSAGE_TAG"
	}
	msg, ok := b["message"].(map[string]any)
	if !ok {
		return "message is required"
	}
	text, hasText := msg["text"].(string)
	att, hasAtt := msg["attachment"].(map[string]any)
	switch {
	case hasText == hasAtt:
		return "message needs exactly one of text and attachment"
	case hasText && (text == "" || utf8.RuneCountInString(text) > 2000):
		return "text must be 1 to 2000 characters"
	}
	if qr, ok := msg["quick_replies"].([]any); ok {
		if len(qr) == 0 || len(qr) > 13 {
			return "quick_replies holds 1 to 13 items"
		}
		for _, q := range qr {
			q, _ := q.(map[string]any)
			if t, _ := q["title"].(string); q["content_type"] != "text" || t == "" || utf8.RuneCountInString(t) > 20 {
				return "a text quick reply needs a title of 1 to 20 characters"
			}
		}
	}
	if hasAtt {
		return checkAttachment(att)
	}
	return ""
}

func checkAttachment(att map[string]any) string {
	p, _ := att["payload"].(map[string]any)
	switch att["type"] {
	case "image", "video", "audio", "file":
		if u, _ := p["url"].(string); !strings.HasPrefix(u, "http") {
			return "attachment payload.url must be a URL"
		}
	case "template":
		if p["template_type"] != "button" {
			return "only the button template is known here"
		}
		text, _ := p["text"].(string)
		buttons, _ := p["buttons"].([]any)
		if text == "" || utf8.RuneCountInString(text) > 640 {
			return "a button template's text is 1 to 640 characters"
		}
		if len(buttons) == 0 || len(buttons) > 3 {
			return "a button template holds 1 to 3 buttons"
		}
		for _, b := range buttons {
			b, _ := b.(map[string]any)
			t, _ := b["title"].(string)
			pl, _ := b["payload"].(string)
			if b["type"] != "postback" || t == "" || utf8.RuneCountInString(t) > 20 || pl == "" {
				return "a postback button needs a title of 1 to 20 characters and a payload"
			}
		}
	default:
		return fmt.Sprintf("attachment type %v is not known", att["type"])
	}
	return ""
}

// SignedWebhook returns a POST of body to http://localhost/webhooks/messenger signed with
// secret, for fiber's App.Test; for a real server, set req.URL.Host first.
func SignedWebhook(secret string, body []byte) *http.Request {
	req, err := http.NewRequest(http.MethodPost, "http://localhost/webhooks/messenger", strings.NewReader(string(body)))
	if err != nil {
		panic(err) // the URL is a constant
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(metahook.SignatureHeader, metahook.Sign(secret, body))
	return req
}

// Webhook wraps messaging events of one participant (psid) in the documented envelope.
func Webhook(psid string, ms int64, events ...map[string]any) []byte {
	for _, e := range events {
		e["sender"] = map[string]string{"id": psid}
		e["recipient"] = map[string]string{"id": PageID}
		if _, ok := e["timestamp"]; !ok {
			e["timestamp"] = ms
		}
	}
	b, err := json.Marshal(map[string]any{"object": "page", "entry": []any{
		map[string]any{"id": PageID, "time": ms, "messaging": events},
	}})
	if err != nil {
		panic(err) // maps of strings and numbers always encode
	}
	return b
}

// Text is a message event with text.
func Text(mid, text string) map[string]any {
	return map[string]any{"message": map[string]any{"mid": mid, "text": text}}
}

// Postback is a tapped button of a button template.
func Postback(mid, title, payload string) map[string]any {
	return map[string]any{"postback": map[string]any{"mid": mid, "title": title, "payload": payload}}
}

// Image is a message event with one image attachment at url (AddAttachment).
func Image(mid, url string) map[string]any {
	return map[string]any{"message": map[string]any{"mid": mid, "attachments": []any{
		map[string]any{"type": "image", "payload": map[string]any{"url": url}},
	}}}
}
