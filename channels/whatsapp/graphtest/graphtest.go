// Package graphtest is a fake WhatsApp Cloud API (Graph API) on loopback for tests: it
// accepts the documented send, mark-read and media requests with a Bearer token, records what
// was sent, serves media and business phone numbers (with a messaging limit, throughput and
// quality a test can change), and answers with the documented error shapes on demand. It
// also builds signed webhook requests, so a test can play a participant end to end, and the
// number-health webhooks (QualityUpdateWebhook, UserPreferencesWebhook).
package graphtest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/channels/channeltest"
	"github.com/chatcampaigns/campaign/channels/metahook"
)

// Token is the access token the server accepts unless Server.Token is changed.
const Token = "graphtest-token"

// Version is the Graph API version in APIURL; any version is accepted.
const Version = "v23.0"

// Message is one request the server accepted on /{phone-number-id}/messages.
type Message struct {
	PhoneNumberID string
	// ID is the wamid the server answered with (empty for mark-read requests).
	ID string
	// Body is the request's JSON, decoded.
	Body map[string]any
	Raw  []byte
}

// Type returns the message's "type" ("text", "image", "interactive", "template", …).
func (m Message) Type() string { s, _ := m.Body["type"].(string); return s }

// To returns the message's recipient.
func (m Message) To() string { s, _ := m.Body["to"].(string); return s }

// Text returns the body of a text message, the caption of a media message or the body of an
// interactive one.
func (m Message) Text() string {
	obj, _ := m.Body[m.Type()].(map[string]any)
	if s, ok := obj["body"].(string); ok {
		return s
	}
	if s, ok := obj["caption"].(string); ok {
		return s
	}
	if b, ok := obj["body"].(map[string]any); ok {
		s, _ := b["text"].(string)
		return s
	}
	return ""
}

type mediaItem struct {
	mime string
	data []byte
}

type failure struct{ code, status int }

// Server is the fake Graph API. Its methods are safe for concurrent use.
type Server struct {
	// URL is the server's root; APIURL is what WHATSAPP_API_URL should be set to.
	URL    string
	APIURL string
	// Log records every request the server receives, for the channel conformance harness.
	Log *channeltest.RequestLog

	mu     sync.Mutex
	token  string
	sent   []Message
	reads  []Message
	media  map[string]mediaItem
	fails  []failure
	n      int
	hexSHA bool
	noSize bool
	phones map[string]PhoneNumber
	groups []GroupRequest
	// numberReads counts GET /{phone-number-id}; numberFails is how many more fail.
	numberReads, numberFails int
	// held, when not nil, keeps read receipts waiting until it is closed (HoldReads).
	held chan struct{}
	srv  *httptest.Server
}

// HoldReads keeps every read receipt that arrives from now on unanswered until release is
// called, as a slow platform would; it lets a test fill the client's receipts in flight.
func (s *Server) HoldReads() (release func()) {
	held := make(chan struct{})
	s.mu.Lock()
	s.held = held
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			s.held = nil
			s.mu.Unlock()
			close(held)
		})
	}
}

// New starts a fake Graph API on loopback and stops it when the test ends.
func New(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{token: Token, media: make(map[string]mediaItem), phones: make(map[string]PhoneNumber), Log: &channeltest.RequestLog{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /{version}/{phone}/messages", s.handleMessages)
	mux.HandleFunc("POST /{version}/{phone}/groups", s.handleGroups)
	mux.HandleFunc("GET /download/{id}", s.handleDownload)
	mux.HandleFunc("GET /{version}/{id}", s.handleMediaInfo)
	s.srv = httptest.NewServer(s.Log.Wrap(mux))
	s.URL = s.srv.URL
	s.APIURL = s.srv.URL + "/" + Version
	tb.Cleanup(s.srv.Close)
	return s
}

// SetToken changes the access token the server accepts.
func (s *Server) SetToken(token string) { s.mu.Lock(); s.token = token; s.mu.Unlock() }

// HexDigests makes the media endpoint give sha256 in hex instead of base64.
func (s *Server) HexDigests(on bool) { s.mu.Lock(); s.hexSHA = on; s.mu.Unlock() }

// OmitFileSizes makes the media endpoint leave out file_size, so only the download itself
// tells how large the media is.
func (s *Server) OmitFileSizes(on bool) { s.mu.Lock(); s.noSize = on; s.mu.Unlock() }

// Sent returns the messages sent so far (not mark-read requests), in order.
func (s *Server) Sent() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.sent...)
}

