package webchat_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/channels/webchat"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/media"
)

// fakeEngine records what the channel hands to the engine and dedupes like the real one.
type fakeEngine struct {
	defs map[string]*campaigns.Definition

	// onReceive, when set, runs after an event is stored (a stand-in for the engine's reply).
	onReceive func(engine.Inbound)

	mu          sync.Mutex
	received    []engine.Inbound
	seen        map[string]bool
	transcripts map[string][]engine.Line
	offered     map[string][]engine.Button
	statuses    map[string]string // set by SetStatus; live otherwise
}

func (e *fakeEngine) Receive(_ context.Context, in engine.Inbound) (bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.defs[in.Campaign]; !ok {
		return false, fmt.Errorf("fake: campaign %q: %w", in.Campaign, errs.ErrNotFound)
	}
	k := in.Channel + "\x00" + in.PlatformID
	if e.seen[k] {
		return true, nil
	}
	e.seen[k] = true
	e.received = append(e.received, in)
	if e.onReceive != nil {
		go e.onReceive(in)
	}
	return false, nil
}

func (e *fakeEngine) Transcript(_ context.Context, pid string) ([]engine.Line, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]engine.Line(nil), e.transcripts[pid]...), nil
}

func (e *fakeEngine) Offered(_ context.Context, pid string) ([]engine.Button, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.offered[pid], nil
}

func (e *fakeEngine) Status(id string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s, ok := e.statuses[id]; ok {
		return s
	}
	if id == "draft" {
		return engine.StatusDraft
	}
	return engine.StatusLive
}

// SetStatus sets a campaign's status as the dashboard's Pause and Close do.
func (e *fakeEngine) SetStatus(id, status string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.statuses == nil {
		e.statuses = map[string]string{}
	}
	e.statuses[id] = status
}

func (e *fakeEngine) Campaign(id string) (*campaigns.Definition, bool) {
	d, ok := e.defs[id]
	return d, ok
}

// The fake's campaigns have no teams: teams are tested against the real engine (teams_test.go).
func (e *fakeEngine) FormTeam(context.Context, string, string, string, string) (engine.Team, error) {
	return engine.Team{}, fmt.Errorf("fake: %w: participants are not teams", errs.ErrInvalid)
}

func (e *fakeEngine) JoinTeam(context.Context, string, string, string, string) (engine.Team, error) {
	return engine.Team{}, fmt.Errorf("fake: %w: participants are not teams", errs.ErrInvalid)
}

func (e *fakeEngine) TeamOf(context.Context, string, string, string) (engine.Team, error) {
	return engine.Team{}, fmt.Errorf("fake: team: %w", errs.ErrNotFound)
}

func (e *fakeEngine) Received() []engine.Inbound {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]engine.Inbound(nil), e.received...)
}

func (e *fakeEngine) SetTranscript(pid string, lines []engine.Line) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.transcripts[pid] = lines
}

// fakeMedia accepts PNG files as photos, as the real store accepts photos only, and videos and
// recordings the real sniffer takes for that kind.
type fakeMedia struct {
	mu      sync.Mutex
	objects map[string][]byte
}

var pngMagic = []byte("\x89PNG\r\n\x1a\n")

// fakeTypes are the extension and type a video or recording is stored with in the fake.
var fakeTypes = map[string][2]string{"video": {"webm", "video/webm"}, "audio": {"weba", "audio/webm"}}

func (m *fakeMedia) PutMedia(_ context.Context, campaign, participant, kind, _ string, r io.Reader) (engine.Media, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return engine.Media{}, fmt.Errorf("fake media: read: %w", err)
	}
	sum := sha256.Sum256(b)
	key := campaign + "/" + participant + "/" + hex.EncodeToString(sum[:8])
	if kind != "photo" {
		if media.SniffKind(b) != kind {
			return engine.Media{}, fmt.Errorf("fake media: %w: not a %s", errs.ErrInvalid, kind)
		}
		t := fakeTypes[kind]
		m.Add(key+"."+t[0], b)
		return engine.Media{Kind: kind, Key: key + "." + t[0], MIME: t[1], Size: int64(len(b))}, nil
	}
	if !bytes.HasPrefix(b, pngMagic) {
		return engine.Media{}, fmt.Errorf("fake media: %w: not an image", errs.ErrInvalid)
	}
	m.Add(key+".png", b)
	return engine.Media{Kind: "photo", Key: key + ".png", MIME: "image/png", Size: int64(len(b))}, nil
}

