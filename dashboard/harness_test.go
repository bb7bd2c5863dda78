package dashboard_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/accounts"
	"github.com/chatcampaigns/campaign/audit"
	"github.com/chatcampaigns/campaign/dashboard"
	"github.com/chatcampaigns/campaign/draw"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/judge"
	"github.com/chatcampaigns/campaign/store/sqlite"
)

const (
	testPassword = "correct horse battery"
	testPhone    = "+31612345678"
)

// harness is a dashboard on a real SQLite store, driven through app.Test like a browser with
// a cookie jar.
type harness struct {
	t      testing.TB
	app    *fiber.App
	db     *sqlite.DB
	users  *recordingUsers
	media  *fakeMedia
	camps  *fakeCampaigns
	convs  *fakeConversations
	casts  *fakeBroadcaster
	rounds *fakeRounds
	ranks  *fakeRanking
	queue  *fakeQueue
	trail  *audit.Log
	roles  *roleLog
	priv   *fakePrivacy
	clock  *clock
	jar    map[string]*http.Cookie
	seq    int
}

// newHarness builds the dashboard; each option may change its configuration first.
func newHarness(t testing.TB, options ...func(h *harness, c *dashboard.Config)) *harness {
	t.Helper()
	return newHarnessAt(t, filepath.Join(t.TempDir(), "campaign.db"), options...)
}

// newHarnessAt is newHarness on the database file at path.
func newHarnessAt(t testing.TB, path string, options ...func(h *harness, c *dashboard.Config)) *harness {
	t.Helper()
	return newHarnessWithAt(t, path, func(h *harness, _ *judge.Service, cfg *dashboard.Config) {
		for _, o := range options {
			o(h, cfg)
		}
	})
}

// newHarnessWith is newHarness with configure changing the judge service and the dashboard's
// configuration before the dashboard is made.
func newHarnessWith(t testing.TB, configure func(h *harness, j *judge.Service, cfg *dashboard.Config)) *harness {
	t.Helper()
	return newHarnessWithAt(t, filepath.Join(t.TempDir(), "campaign.db"), configure)
}

// newHarnessWithAt is newHarnessWith on the database file at path.
func newHarnessWithAt(t testing.TB, path string, configure func(h *harness, j *judge.Service, cfg *dashboard.Config)) *harness {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	h := &harness{
		t: t, db: db,
		users:  &recordingUsers{Users: db},
		media:  &fakeMedia{objects: map[string][]byte{}},
		camps:  newFakeCampaigns(),
		convs:  &fakeConversations{},
		casts:  &fakeBroadcaster{reports: map[string]engine.BroadcastReport{}, queued: 3},
		rounds: &fakeRounds{},
		ranks:  &fakeRanking{},
		queue:  &fakeQueue{},
		roles:  &roleLog{},
		priv:   &fakePrivacy{},
		clock:  &clock{t: time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC)},
		jar:    map[string]*http.Cookie{},
	}
	h.trail = &audit.Log{Store: db, Now: h.clock.Now}
	judges := &judge.Service{Store: db, Scores: db, Now: h.clock.Now, Audit: h.trail}
	cfg := dashboard.Config{
		Audit:         h.trail,
		Draws:         &draw.Service{Store: db, Entries: db, Audit: h.trail, Now: h.clock.Now, Rand: bytes.NewReader(bytes.Repeat([]byte{7}, 1024))},
		Judge:         judges,
		Scoring:       judges,
		Broadcaster:   h.casts,
		Rounds:        h.rounds,
		Ranking:       h.ranks,
		Winners:       judges,
		Users:         h.users,
		Accounts:      db,
		Deliveries:    db,
		RoleChanges:   h.roles,
		Media:         h.media,
		Campaigns:     h.camps,
		Conversations: h.convs,
		Queue:         h.queue,
		Pools:         storePools{db},
		Reports:       db,
		Numbers:       db,
		Receipts:      map[string]bool{"whatsapp": true},
		Privacy:       h.priv,
		Now:           h.clock.Now,
		Log:           slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if configure != nil {
		configure(h, judges, &cfg)
	}
	d, err := dashboard.New(cfg)
	if err != nil {
		t.Fatalf("new dashboard: %v", err)
	}
	h.app = fiber.New()
	d.Mount(h.app)
	return h
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// recordingUsers remembers which session hashes were stored.
type recordingUsers struct {
	dashboard.Users
	mu       sync.Mutex
	sessions []string
}

func (u *recordingUsers) CreateSession(ctx context.Context, tokenHash string, userID int64, expires time.Time) error {
	u.mu.Lock()
	u.sessions = append(u.sessions, tokenHash)
	u.mu.Unlock()
	return u.Users.CreateSession(ctx, tokenHash, userID, expires)
}

func (u *recordingUsers) Sessions() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.sessions...)
}

// fakeMedia serves fixed bytes by key and records what was opened.
type fakeMedia struct {
	mu      sync.Mutex
	objects map[string][]byte
	types   map[string]string
	opened  []string
}