// Reads returns the mark-read and typing-indicator requests so far, in order.
func (s *Server) Reads() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.reads...)
}

// AddMedia makes id resolvable and downloadable, as media a participant sent.
func (s *Server) AddMedia(id, mime string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.media[id] = mediaItem{mime: mime, data: append([]byte(nil), data...)}
}

// FailNext makes the next request to /messages (or /groups) fail with the documented error body for code
// and the given HTTP status; calls queue up, one failure per request.
func (s *Server) FailNext(code, httpStatus int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fails = append(s.fails, failure{code, httpStatus})
}

// Requests returns how many /messages and /groups requests arrived, failed ones included.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	token := s.token
	s.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+token {
		writeError(w, http.StatusUnauthorized, 190, "Error validating access token: Session has expired")
		return false
	}
	return true
}

// writeError answers with the documented Graph API error shape.
func writeError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"message":    fmt.Sprintf("(#%d) %s", code, msg),
		"type":       "OAuthException",
		"code":       code,
		"error_data": map[string]any{"messaging_product": "whatsapp", "details": msg},
		"fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam",
	}})
}

// refused counts a request to /messages or /groups and answers it with the next queued
// failure (FailNext) or an auth error; it reports whether it answered.
func (s *Server) refused(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	s.n++
	var fail *failure
	if len(s.fails) > 0 {
		f := s.fails[0]
		s.fails = s.fails[1:]
		fail = &f
	}
	s.mu.Unlock()
	if !s.authorized(w, r) {
		return true
	}
	if fail != nil {
		writeError(w, fail.status, fail.code, "graphtest failure")
		return true
	}
	return false
}

func (s *Server) handleMessages(w http.ResponseWriter, r *http.Request) {
	if s.refused(w, r) {
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var body map[string]any
	if err != nil || json.Unmarshal(raw, &body) != nil {
		writeError(w, http.StatusBadRequest, 100, "Invalid parameter")
		return
	}
	if body["messaging_product"] != "whatsapp" {
		writeError(w, http.StatusBadRequest, 100, "Invalid parameter: messaging_product")
		return
	}
	m := Message{PhoneNumberID: r.PathValue("phone"), Body: body, Raw: raw}
	w.Header().Set("Content-Type", "application/json")
	if body["status"] == "read" {
		if _, ok := body["message_id"].(string); !ok {
			writeError(w, http.StatusBadRequest, 100, "Invalid parameter: message_id")
			return
		}
		s.mu.Lock()
		held := s.held
		s.mu.Unlock()
		if held != nil {
			select {
			case <-held:
			case <-r.Context().Done():
				return
			}
		}
		s.mu.Lock()
		s.reads = append(s.reads, m)
		s.mu.Unlock()
		_, _ = io.WriteString(w, `{"success":true}`)
		return
	}
	to, _ := body["to"].(string)
	typ, _ := body["type"].(string)
	if to == "" || typ == "" || body[typ] == nil {
		writeError(w, http.StatusBadRequest, 100, "Invalid parameter: to, type or the typed object is missing")
		return
	}
	s.mu.Lock()
	m.ID = "wamid.graphtest." + strconv.Itoa(len(s.sent)+1)
	s.sent = append(s.sent, m)
	s.mu.Unlock()
	_ = json.NewEncoder(w).Encode(map[string]any{
		"messaging_product": "whatsapp",
		"contacts":          []map[string]string{{"input": to, "wa_id": strings.TrimPrefix(to, "+")}},
		"messages":          []map[string]string{{"id": m.ID}},
	})
}

// PhoneNumber is a business number the server knows, for GET /{phone-number-id}.
type PhoneNumber struct {
	Display, VerifiedName string
	// CallbackURL is where its webhooks go (webhook_configuration.application).
	CallbackURL string
	// Official says it is an Official Business Account (it may make groups).
	Official bool
	// Limit, Throughput, Quality and Status are the platform's words for the number's
	// facts: whatsapp_business_manager_messaging_limit (TIER_250, TIER_2K, TIER_10K,
	// TIER_100K, TIER_UNLIMITED), throughput.level (STANDARD, HIGH), quality_rating (GREEN,
	// YELLOW, RED) and status (CONNECTED, FLAGGED, RESTRICTED). Empty means TIER_250,
	// STANDARD, GREEN and CONNECTED, a new business portfolio's number.
	Limit, Throughput, Quality, Status string
}

// AddPhoneNumber makes GET /{id} answer for the business number id.
func (s *Server) AddPhoneNumber(id string, p PhoneNumber) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.phones[id] = p
}

