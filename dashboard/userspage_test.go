package dashboard_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/chatcampaigns/campaign/accounts"
	"github.com/chatcampaigns/campaign/dashboard"
	"github.com/chatcampaigns/campaign/engine"
)

// flashOf follows a form's redirect and returns the message shown.
func flashOf(t *testing.T, h *harness, resp *http.Response) string {
	t.Helper()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d, want a redirect:\n%s", resp.StatusCode, MustBody(t, resp))
	}
	return strings.TrimSpace(MustDoc(t, h.Follow(resp)).Find(".flash").Text())
}

func TestUsersPage(t *testing.T) {
	h := newHarness(t)
	h.MustUser("boss", dashboard.RoleAdmin)
	h.MustLogin("boss")
	doc := MustDoc(t, h.Get("/dashboard/users"))
	if doc.Find(`nav a[href="/dashboard/users"]`).Length() != 1 {
		t.Error("an admin's menu has no link to the users page")
	}
	if doc.Find(`tr.user[data-name=boss]`).Length() != 1 {
		t.Error("the users page does not list the admin")
	}

	add := url.Values{"username": {"Judy "}, "password": {testPassword}, "role": {"judge"}, "teams": {"desk, door"}, "campaign": {"race"}}
	if got := flashOf(t, h, h.Submit("/dashboard/users", add)); got != "User judy added as judge." {
		t.Errorf("add flash = %q", got)
	}
	u, err := h.db.UserByName(t.Context(), "judy")
	if err != nil || u.Role != "judge" || !slices.Equal(u.Teams, []string{"desk", "door"}) || !slices.Equal(u.Campaigns, []string{"race"}) {
		t.Fatalf("judy = %+v, %v", u, err)
	}
	if got := flashOf(t, h, h.Submit("/dashboard/users", add)); got != `A user "judy" exists already.` {
		t.Errorf("second add flash = %q", got)
	}
	short := url.Values{"username": {"shorty"}, "password": {"123"}, "role": {"judge"}}
	if got := flashOf(t, h, h.Submit("/dashboard/users", short)); !strings.Contains(got, "password shorter than 10 characters") {
		t.Errorf("short password flash = %q", got)
	}

	// The row's form: another role, no teams, both campaigns ticked.
	edit := url.Values{"role": {"moderator"}, "teams": {""}, "campaign": {"race", "bouncer"}}
	if got := flashOf(t, h, h.Submit("/dashboard/users/judy", edit)); got != "User judy saved." {
		t.Errorf("edit flash = %q", got)
	}
	u, _ = h.db.UserByName(t.Context(), "judy")
	if u.Role != "moderator" || u.Teams != nil || !slices.Equal(u.Campaigns, []string{"bouncer", "race"}) {
		t.Errorf("after edit judy = %+v", u)
	}
	doc = MustDoc(t, h.Get("/dashboard/users"))
	if n := doc.Find(`tr.user[data-name=judy] input[name=campaign][checked]`).Length(); n != 2 {
		t.Errorf("%d of judy's campaigns ticked, want 2", n)
	}
	bad := url.Values{"role": {"owner"}}
	if got := flashOf(t, h, h.Submit("/dashboard/users/judy", bad)); !strings.Contains(got, `role "owner"`) {
		t.Errorf("bad role flash = %q", got)
	}

	// The last admin can be neither demoted nor removed.
	if got := flashOf(t, h, h.Submit("/dashboard/users/boss", url.Values{"role": {"judge"}})); got != "boss is the only admin: make another user admin first." {
		t.Errorf("demote last admin flash = %q", got)
	}
	if got := flashOf(t, h, h.Submit("/dashboard/users/boss/remove", nil)); got != "boss is the only admin: make another user admin first." {
		t.Errorf("remove last admin flash = %q", got)
	}
	if u, _ := h.db.UserByName(t.Context(), "boss"); u.Role != "admin" {
		t.Errorf("the last admin became %s", u.Role)
	}

	if got := flashOf(t, h, h.Submit("/dashboard/users/judy/password", url.Values{"password": {"another long one"}})); !strings.HasPrefix(got, "Password of judy changed") {
		t.Errorf("password flash = %q", got)
	}
	if resp := h.Login("judy", "another long one"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("judy cannot log in with the new password: %d", resp.StatusCode)
	}
	h.MustLogin("boss")
	if got := flashOf(t, h, h.Submit("/dashboard/users/judy/remove", nil)); got != "User judy removed." {
		t.Errorf("remove flash = %q", got)
	}
	if got := flashOf(t, h, h.Submit("/dashboard/users/judy/remove", nil)); got != `There is no user "judy" (any more).` {
		t.Errorf("second remove flash = %q", got)
	}

	// Each change of who may do what went to the audit trail, with who made it.
	var got []string
	for _, c := range h.roles.Changes() {
		if c.By != "boss" || c.At.IsZero() {
			t.Errorf("role change without who or when: %+v", c)
		}
		got = append(got, c.Username+":"+c.From+">"+c.To+":"+strings.Join(c.Campaigns, ","))
	}
	want := []string{"judy:>judge:race", "judy:judge>moderator:bouncer,race", "judy:moderator>:"}
	if !slices.Equal(got, want) {
		t.Errorf("role changes recorded %q, want %q", got, want)
	}
}

