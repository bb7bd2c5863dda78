package dashboard_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/chatcampaigns/campaign/accounts"
	"github.com/chatcampaigns/campaign/dashboard"
	"github.com/chatcampaigns/campaign/engine"
)

// fakeQueue is the engine's list of handed-off conversations, longest waiting first.
type fakeQueue struct{ list []engine.Participant }

func (f *fakeQueue) HandedOff(context.Context) ([]engine.Participant, error) { return f.list, nil }

func waiting(id, team, name string, at time.Time) engine.Participant {
	return engine.Participant{ID: id, Campaign: "bouncer", State: "desk", Address: "+3161234" + id,
		Vars:          map[string]string{"handoff": team, "name": name, "handoff_at": at.Format(time.RFC3339Nano)},
		LastInboundAt: at.Add(time.Minute)}
}

func queueTeams(t *testing.T, h *harness, path string) []string {
	t.Helper()
	doc := MustDoc(t, h.Get(path))
	var out []string
	doc.Find("section.queue").Each(func(_ int, s *goquery.Selection) {
		team, _ := s.Attr("data-team")
		var rows []string
		s.Find("tr.waiting").Each(func(_ int, r *goquery.Selection) {
			rows = append(rows, strings.TrimSpace(r.Find(".who").Text())+" "+strings.TrimSpace(r.Find(".waited").Text()))
		})
		out = append(out, team+": "+strings.Join(rows, ", "))
	})
	return out
}

// TestTeamQueues: the conversations page lists the handed-off conversations per team, the
// user's own teams first, each queue oldest first with who waits and since when; admins see
// every team, a team member only theirs (with the others a click away).
func TestTeamQueues(t *testing.T) {
	h := newHarness(t)
	now := h.clock.Now()
	h.queue.list = []engine.Participant{
		waiting("p1", "billing", "Ann <b>", now.Add(-3*time.Hour)),
		waiting("p2", "appointments", "Bob", now.Add(-2*time.Hour)),
		waiting("p3", "billing", "Cid", now.Add(-90*time.Minute)),
	}
	h.MustUser("boss", dashboard.RoleAdmin)
	if _, err := accounts.AddUser(context.Background(), h.db, "amy", testPassword, dashboard.RoleModerator, "appointments"); err != nil {
		t.Fatal(err)
	}
	// A team member starts at the queues, after logging in and at /dashboard/.
	resp := h.Login("amy", testPassword)
	if loc := resp.Header.Get("Location"); loc != "/dashboard/conversations" {
		t.Errorf("amy's login leads to %q, want the queues", loc)
	}
	h.MustLogin("amy")
	if loc := h.Get("/dashboard/").Header.Get("Location"); loc != "/dashboard/conversations" {
		t.Errorf("/dashboard/ leads amy to %q, want the queues", loc)
	}
	got := queueTeams(t, h, "/dashboard/conversations")
	want := []string{"appointments: Bob waiting 2h0m"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("amy's queues:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	body := MustBody(t, h.Get("/dashboard/conversations"))
	if !strings.Contains(body, "2 more conversations wait in other teams") {
		t.Errorf("amy is not told of the other teams' queues:\n%s", body)
	}
	got = queueTeams(t, h, "/dashboard/conversations?all=1")
	want = []string{"appointments: Bob waiting 2h0m", "billing: Ann <b> waiting 3h0m, Cid waiting 1h30m"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("amy's queues with all=1:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if strings.Contains(MustBody(t, h.Get("/dashboard/conversations?all=1")), "Ann <b>") {
		t.Error("a participant's name is not escaped")
	}

	// A user in no team has no queue of their own to see first: every queue.
	h.MustUser("cid", dashboard.RoleModerator)
	h.MustLogin("cid")
	if got := queueTeams(t, h, "/dashboard/conversations"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("cid's queues:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	h.MustLogin("boss")
	got = queueTeams(t, h, "/dashboard/conversations")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the admin's queues:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	doc := MustDoc(t, h.Get("/dashboard/conversations"))
	if href, _ := doc.Find(`tr.waiting a`).First().Attr("href"); href != "/dashboard/campaigns/bouncer/participants/p2" {
		t.Errorf("first conversation links to %q", href)
	}
	if got := doc.Find(`tr.waiting time`).First().Text(); got != "2026-03-01 18:00 UTC" {
		t.Errorf("waiting since %q", got)
	}
}

// TestParticipantPageShowsHandoff: the conversation's page says which team has it and since
// when, with the way back to the queues.
func TestParticipantPageShowsHandoff(t *testing.T) {
	h := newHarness(t)
	h.MustUser("mod", dashboard.RoleModerator)
	h.MustLogin("mod")
	h.MustParticipant("bouncer", "p1", "judging", false)
	doc := MustDoc(t, h.Get("/dashboard/campaigns/bouncer/participants/p1"))
	got := strings.Join(strings.Fields(doc.Find(".participant-handoff").Text()), " ")
	want := "Handed to team chefs since 2026-03-01 19:15 UTC (waiting 45m); the bot is silent until you hand back. Team queues"
	if got != want {
		t.Errorf("hand-off line = %q, want %q", got, want)
	}
}

// TestTeamNobodyHandsOffTo: a user whose teams no campaign hands off to (a typo in --team)
// is told that of their teams, not that no campaign hands off at all.
func TestTeamNobodyHandsOffTo(t *testing.T) {
	h := newHarness(t)
	h.queue.list = []engine.Participant{waiting("p1", "billing", "Ann", h.clock.Now().Add(-time.Hour))}
	if _, err := accounts.AddUser(context.Background(), h.db, "carl", testPassword, dashboard.RoleModerator, "billling"); err != nil {
		t.Fatal(err)
	}
	h.MustLogin("carl")
	body := MustBody(t, h.Get("/dashboard/conversations"))
	if strings.Contains(body, "No campaign hands conversations off to a team") {
		t.Errorf("carl is told no campaign hands off, while billing has a queue:\n%s", body)
	}
	if !strings.Contains(body, "No campaign hands conversations off to your team billling.") {
		t.Errorf("carl is not told that his team has no queue:\n%s", body)
	}
}

// TestHandBackOnlyWhenHandedOff: the participant page offers "Hand back to the bot" only
// while a team has the conversation; otherwise the button could only be refused.
func TestHandBackOnlyWhenHandedOff(t *testing.T) {
	h := newHarness(t)
	h.MustUser("mod", dashboard.RoleModerator)
	h.MustLogin("mod")
	for pid, want := range map[string]int{"p1": 1, walkerPID: 0} {
		doc := MustDoc(t, h.Get("/dashboard/campaigns/bouncer/participants/"+pid))
		if got := doc.Find("button.handback").Length(); got != want {
			t.Errorf("%s: %d hand-back buttons, want %d", pid, got, want)
		}
		if doc.Find("form.reply").Length() != 1 {
			t.Errorf("%s: no reply form (an agent may write in any conversation)", pid)
		}
	}
}
