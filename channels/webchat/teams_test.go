package webchat_test

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
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

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/channels/webchat"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/store/sqlite"
)

// teamRace is a small team campaign for the web chat: teams of 2 members.
const teamRace = `id: race
title: The Race
channels: [webchat]
consent: "Your photos may be shown with your team name. Reply OK to agree."
persona:
  name: Captain Nova
teams:
  min: 2
  max: 2
start: lobby
states:
  lobby:
    say: "Welcome aboard, team {{team}}!"
    on:
      - text: any
        say: "Hold your horses, team {{team}}."
`

// teamHarness is the web chat on the real engine and store, which keep the teams: the rules
// and the rendering of {{team}} are the engine's, and this tests that the page gets them.
type teamHarness struct {
	*harness
	eng   *engine.Engine
	clock *teamClock
}

type teamClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *teamClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *teamClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func MustTeamHarness(tb testing.TB) *teamHarness {
	tb.Helper()
	return mustTeamHarness(tb, nil)
}

// mustTeamHarness is MustTeamHarness on the clock now (the test's settable clock when nil).
func mustTeamHarness(tb testing.TB, now func() time.Time) *teamHarness {
	tb.Helper()
	return mustTeamHarnessOf(tb, teamRace, now)
}

// mustTeamHarnessOf is mustTeamHarness with another definition of the campaign race.
func mustTeamHarnessOf(tb testing.TB, src string, now func() time.Time) *teamHarness {
	tb.Helper()
	def, probs := campaigns.Parse("race.yaml", []byte(src))
	if def == nil || probs.HasErrors() {
		tb.Fatalf("race: %v", probs)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "race.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	clock := &teamClock{now: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}
	if now == nil {
		now = clock.Now
	}
	eng := engine.New(engine.Config{Store: db, Campaigns: []*campaigns.Definition{def}, Now: now,
		Rand: rand.New(rand.NewPCG(3, 4))})
	h := &harness{media: &fakeMedia{objects: map[string][]byte{}}}
	h.channel = webchat.New(webchat.Config{Engine: eng, Media: h.media, Now: now})
	eng.Handle(webchat.ChannelName, h.channel)
	h.app = fiber.New(fiber.Config{BodyLimit: 32 << 20, DisableStartupMessage: true})
	h.channel.Mount(h.app)
	tb.Cleanup(h.channel.Close)
	return &teamHarness{harness: h, eng: eng, clock: clock}
}

// settle lets the engine handle what was received and send the replies.
func (h *teamHarness) settle(tb testing.TB) {
	tb.Helper()
	ctx := context.Background()
	for range 10 {
		n, err := h.eng.ProcessPending(ctx)
		if err != nil {
			tb.Fatal(err)
		}
		h.clock.Advance(time.Minute)
		m, err := h.eng.SendDue(ctx)
		if err != nil {
			tb.Fatal(err)
		}
		if n == 0 && m == 0 {
			return
		}
	}
}

// teamPost posts a team form as the page does.
func teamPost(browser string, form url.Values) *http.Request {
	req := httptest.NewRequest("POST", "/play/race/team", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return withBrowser(req, browser)
}

func (h *teamHarness) page(tb testing.TB, resp *http.Response) *goquery.Document {
	tb.Helper()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return doc
}

func (h *teamHarness) browser(tb testing.TB) string {
	tb.Helper()
	resp := h.Do(tb, httptest.NewRequest("GET", "/play/race", nil))
	c := cookie(resp, "webchat_id")
	if c == nil {
		tb.Fatal("no webchat_id cookie")
	}
	doc := h.page(tb, resp)
	if doc.Find("#team-form").Length() != 1 || doc.Find("#team-join").Length() != 1 {
		tb.Fatal("a browser without a team sees no forms to form or join one")
	}
	if _, hidden := doc.Find("#composer").Attr("hidden"); !hidden {
		tb.Error("the composer is shown before the browser is in a team")
	}
	return c.Value
}

// TestTeams: one browser forms a team and gets its invite code, a second joins with the code
// and the team starts; both see the team's conversation, {{team}} is the team's name, and a
// third browser is refused because the team is full.
func TestTeams(t *testing.T) {
	h := MustTeamHarness(t)
	base := h.MustServe(t)
	ann, bob, cas := h.browser(t), h.browser(t), h.browser(t)

	resp := h.Do(t, teamPost(ann, url.Values{"action": {"form"}, "name": {" Red  Rovers "}}))
	if resp.StatusCode != fiber.StatusSeeOther || resp.Header.Get("Location") != "/play/race" {
		t.Fatalf("form team: status %d, location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	doc := h.page(t, h.Do(t, withBrowser(httptest.NewRequest("GET", "/play/race", nil), ann)))
	code := doc.Find("#team-code").Text()
	if name := doc.Find("#team-name").Text(); name != "Red Rovers" || len(code) != engine.TeamCodeLen {
		t.Fatalf("team shown as %q with code %q", name, code)
	}
	if doc.Find("#team-form").Length() != 0 {
		t.Error("the forms are still shown to a member")
	}
	if !strings.Contains(doc.Find("#team-wait").Text(), "2 members") {
		t.Errorf("waiting note %q does not say how many members the team needs", doc.Find("#team-wait").Text())
	}

	// Alone, the team cannot play yet: messages are refused with the reason.
	resp = h.Do(t, withBrowser(jsonReq("/play/race/messages", `{"text":"hello?"}`), ann))
	if msg := errorText(t, resp); resp.StatusCode != 409 || !strings.Contains(msg, "at least 2 members") || !strings.Contains(msg, code) {
		t.Errorf("message before teams.min: %d %q", resp.StatusCode, msg)
	}
	h.settle(t)

	annStream := MustStreamOf(t, base, "race", ann)
	annStream.UntilReady(t)

	// Bob types the code as people do: lower case, with a space.
	typed := strings.ToLower(code[:3]) + " " + strings.ToLower(code[3:])
	resp = h.Do(t, teamPost(bob, url.Values{"action": {"join"}, "code": {typed}}))
	if resp.StatusCode != fiber.StatusSeeOther {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("join team: status %d\n%s", resp.StatusCode, body)
	}
	h.settle(t)
	if ev := annStream.Next(t); ev.Name != "team" || ev.Text != "2 of 2 members (full)" {
		t.Errorf("ann's page got %+v, want the new count of members", ev)
	}
	if ev := annStream.Next(t); ev.Dir != "out" || !strings.HasPrefix(ev.Text, "Your photos may be shown") {
		t.Fatalf("ann's page got %+v, want the consent question once the team has 2 members", ev)
	}

	bobStream := MustStreamOf(t, base, "race", bob)
	if hist := bobStream.UntilReady(t); len(hist) != 1 || !strings.HasPrefix(hist[0].Text, "Your photos") {
		t.Fatalf("bob's history %+v, want the team's conversation", hist)
	}
	if resp := h.Do(t, withBrowser(jsonReq("/play/race/join", `{}`), bob)); resp.StatusCode != 202 {
		t.Errorf("join from bob's page: status %d", resp.StatusCode)
	}

	// Bob answers for the team; Ann's page shows his message and the persona's reply.
	resp = h.Do(t, withBrowser(jsonReq("/play/race/messages", `{"id":"bob-msg-0001","text":"OK"}`), bob))
	if resp.StatusCode != 202 {
		t.Fatalf("bob's message: status %d %s", resp.StatusCode, errorText(t, resp))
	}
	if ev := annStream.Next(t); ev.Dir != "in" || ev.Text != "OK" || ev.ID != "cbob-msg-0001" {
		t.Errorf("ann's page got %+v, want bob's message", ev)
	}
	if ev := bobStream.Next(t); ev.ID != "cbob-msg-0001" {
		t.Errorf("bob's page got %+v, want his own message under the id it gave it", ev)
	}
	h.settle(t)
	for who, s := range map[string]*sse{"ann": annStream, "bob": bobStream} {
		if ev := s.Next(t); ev.Text != "Welcome aboard, team Red Rovers!" {
			t.Errorf("%s's page got %+v, want the greeting with {{team}} filled in", who, ev)
		}
	}
	resp = h.Do(t, withBrowser(jsonReq("/play/race/messages", `{"text":"are we there yet?"}`), ann))
	if resp.StatusCode != 202 {
		t.Fatalf("ann's message: status %d", resp.StatusCode)
	}
	h.settle(t)
	for who, s := range map[string]*sse{"ann": annStream, "bob": bobStream} {
		if ev := s.Next(t); ev.Text != "are we there yet?" {
			t.Errorf("%s's page got %+v, want ann's message", who, ev)
		}
		if ev := s.Next(t); ev.Text != "Hold your horses, team Red Rovers." {
			t.Errorf("%s's page got %+v, want the reply to the team", who, ev)
		}
	}

	// A photo one member sends is the team's: the other member's page shows it and may load it.
	up := uploadReq(t, "bob-photo-0001", "us at the harbour", fakePNG(32))
	body, _ := io.ReadAll(up.Body)
	req := httptest.NewRequest("POST", "/play/race/media", bytes.NewReader(body))
	req.Header.Set("Content-Type", up.Header.Get("Content-Type"))
	resp = h.Do(t, withBrowser(req, bob))
	if resp.StatusCode != 202 {
		t.Fatalf("bob's photo: status %d %s", resp.StatusCode, errorText(t, resp))
	}
	photo := annStream.Next(t)
	if photo.ID != "cbob-photo-0001" || photo.Text != "us at the harbour" || photo.Media == "" {
		t.Fatalf("ann's page got %+v, want bob's photo", photo)
	}
	if resp := h.Do(t, withBrowser(httptest.NewRequest("GET", photo.Media, nil), ann)); resp.StatusCode != 200 {
		t.Errorf("ann loading the team's photo: status %d", resp.StatusCode)
	}
	if resp := h.Do(t, withBrowser(httptest.NewRequest("GET", photo.Media, nil), cas)); resp.StatusCode != 404 {
		t.Errorf("a browser outside the team loading its photo: status %d", resp.StatusCode)
	}
	bobStream.Next(t)
	h.settle(t)

	// Cas is one too many for teams.max 2.
	resp = h.Do(t, teamPost(cas, url.Values{"action": {"join"}, "code": {code}}))
	doc = h.page(t, resp)
	if resp.StatusCode != 409 || !strings.Contains(doc.Find("#team-error").Text(), "full") {
		t.Errorf("third member: status %d, error %q", resp.StatusCode, doc.Find("#team-error").Text())
	}
	if v, _ := doc.Find("#team-code-input").Attr("value"); v != code {
		t.Errorf("the refused code is not kept in the form: %q", v)
	}
	if resp := h.Do(t, withBrowser(jsonReq("/play/race/messages", `{"text":"let me in"}`), cas)); resp.StatusCode != 409 {
		t.Errorf("message from a browser without a team: status %d", resp.StatusCode)
	}
}

// TestTeamRefusals: every refused form says why, in words.
func TestTeamRefusals(t *testing.T) {
	h := MustTeamHarness(t)
	ann, bob := h.browser(t), h.browser(t)
	if resp := h.Do(t, teamPost(ann, url.Values{"action": {"form"}, "name": {"Red"}})); resp.StatusCode != 303 {
		t.Fatalf("form: status %d", resp.StatusCode)
	}
	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		want   string
	}{
		{"UnknownCode", url.Values{"action": {"join"}, "code": {"QQQ-222"}}, 404, `no team with the invite code "QQQ-222"`},
		{"NoCode", url.Values{"action": {"join"}, "code": {"  "}}, 400, "Type the invite code"},
		{"NameTaken", url.Values{"action": {"form"}, "name": {"RED"}}, 409, `There is a team called "RED" already`},
		{"NoName", url.Values{"action": {"form"}, "name": {""}}, 400, "Give your team a name."},
		{"LongName", url.Values{"action": {"form"}, "name": {strings.Repeat("a", 41)}}, 400, "40 characters"},
		{"NoAction", url.Values{}, 400, "Form a team with a name, or join one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := h.Do(t, teamPost(bob, tc.form))
			doc := h.page(t, resp)
			if got := doc.Find("#team-error").Text(); resp.StatusCode != tc.status || !strings.Contains(got, tc.want) {
				t.Errorf("status %d, error %q; want %d and %q", resp.StatusCode, got, tc.status, tc.want)
			}
		})
	}
	t.Run("AlreadyInATeam", func(t *testing.T) {
		resp := h.Do(t, teamPost(ann, url.Values{"action": {"form"}, "name": {"Blue"}}))
		doc := h.page(t, resp)
		if resp.StatusCode != 409 || doc.Find("#team-name").Text() != "Red" || !strings.Contains(doc.Find("#team-error").Text(), "in a team already") {
			t.Errorf("status %d, team %q, error %q", resp.StatusCode, doc.Find("#team-name").Text(), doc.Find("#team-error").Text())
		}
	})
	t.Run("SharedLinkFillsInTheCode", func(t *testing.T) {
		doc := h.page(t, h.Do(t, withBrowser(httptest.NewRequest("GET", "/play/race?code=ABC234", nil), bob)))
		if v, _ := doc.Find("#team-code-input").Attr("value"); v != "ABC234" {
			t.Errorf("code field %q", v)
		}
	})
}

// TestTeamTapShownToTeammates: a button one member taps shows on the other members' pages,
// as a typed message does (found in the README tour: the consent "Yes, I agree" tapped by one
// member never showed on the other's page, which then got "Welcome aboard" out of the blue).
func TestTeamTapShownToTeammates(t *testing.T) {
	h := MustTeamHarness(t)
	base := h.MustServe(t)
	ann, bob := h.browser(t), h.browser(t)
	if resp := h.Do(t, teamPost(ann, url.Values{"action": {"form"}, "name": {"Gulls"}})); resp.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("form team: status %d", resp.StatusCode)
	}
	code := h.page(t, h.Do(t, withBrowser(httptest.NewRequest("GET", "/play/race", nil), ann))).Find("#team-code").Text()
	if resp := h.Do(t, teamPost(bob, url.Values{"action": {"join"}, "code": {code}})); resp.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("join team: status %d", resp.StatusCode)
	}
	h.settle(t)
	annStream := MustStreamOf(t, base, "race", ann)
	annStream.UntilReady(t)

	resp := h.Do(t, withBrowser(jsonReq("/play/race/choices", `{"id":"bob-tap-00001","choice":"`+campaigns.ConsentYesID+`","title":"Yes, I agree"}`), bob))
	if resp.StatusCode != 202 {
		t.Fatalf("bob's tap: status %d %s", resp.StatusCode, errorText(t, resp))
	}
	if ev := annStream.Next(t); ev.Dir != "in" || ev.Text != "Yes, I agree" || ev.ID != "cbob-tap-00001" {
		t.Errorf("ann's page got %+v, want bob's tap shown as what he said", ev)
	}
}

