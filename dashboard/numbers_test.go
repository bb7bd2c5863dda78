package dashboard_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/chatcampaigns/campaign/broadcast"
	"github.com/chatcampaigns/campaign/dashboard"
)

// TestNumbersPage: each sending number's limit (a count, unlimited or unknown), throughput,
// quality with its badge, status, when it was checked and the last quality event; admins and
// moderators find it in the menu, judges neither see nor open it.
func TestNumbersPage(t *testing.T) {
	h := newHarness(t)
	checked := h.clock.Now().Add(-10 * time.Minute)
	for _, n := range []broadcast.NumberHealth{
		{Channel: "whatsapp", Number: "1001", Display: "+31 6 1234 5678", Limit: 2000, Throughput: 80,
			Quality: broadcast.QualityGreen, Status: "CONNECTED", CheckedAt: checked},
		{Channel: "whatsapp", Number: "1002", Display: "+44 7700 900123", Limit: broadcast.Unlimited, Throughput: 1000,
			Quality: broadcast.QualityRed, Status: "FLAGGED", Event: "FLAGGED", CheckedAt: checked},
		{Channel: "whatsapp", Number: "1003", CheckedAt: h.clock.Now().Add(-72 * time.Hour)},
	} {
		if err := h.db.SaveNumberHealth(t.Context(), n); err != nil {
			t.Fatal(err)
		}
	}
	h.MustUser("mod", dashboard.RoleModerator)
	h.MustLogin("mod")
	resp := h.Get("/dashboard/numbers")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("numbers page: %d %s", resp.StatusCode, MustBody(t, resp))
	}
	doc := MustDoc(t, resp)
	if doc.Find(`nav a[href="/dashboard/numbers"][aria-current="page"]`).Length() != 1 {
		t.Errorf("the menu does not lead to the numbers page, marked as the page shown")
	}
	type row struct{ limit, throughput, quality, qualityClass, status, statusClass, event, stale string }
	want := map[string]row{
		"1001": {"2,000 people a day", "80 messages/s", "high (green)", "badge-ok", "CONNECTED", "badge-ok", "none", ""},
		"1002": {"unlimited", "1,000 messages/s", "low (red)", "badge-bad", "FLAGGED", "badge-warn", "FLAGGED", ""},
		"1003": {"unknown", "unknown", "unknown", "badge-info", "unknown", "badge-info", "none", "not read for over two days"},
	}
	rows := doc.Find("tr.number")
	if rows.Length() != len(want) {
		t.Fatalf("%d numbers shown, want %d", rows.Length(), len(want))
	}
	rows.Each(func(_ int, s *goquery.Selection) {
		id, _ := s.Attr("data-number")
		w := want[id]
		q, st := s.Find(".quality"), s.Find(".number-status")
		got := row{text(s.Find(".limit")), text(s.Find(".throughput")), text(q), classWith(q, "badge-"), text(st), classWith(st, "badge-"),
			text(s.Find(".event")), text(s.Find(".checked .badge"))}
		if got != w {
			t.Errorf("number %s shows %+v, want %+v", id, got, w)
		}
	})
	if !strings.Contains(doc.Find("tr.number").First().Text(), "+31 6 1234 5678") {
		t.Errorf("the first number is not shown by its display number")
	}

	h.MustUser("judy", dashboard.RoleJudge)
	h.MustLogin("judy")
	if resp := h.Get("/dashboard/numbers"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a judge opened the numbers page: %d", resp.StatusCode)
	}
	if MustDoc(t, h.Get("/dashboard/entries")).Find(`nav a[href="/dashboard/numbers"]`).Length() != 0 {
		t.Errorf("a judge's menu offers the numbers page")
	}
}

func TestNumbersPageWithoutNumbers(t *testing.T) {
	h := newHarness(t)
	h.MustUser("boss", dashboard.RoleAdmin)
	h.MustLogin("boss")
	doc := MustDoc(t, h.Get("/dashboard/numbers"))
	if !strings.Contains(doc.Find("p.empty").Text(), "No number has been read yet") {
		t.Errorf("an empty numbers page does not say why it is empty")
	}
}

func text(s *goquery.Selection) string { return strings.Join(strings.Fields(s.Text()), " ") }

func classWith(s *goquery.Selection, prefix string) string {
	class, _ := s.Attr("class")
	for _, c := range strings.Fields(class) {
		if strings.HasPrefix(c, prefix) {
			return c
		}
	}
	return ""
}