func (m *fakeMedia) Open(_ context.Context, key string) (io.ReadCloser, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.objects[key]
	if !ok {
		return nil, "", fmt.Errorf("fake media: %s: %w", key, errs.ErrNotFound)
	}
	ct := "image/png"
	for _, t := range fakeTypes {
		if strings.HasSuffix(key, "."+t[0]) {
			ct = t[1]
		}
	}
	return io.NopCloser(bytes.NewReader(b)), ct, nil
}

func (m *fakeMedia) Add(key string, b []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objects[key] = b
}

type harness struct {
	app     *fiber.App
	channel *webchat.Channel
	eng     *fakeEngine
	media   *fakeMedia
}

func MustHarness(tb testing.TB, mod ...func(*webchat.Config)) *harness {
	tb.Helper()
	def, probs := campaigns.LoadFile("../../campaigns/examples/bouncer.yaml")
	if probs.HasErrors() {
		tb.Fatalf("load bouncer: %v", probs)
	}
	h := &harness{
		eng: &fakeEngine{
			defs:        map[string]*campaigns.Definition{def.ID: def, "draft": def},
			seen:        map[string]bool{},
			transcripts: map[string][]engine.Line{},
			offered:     map[string][]engine.Button{},
		},
		media: &fakeMedia{objects: map[string][]byte{}},
	}
	cfg := webchat.Config{Engine: h.eng, Media: h.media}
	for _, f := range mod {
		f(&cfg)
	}
	h.channel = webchat.New(cfg)
	h.app = fiber.New(fiber.Config{BodyLimit: 32 << 20, DisableStartupMessage: true})
	h.channel.Mount(h.app)
	tb.Cleanup(h.channel.Close)
	return h
}

// MustExample loads campaigns/examples/NAME.yaml into the harness's engine, as a campaign
// the web chat can look up, and returns it.
func (h *harness) MustExample(tb testing.TB, name string) *campaigns.Definition {
	tb.Helper()
	def, probs := campaigns.LoadFile("../../campaigns/examples/" + name + ".yaml")
	if probs.HasErrors() {
		tb.Fatalf("load %s: %v", name, probs)
	}
	h.eng.mu.Lock()
	h.eng.defs[def.ID] = def
	h.eng.mu.Unlock()
	return def
}