// change applies fn to the known number id, adding it (with defaults) if need be.
func (s *Server) change(id string, fn func(*PhoneNumber)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.phones[id]
	fn(&p)
	s.phones[id] = p
}

// SetQuality changes the quality_rating GET /{id} answers (GREEN, YELLOW, RED): what a
// number's rating dropping looks like to the next read. Tell the channel at once with
// QualityUpdateWebhook.
func (s *Server) SetQuality(id, rating string) {
	s.change(id, func(p *PhoneNumber) { p.Quality = rating })
}

// SetLimit changes the messaging limit tier GET /{id} answers (TIER_2K, TIER_UNLIMITED…).
func (s *Server) SetLimit(id, tier string) { s.change(id, func(p *PhoneNumber) { p.Limit = tier }) }

// SetThroughput changes the throughput level GET /{id} answers (STANDARD, HIGH).
func (s *Server) SetThroughput(id, level string) {
	s.change(id, func(p *PhoneNumber) { p.Throughput = level })
}

// SetStatus changes the status GET /{id} answers (CONNECTED, FLAGGED, RESTRICTED).
func (s *Server) SetStatus(id, status string) {
	s.change(id, func(p *PhoneNumber) { p.Status = status })
}

// FailNumberReads makes the next n GET /{phone-number-id} requests fail with a transient
// error (HTTP 500, code 2): the API down for a while.
func (s *Server) FailNumberReads(n int) { s.mu.Lock(); s.numberFails = n; s.mu.Unlock() }