func (m *fakeMedia) Put(key, contentType string, body []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objects[key] = body
	if m.types == nil {
		m.types = map[string]string{}
	}
	m.types[key] = contentType
}

func (m *fakeMedia) Open(_ context.Context, key string) (io.ReadCloser, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.opened = append(m.opened, key)
	b, ok := m.objects[key]
	if !ok {
		return nil, "", fmt.Errorf("fake media %s: %w", key, errs.ErrNotFound)
	}
	return io.NopCloser(bytes.NewReader(b)), m.types[key], nil
}

// OpenRange serves part of an object, as the media store does for video seeking.
func (m *fakeMedia) OpenRange(ctx context.Context, key string, start, end int64) (io.ReadCloser, string, int64, error) {
	body, ct, err := m.Open(ctx, key)
	if err != nil {
		return nil, "", 0, err
	}
	b, _ := io.ReadAll(body)
	if start >= int64(len(b)) {
		return nil, "", 0, fmt.Errorf("fake media %s: range: %w", key, errs.ErrInvalid)
	}
	end = min(end, int64(len(b))-1)
	return io.NopCloser(bytes.NewReader(b[start : end+1])), ct, int64(len(b)), nil
}

func (m *fakeMedia) Opened() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.opened...)
}

// MustUser adds a dashboard account.
func (h *harness) MustUser(username, role string) dashboard.User {
	h.t.Helper()
	u, err := accounts.AddUser(context.Background(), h.db, username, testPassword, role)
	if err != nil {
		h.t.Fatalf("add user %s: %v", username, err)
	}
	return u
}

// MustEntry stores a pending photo entry from a new participant the way the engine does
// (an inbound event, then a committed step that creates the participant with the entry),
// and puts its photo and thumbnail in the fake media store.
func (h *harness) MustEntry(caption string) engine.Entry {
	h.t.Helper()
	return h.MustEntryIn("bouncer", "convince", caption)
}

// MustEntryIn is MustEntry for an entry of campaign collected in state.
func (h *harness) MustEntryIn(campaign, state, caption string) engine.Entry {
	h.t.Helper()
	return h.MustEntryOf(campaign, state, caption, "photo", "image/jpeg", "jpg")
}

// MustEntryOf is MustEntryIn for media of a kind and type, stored under a key ending in ext;
// only a photo has a thumbnail.
func (h *harness) MustEntryOf(campaign, state, caption, kind, mime, ext string) engine.Entry {
	h.t.Helper()
	ctx := context.Background()
	h.seq++
	from := fmt.Sprintf("%s%d", testPhone, h.seq)
	pid := engine.ParticipantID(campaign, "whatsapp", from)
	at := h.clock.Now().Add(time.Duration(h.seq) * time.Second)
	in := engine.Inbound{
		Channel: "whatsapp", PlatformID: fmt.Sprintf("wamid.%d", h.seq), Campaign: campaign,
		From: from, ParticipantID: pid, Kind: engine.KindMedia, Text: caption, At: at,
		Media: &engine.Media{Kind: kind, Key: fmt.Sprintf("media/%d.%s", h.seq, ext), MIME: mime},
	}
	inID, dup, err := h.db.SaveInbound(ctx, in)
	if err != nil || dup {
		h.t.Fatalf("save inbound: dup=%v err=%v", dup, err)
	}
	e := engine.Entry{
		ID: fmt.Sprintf("e%d-%s", h.seq, strings.Repeat("x", 4)), Campaign: campaign, ParticipantID: pid,
		State: state, Kind: kind, MIME: mime, Caption: caption, CreatedAt: at,
		MediaKey: fmt.Sprintf("media/%d.%s", h.seq, ext),
	}
	if kind == "photo" {
		e.ThumbKey = fmt.Sprintf("thumbs/%d.jpg", h.seq)
	}
	err = h.db.Commit(ctx, engine.Step{
		InboundID: inID, Created: true,
		Participant: engine.Participant{
			ID: pid, Campaign: campaign, Channel: "whatsapp", Address: from, State: "wait",
			Vars: map[string]string{}, Version: 1, CreatedAt: at, UpdatedAt: at,
		},
		Entries: []engine.Entry{e},
	})
	if err != nil {
		h.t.Fatalf("commit step with entry: %v", err)
	}
	h.media.Put(e.MediaKey, mime, []byte("full-"+e.ID))
	if e.ThumbKey != "" {
		h.media.Put(e.ThumbKey, "image/jpeg", []byte("thumb-"+e.ID))
	}
	return e
}

