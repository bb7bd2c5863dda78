package dashboard_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/chatcampaigns/campaign/accounts"
	"github.com/chatcampaigns/campaign/dashboard"
	"github.com/chatcampaigns/campaign/engine"
)

// verdictEventsOf counts the participant verdicts queued for the engine about pid.
func verdictEventsOf(t *testing.T, h *harness, pid string) int {
	t.Helper()
	pending, err := h.db.PendingInbound(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, in := range pending {
		if in.Kind == engine.KindVerdict && in.ParticipantID == pid {
			n++
		}
	}
	return n
}

// TestJudgeMayNotSpeakForThePersona: a judge decides entries; replying as the persona (it
// reaches the participant's WhatsApp), handing a conversation back and moving a participant
// on are a moderator's. Each was allowed to any role.
func TestJudgeMayNotSpeakForThePersona(t *testing.T) {
	h := newHarness(t)
	h.MustParticipant("bouncer", "p1", "judging", false)
	h.MustUser("judy", dashboard.RoleJudge)
	h.MustLogin("judy")
	conv := "/dashboard/campaigns/bouncer/participants/p1"
	for _, c := range []struct {
		path string
		form url.Values
		want string
	}{
		{conv + "/reply", url.Values{"text": {"Come in."}}, "may not reply as the persona"},
		{conv + "/handback", nil, "may not hand a conversation back"},
		{conv + "/verdict", url.Values{"verdict": {"winner"}, "key": {"k1"}}, "may not give participants verdicts"},
		{conv + "/verdict", url.Values{"verdict": {"eliminated"}, "key": {"k2"}}, "may not give participants verdicts"},
	} {
		resp := h.Submit(c.path, c.form)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("judge POST %s %v: status %d, want 403", c.path, c.form, resp.StatusCode)
			continue
		}
		if body := MustBody(t, resp); !strings.Contains(body, c.want) {
			t.Errorf("judge POST %s: the page does not say why (%q):\n%s", c.path, c.want, body)
		}
	}
	if len(h.convs.replies) != 0 || len(h.convs.handbacks) != 0 {
		t.Errorf("a judge's reply or hand-back went through: replies %q, handbacks %q", h.convs.replies, h.convs.handbacks)
	}
	if n := verdictEventsOf(t, h, "p1"); n != 0 {
		t.Errorf("%d participant verdicts by a judge reached the engine", n)
	}
}

// TestParticipantRoutesCheckTheCampaign: a participant's pages and actions live under their
// campaign's URL; under another campaign's they are not found. A verdict posted under the
// race's URL moved a bouncer participant.
func TestParticipantRoutesCheckTheCampaign(t *testing.T) {
	h := newHarness(t)
	h.MustParticipant("bouncer", "p1", "judging", false)
	h.MustUser("mod", dashboard.RoleModerator)
	h.MustLogin("mod")
	wrong := "/dashboard/campaigns/race/participants/p1"
	for _, r := range []struct {
		method, path string
		form         url.Values
	}{
		{"GET", wrong, nil},
		{"GET", "/dashboard/campaigns/race/participants/" + mediaPID + "/lines/7/media", nil},
		{"POST", wrong + "/reply", url.Values{"text": {"hi"}}},
		{"POST", wrong + "/handback", nil},
		{"POST", wrong + "/verdict", url.Values{"verdict": {"eliminated"}, "key": {"k"}}},
	} {
		var resp *http.Response
		if r.method == "GET" {
			resp = h.Get(r.path)
		} else {
			resp = h.Submit(r.path, r.form)
		}
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s %s: status %d, want 404", r.method, r.path, resp.StatusCode)
		}
	}
	if len(h.convs.replies) != 0 || len(h.convs.handbacks) != 0 {
		t.Errorf("under the wrong campaign: replies %q, handbacks %q", h.convs.replies, h.convs.handbacks)
	}
	if n := verdictEventsOf(t, h, "p1"); n != 0 {
		t.Errorf("%d verdicts posted under the race's URL reached the bouncer participant", n)
	}
}

// roleLog records the role changes the users page reports for the audit trail.
type roleLog struct {
	mu      sync.Mutex
	changes []accounts.RoleChange
}

func (l *roleLog) RecordRoleChange(_ context.Context, c accounts.RoleChange) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.changes = append(l.changes, c)
	return nil
}

func (l *roleLog) Changes() []accounts.RoleChange {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.changes)
}

// publicRoutes are reached without a login, so the role matrix has nothing to say on them.
var publicRoutes = map[string]bool{
	"GET /dashboard/":             true,
	"GET /dashboard/login":        true,
	"POST /dashboard/login":       true,
	"POST /dashboard/logout":      true,
	"GET /dashboard/static/:name": true,
}

// loginAs logs a user of each role in, each with a cookie jar of their own.
func loginAs(h *harness, roles map[string]string) map[string]map[string]*http.Cookie {
	h.t.Helper()
	jars := map[string]map[string]*http.Cookie{}
	for role, name := range roles {
		h.jar = map[string]*http.Cookie{}
		h.MustUser(name, role)
		h.MustLogin(name)
		jars[role] = h.jar
	}
	return jars
}

