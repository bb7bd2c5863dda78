package dashboard_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

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
