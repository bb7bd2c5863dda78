package dashboard_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chatcampaigns/campaign/dashboard"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/judge"
)

// optedOutPID is the participant the fake conversations treat as opted out.
const optedOutPID = "gone"

// TestVerdictRefusedForClosedParticipant: a verdict on a participant who opted out or
// finished, on them or on their entry, is refused with the reason, and nothing is queued for
// the engine.
func TestVerdictRefusedForClosedParticipant(t *testing.T) {
	tests := []struct {
		name, state string
		finished    bool
		want        string
	}{
		{"opted out", engine.StateOptedOut, true, "Verdict not given: this participant opted out"},
		{"finished", "guest_list", true, "Verdict not given: this participant has finished"},
		{"asked for consent", engine.StateConsent, false, "Verdict not given: this participant has not agreed to take part"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.MustUser("mod", dashboard.RoleModerator)
			h.MustLogin("mod")
			h.MustParticipant("bouncer", "p1", tt.state, tt.finished)
			resp := h.Submit("/dashboard/campaigns/bouncer/participants/p1/verdict", url.Values{"verdict": {"winner"}, "key": {"k1"}})
			wantStatus(t, resp, http.StatusSeeOther)
			page := h.Follow(resp)
			wantStatus(t, page, http.StatusOK)
			if got := MustDoc(t, page).Find(".flash.flash-error").Text(); !strings.HasPrefix(got, tt.want) {
				t.Errorf("flash = %q, want %q…", got, tt.want)
			}
			if pending, _ := h.db.PendingInbound(t.Context(), 0); len(pending) != 0 {
				t.Errorf("%d events pending after a refused verdict, want none", len(pending))
			}
		})
	}
	t.Run("entry of a participant who opted out", func(t *testing.T) {
		h := newHarness(t)
		h.MustUser("mod", dashboard.RoleModerator)
		h.MustLogin("mod")
		e := h.MustEntry("hi")
		h.MustOptOut(e.ParticipantID)
		resp := h.Submit("/dashboard/entries/"+e.ID+"/approve", url.Values{"back": {"/dashboard/entries"}})
		wantStatus(t, resp, http.StatusSeeOther)
		want := "Not decided: this participant opted out, and nothing reaches them any more. The entry stays pending."
		if got := MustDoc(t, h.Follow(resp)).Find(".flash.flash-error").Text(); got != want {
			t.Errorf("flash = %q, want %q", got, want)
		}
		if got := h.Entry(e.ID); got.Status != judge.StatusPending {
			t.Errorf("entry %s after a refused verdict, want pending", got.Status)
		}
		if ev := h.VerdictEvents(e.ID); len(ev) != 0 {
			t.Errorf("verdict events = %+v, want none", ev)
		}
	})
}

// TestReplyToOptedOutParticipant: an agent's reply to a participant who opted out is not sent,
// and the agent is told so.
func TestReplyToOptedOutParticipant(t *testing.T) {
	h := newHarness(t)
	h.MustUser("mod", dashboard.RoleModerator)
	h.MustLogin("mod")
	resp := h.Submit("/dashboard/campaigns/bouncer/participants/"+optedOutPID+"/reply", url.Values{"text": {"Still there?"}})
	wantStatus(t, resp, http.StatusSeeOther)
	doc := MustDoc(t, h.Follow(resp))
	if got := doc.Find(".flash.flash-error").Text(); !strings.HasPrefix(got, "Not sent: this participant opted out") {
		t.Errorf("flash = %q", got)
	}
	// The page says so before anyone tries.
	if got := doc.Find(".participant-closed").Text(); got != "This participant opted out, and nothing reaches them any more." {
		t.Errorf("participant status = %q", got)
	}
	if MustDoc(t, h.Get("/dashboard/campaigns/bouncer/participants/p1")).Find(".participant-closed").Length() != 0 {
		t.Error("a playing participant shown as closed")
	}
}