// MustParticipant stores a participant of campaign without an entry, in state; finished
// marks their run ended (an opted-out participant is finished too).
func (h *harness) MustParticipant(campaign, id, state string, finished bool) {
	h.t.Helper()
	at := h.clock.Now()
	err := h.db.Commit(context.Background(), engine.Step{Created: true, Participant: engine.Participant{
		ID: id, Campaign: campaign, Channel: "whatsapp", Address: "+" + id, State: state, Finished: finished,
		Vars: map[string]string{}, Version: 1, CreatedAt: at, UpdatedAt: at,
	}})
	if err != nil {
		h.t.Fatalf("commit participant %s: %v", id, err)
	}
}

// MustOptOut moves a stored participant to the opted-out state, as the engine's step does.
func (h *harness) MustOptOut(id string) {
	h.t.Helper()
	ctx := context.Background()
	p, err := h.db.Participant(ctx, id)
	if err != nil {
		h.t.Fatalf("participant %s: %v", id, err)
	}
	s := engine.Step{Participant: p, PrevVersion: p.Version, CancelOutbox: true}
	s.Participant.Version++
	s.Participant.State, s.Participant.Finished = engine.StateOptedOut, true
	if err := h.db.Commit(ctx, s); err != nil {
		h.t.Fatalf("opt out %s: %v", id, err)
	}
}

// Entry reads an entry's moderation state from the store.
func (h *harness) Entry(id string) judge.Entry {
	h.t.Helper()
	e, err := h.db.Entry(context.Background(), id)
	if err != nil {
		h.t.Fatalf("entry %s: %v", id, err)
	}
	return e
}

// VerdictEvents returns the verdict events queued for the engine about entry id.
func (h *harness) VerdictEvents(id string) []engine.StoredInbound {
	h.t.Helper()
	pending, err := h.db.PendingInbound(context.Background(), 1000)
	if err != nil {
		h.t.Fatalf("pending inbound: %v", err)
	}
	var out []engine.StoredInbound
	for _, in := range pending {
		if in.Kind == engine.KindVerdict && in.EntryID == id {
			out = append(out, in)
		}
	}
	return out
}

// Do sends req with the jar's cookies and stores the cookies the answer sets.
func (h *harness) Do(req *http.Request) *http.Response {
	h.t.Helper()
	for _, c := range h.jar {
		req.AddCookie(c)
	}
	resp, err := h.app.Test(req, -1)
	if err != nil {
		h.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 || (!c.Expires.IsZero() && !c.Expires.After(h.clock.Now())) {
			delete(h.jar, c.Name)
			continue
		}
		h.jar[c.Name] = c
	}
	return resp
}

func (h *harness) Get(path string) *http.Response {
	h.t.Helper()
	return h.Do(httptest.NewRequest(http.MethodGet, path, nil))
}

// Post posts a form as is, without adding a CSRF token.
func (h *harness) Post(path string, form url.Values) *http.Response {
	h.t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return h.Do(req)
}

// Submit posts a form with the CSRF token from the jar, as a page's form would.
func (h *harness) Submit(path string, form url.Values) *http.Response {
	h.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if c, ok := h.jar["dashboard_session"]; ok {
		form.Set("csrf", dashboard.SessionCSRF(c.Value))
	} else if c, ok := h.jar["dashboard_csrf"]; ok {
		form.Set("csrf", c.Value)
	}
	return h.Post(path, form)
}

// Login logs in through the form.
func (h *harness) Login(username, password string) *http.Response {
	h.t.Helper()
	h.Get("/dashboard/login")
	return h.Submit("/dashboard/login", url.Values{"username": {username}, "password": {password}})
}

// MustLogin logs in and fails the test unless it worked.
func (h *harness) MustLogin(username string) {
	h.t.Helper()
	resp := h.Login(username, testPassword)
	if resp.StatusCode != http.StatusSeeOther {
		h.t.Fatalf("login %s: status %d", username, resp.StatusCode)
	}
}

// Follow fetches a redirect's target.
func (h *harness) Follow(resp *http.Response) *http.Response {
	h.t.Helper()
	loc := resp.Header.Get("Location")
	if loc == "" {
		h.t.Fatalf("no redirect (status %d)", resp.StatusCode)
	}
	return h.Get(loc)
}

// Refused parses the page a refused form comes back on: 422, the form as it was sent, and why.
func Refused(tb testing.TB, resp *http.Response) *goquery.Document {
	tb.Helper()
	if resp.StatusCode != http.StatusUnprocessableEntity {
		tb.Fatalf("status = %d, want 422 with the form shown again", resp.StatusCode)
	}
	return MustDoc(tb, resp)
}

// MustDoc parses a response's HTML.
func MustDoc(tb testing.TB, resp *http.Response) *goquery.Document {
	tb.Helper()
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		tb.Fatalf("parse html: %v", err)
	}
	return doc
}

func MustBody(tb testing.TB, resp *http.Response) string {
	tb.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("read body: %v", err)
	}
	return string(b)
}

func wantStatus(tb testing.TB, resp *http.Response, want int) {
	tb.Helper()
	if resp.StatusCode != want {
		tb.Fatalf("status = %d, want %d", resp.StatusCode, want)
	}
}