// NumberReads returns how many GET /{phone-number-id} requests arrived, failed ones included.
func (s *Server) NumberReads() int { s.mu.Lock(); defer s.mu.Unlock(); return s.numberReads }

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// handlePhoneNumber answers with the fields asked for (all it knows when none are), and the
// id, as the Graph API does.
func (s *Server) handlePhoneNumber(w http.ResponseWriter, r *http.Request, id string, p PhoneNumber) {
	s.mu.Lock()
	s.numberReads++
	fail := s.numberFails > 0
	if fail {
		s.numberFails--
	}
	s.mu.Unlock()
	if fail {
		writeError(w, http.StatusInternalServerError, 2, "Service temporarily unavailable")
		return
	}
	info := map[string]any{"id": id, "display_phone_number": p.Display, "verified_name": p.VerifiedName,
		"quality_rating": orDefault(p.Quality, "GREEN"), "is_official_business_account": p.Official,
		"whatsapp_business_manager_messaging_limit": orDefault(p.Limit, "TIER_250"),
		"throughput": map[string]string{"level": orDefault(p.Throughput, "STANDARD")},
		"status":     orDefault(p.Status, "CONNECTED"),
	}
	if p.CallbackURL != "" {
		info["webhook_configuration"] = map[string]string{"application": p.CallbackURL}
	}
	if fields := r.URL.Query().Get("fields"); fields != "" {
		asked := map[string]any{"id": id}
		for _, f := range strings.Split(fields, ",") {
			if v, ok := info[strings.TrimSpace(f)]; ok {
				asked[strings.TrimSpace(f)] = v
			}
		}
		info = asked
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(info)
}

func (s *Server) handleMediaInfo(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	id := r.PathValue("id")
	s.mu.Lock()
	phone, isPhone := s.phones[id]
	s.mu.Unlock()
	if isPhone {
		s.handlePhoneNumber(w, r, id, phone)
		return
	}
	s.mu.Lock()
	item, ok := s.media[id]
	hexSHA, noSize := s.hexSHA, s.noSize
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, 100, "Unsupported get request. Object with ID '"+id+"' does not exist")
		return
	}
	sum := sha256.Sum256(item.data)
	digest := base64.StdEncoding.EncodeToString(sum[:])
	if hexSHA {
		digest = hex.EncodeToString(sum[:])
	}
	info := map[string]any{
		"messaging_product": "whatsapp",
		"url":               s.URL + "/download/" + id,
		"mime_type":         item.mime,
		"sha256":            digest,
		"file_size":         strconv.Itoa(len(item.data)),
		"id":                id,
	}
	if noSize {
		delete(info, "file_size")
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(info)
}

func (s *Server) handleDownload(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	s.mu.Lock()
	item, ok := s.media[r.PathValue("id")]
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", item.mime)
	_, _ = w.Write(item.data)
}

// GroupRequest is one accepted POST /{phone-number-id}/groups.
type GroupRequest struct {
	PhoneNumberID, RequestID   string
	Subject, Description, Mode string
}

// Groups returns the group requests accepted so far, in order.
func (s *Server) Groups() []GroupRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]GroupRequest(nil), s.groups...)
}

// handleGroups accepts a group creation as the Groups API does: asynchronously, answering with
// a request id; the test announces the group with GroupCreatedWebhook.
func (s *Server) handleGroups(w http.ResponseWriter, r *http.Request) {
	if s.refused(w, r) {
		return
	}
	var body struct {
		Product     string `json:"messaging_product"`
		Subject     string `json:"subject"`
		Description string `json:"description"`
		Mode        string `json:"join_approval_mode"`
	}
	if json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body) != nil || body.Product != "whatsapp" ||
		body.Subject == "" || len([]rune(body.Subject)) > 128 || len([]rune(body.Description)) > 2048 {
		writeError(w, http.StatusBadRequest, 100, "Invalid parameter: messaging_product, subject or description")
		return
	}
	s.mu.Lock()
	g := GroupRequest{PhoneNumberID: r.PathValue("phone"), RequestID: "graphtest-group-request-" + strconv.Itoa(len(s.groups)+1),
		Subject: body.Subject, Description: body.Description, Mode: body.Mode}
	s.groups = append(s.groups, g)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"messaging_product": "whatsapp", "request_id": g.RequestID})
}

// groupWebhook wraps group items in the envelope of the group webhook field.
func groupWebhook(phoneNumberID, field string, groups ...map[string]any) []byte {
	b, err := json.Marshal(map[string]any{
		"object": "whatsapp_business_account",
		"entry": []any{map[string]any{
			"id": "100000000000001",
			"changes": []any{map[string]any{"field": field, "value": map[string]any{
				"messaging_product": "whatsapp",
				"metadata":          map[string]string{"display_phone_number": "15550001111", "phone_number_id": phoneNumberID},
				"groups":            groups,
			}}},
		}},
	})
	if err != nil {
		panic(err) // maps of strings always encode
	}
	return b
}

// GroupCreatedWebhook is the group_lifecycle_update webhook announcing the group of a request.
func GroupCreatedWebhook(phoneNumberID, requestID, groupID, subject, inviteLink string) []byte {
	return groupWebhook(phoneNumberID, "group_lifecycle_update", map[string]any{
		"timestamp": "1767611600", "type": "group_create", "request_id": requestID, "group_id": groupID,
		"subject": subject, "invite_link": inviteLink, "join_approval_mode": "auto_approve",
	})
}