// TestRoleMatrix walks every route the dashboard registers, as each role, and checks the
// answer against the role matrix: allowed, or 403 with a page saying why. A route with no
// entry in the matrix fails here, so a new page cannot be open to all by oversight.
func TestRoleMatrix(t *testing.T) {
	h, _ := newJudgingHarness(t, nil) // every route served, the judging ones included
	h.MustParticipant("bouncer", "p1", "judging", false)
	e := h.MustEntry("look at me")
	jars := loginAs(h, map[string]string{dashboard.RoleJudge: "judy", dashboard.RoleModerator: "mod", dashboard.RoleAdmin: "boss"})
	h.MustUser("spare", dashboard.RoleModerator)

	rules := map[string]dashboard.RouteRule{}
	for _, r := range dashboard.RouteRules() {
		rules[r.Method+" "+r.Path] = r
	}
	var routes []dashboard.RouteRule
	registered := map[string]bool{}
	for _, r := range h.app.GetRoutes(true) {
		key := r.Method + " " + r.Path
		if r.Method == http.MethodHead || !strings.HasPrefix(r.Path, "/dashboard") || registered[key] {
			continue
		}
		registered[key] = true
		if publicRoutes[key] {
			continue
		}
		rule, ok := rules[key]
		if !ok {
			t.Errorf("%s has no entry in the role matrix (dashboard/roles.go routeActions)", key)
			continue
		}
		routes = append(routes, rule)
	}
	for key := range rules {
		if !registered[key] {
			t.Errorf("the role matrix lists %s, which the dashboard does not serve", key)
		}
	}
	fill := strings.NewReplacer(":pid", "p1", ":line", "7", ":round", "harbour", ":bid", "b1", ":name", "spare")
	// The admin goes last: their allowed changes (a user removed, a campaign closed) would
	// change what the others meet.
	for _, role := range []string{dashboard.RoleJudge, dashboard.RoleModerator, dashboard.RoleAdmin} {
		h.jar = jars[role]
		for _, r := range routes {
			path := r.Path
			if strings.HasPrefix(path, "/dashboard/entries/:id") {
				path = strings.Replace(path, ":id", e.ID, 1)
			}
			path = fill.Replace(strings.Replace(path, ":id", "bouncer", 1))
			var resp *http.Response
			if r.Method == http.MethodGet {
				resp = h.Get(path)
			} else {
				resp = h.Submit(path, url.Values{"text": {"hello"}, "verdict": {"advanced"}, "key": {role}, "status": {"paused"}})
			}
			allowed := accounts.Can(role, r.Action)
			switch {
			case allowed && resp.StatusCode == http.StatusForbidden:
				t.Errorf("%s: %s %s: 403, but the matrix allows it (%s):\n%s", role, r.Method, path, r.Action, MustBody(t, resp))
			case !allowed && resp.StatusCode != http.StatusForbidden:
				t.Errorf("%s: %s %s: status %d, want 403 (%s is not for %ss)", role, r.Method, path, resp.StatusCode, r.Action, role)
			case !allowed:
				if got, want := MustDoc(t, resp).Find("main").Text(), accounts.Denied(role, r.Action); !strings.Contains(got, want) {
					t.Errorf("%s: %s %s: the 403 page says %q, want %q", role, r.Method, path, strings.TrimSpace(got), want)
				}
			}
		}
	}
}

// TestPagesLinkOnlyWhereTheRoleMayGo: a judge's menu and campaign page have no links into
// conversations or the delivery monitor, which would answer 403; a moderator's do.
func TestPagesLinkOnlyWhereTheRoleMayGo(t *testing.T) {
	h := newHarness(t)
	jars := loginAs(h, map[string]string{dashboard.RoleJudge: "judy", dashboard.RoleModerator: "mod"})
	for role, want := range map[string]int{dashboard.RoleJudge: 0, dashboard.RoleModerator: 1} {
		h.jar = jars[role]
		doc := MustDoc(t, h.Get("/dashboard/campaigns/bouncer"))
		for _, sel := range []string{`nav a[href="/dashboard/conversations"]`, `nav a[href="/dashboard/inbox"]`, `a[href^="/dashboard/inbox"]`,
			`a[href$="/deliveries"]`, `a[href*="/participants/"]`, `a[href*="/participants"]`} {
			if got := doc.Find(sel).Length(); (got > 0) != (want > 0) {
				t.Errorf("%s: %d links %s, want %d", role, got, sel, want)
			}
		}
		if got := doc.Find(`nav a[href="/dashboard/users"]`).Length(); got != 0 {
			t.Errorf("%s: the menu links to the users page", role)
		}
	}
}

// TestJudgeInATeamStartsAtTheEntries: a user in a hand-off team starts at the team queues,
// unless their role may not read conversations (it led a judge to a 403 after logging in).
func TestJudgeInATeamStartsAtTheEntries(t *testing.T) {
	h := newHarness(t)
	if _, err := accounts.AddUser(t.Context(), h.db, "judy", testPassword, accounts.RoleJudge, "chefs"); err != nil {
		t.Fatal(err)
	}
	resp := h.Login("judy", testPassword)
	if got := resp.Header.Get("Location"); got != "/dashboard/entries" {
		t.Errorf("a judge in a team starts at %q, want /dashboard/entries", got)
	}
}
