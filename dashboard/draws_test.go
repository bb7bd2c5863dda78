package dashboard_test

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/chatcampaigns/campaign/audit"
	"github.com/chatcampaigns/campaign/dashboard"
	"github.com/chatcampaigns/campaign/draw"
	"github.com/chatcampaigns/campaign/errs"
)

// TestDrawCommitCloseVerify: an admin commits to a draw among the approved entries (one
// chance per participant), the page shows the commitment, closing draws, and the downloaded
// publication verifies with nothing but itself.
func TestDrawCommitCloseVerify(t *testing.T) {
	h := newHarness(t)
	h.MustUser("boss", dashboard.RoleAdmin)
	h.MustUser("mod1", dashboard.RoleModerator)
	h.MustLogin("mod1")
	var approved []string
	for i := range 4 {
		e := h.MustEntry("entry")
		verdict := "approve"
		if i == 3 {
			verdict = "reject"
		} else {
			approved = append(approved, e.ParticipantID)
		}
		wantStatus(t, h.Submit("/dashboard/entries/"+e.ID+"/"+verdict, nil), http.StatusSeeOther)
	}
	slices.Sort(approved)
	wantStatus(t, h.Submit("/dashboard/campaigns/bouncer/draws", url.Values{"name": {"kits"}, "winners": {"2"}}), http.StatusForbidden)

	h.MustLogin("boss")
	if doc := MustDoc(t, h.Get("/dashboard/campaigns/bouncer")); doc.Find("a.draws-link").Length() != 1 {
		t.Error("the campaign page does not link to its draws")
	}
	resp := h.Submit("/dashboard/campaigns/bouncer/draws", url.Values{"name": {"kits"}, "winners": {"2"}, "status": {"approved"}})
	wantStatus(t, resp, http.StatusSeeOther)
	page := MustDoc(t, h.Follow(resp))
	if got := page.Find(".eligible-sha256").Text(); got != draw.ListHash(approved) {
		t.Errorf("page's list hash = %q, want %s", got, draw.ListHash(approved))
	}
	if page.Find("code.seed").Length() != 0 {
		t.Error("the seed is shown before the draw closed")
	}
	commitment, err := draw.ReadPublication(strings.NewReader(MustBody(t, h.Get("/dashboard/campaigns/bouncer/draws/kits/publication.json"))))
	if err != nil {
		t.Fatal(err)
	}
	if commitment.Seed != "" || !slices.Equal(commitment.Eligible, approved) {
		t.Fatalf("commitment = %+v", commitment)
	}
	if _, err := draw.Verify(commitment); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("verifying an open draw: %v, want ErrInvalid", err)
	}
	if got := MustBody(t, h.Get("/dashboard/campaigns/bouncer/draws/kits/eligible.txt")); got != draw.ListText(approved) {
		t.Errorf("eligible.txt = %q", got)
	}
	wantStatus(t, h.Submit("/dashboard/campaigns/bouncer/draws", url.Values{"name": {"kits"}, "winners": {"1"}}), http.StatusSeeOther)
	if got := MustDoc(t, h.Get("/dashboard/campaigns/bouncer/draws")).Find(".flash").Text(); !strings.Contains(got, "already") {
		t.Errorf("second draw of one name: flash %q", got)
	}

	wantStatus(t, h.Submit("/dashboard/campaigns/bouncer/draws/kits/close", nil), http.StatusSeeOther)
	page = MustDoc(t, h.Get("/dashboard/campaigns/bouncer/draws/kits"))
	if n := page.Find("ol.drawn li.winner").Length(); n != 2 {
		t.Errorf("%d winners shown, want 2", n)
	}
	result, err := draw.ReadPublication(strings.NewReader(MustBody(t, h.Get("/dashboard/campaigns/bouncer/draws/kits/publication.json"))))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := draw.Verify(result); err != nil {
		t.Fatalf("the published result does not verify: %v", err)
	}
	if result.EligibleSHA256 != commitment.EligibleSHA256 || result.SeedSHA256 != commitment.SeedSHA256 {
		t.Error("the result's commitment differs from the one published first")
	}
	wantStatus(t, h.Submit("/dashboard/campaigns/bouncer/draws/kits/close", nil), http.StatusSeeOther)
	if got := MustDoc(t, h.Get("/dashboard/campaigns/bouncer/draws/kits")).Find(".flash").Text(); !strings.Contains(got, "closed already") {
		t.Errorf("closing twice: flash %q", got)
	}
	es, err := h.db.AuditEvents(t.Context(), audit.Query{Campaign: "bouncer"})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range es {
		if e.Actor == "boss" {
			actions = append(actions, e.Action)
		}
	}
	if want := []string{audit.DrawCommit, audit.Export, audit.DrawClose, audit.Export}; !slices.Equal(actions, want) {
		t.Errorf("boss's trail = %v, want %v", actions, want)
	}
}

func TestDrawWithNobodyEligible(t *testing.T) {
	h := newHarness(t)
	h.MustUser("boss", dashboard.RoleAdmin)
	h.MustLogin("boss")
	h.MustEntry("pending only")
	wantStatus(t, h.Submit("/dashboard/campaigns/bouncer/draws", url.Values{"name": {"kits"}, "winners": {"1"}}), http.StatusSeeOther)
	doc := MustDoc(t, h.Get("/dashboard/campaigns/bouncer/draws"))
	if got := doc.Find(".flash").Text(); !strings.Contains(got, "nobody has an entry with that status") {
		t.Errorf("flash = %q", got)
	}
	wantStatus(t, h.Submit("/dashboard/campaigns/bouncer/draws", url.Values{"name": {"Bad Name"}, "winners": {"1"}}), http.StatusSeeOther)
	if got := MustDoc(t, h.Get("/dashboard/campaigns/bouncer/draws")).Find(".flash").Text(); !strings.Contains(got, "lowercase") {
		t.Errorf("bad name: flash = %q", got)
	}
	wantStatus(t, h.Submit("/dashboard/campaigns/bouncer/draws", url.Values{"name": {"kits"}, "winners": {"0"}}), http.StatusSeeOther)
	if got := MustDoc(t, h.Get("/dashboard/campaigns/bouncer/draws")).Find(".flash").Text(); !strings.Contains(got, "how many win") {
		t.Errorf("no winners: flash = %q", got)
	}
}