// TestTeamMembersUpdate: when a member joins, the pages already open say how many members the
// team has now (found on the tour: the first member's page said "1 of 4 members" after the
// second had joined and the team was playing).
func TestTeamMembersUpdate(t *testing.T) {
	h := MustTeamHarness(t)
	base := h.MustServe(t)
	ann, bob := h.browser(t), h.browser(t)
	if resp := h.Do(t, teamPost(ann, url.Values{"action": {"form"}, "name": {"Terns"}})); resp.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("form team: status %d", resp.StatusCode)
	}
	doc := h.page(t, h.Do(t, withBrowser(httptest.NewRequest("GET", "/play/race", nil), ann)))
	if got := doc.Find("#team-members").Text(); got != "1 of 2 members" {
		t.Errorf("members shown as %q, want 1 of 2 members", got)
	}
	annStream := MustStreamOf(t, base, "race", ann)
	annStream.UntilReady(t)
	if resp := h.Do(t, teamPost(bob, url.Values{"action": {"join"}, "code": {doc.Find("#team-code").Text()}})); resp.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("join team: status %d", resp.StatusCode)
	}
	if ev := annStream.Next(t); ev.Name != "team" || ev.Text != "2 of 2 members (full)" {
		t.Errorf("ann's page got %+v, want a team event saying 2 of 2 members (full)", ev)
	}
}

