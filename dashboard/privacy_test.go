package dashboard_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chatcampaigns/campaign/dashboard"
	"github.com/chatcampaigns/campaign/privacy"
)

// fakePrivacy records export and erase requests (the real service is tested in privacy and
// end to end in cmd/campaign).
type fakePrivacy struct{ exported, erased, purged []string }

func (f *fakePrivacy) Purge(_ context.Context, campaign, by string) (int, error) {
	f.purged = append(f.purged, by+": "+campaign)
	return 4, nil
}

func (f *fakePrivacy) Export(_ context.Context, id string, w io.Writer) error {
	f.exported = append(f.exported, id)
	_, err := io.WriteString(w, "PK\x05\x06"+strings.Repeat("\x00", 18))
	return err
}

func (f *fakePrivacy) Erase(_ context.Context, id, by string) (privacy.Record, error) {
	f.erased = append(f.erased, by+": "+id)
	return privacy.Record{Campaign: "bouncer", Tombstone: "erased-1", By: by, Lines: 3, Entries: 1, Objects: 2}, nil
}

// TestParticipantDataRequest: an admin exports a participant as a ZIP and erases them after
// ticking the confirmation; a moderator sees neither and is refused both.
func TestParticipantDataRequest(t *testing.T) {
	h := newHarness(t)
	h.MustParticipant("bouncer", "p1", "judging", false)
	conv := "/dashboard/campaigns/bouncer/participants/p1"

	h.MustUser("mod", dashboard.RoleModerator)
	h.MustLogin("mod")
	if doc := MustDoc(t, h.Get(conv)); doc.Find("form.erase, a.export-data").Length() != 0 {
		t.Error("a moderator is offered export or erase")
	}
	wantStatus(t, h.Get(conv+"/export"), http.StatusForbidden)
	wantStatus(t, h.Submit(conv+"/erase", url.Values{"confirm": {"yes"}}), http.StatusForbidden)

	h.MustUser("boss", dashboard.RoleAdmin)
	h.MustLogin("boss")
	doc := MustDoc(t, h.Get(conv))
	if doc.Find("form.erase input[name=confirm][required]").Length() != 1 || doc.Find("a.export-data").Length() != 1 {
		t.Fatal("the admin's participant page has no export link or confirmed erase form")
	}
	resp := h.Get(conv + "/export")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" || !strings.HasPrefix(string(body), "PK") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "participant-p1.zip") {
		t.Errorf("export: %d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"))
	}

	resp = h.Submit(conv+"/erase", nil)
	if doc := MustDoc(t, h.Follow(resp)); !strings.Contains(doc.Find(".flash").Text(), "tick the box") {
		t.Errorf("erase without confirmation: flash %q", doc.Find(".flash").Text())
	}
	if len(h.priv.erased) != 0 {
		t.Fatalf("erased without confirmation: %v", h.priv.erased)
	}
	resp = h.Submit(conv+"/erase", url.Values{"confirm": {"yes"}})
	if loc := resp.Header.Get("Location"); loc != "/dashboard/campaigns/bouncer" {
		t.Errorf("after erase: redirect to %q", loc)
	}
	if doc := MustDoc(t, h.Follow(resp)); !strings.Contains(doc.Find(".flash").Text(), "removed") {
		t.Errorf("after erase: flash %q", doc.Find(".flash").Text())
	}
	if len(h.priv.erased) != 1 || h.priv.erased[0] != "boss: p1" || len(h.priv.exported) != 1 {
		t.Errorf("erased %v, exported %v", h.priv.erased, h.priv.exported)
	}
}

// TestCampaignPurge: a closed campaign's page offers admins a confirmed purge; a live one's
// does not.
func TestCampaignPurge(t *testing.T) {
	h := newHarness(t)
	h.MustUser("boss", dashboard.RoleAdmin)
	h.MustLogin("boss")
	page := "/dashboard/campaigns/bouncer"
	if MustDoc(t, h.Get(page)).Find("form.purge").Length() != 0 {
		t.Error("a live campaign offers a purge")
	}
	h.Submit(page+"/status", url.Values{"status": {"closed"}})
	if MustDoc(t, h.Get(page)).Find("form.purge input[name=confirm][required]").Length() != 1 {
		t.Fatal("a closed campaign offers no confirmed purge")
	}
	h.Submit(page+"/purge", nil)
	if len(h.priv.purged) != 0 {
		t.Fatal("purged without confirmation")
	}
	resp := h.Submit(page+"/purge", url.Values{"confirm": {"yes"}})
	if doc := MustDoc(t, h.Follow(resp)); !strings.Contains(doc.Find(".flash").Text(), "4 participants") {
		t.Errorf("after purge: flash %q", doc.Find(".flash").Text())
	}
	if len(h.priv.purged) != 1 || h.priv.purged[0] != "boss: bouncer" {
		t.Errorf("purged %v", h.priv.purged)
	}
}