func (h *harness) Do(tb testing.TB, req *http.Request) *http.Response {
	tb.Helper()
	resp, err := h.app.Test(req, 5000)
	if err != nil {
		tb.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	tb.Cleanup(func() { resp.Body.Close() })
	return resp
}

// MustBrowser loads the page like a first visit and returns the browser's id.
func (h *harness) MustBrowser(tb testing.TB) string {
	tb.Helper()
	resp := h.Do(tb, httptest.NewRequest("GET", "/play/bouncer", nil))
	c := cookie(resp, "webchat_id")
	if c == nil {
		tb.Fatal("first visit set no webchat_id cookie")
	}
	return c.Value
}

func cookie(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func withBrowser(req *http.Request, browser string) *http.Request {
	req.AddCookie(&http.Cookie{Name: "webchat_id", Value: browser})
	return req
}

func jsonReq(path, body string) *http.Request {
	req := httptest.NewRequest("POST", path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return req
}

func uploadReq(tb testing.TB, id, caption string, photo []byte) *http.Request {
	tb.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if id != "" {
		mw.WriteField("id", id)
	}
	if caption != "" {
		mw.WriteField("caption", caption)
	}
	fw, err := mw.CreateFormFile("photo", "me.png")
	if err != nil {
		tb.Fatal(err)
	}
	fw.Write(photo)
	mw.Close()
	req := httptest.NewRequest("POST", "/play/bouncer/media", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return req
}

func errorText(tb testing.TB, resp *http.Response) string {
	tb.Helper()
	var body struct{ Error string }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		tb.Fatalf("decode error body: %v", err)
	}
	return body.Error
}

func pid(browser string) string {
	return engine.ParticipantID("bouncer", webchat.ChannelName, browser)
}

func fakePNG(n int) []byte {
	b := append([]byte(nil), pngMagic...)
	return append(b, bytes.Repeat([]byte{7}, n)...)
}

func TestPage(t *testing.T) {
	t.Run("RendersTitlePersonaAndControls", func(t *testing.T) {
		h := MustHarness(t)
		resp := h.Do(t, httptest.NewRequest("GET", "/play/bouncer", nil))
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'sha256-") {
			t.Errorf("CSP %q does not pin the inline script", csp)
		}
		doc, err := goquery.NewDocumentFromReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if got := doc.Find("title").Text(); got != "Convince the bouncer" {
			t.Errorf("title %q", got)
		}
		if got := doc.Find("header h1").Text(); got != "Convince the bouncer" {
			t.Errorf("header %q", got)
		}
		if got := strings.TrimSpace(doc.Find("#typing").Text()); got != "Sven is typing…" {
			t.Errorf("typing indicator %q", got)
		}
		if _, hidden := doc.Find("#typing").Attr("hidden"); !hidden {
			t.Error("typing indicator shown before anything was sent")
		}
		for _, sel := range []string{"#messages", "#text", "#send", `#photo[type=file][accept="image/*,video/*,audio/*"]`, "#record[hidden]", "script"} {
			if doc.Find(sel).Length() != 1 {
				t.Errorf("no %s on the page", sel)
			}
		}
		if doc.Find("script[src], link[rel=stylesheet]").Length() != 0 {
			t.Error("page loads external assets")
		}
	})

	t.Run("DraftCampaignIsNotPlayable", func(t *testing.T) {
		h := MustHarness(t)
		if resp := h.Do(t, httptest.NewRequest("GET", "/play/draft", nil)); resp.StatusCode != 404 {
			t.Errorf("draft page: status %d, want 404", resp.StatusCode)
		}
		if resp := h.Do(t, jsonReq("/play/draft/messages", `{"text":"hi"}`)); resp.StatusCode != 404 || len(h.eng.Received()) != 0 {
			t.Errorf("message to a draft: status %d, received %d", resp.StatusCode, len(h.eng.Received()))
		}
	})

	t.Run("UnknownCampaignIsFriendly404", func(t *testing.T) {
		h := MustHarness(t)
		resp := h.Do(t, httptest.NewRequest("GET", "/play/nope", nil))
		if resp.StatusCode != 404 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		doc, err := goquery.NewDocumentFromReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if got := doc.Find("h1").Text(); got != "This chat isn't here" {
			t.Errorf("heading %q", got)
		}
		if cookie(resp, "webchat_id") != nil {
			t.Error("a 404 created a browser identity")
		}
	})

	t.Run("SetsCookieOnceAndReusesIt", func(t *testing.T) {
		h := MustHarness(t)
		resp := h.Do(t, httptest.NewRequest("GET", "/play/bouncer", nil))
		c := cookie(resp, "webchat_id")
		if c == nil {
			t.Fatal("no cookie on first visit")
		}
		if len(c.Value) != 32 || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/play/" || c.Secure {
			t.Errorf("cookie %+v: want 32 hex chars, HttpOnly, SameSite=Lax, Path=/play/, not Secure", c)
		}
		again := h.Do(t, withBrowser(httptest.NewRequest("GET", "/play/bouncer", nil), c.Value))
		if cookie(again, "webchat_id") != nil {
			t.Error("second visit set the cookie again")
		}
		h.Do(t, withBrowser(jsonReq("/play/bouncer/messages", `{"text":"hi"}`), c.Value))
		if got := h.eng.Received(); len(got) != 1 || got[0].ParticipantID != pid(c.Value) || got[0].From != c.Value {
			t.Errorf("received %+v, want participant %s from %s", got, pid(c.Value), c.Value)
		}
	})

	t.Run("SecureCookieWhenConfigured", func(t *testing.T) {
		h := MustHarness(t, func(c *webchat.Config) { c.Secure = true })
		resp := h.Do(t, httptest.NewRequest("GET", "/play/bouncer", nil))
		if c := cookie(resp, "webchat_id"); c == nil || !c.Secure {
			t.Errorf("cookie %+v is not Secure", c)
		}
	})

	t.Run("ForgedCookieIsReplaced", func(t *testing.T) {
		h := MustHarness(t)
		resp := h.Do(t, withBrowser(httptest.NewRequest("GET", "/play/bouncer", nil), "not-an-id"))
		if c := cookie(resp, "webchat_id"); c == nil || c.Value == "not-an-id" {
			t.Errorf("malformed browser id kept: %+v", c)
		}
	})
}

func TestJoin(t *testing.T) {
	t.Run("OncePerBrowser", func(t *testing.T) {
		h := MustHarness(t)
		b := h.MustBrowser(t)
		for i := 0; i < 2; i++ {
			resp := h.Do(t, withBrowser(jsonReq("/play/bouncer/join", `{}`), b))
			if resp.StatusCode != 202 {
				t.Fatalf("join %d: status %d", i, resp.StatusCode)
			}
		}
		got := h.eng.Received()
		if len(got) != 1 {
			t.Fatalf("engine received %d joins, want 1 (a reload must not greet again)", len(got))
		}
		if got[0].Kind != engine.KindJoin || got[0].PlatformID != "join:"+b || got[0].ParticipantID != pid(b) || got[0].Channel != "webchat" {
			t.Errorf("join %+v", got[0])
		}
	})
	// The browser's language goes with the join, for the engine to match to the campaign's
	// languages; without one the Accept-Language header stands in; junk is dropped.
	t.Run("Locale", func(t *testing.T) {
		for _, c := range []struct{ body, header, want string }{
			{`{"locale": "nl-BE"}`, "", "nl-BE"},
			{`{}`, "en-GB,en;q=0.9,nl;q=0.8", "en-GB"},
			{`{"locale": "de"}`, "en-GB", "de"},
			{`{"locale": "<script>"}`, "", ""},
			{`{"locale": "` + strings.Repeat("a", 100) + `"}`, "", ""},
			{`{}`, "", ""},
		} {
			h := MustHarness(t)
			b := h.MustBrowser(t)
			req := withBrowser(jsonReq("/play/bouncer/join", c.body), b)
			if c.header != "" {
				req.Header.Set("Accept-Language", c.header)
			}
			if resp := h.Do(t, req); resp.StatusCode != 202 {
				t.Fatalf("join %s: status %d", c.body, resp.StatusCode)
			}
			if got := h.eng.Received(); len(got) != 1 || got[0].Locale != c.want {
				t.Errorf("join %s (Accept-Language %q): %+v, want locale %q", c.body, c.header, got, c.want)
			}
		}
	})
}

func TestMessages(t *testing.T) {
	t.Run("TextReachesEngine", func(t *testing.T) {
		h := MustHarness(t)
		b := h.MustBrowser(t)
		resp := h.Do(t, withBrowser(jsonReq("/play/bouncer/messages", `{"id":"3f0c2a1e-77aa-4c3b","text":"Let me in"}`), b))
		if resp.StatusCode != 202 {
			t.Fatalf("status %d: %s", resp.StatusCode, errorText(t, resp))
		}
		got := h.eng.Received()
		if len(got) != 1 {
			t.Fatalf("received %d events", len(got))
		}
		want := engine.Inbound{
			Channel: "webchat", PlatformID: "3f0c2a1e-77aa-4c3b", Campaign: "bouncer", From: b,
			ParticipantID: pid(b), Kind: engine.KindText, Text: "Let me in",
		}
		if got[0].Channel != want.Channel || got[0].PlatformID != want.PlatformID || got[0].Campaign != want.Campaign ||
			got[0].From != want.From || got[0].ParticipantID != want.ParticipantID || got[0].Kind != want.Kind || got[0].Text != want.Text {
			t.Errorf("got %+v\nwant %+v", got[0], want)
		}
	})

	t.Run("RetryIsDeduped", func(t *testing.T) {
		h := MustHarness(t)
		b := h.MustBrowser(t)
		for i := 0; i < 2; i++ {
			h.Do(t, withBrowser(jsonReq("/play/bouncer/messages", `{"id":"retry-123456","text":"once"}`), b))
		}
		if n := len(h.eng.Received()); n != 1 {
			t.Errorf("engine stored %d messages, want 1", n)
		}
	})

	t.Run("FormPostWithoutIDGetsOne", func(t *testing.T) {
		h := MustHarness(t)
		b := h.MustBrowser(t)
		req := httptest.NewRequest("POST", "/play/bouncer/messages", strings.NewReader(url.Values{"text": {"hello"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if resp := h.Do(t, withBrowser(req, b)); resp.StatusCode != 202 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if got := h.eng.Received(); len(got) != 1 || got[0].Text != "hello" || len(got[0].PlatformID) < 8 {
			t.Errorf("received %+v", got)
		}
	})

	t.Run("EmptyTextIsRefused", func(t *testing.T) {
		h := MustHarness(t)
		b := h.MustBrowser(t)
		for _, body := range []string{`{"text":""}`, `{"text":"  \n\t "}`, `{}`} {
			resp := h.Do(t, withBrowser(jsonReq("/play/bouncer/messages", body), b))
			if resp.StatusCode != 400 {
				t.Errorf("%s: status %d", body, resp.StatusCode)
			}
			if got := errorText(t, resp); got != "Type a message first." {
				t.Errorf("%s: error %q", body, got)
			}
		}
		if n := len(h.eng.Received()); n != 0 {
			t.Errorf("engine received %d events", n)
		}
	})

	t.Run("LongTextIsRefused", func(t *testing.T) {
		h := MustHarness(t)
		b := h.MustBrowser(t)
		body, _ := json.Marshal(map[string]string{"text": strings.Repeat("é", webchat.MaxTextLen+1)})
		resp := h.Do(t, withBrowser(jsonReq("/play/bouncer/messages", string(body)), b))
		if resp.StatusCode != 400 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if got := errorText(t, resp); !strings.Contains(got, "too long") {
			t.Errorf("error %q does not say why", got)
		}
		ok, _ := json.Marshal(map[string]string{"text": strings.Repeat("é", webchat.MaxTextLen)})
		if resp := h.Do(t, withBrowser(jsonReq("/play/bouncer/messages", string(ok)), b)); resp.StatusCode != 202 {
			t.Errorf("text of exactly %d characters: status %d", webchat.MaxTextLen, resp.StatusCode)
		}
	})

	t.Run("BadClientIDIsRefused", func(t *testing.T) {
		h := MustHarness(t)
		b := h.MustBrowser(t)
		for _, id := range []string{"short", strings.Repeat("a", 65), "has space 123", "semi;colon12"} {
			body, _ := json.Marshal(map[string]string{"id": id, "text": "hi"})
			if resp := h.Do(t, withBrowser(jsonReq("/play/bouncer/messages", string(body)), b)); resp.StatusCode != 400 {
				t.Errorf("id %q: status %d", id, resp.StatusCode)
			}
		}
		if n := len(h.eng.Received()); n != 0 {
			t.Errorf("engine received %d events", n)
		}
	})

	t.Run("UnknownCampaign404", func(t *testing.T) {
		h := MustHarness(t)
		if resp := h.Do(t, jsonReq("/play/nope/messages", `{"text":"hi"}`)); resp.StatusCode != 404 {
			t.Errorf("status %d", resp.StatusCode)
		}
	})

	t.Run("CrossSitePostIsRefused", func(t *testing.T) {
		h := MustHarness(t)
		req := jsonReq("/play/bouncer/messages", `{"text":"hi"}`)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		if resp := h.Do(t, req); resp.StatusCode != 403 {
			t.Errorf("status %d", resp.StatusCode)
		}
		if n := len(h.eng.Received()); n != 0 {
			t.Errorf("engine received %d events", n)
		}
	})
}

func TestUpload(t *testing.T) {
	t.Run("PhotoReachesEngineAndIsShownToItsOwner", func(t *testing.T) {
		h := MustHarness(t)
		b := h.MustBrowser(t)
		photo := fakePNG(100)
		resp := h.Do(t, withBrowser(uploadReq(t, "photo-id-0001", "my best side", photo), b))
		if resp.StatusCode != 202 {
			t.Fatalf("status %d: %s", resp.StatusCode, errorText(t, resp))
		}
		var body struct {
			OK    bool
			Media string
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		got := h.eng.Received()
		if len(got) != 1 {
			t.Fatalf("received %d events", len(got))
		}
		in := got[0]
		if in.Kind != engine.KindMedia || in.PlatformID != "photo-id-0001" || in.ParticipantID != pid(b) || in.Text != "my best side" {
			t.Errorf("inbound %+v", in)
		}
		if in.Media == nil || in.Media.Kind != "photo" || !strings.HasPrefix(in.Media.Key, "bouncer/"+pid(b)+"/") {
			t.Fatalf("media %+v", in.Media)
		}
		if !body.OK || !strings.HasPrefix(body.Media, "/play/bouncer/media/") {
			t.Fatalf("answer %+v", body)
		}
		img := h.Do(t, withBrowser(httptest.NewRequest("GET", body.Media, nil), b))
		data, _ := io.ReadAll(img.Body)
		if img.StatusCode != 200 || img.Header.Get("Content-Type") != "image/png" || !bytes.Equal(data, photo) {
			t.Errorf("owner fetch: status %d, type %q, %d bytes", img.StatusCode, img.Header.Get("Content-Type"), len(data))
		}
	})

	t.Run("SamePhotoWithoutIDIsOneMessage", func(t *testing.T) {
		h := MustHarness(t)
		b := h.MustBrowser(t)
		for i := 0; i < 2; i++ {
			h.Do(t, withBrowser(uploadReq(t, "", "", fakePNG(10)), b))
		}
		got := h.eng.Received()
		if len(got) != 1 || !strings.HasPrefix(got[0].PlatformID, "media:"+b+":") {
			t.Errorf("received %+v", got)
		}
	})

	t.Run("NonImageIs415", func(t *testing.T) {
		h := MustHarness(t)
		b := h.MustBrowser(t)
		resp := h.Do(t, withBrowser(uploadReq(t, "", "", []byte("#!/bin/sh\necho hi\n")), b))
		if resp.StatusCode != 415 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if got := errorText(t, resp); got != "That doesn't look like a photo. Send a JPEG, PNG, GIF or WebP picture." {
			t.Errorf("error %q", got)
		}
		if n := len(h.eng.Received()); n != 0 {
			t.Errorf("engine received %d events", n)
		}
	})

	t.Run("OversizeIs413WithTheLimit", func(t *testing.T) {
		h := MustHarness(t, func(c *webchat.Config) { c.MaxUpload = 1 << 20 })
		b := h.MustBrowser(t)
		resp := h.Do(t, withBrowser(uploadReq(t, "", "", fakePNG(1<<20)), b))
		if resp.StatusCode != 413 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if got := errorText(t, resp); !strings.Contains(got, "1 MB") {
			t.Errorf("error %q does not state the limit", got)
		}
		if n := len(h.eng.Received()); n != 0 {
			t.Errorf("engine received %d events", n)
		}
	})

	t.Run("MissingFileIs400", func(t *testing.T) {
		h := MustHarness(t)
		b := h.MustBrowser(t)
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("caption", "forgot the photo")
		mw.Close()
		req := httptest.NewRequest("POST", "/play/bouncer/media", &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		if resp := h.Do(t, withBrowser(req, b)); resp.StatusCode != 400 {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
}

func TestMediaRoute(t *testing.T) {
	h := MustHarness(t)
	me, other := h.MustBrowser(t), h.MustBrowser(t)
	mine := "bouncer/" + pid(me) + "/a.png"
	theirs := "bouncer/" + pid(other) + "/b.png"
	h.media.Add(mine, fakePNG(1))
	h.media.Add(theirs, fakePNG(2))

	get := func(path, browser string) int {
		req := httptest.NewRequest("GET", path, nil)
		if browser != "" {
			withBrowser(req, browser)
		}
		return h.Do(t, req).StatusCode
	}
	t.Run("ServesOwnPhoto", func(t *testing.T) {
		if s := get("/play/bouncer/media/"+mine, me); s != 200 {
			t.Errorf("status %d", s)
		}
	})
	t.Run("RefusesAnotherParticipantsKey", func(t *testing.T) {
		if s := get("/play/bouncer/media/"+theirs, me); s != 404 {
			t.Errorf("status %d", s)
		}
	})
	t.Run("RefusesPathTricks", func(t *testing.T) {
		for _, p := range []string{
			"/play/bouncer/media/bouncer/" + pid(me) + "/..%2F" + pid(other) + "%2Fb.png",
			"/play/bouncer/media/bouncer/" + pid(me) + "/",
		} {
			if s := get(p, me); s != 404 {
				t.Errorf("%s: status %d", p, s)
			}
		}
	})
	t.Run("RefusesWithoutCookie", func(t *testing.T) {
		if s := get("/play/bouncer/media/"+mine, ""); s != 404 {
			t.Errorf("status %d", s)
		}
	})
	t.Run("MissingKeyIs404", func(t *testing.T) {
		if s := get("/play/bouncer/media/bouncer/"+pid(me)+"/gone.png", me); s != 404 {
			t.Errorf("status %d", s)
		}
	})
}

// sse is a browser's event stream read on a real connection.
type sse struct {
	events chan sseEvent
	cancel context.CancelFunc
}

type sseEvent struct {
	Name string
	ID   string
	Dir  string
	Text string
	At   string
	// Media is the URL the page loads the photo from.
	Media string
	// Buttons are the choices a reply offers.
	Buttons []struct{ ID, Title string }
}

// MustServe runs the app on a loopback listener until the test ends.
func (h *harness) MustServe(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go h.app.Listener(ln)
	tb.Cleanup(func() {
		h.channel.Close()
		h.app.ShutdownWithTimeout(5 * time.Second)
	})
	return "http://" + ln.Addr().String()
}

func MustStream(tb testing.TB, base, browser string) *sse {
	tb.Helper()
	return MustStreamOf(tb, base, "bouncer", browser)
}

// MustStreamOf is MustStream for another campaign.
func MustStreamOf(tb testing.TB, base, campaign, browser string) *sse {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/play/"+campaign+"/events", nil)
	withBrowser(req, browser)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" || resp.Header.Get("Cache-Control") != "no-cache" {
		tb.Fatalf("events: status %d, type %q, cache %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
	}
	s := &sse{events: make(chan sseEvent, 64), cancel: cancel}
	go func() {
		defer close(s.events)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				ev.Name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev)
			case line == "" && (ev.Name != "" || ev.ID != ""):
				s.events <- ev
				ev = sseEvent{}
			}
		}
	}()
	tb.Cleanup(cancel)
	return s
}

func (s *sse) Next(tb testing.TB) sseEvent {
	tb.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			tb.Fatal("stream ended")
		}
		return ev
	case <-time.After(5 * time.Second):
		tb.Fatal("no event within 5s")
	}
	return sseEvent{}
}

// UntilReady returns the history events between reset and ready.
func (s *sse) UntilReady(tb testing.TB) []sseEvent {
	tb.Helper()
	if ev := s.Next(tb); ev.Name != "reset" {
		tb.Fatalf("first event %+v, want reset", ev)
	}
	var hist []sseEvent
	for {
		ev := s.Next(tb)
		if ev.Name == "ready" {
			return hist
		}
		hist = append(hist, ev)
	}
}

func TestEvents(t *testing.T) {
	at := time.Date(2026, 5, 1, 21, 0, 0, 0, time.UTC)

	t.Run("HistoryThenLiveReplies", func(t *testing.T) {
		h := MustHarness(t)
		base := h.MustServe(t)
		b := h.MustBrowser(t)
		h.eng.SetTranscript(pid(b), []engine.Line{
			{ID: 1, Direction: engine.Out, Text: "Evening. <b>I'm Sven</b>", At: at},
			{ID: 2, Direction: engine.In, Text: "me", MediaKey: "bouncer/" + pid(b) + "/x.png", At: at.Add(time.Minute)},
		})
		s := MustStream(t, base, b)
		hist := s.UntilReady(t)
		if len(hist) != 2 {
			t.Fatalf("history %+v", hist)
		}
		if hist[0].ID != "l1" || hist[0].Dir != "out" || hist[0].Text != "Evening. <b>I'm Sven</b>" || hist[0].At != "2026-05-01T21:00:00Z" {
			t.Errorf("first line %+v", hist[0])
		}
		if hist[1].Dir != "in" || hist[1].Media != "/play/bouncer/media/bouncer/"+pid(b)+"/x.png" {
			t.Errorf("second line %+v", hist[1])
		}

		id, err := h.channel.Send(context.Background(), engine.Outbound{ID: 7, ParticipantID: pid(b), Channel: "webchat", Text: "Hmm.", DueAt: at})
		if err != nil || id != "webchat:7" {
			t.Fatalf("Send = %q, %v", id, err)
		}
		if ev := s.Next(t); ev.ID != "o7" || ev.Dir != "out" || ev.Text != "Hmm." {
			t.Errorf("live event %+v", ev)
		}
	})

	t.Run("EveryOpenPageGetsTheReplyAndOthersNone", func(t *testing.T) {
		h := MustHarness(t)
		base := h.MustServe(t)
		b, other := h.MustBrowser(t), h.MustBrowser(t)
		tab1, tab2, stranger := MustStream(t, base, b), MustStream(t, base, b), MustStream(t, base, other)
		for _, s := range []*sse{tab1, tab2, stranger} {
			s.UntilReady(t)
		}
		h.channel.Send(context.Background(), engine.Outbound{ID: 1, ParticipantID: pid(b), Text: "for b"})
		h.channel.Send(context.Background(), engine.Outbound{ID: 2, ParticipantID: pid(other), Text: "for other"})
		for _, s := range []*sse{tab1, tab2} {
			if ev := s.Next(t); ev.ID != "o1" {
				t.Errorf("tab got %+v, want o1", ev)
			}
		}
		if ev := stranger.Next(t); ev.ID != "o2" {
			t.Errorf("other participant got %+v, want only o2", ev)
		}
	})

	t.Run("ReplySentJustBeforeConnectIsShownOnce", func(t *testing.T) {
		h := MustHarness(t)
		base := h.MustServe(t)
		b := h.MustBrowser(t)
		// Sent, but not yet in the transcript: the page must still show it.
		h.channel.Send(context.Background(), engine.Outbound{ID: 1, ParticipantID: pid(b), Text: "Evening."})
		hist := MustStream(t, base, b).UntilReady(t)
		if len(hist) != 1 || hist[0].ID != "o1" {
			t.Errorf("history %+v, want the unrecorded reply o1", hist)
		}
		// Sent and recorded: the transcript line alone shows it.
		h.eng.SetTranscript(pid(b), []engine.Line{{ID: 9, Direction: engine.Out, Text: "Evening.", At: at}})
		hist = MustStream(t, base, b).UntilReady(t)
		if len(hist) != 1 || hist[0].ID != "l9" {
			t.Errorf("history %+v, want the transcript line l9 only", hist)
		}
	})

	t.Run("CloseEndsStreams", func(t *testing.T) {
		h := MustHarness(t)
		base := h.MustServe(t)
		s := MustStream(t, base, h.MustBrowser(t))
		s.UntilReady(t)
		h.channel.Close()
		select {
		case _, ok := <-s.events:
			if ok {
				t.Error("event after Close")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("stream still open 5s after Close")
		}
	})

	t.Run("SendWithoutOpenPageSucceeds", func(t *testing.T) {
		h := MustHarness(t)
		id, err := h.channel.Send(context.Background(), engine.Outbound{ID: 3, ParticipantID: "nobody"})
		if err != nil || id != "webchat:3" {
			t.Errorf("Send = %q, %v", id, err)
		}
	})
}

// TestTooLargeSaysWhat: a request past the app's body limit is answered in the words of what
// it carried; a text or a tap once heard "That photo is too big". An upload refused on its
// length alone is not known to be a photo: the answer gives every kind's limit.
func TestTooLargeSaysWhat(t *testing.T) {
	h := MustHarness(t)
	app := fiber.New(fiber.Config{BodyLimit: 1 << 10, DisableStartupMessage: true,
		ErrorHandler: func(c *fiber.Ctx, err error) error { return h.channel.TooLarge(c) }})
	h.channel.Mount(app)
	h.app = app
	base := h.MustServe(t)
	big := strings.Repeat("a", 2<<10)
	for _, tc := range []struct{ path, want string }{
		{"/play/bouncer/media", "That file is too big. Send a photo of at most 10 MB, a video of at most 16 MB or a voice note of at most 16 MB."},
		{"/play/bouncer/messages", "That message is too long."},
		{"/play/bouncer/choices", "That message is too long."},
	} {
		resp, err := http.Post(base+tc.path, "application/json", strings.NewReader(`{"text":"`+big+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if got := errorText(t, resp); resp.StatusCode != fiber.StatusRequestEntityTooLarge || !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: %d %q, want 413 %q", tc.path, resp.StatusCode, got, tc.want)
		}
	}
}