// TestScopedUser: a user given campaigns sees and acts on only those campaigns' entries,
// conversations and pages; an admin sees all.
func TestScopedUser(t *testing.T) {
	h := newHarness(t)
	h.MustParticipant("bouncer", "p1", "judging", false)
	theirs := waiting("p1", "desk", "Ann", h.clock.Now())
	ours := waiting("p9", "desk", "Race team", h.clock.Now())
	ours.Campaign = "race"
	h.queue.list = []engine.Participant{theirs, ours}
	mine := h.MustEntryIn("race", "harbour", "ours")
	other := h.MustEntry("theirs") // bouncer
	if _, err := accounts.Add(t.Context(), h.db, accounts.NewUser{Username: "rita", Password: testPassword,
		Role: accounts.RoleModerator, Campaigns: []string{"race"}}); err != nil {
		t.Fatal(err)
	}
	h.MustLogin("rita")

	doc := MustDoc(t, h.Get("/dashboard/entries"))
	if got := doc.Find(`[data-id]`).Map(func(_ int, s *goquery.Selection) string { id, _ := s.Attr("data-id"); return id }); !slices.Contains(got, mine.ID) || slices.Contains(got, other.ID) {
		t.Errorf("rita's queue shows %q; want %s and not %s", got, mine.ID, other.ID)
	}
	doc = MustDoc(t, h.Get("/dashboard/campaigns"))
	if doc.Find(`tr.campaign[data-id=race]`).Length() != 1 || doc.Find(`tr.campaign[data-id=bouncer]`).Length() != 0 {
		t.Errorf("rita's campaigns: %q", doc.Find("tr.campaign").Text())
	}
	if got := queueTeams(t, h, "/dashboard/conversations"); strings.Join(got, "\n") != "desk: Race team waiting under a minute" {
		t.Errorf("rita's team queues: %q, want only the race's conversation", got)
	}
	for _, path := range []string{
		"/dashboard/entries/" + other.ID, "/dashboard/entries/" + other.ID + "/media",
		"/dashboard/campaigns/bouncer", "/dashboard/campaigns/bouncer/participants/p1",
	} {
		resp := h.Get(path)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("GET %s: status %d, want 403", path, resp.StatusCode)
			continue
		}
		if body := MustDoc(t, resp).Find("main").Text(); !strings.Contains(body, `not on campaign "bouncer"`) {
			t.Errorf("GET %s: the page does not say why: %q", path, strings.TrimSpace(body))
		}
	}
	wantStatus(t, h.Submit("/dashboard/entries/"+other.ID+"/approve", nil), http.StatusForbidden)
	wantStatus(t, h.Submit("/dashboard/campaigns/bouncer/participants/p1/reply", url.Values{"text": {"hi"}}), http.StatusForbidden)
	if e := h.Entry(other.ID); e.Status != "pending" {
		t.Errorf("rita decided an entry of another campaign: %s", e.Status)
	}
	if len(h.convs.replies) != 0 {
		t.Errorf("rita replied in another campaign: %q", h.convs.replies)
	}
	wantStatus(t, h.Get("/dashboard/entries/"+mine.ID), http.StatusOK)
	wantStatus(t, h.Get("/dashboard/campaigns/race"), http.StatusOK)

	// An admin sees every campaign, whatever campaigns they were given.
	if _, err := accounts.Add(t.Context(), h.db, accounts.NewUser{Username: "boss", Password: testPassword,
		Role: accounts.RoleAdmin, Campaigns: []string{"race"}}); err != nil {
		t.Fatal(err)
	}
	h.MustLogin("boss")
	wantStatus(t, h.Get("/dashboard/entries/"+other.ID), http.StatusOK)
	wantStatus(t, h.Get("/dashboard/campaigns/bouncer/participants/p1"), http.StatusOK)
}