// TestTeamChoicesWaitForTheTeam: a tap is refused like a message until the browser is in a
// team with enough members; it once reached the engine as a participant with no address,
// one shared by every browser without a team.
func TestTeamChoicesWaitForTheTeam(t *testing.T) {
	h := MustTeamHarness(t)
	ann, bob := h.browser(t), h.browser(t)
	tap := func(browser string) *http.Response {
		return h.Do(t, withBrowser(jsonReq("/play/race/choices", `{"choice":"consent_yes","title":"Yes, I agree"}`), browser))
	}
	if resp := tap(bob); resp.StatusCode != fiber.StatusConflict || !strings.Contains(errorText(t, resp), "Form a team or join one") {
		t.Errorf("a tap without a team: status %d", resp.StatusCode)
	}
	if resp := h.Do(t, teamPost(ann, url.Values{"action": {"form"}, "name": {"Red"}})); resp.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("form: status %d", resp.StatusCode)
	}
	if resp := tap(ann); resp.StatusCode != fiber.StatusConflict || !strings.Contains(errorText(t, resp), "needs at least 2 members") {
		t.Errorf("a tap of a team short of members: status %d", resp.StatusCode)
	}
	h.settle(t)
	if n, err := h.eng.StateCounts(context.Background(), "race"); err != nil || len(n) != 0 {
		t.Errorf("participants by state %v (%v), want none", n, err)
	}

	// Once the team can play, a member's tap shows on the other members' pages as what the
	// team said, as a typed message does.
	base := h.MustServe(t)
	doc := h.page(t, h.Do(t, withBrowser(httptest.NewRequest("GET", "/play/race", nil), ann)))
	if resp := h.Do(t, teamPost(bob, url.Values{"action": {"join"}, "code": {doc.Find("#team-code").Text()}})); resp.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("join: status %d", resp.StatusCode)
	}
	h.settle(t)
	annStream := MustStreamOf(t, base, "race", ann)
	annStream.UntilReady(t)
	resp := h.Do(t, withBrowser(jsonReq("/play/race/choices", `{"id":"bob-tap-0001","choice":"consent_yes","title":"Yes, I agree"}`), bob))
	if resp.StatusCode != fiber.StatusAccepted {
		t.Fatalf("bob's tap: status %d %s", resp.StatusCode, errorText(t, resp))
	}
	if ev := annStream.Next(t); ev.Dir != "in" || ev.Text != "Yes, I agree" || ev.ID != "cbob-tap-0001" {
		t.Errorf("ann's page got %+v, want bob's tap", ev)
	}
}