// GroupJoinedWebhook is the group_participants_update webhook of people who joined a group by
// its invite link.
func GroupJoinedWebhook(phoneNumberID, groupID string, waIDs ...string) []byte {
	var added []map[string]string
	for _, id := range waIDs {
		added = append(added, map[string]string{"input": id, "wa_id": id})
	}
	return groupWebhook(phoneNumberID, "group_participants_update", map[string]any{
		"timestamp": "1767611700", "type": "group_participants_add", "group_id": groupID,
		"reason": "invite_link", "added_participants": added,
	})
}

// GroupTextWebhook is a webhook body with one text a member wrote in a group.
func GroupTextWebhook(phoneNumberID, groupID, from, name, wamid, text string) []byte {
	return inbound(phoneNumberID, from, name, map[string]any{
		"id": wamid, "type": "text", "text": map[string]string{"body": text}, "group_id": groupID,
	})
}

// GroupImageWebhook is ImageWebhook for an image a member sent in a group.
func GroupImageWebhook(phoneNumberID, groupID, from, name, wamid, mediaID, mime string, data []byte, caption string) []byte {
	sum := sha256.Sum256(data)
	return inbound(phoneNumberID, from, name, map[string]any{
		"id": wamid, "type": "image", "group_id": groupID, "image": map[string]string{
			"id": mediaID, "mime_type": mime, "sha256": base64.StdEncoding.EncodeToString(sum[:]), "caption": caption,
		},
	})
}

// Sign returns the X-Hub-Signature-256 value for body under the app secret.
func Sign(secret string, body []byte) string { return metahook.Sign(secret, body) }

