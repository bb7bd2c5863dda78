package dashboard_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/chatcampaigns/campaign/audit"
	"github.com/chatcampaigns/campaign/dashboard"
)

// newStoreHarness is the harness with the participants and transcripts read from the store.
func newStoreHarness(t *testing.T) *harness {
	return newHarness(t, func(h *harness, c *dashboard.Config) {
		c.Conversations = storeConversations{h.convs, h.db}
	})
}

// TestAssignConversations: a moderator assigns a conversation to themself or to another
// moderator of the campaign, or to nobody; the conversation and the inbox show the assignee,
// the inbox keeps "assigned to me", a user's or nobody's, and the audit trail has each
// change. A judge (who reads no conversations), a moderator of another campaign and an
// unknown name are refused with the reason.
func TestAssignConversations(t *testing.T) {
	h := newStoreHarness(t)
	h.talker("ann", "whatsapp", "door", "Let me in", time.Minute, map[string]string{"name": "Ann"})
	h.talker("bob", "whatsapp", "door", "hello", 2*time.Minute, map[string]string{"name": "Bob"})
	h.MustUser("mod", dashboard.RoleModerator)
	h.MustUser("anna", dashboard.RoleModerator)
	h.MustUser("judy", dashboard.RoleJudge)
	h.MustUser("carl", dashboard.RoleModerator)
	if err := h.db.SetCampaigns(t.Context(), "carl", []string{"race"}); err != nil {
		t.Fatal(err)
	}
	h.MustLogin("mod")
	conv := "/dashboard/campaigns/bouncer/participants/ann"
	assignTo := func(to string) *http.Response { return h.Submit(conv+"/assign", url.Values{"to": {to}}) }

	doc := MustDoc(t, h.Get(conv))
	if got := strings.TrimSpace(doc.Find(".assignee").Text()); got != "Assigned to nobody" {
		t.Errorf("before: %q", got)
	}
	var offered []string
	doc.Find("#assign-to option").Each(func(_ int, s *goquery.Selection) { offered = append(offered, s.AttrOr("value", "")) })
	if want := []string{"", "anna", "mod"}; !slices.Equal(offered, want) {
		t.Errorf("offered assignees %q, want %q (no judge, no moderator of another campaign)", offered, want)
	}

	if got := flashOf(t, h, assignTo("me")); got != "Assigned to mod." {
		t.Errorf("assign to me: flash %q", got)
	}
	if got := strings.TrimSpace(MustDoc(t, h.Get(conv)).Find(".assignee strong").Text()); got != "mod" {
		t.Errorf("the conversation shows assignee %q, want mod", got)
	}
	for _, tc := range []struct{ query, want string }{
		{"", "bob,ann"},
		{"?assigned=me", "ann"},
		{"?assigned=nobody", "bob"},
		{"?assigned=@anna", ""},
		{"?assigned=@mod&campaign=bouncer&state=door", "ann"},
	} {
		if got := strings.Join(rowsOf(t, h, "/dashboard/inbox"+tc.query, "tr.conversation"), ","); got != tc.want {
			t.Errorf("inbox%s: rows %q, want %q", tc.query, got, tc.want)
		}
	}
	row := MustDoc(t, h.Get("/dashboard/inbox")).Find(`tr.conversation[data-participant="ann"] td.assignee`)
	if got := strings.TrimSpace(row.Text()); got != "mod" {
		t.Errorf("the inbox row shows assignee %q, want mod", got)
	}
	wantStatus(t, h.Get("/dashboard/inbox?assigned=whoever"), http.StatusBadRequest)

	if got := flashOf(t, h, assignTo("anna")); got != "Assigned to anna." {
		t.Errorf("assign to anna: flash %q", got)
	}
	for to, want := range map[string]string{
		"judy":  "Not assigned: judy is a judge, who reads no conversations.",
		"carl":  `Not assigned: carl does not work on campaign "bouncer".`,
		"ghost": `Not assigned: there is no user "ghost".`,
		"anna":  "Assigned to anna already; nothing changed.",
	} {
		if got := flashOf(t, h, assignTo(to)); got != want {
			t.Errorf("assign to %s: flash %q, want %q", to, got, want)
		}
	}
	if got := strings.Join(rowsOf(t, h, "/dashboard/inbox?assigned=@anna", "tr.conversation"), ","); got != "ann" {
		t.Errorf("anna's inbox after the refusals: %q", got)
	}
	if got := flashOf(t, h, assignTo("")); got != "Assigned to nobody." {
		t.Errorf("unassign: flash %q", got)
	}
	events, err := h.trail.AuditEvents(t.Context(), audit.Query{ParticipantID: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range events {
		if e.Action == audit.AssignConversation {
			got = append(got, e.Actor+" "+e.Campaign+" "+e.Subject+": "+e.Detail)
		}
	}
	want := []string{"mod bouncer mod: to mod", "mod bouncer anna: to anna (was mod)", "mod bouncer anna: to nobody (was anna)"}
	if !slices.Equal(got, want) {
		t.Errorf("audit trail:\n%q\nwant\n%q", got, want)
	}
}
