package dashboard_test

import (
	"context"
	"encoding/csv"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chatcampaigns/campaign/audit"
	"github.com/chatcampaigns/campaign/dashboard"
)

// TestEntryPageShowsItsHistory: a verdict given in the queue is on the entry's page, with
// who gave it and when.
func TestEntryPageShowsItsHistory(t *testing.T) {
	h := newHarness(t)
	h.MustUser("mod1", dashboard.RoleModerator)
	h.MustLogin("mod1")
	e := h.MustEntry("hi")
	wantStatus(t, h.Submit("/dashboard/entries/"+e.ID+"/reject", url.Values{"reason": {"too dark"}}), http.StatusSeeOther)
	doc := MustDoc(t, h.Get("/dashboard/entries/"+e.ID))
	rows := doc.Find(".audit-history tr.audit-event")
	if rows.Length() != 1 {
		t.Fatalf("history rows = %d, want 1", rows.Length())
	}
	if got := rows.Find(".actor").Text() + "|" + rows.Find(".action").Text() + "|" + rows.Find(".detail").Text(); got != "mod1|verdict|rejected: too dark" {
		t.Errorf("history row = %q", got)
	}
	if at, _ := rows.Find("time").Attr("datetime"); at != h.clock.Now().UTC().Format("2006-01-02T15:04:05Z07:00") {
		t.Errorf("history time = %q, want the clock's %v", at, h.clock.Now())
	}
}

// TestAuditExport: admins download the trail as CSV, all or one campaign's; the download is
// itself in the trail; others are refused.
func TestAuditExport(t *testing.T) {
	h := newHarness(t)
	h.MustUser("boss", dashboard.RoleAdmin)
	h.MustUser("mod1", dashboard.RoleModerator)
	h.MustLogin("mod1")
	e := h.MustEntry("hi")
	wantStatus(t, h.Submit("/dashboard/entries/"+e.ID+"/approve", nil), http.StatusSeeOther)
	wantStatus(t, h.Get("/dashboard/audit.csv"), http.StatusForbidden)

	h.MustLogin("boss")
	wantStatus(t, h.Submit("/dashboard/campaigns/bouncer/status", url.Values{"status": {"paused"}}), http.StatusSeeOther)
	wantStatus(t, h.Get("/dashboard/audit.csv?campaign=nope"), http.StatusNotFound)
	resp := h.Get("/dashboard/audit.csv?campaign=bouncer")
	wantStatus(t, resp, http.StatusOK)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("Content-Type = %q", ct)
	}
	rows, err := csv.NewReader(strings.NewReader(MustBody(t, resp))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, strings.Join([]string{r[2], r[3], r[4], r[6], r[8]}, "|"))
	}
	want := []string{
		"actor|action|campaign|entry|detail",
		"mod1|verdict|bouncer|" + e.ID + "|approved",
		"boss|campaign.status|bouncer||paused",
		"boss|export|bouncer||the audit trail of bouncer as CSV",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("CSV:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if doc := MustDoc(t, h.Get("/dashboard/campaigns/bouncer")); doc.Find("a.audit-export").Length() != 1 {
		t.Error("the campaign page has no audit trail link for an admin")
	}
}

// TestBroadcastIsAudited: a broadcast is in the trail with its audience.
func TestBroadcastIsAudited(t *testing.T) {
	h := newHarness(t)
	h.MustUser("boss", dashboard.RoleAdmin)
	h.MustLogin("boss")
	wantStatus(t, h.Submit("/dashboard/campaigns/bouncer/broadcast", url.Values{"text": {"Doors open at nine"}, "state": {"door"}}), http.StatusSeeOther)
	es, err := h.db.AuditEvents(t.Context(), audit.Query{Campaign: "bouncer"})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Action != audit.Broadcast || es[0].Actor != "boss" || es[0].Detail != "to state door: 3 participants queued" {
		t.Fatalf("trail = %+v", es)
	}
}

// brokenTrail records as the real trail does but cannot list, as a store that goes away
// once the download has started would.
type brokenTrail struct{ dashboard.Trail }

func (brokenTrail) AuditEvents(context.Context, audit.Query) ([]audit.Event, error) {
	return nil, errors.New("database is locked")
}

// TestAuditExportCutShort: a trail export that fails midway ends with a line saying so, like
// the campaign exports, instead of looking whole (the status line has gone out by then).
func TestAuditExportCutShort(t *testing.T) {
	h := newHarness(t, func(h *harness, cfg *dashboard.Config) { cfg.Audit = brokenTrail{h.trail} })
	h.MustUser("boss", dashboard.RoleAdmin)
	h.MustLogin("boss")
	wantStatus(t, h.Submit("/dashboard/campaigns/bouncer/status", url.Values{"status": {"paused"}}), http.StatusSeeOther)
	resp := h.Get("/dashboard/audit.csv")
	wantStatus(t, resp, http.StatusOK)
	body := MustBody(t, resp)
	lines := strings.Split(strings.TrimSpace(body), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "id,at,actor") {
		t.Fatalf("export:\n%s\nwant the header and the cut-short line", body)
	}
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "# export cut short:") || !strings.Contains(last, "database is locked") {
		t.Errorf("last line = %q, want it to say the export is cut short and why", last)
	}
}