// SignedWebhook returns a POST of body to http://localhost/webhooks/whatsapp signed with
// secret, for fiber's App.Test; for a real server, set its URL (req.URL.Host) first.
func SignedWebhook(secret string, body []byte) *http.Request {
	req, err := http.NewRequest(http.MethodPost, "http://localhost/webhooks/whatsapp", strings.NewReader(string(body)))
	if err != nil {
		panic(err) // the URL is a constant
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hub-Signature-256", Sign(secret, body))
	return req
}

// Webhook wraps one change value (with "messages" or "statuses") for the business number
// phoneNumberID in the documented webhook envelope.
func Webhook(phoneNumberID string, value map[string]any) []byte {
	value["messaging_product"] = "whatsapp"
	value["metadata"] = map[string]string{"display_phone_number": "15550001111", "phone_number_id": phoneNumberID}
	b, err := json.Marshal(map[string]any{
		"object": "whatsapp_business_account",
		"entry": []any{map[string]any{
			"id":      "100000000000001",
			"changes": []any{map[string]any{"field": "messages", "value": value}},
		}},
	})
	if err != nil {
		panic(err) // maps of strings always encode
	}
	return b
}

func inbound(phoneNumberID, from, name string, msg map[string]any) []byte {
	msg["from"] = from
	if _, ok := msg["timestamp"]; !ok {
		msg["timestamp"] = "1767611520"
	}
	return Webhook(phoneNumberID, map[string]any{
		"contacts": []any{map[string]any{"profile": map[string]string{"name": name}, "wa_id": from}},
		"messages": []any{msg},
	})
}

// TextWebhook is a webhook body with one text message.
func TextWebhook(phoneNumberID, from, name, wamid, text string) []byte {
	return inbound(phoneNumberID, from, name, map[string]any{
		"id": wamid, "type": "text", "text": map[string]string{"body": text},
	})
}

// ImageWebhook is a webhook body with one image whose sha256 (base64, as Meta sends it) is
// that of data; serve data with AddMedia(mediaID, mime, data).
func ImageWebhook(phoneNumberID, from, name, wamid, mediaID, mime string, data []byte, caption string) []byte {
	sum := sha256.Sum256(data)
	return inbound(phoneNumberID, from, name, map[string]any{
		"id": wamid, "type": "image", "image": map[string]string{
			"id": mediaID, "mime_type": mime, "sha256": base64.StdEncoding.EncodeToString(sum[:]), "caption": caption,
		},
	})
}

// ButtonReplyWebhook is a webhook body with one tapped reply button.
func ButtonReplyWebhook(phoneNumberID, from, name, wamid, buttonID, title string) []byte {
	return inbound(phoneNumberID, from, name, map[string]any{
		"id": wamid, "type": "interactive", "interactive": map[string]any{
			"type": "button_reply", "button_reply": map[string]string{"id": buttonID, "title": title},
		},
	})
}

// StatusWebhook is a webhook body with one delivery status (sent, delivered, read, failed)
// of the message wamid; a failed one carries error 131026.
func StatusWebhook(phoneNumberID, wamid, status, recipient string) []byte {
	st := map[string]any{"id": wamid, "status": status, "timestamp": "1767611602", "recipient_id": recipient}
	if status == "failed" {
		st["errors"] = []any{map[string]any{"code": 131026, "title": "Message undeliverable",
			"message": "Message undeliverable", "error_data": map[string]string{"details": "Message Undeliverable."}}}
	}
	return Webhook(phoneNumberID, map[string]any{"statuses": []any{st}})
}

// wabaWebhook wraps one change value of field in the webhook envelope of a WhatsApp Business
// Account, with the entry's time.
func wabaWebhook(field string, at time.Time, value map[string]any) []byte {
	b, err := json.Marshal(map[string]any{
		"object": "whatsapp_business_account",
		"entry": []any{map[string]any{
			"id":      "100000000000001",
			"time":    at.Unix(),
			"changes": []any{map[string]any{"field": field, "value": value}},
		}},
	})
	if err != nil {
		panic(err) // maps of strings and numbers always encode
	}
	return b
}

// QualityUpdateWebhook is the phone_number_quality_update webhook for the business number
// shown as display (the webhook names the number only so, digits without "+"): event is
// DOWNGRADE, UPGRADE, FLAGGED, UNFLAGGED, THROUGHPUT_UPGRADE…, limit the tier after the
// change (TIER_2K…), old the tier before it (left out when empty). The limit goes in both
// current_limit and its successor max_daily_conversations_per_business. The channel finds
// the number by the digits of its display number, so a test first lets it read the number
// (AddPhoneNumber with a Display of the same digits, then Channel.CheckNumbers or the
// watcher); a webhook about a number it never read is acknowledged and ignored.
func QualityUpdateWebhook(display, event, limit, old string, at time.Time) []byte {
	value := map[string]any{"display_phone_number": display, "event": event}
	if limit != "" {
		value["current_limit"] = limit
		value["max_daily_conversations_per_business"] = limit
	}
	if old != "" {
		value["old_limit"] = old
	}
	return wabaWebhook("phone_number_quality_update", at, value)
}

// UserPreferencesWebhook is the user_preferences webhook of the WhatsApp user waID stopping
// (stop true) or resuming marketing messages from the business number phoneNumberID.
func UserPreferencesWebhook(phoneNumberID, waID, name string, stop bool, at time.Time) []byte {
	value, detail := "resume", "User requested to resume marketing messages"
	if stop {
		value, detail = "stop", "User requested to stop marketing messages"
	}
	return wabaWebhook("user_preferences", at, map[string]any{
		"messaging_product": "whatsapp",
		"metadata":          map[string]string{"display_phone_number": "15550001111", "phone_number_id": phoneNumberID},
		"contacts":          []any{map[string]any{"profile": map[string]string{"name": name}, "wa_id": waID}},
		"user_preferences": []any{map[string]any{"wa_id": waID, "detail": detail, "category": "marketing_messages",
			"value": value, "timestamp": at.Unix()}},
	})
}
