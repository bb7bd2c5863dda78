package dashboard_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/chatcampaigns/campaign/audit"
	"github.com/chatcampaigns/campaign/broadcast"
	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/dashboard"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/pricing"
)

// fakePlans is the broadcast service as the dashboard sees it: it plans what it is told to,
// keeps the broadcasts it started and records every call.
type fakePlans struct {
	mu         sync.Mutex
	plan       broadcast.Plan
	casts      map[string]broadcast.Broadcast
	report     broadcast.Report
	recipients []broadcast.Recipient
	calls      []string
	pages      int
	now        func() time.Time
}

func newFakePlans(now func() time.Time) *fakePlans {
	day := now()
	return &fakePlans{now: now, casts: map[string]broadcast.Broadcast{},
		plan: broadcast.Plan{
			Number:   broadcast.NumberHealth{Channel: "whatsapp", Number: "1001", Display: "+31 20 555 0100", Limit: 2000, Quality: broadcast.QualityGreen},
			Audience: 20012, InWindow: 12, NeedTemplate: 19990, OnWhatsApp: 20002, UsedLast24h: 500, AllowedToday: 1500,
			Skipped: map[string]int{"opted out of marketing": 7, "frequency cap": 3},
			Days: []broadcast.PlanDay{{Start: day, Count: 1512}, {Start: day.Add(24 * time.Hour), Count: 2000},
				{Start: day.Add(48 * time.Hour), Count: 2000}},
			Finish:    day.Add(9 * 24 * time.Hour),
			Category:  campaigns.CategoryMarketing,
			ByCountry: map[string]int{"NL": 19000, "DE": 900, "": 90},
		}}
}

func (f *fakePlans) called(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s)
}

func (f *fakePlans) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func requestText(r broadcast.Request) string {
	s := fmt.Sprintf("%s/%s/%s=%s/%s/%s", r.Campaign, r.Audience.State, r.Audience.Var, r.Audience.Value, r.Message.Text[""], r.Message.Template)
	return s + "/by " + r.By
}

func (f *fakePlans) Plan(_ context.Context, r broadcast.Request) (broadcast.Plan, error) {
	f.called("plan " + requestText(r))
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.plan
	p.Request = r
	return p, nil
}

func (f *fakePlans) Start(_ context.Context, r broadcast.Request) (broadcast.Broadcast, error) {
	f.called("start " + requestText(r))
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.plan
	p.Request = r
	if p.InWindow+p.NeedTemplate == 0 {
		return broadcast.Broadcast{}, fmt.Errorf("fake: %w", broadcast.ErrNobody)
	}
	b := broadcast.Broadcast{ID: fmt.Sprintf("bc%d", len(f.casts)+1), Request: r, Plan: p, Status: broadcast.StatusRunning, At: f.now(), UpdatedAt: f.now()}
	f.casts[b.ID] = b
	return b, nil
}

func (f *fakePlans) set(id string, from []broadcast.Status, to broadcast.Status, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.casts[id]
	if !ok {
		return errs.ErrNotFound
	}
	if !slices.Contains(from, b.Status) {
		return fmt.Errorf("fake: broadcast %s is %s: %w", id, b.Status, errs.ErrConflict)
	}
	b.Status, b.PausedReason = to, reason
	f.casts[id] = b
	return nil
}

func (f *fakePlans) Pause(_ context.Context, id, reason, by string) error {
	f.called("pause " + id + " " + reason + " by " + by)
	return f.set(id, []broadcast.Status{broadcast.StatusRunning}, broadcast.StatusPaused, reason)
}

func (f *fakePlans) Resume(_ context.Context, id, by string) error {
	f.called("resume " + id + " by " + by)
	return f.set(id, []broadcast.Status{broadcast.StatusPaused}, broadcast.StatusRunning, "")
}

func (f *fakePlans) Cancel(_ context.Context, id, by string) error {
	f.called("cancel " + id + " by " + by)
	return f.set(id, []broadcast.Status{broadcast.StatusRunning, broadcast.StatusPaused}, broadcast.StatusCancelled, "")
}

func (f *fakePlans) Get(_ context.Context, id string) (broadcast.Broadcast, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.casts[id]
	if !ok {
		return b, fmt.Errorf("fake: broadcast %s: %w", id, errs.ErrNotFound)
	}
	return b, nil
}

func (f *fakePlans) List(_ context.Context, campaign string, limit int) ([]broadcast.Broadcast, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []broadcast.Broadcast
	for _, b := range f.casts {
		if b.Request.Campaign == campaign {
			out = append(out, b)
		}
	}
	slices.SortFunc(out, func(a, b broadcast.Broadcast) int { return strings.Compare(b.ID, a.ID) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (f *fakePlans) Report(_ context.Context, id string) (broadcast.Report, error) {
	if _, err := f.Get(context.Background(), id); err != nil {
		return broadcast.Report{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.report, nil
}

func (f *fakePlans) Recipients(_ context.Context, id string, after int64, limit int) ([]broadcast.Recipient, error) {
	if _, err := f.Get(context.Background(), id); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pages++
	var out []broadcast.Recipient
	for _, r := range f.recipients {
		if r.Seq > after && len(out) < limit {
			out = append(out, r)
		}
	}
	return out, nil
}

// withPlans paces the harness's broadcasts with plans and prices them from the store.
func withPlans(plans **fakePlans) func(h *harness, c *dashboard.Config) {
	return func(h *harness, c *dashboard.Config) {
		*plans = newFakePlans(h.clock.Now)
		c.Broadcasts = *plans
		c.Prices = pricing.NewBook(h.db, h.clock.Now)
	}
}

func (h *harness) MustPrices(text string) {
	h.t.Helper()
	if _, err := pricing.NewBook(h.db, h.clock.Now).Set(context.Background(), text, "test"); err != nil {
		h.t.Fatal(err)
	}
}

// TestBroadcastFormLeadsToThePlan: the broadcast form sends nothing; it shows the plan (in
// the window, needing the template, the limit, the days, the skipped, the cost) with a
// Confirm that carries the form on.
func TestBroadcastFormLeadsToThePlan(t *testing.T) {
	var plans *fakePlans
	h := newHarness(t, withPlans(&plans))
	h.MustUser("boss", dashboard.RoleAdmin)
	h.MustLogin("boss")
	h.MustPrices("currency,EUR\nNL,marketing,0.11\nDE,marketing,0.13\n")

	if got := MustDoc(t, h.Get("/dashboard/campaigns/bouncer")).Find("button.send-broadcast").Text(); got != "Plan broadcast" {
		t.Errorf("the form's button says %q", got)
	}
	resp := h.Submit("/dashboard/campaigns/bouncer/broadcast", url.Values{"text": {"Doors open at nine"}, "state": {"door"}})
	wantStatus(t, resp, http.StatusOK)
	doc := MustDoc(t, resp)
	if got := plans.Calls(); !slices.Equal(got, []string{"plan bouncer/door/=/Doors open at nine//by boss"}) {
		t.Fatalf("calls = %q, want one plan and no start", got)
	}
	if len(h.casts.Sent()) != 0 {
		t.Fatalf("the form sent at once: %v", h.casts.Sent())
	}
	for sel, want := range map[string]string{
		".in-window":     "12",
		".need-template": "19,990",
		".used":          "500",
		".allowed-today": "1,500",
		"dd.limit":       "2,000 people a day (a moving 24 hours) outside their window",
		"dd.number":      "+31 20 555 0100 GREEN",
		"p.finish":       "The last one goes 2026-03-10 20:00 UTC (3 days).",
	} {
		if got := strings.Join(strings.Fields(doc.Find(sel).Text()), " "); got != want {
			t.Errorf("%s = %q, want %q", sel, got, want)
		}
	}
	var days []string
	doc.Find("tr.plan-day").Each(func(_ int, s *goquery.Selection) {
		days = append(days, rowText(s))
	})
	if want := []string{"today 2026-03-01 20:00 UTC 1,512", "Mon 2 Mar 2026-03-02 20:00 UTC 2,000", "Tue 3 Mar 2026-03-03 20:00 UTC 2,000"}; !slices.Equal(days, want) {
		t.Errorf("days = %q, want %q", days, want)
	}
	if doc.Find("figure.plan-days svg").Length() != 1 {
		t.Error("no chart of the days")
	}
	var skipped []string
	doc.Find("tr.skip").Each(func(_ int, s *goquery.Selection) { skipped = append(skipped, rowText(s)) })
	if want := []string{"frequency cap 3", "opted out of marketing 7"}; !slices.Equal(skipped, want) {
		t.Errorf("skipped = %q, want %q", skipped, want)
	}
	var cost []string
	doc.Find("tr.cost-line").Each(func(_ int, s *goquery.Selection) { cost = append(cost, rowText(s)) })
	if want := []string{"DE marketing 900 0.13 117.00", "NL marketing 19,000 0.11 2090.00"}; !slices.Equal(cost, want) {
		t.Errorf("cost = %q, want %q", cost, want)
	}
	if got := rowText(doc.Find("tr.cost-total")); got != "Total (EUR) 2207.00" {
		t.Errorf("total = %q", got)
	}
	if got := doc.Find("p.unpriced").Text(); !strings.Contains(got, "90 messages to countries the price table has no price for") {
		t.Errorf("unpriced = %q", got)
	}
	form := doc.Find("form.confirm-broadcast")
	if action, _ := form.Attr("action"); action != "/dashboard/campaigns/bouncer/broadcast/confirm" {
		t.Errorf("confirm posts to %q", action)
	}
	carried := url.Values{}
	form.Find("input[type=hidden]").Each(func(_ int, s *goquery.Selection) {
		n, _ := s.Attr("name")
		v, _ := s.Attr("value")
		carried.Set(n, v)
	})
	if carried.Get("csrf") == "" || carried.Get("text") != "Doors open at nine" || carried.Get("state") != "door" {
		t.Errorf("the confirm form carries %v", carried)
	}
}

// TestPlanSaysWhatItDoesNotKnow: a number whose limit was never read, and no price table.
func TestPlanSaysWhatItDoesNotKnow(t *testing.T) {
	var plans *fakePlans
	h := newHarness(t, withPlans(&plans))
	plans.plan.Number.Limit, plans.plan.Limit = 0, broadcast.UnknownLimit
	h.MustUser("boss", dashboard.RoleAdmin)
	h.MustLogin("boss")
	doc := MustDoc(t, h.Submit("/dashboard/campaigns/bouncer/broadcast", url.Values{"text": {"hi"}}))
	if got := doc.Find("dd.limit").Text(); !strings.Contains(got, "not known") {
		t.Errorf("limit = %q", got)
	}
	// The pacer keeps to 250 and counts what it sent: the plan says those figures, not "?".
	plans.plan.UsedLast24h, plans.plan.AllowedToday = 40, 210
	doc = MustDoc(t, h.Submit("/dashboard/campaigns/bouncer/broadcast", url.Values{"text": {"hi"}}))
	if got := doc.Find(".allowed-today").Text(); got != "210" {
		t.Errorf("allowed today = %q, want 210 (250 kept to, 40 sent)", got)
	}
	if got := doc.Find(".used").Text(); got != "40" {
		t.Errorf("used = %q, want 40", got)
	}
	if got := doc.Find("p.limit-unknown").Text(); !strings.Contains(got, "keeps to the lowest limit, 250 a day, until it is read") {
		t.Errorf("the plan does not say what it keeps to: %q", got)
	}
	if got := doc.Find("p.cost-unknown").Text(); !strings.Contains(got, "No price table is set") {
		t.Errorf("cost = %q", got)
	}
}

func TestPlanOfNobody(t *testing.T) {
	var plans *fakePlans
	h := newHarness(t, withPlans(&plans))
	plans.plan = broadcast.Plan{Skipped: map[string]int{"opted out": 2}}
	h.MustUser("boss", dashboard.RoleAdmin)
	h.MustLogin("boss")
	doc := MustDoc(t, h.Submit("/dashboard/campaigns/bouncer/broadcast", url.Values{"text": {"hi"}}))
	if doc.Find("p.nobody").Length() != 1 || doc.Find("form.confirm-broadcast").Length() != 0 {
		t.Errorf("a plan that reaches nobody offers Confirm:\n%s", doc.Find("main").Text())
	}
	// A Confirm after everyone left (an old tab) starts nothing, and says so.
	doc = Refused(t, h.Submit("/dashboard/campaigns/bouncer/broadcast/confirm", url.Values{"text": {"hi"}}))
	if got := doc.Find(".flash-error").Text(); !strings.HasPrefix(got, "Nobody to send to any more") {
		t.Errorf("flash = %q", got)
	}
	if got := doc.Find("textarea[name=text]").Text(); got != "hi" {
		t.Errorf("the form shown again has %q, want the text sent", got)
	}
}

// TestBadBroadcastFormIsNotPlanned: the form's own checks come before the plan.
func TestBadBroadcastFormIsNotPlanned(t *testing.T) {
	var plans *fakePlans
	h := newHarness(t, withPlans(&plans))
	h.MustUser("boss", dashboard.RoleAdmin)
	h.MustLogin("boss")
	if got := Refused(t, h.Submit("/dashboard/campaigns/bouncer/broadcast", url.Values{"text": {""}})).Find(".flash-error").Text(); got != "Type the message first." {
		t.Errorf("flash = %q", got)
	}
	wantStatus(t, h.Submit("/dashboard/campaigns/bouncer/broadcast/confirm", url.Values{"text": {"hi"}, "state": {"nowhere"}}), http.StatusBadRequest)
	if got := plans.Calls(); len(got) != 0 {
		t.Errorf("calls = %q", got)
	}
}

// TestConfirmStartsTheBroadcast: Confirm starts it through the service, keeps it in the
// history and the audit trail, and leads to its page.
func TestConfirmStartsTheBroadcast(t *testing.T) {
	var plans *fakePlans
	h := newHarness(t, withPlans(&plans))
	h.MustUser("boss", dashboard.RoleAdmin)
	h.MustLogin("boss")
	resp := h.Submit("/dashboard/campaigns/bouncer/broadcast/confirm", url.Values{"text": {"Doors open at nine"}, "state": {"door"}})
	wantStatus(t, resp, http.StatusSeeOther)
	if loc := resp.Header.Get("Location"); loc != "/dashboard/campaigns/bouncer/broadcasts/bc1" {
		t.Fatalf("redirect to %q", loc)
	}
	if got := plans.Calls(); !slices.Equal(got, []string{"start bouncer/door/=/Doors open at nine//by boss"}) {
		t.Errorf("calls = %q", got)
	}
	if got := MustDoc(t, h.Follow(resp)).Find(".flash").Text(); got != "Broadcast started: 20002 participants planned, over 3 days." {
		t.Errorf("flash = %q", got)
	}
	// The service writes the audit line of a start it knows the user of; the form adds none.
	es, err := h.db.AuditEvents(t.Context(), audit.Query{Campaign: "bouncer"})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 0 {
		t.Errorf("trail = %+v, want the service's line only", es)
	}
	b, err := h.db.Broadcast(t.Context(), "bc1")
	if err != nil || b.Text != "Doors open at nine" || b.By != "boss" {
		t.Errorf("history: %+v, %v", b, err)
	}
}

func mustStart(t *testing.T, h *harness, plans *fakePlans) broadcast.Broadcast {
	t.Helper()
	b, err := plans.Start(t.Context(), broadcast.Request{Campaign: "bouncer", Audience: engine.Audience{State: "door"},
		Message: campaigns.Message{Text: campaigns.Text{"": "Doors open at nine"}}, By: "boss"})
	if err != nil {
		t.Fatal(err)
	}
	plans.calls = nil
	return b
}

// TestBroadcastPageSteers: the broadcast's page shows its status and report and pauses,
// resumes and cancels it.
func TestBroadcastPageSteers(t *testing.T) {
	var plans *fakePlans
	h := newHarness(t, withPlans(&plans))
	h.MustUser("boss", dashboard.RoleAdmin)
	h.MustLogin("boss")
	b := mustStart(t, h, plans)
	plans.report = broadcast.Report{Planned: 100, Waiting: 60, Sent: 30, Delivered: 25, Read: 10,
		Failed: map[string]int{"131026 undeliverable": 4}, Skipped: map[string]int{"opted out of marketing": 6},
		Cost: broadcast.Cost{Currency: "EUR", Total: 3.3, Lines: []broadcast.CostLine{{Country: "NL", Category: "marketing", Count: 30, Each: 0.11, Total: 3.3}}}}
	for i := 1; i <= 3; i++ {
		plans.recipients = append(plans.recipients, broadcast.Recipient{Seq: int64(i), ParticipantID: fmt.Sprintf("p%d", i), Country: "NL", Template: true, Status: "sent"})
	}
	page := "/dashboard/campaigns/bouncer/broadcasts/" + b.ID
	doc := MustDoc(t, h.Get(page))
	for sel, want := range map[string]string{
		".broadcast-status": "running", ".count-planned": "100", ".count-waiting": "60", ".count-sent": "30",
		".count-delivered": "25", ".count-read": "10", ".percent": "40%", "tr.fail": "131026 undeliverable 4",
		"tr.skip": "opted out of marketing 6", "tr.cost-total": "Total (EUR) 3.30",
	} {
		if got := rowText(doc.Find(sel)); got != want {
			t.Errorf("%s = %q, want %q", sel, got, want)
		}
	}
	if n := doc.Find("tr.recipient").Length(); n != 3 {
		t.Errorf("%d recipients listed", n)
	}
	if doc.Find("button.pause").Length() != 1 || doc.Find("button.resume").Length() != 0 || doc.Find("button.cancel").Length() != 1 {
		t.Error("a running broadcast offers Pause and Cancel only")
	}

	wantStatus(t, h.Submit(page+"/pause", url.Values{"reason": {"checking the replies"}}), http.StatusSeeOther)
	doc = MustDoc(t, h.Get(page))
	if got := doc.Find(".paused-reason").Text(); got != "Paused: checking the replies" {
		t.Errorf("paused reason = %q", got)
	}
	if doc.Find("button.resume").Length() != 1 || doc.Find("button.pause").Length() != 0 {
		t.Error("a paused broadcast offers Resume")
	}
	// Pausing twice is refused in words, not as a server error.
	resp := h.Submit(page+"/pause", nil)
	wantStatus(t, resp, http.StatusSeeOther)
	if got := MustDoc(t, h.Follow(resp)).Find(".flash-error").Text(); got != "Cannot pause this broadcast: it is paused." {
		t.Errorf("flash = %q", got)
	}
	wantStatus(t, h.Submit(page+"/resume", nil), http.StatusSeeOther)
	wantStatus(t, h.Submit(page+"/cancel", nil), http.StatusSeeOther)
	if got, want := plans.Calls(), []string{"pause bc1 checking the replies by boss", "pause bc1 paused by boss by boss", "resume bc1 by boss", "cancel bc1 by boss"}; !slices.Equal(got, want) {
		t.Errorf("calls = %q, want %q", got, want)
	}
	doc = MustDoc(t, h.Get(page))
	if got := doc.Find(".broadcast-status").Text(); got != "cancelled" || doc.Find(".broadcast-controls").Length() != 0 {
		t.Errorf("after cancel: status %q, controls %d", got, doc.Find(".broadcast-controls").Length())
	}
	// Another campaign's URL does not reach it.
	wantStatus(t, h.Get("/dashboard/campaigns/race/broadcasts/"+b.ID+"/recipients.csv"), http.StatusNotFound)
	wantStatus(t, h.Submit("/dashboard/campaigns/race/broadcasts/"+b.ID+"/pause", nil), http.StatusNotFound)
	wantStatus(t, h.Submit("/dashboard/campaigns/bouncer/broadcasts/nope/resume", nil), http.StatusNotFound)
	long := strings.Repeat("x", 201)
	resp = h.Submit(page+"/pause", url.Values{"reason": {long}})
	if got := MustDoc(t, h.Follow(resp)).Find(".flash-error").Text(); got != "Say why in at most 200 characters." {
		t.Errorf("flash = %q", got)
	}
}

// TestRecipientsCSV: the export lists every recipient, read a page at a time, by id and
// country, never by number.
func TestRecipientsCSV(t *testing.T) {
	var plans *fakePlans
	h := newHarness(t, withPlans(&plans))
	h.MustUser("boss", dashboard.RoleAdmin)
	h.MustLogin("boss")
	b := mustStart(t, h, plans)
	for i := 1; i <= 2500; i++ {
		r := broadcast.Recipient{Seq: int64(i), ParticipantID: fmt.Sprintf("p%04d", i), Address: fmt.Sprintf("3161%07d", i),
			Country: "NL", Template: i%2 == 0, Status: "sent", ReleasedAt: h.clock.Now()}
		if i == 7 {
			r.Status, r.Reason = "failed", "=131026 undeliverable"
		}
		plans.recipients = append(plans.recipients, r)
	}
	resp := h.Get("/dashboard/campaigns/bouncer/broadcasts/" + b.ID + "/recipients.csv")
	wantStatus(t, resp, http.StatusOK)
	if ct := resp.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("content type %q", ct)
	}
	body := MustBody(t, resp)
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2501 {
		t.Fatalf("%d rows", len(rows))
	}
	if want := []string{"seq", "participant", "country", "template", "status", "reason", "released_at"}; !slices.Equal(rows[0], want) {
		t.Errorf("header %q", rows[0])
	}
	if want := []string{"7", "p0007", "NL", "false", "failed", "'=131026 undeliverable", "2026-03-01T20:00:00Z"}; !slices.Equal(rows[7], want) {
		t.Errorf("row 7 = %q, want %q", rows[7], want)
	}
	if strings.Contains(body, "3161") {
		t.Error("the export has phone numbers")
	}
	if plans.pages != 3 {
		t.Errorf("read in %d pages, want 3 of 1,000", plans.pages)
	}
}

// TestPricesPage: an admin edits the price table as CSV; a bad table is shown back with its
// lines' problems and nothing of it (or of the stored one) is lost.
func TestPricesPage(t *testing.T) {
	var plans *fakePlans
	h := newHarness(t, withPlans(&plans))
	h.MustUser("boss", dashboard.RoleAdmin)
	h.MustLogin("boss")
	doc := MustDoc(t, h.Get("/dashboard/prices"))
	if doc.Find("p.no-prices").Length() != 1 {
		t.Error("an empty table is not said to be empty")
	}
	good := "# our rates\ncurrency,EUR\nNL,marketing,0.11\n*,marketing,0.06\n"
	resp := h.Submit("/dashboard/prices", url.Values{"prices": {good}})
	wantStatus(t, resp, http.StatusSeeOther)
	doc = MustDoc(t, h.Follow(resp))
	if got := doc.Find(".flash").Text(); got != "Prices saved: 2 prices in EUR." {
		t.Errorf("flash = %q", got)
	}
	if got := doc.Find("textarea#prices").Text(); got != good {
		t.Errorf("the form shows %q, want the table as written", got)
	}
	var rows []string
	doc.Find("tr.price-row").Each(func(_ int, s *goquery.Selection) { rows = append(rows, rowText(s)) })
	if want := []string{"NL marketing 0.11", "every other country marketing 0.06"}; !slices.Equal(rows, want) {
		t.Errorf("rows = %q", rows)
	}

	bad := "currency,EUR\nNL,marketing,0,11\nXX,utility,0.1\n"
	resp = h.Submit("/dashboard/prices", url.Values{"prices": {bad}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	doc = MustDoc(t, resp)
	var problems []string
	doc.Find("li.price-error").Each(func(_ int, s *goquery.Selection) { problems = append(problems, s.Text()) })
	if len(problems) != 2 || !strings.HasPrefix(problems[0], "line 2: 4 fields") || !strings.HasPrefix(problems[1], "line 3: country \"XX\"") {
		t.Errorf("problems = %q", problems)
	}
	if got := doc.Find("textarea#prices").Text(); got != bad {
		t.Errorf("the bad table is not shown back as sent: %q", got)
	}
	src, err := h.db.PriceTable(t.Context())
	if err != nil || src.Text != good || src.By != "boss" {
		t.Errorf("stored %+v, %v; want the good table kept", src, err)
	}
}

// rowText is the text of a selection's cells, one space between them and their words.
func rowText(s *goquery.Selection) string {
	cells := s.Find("td, th")
	if cells.Length() == 0 {
		return strings.Join(strings.Fields(s.Text()), " ")
	}
	var parts []string
	cells.Each(func(_ int, c *goquery.Selection) { parts = append(parts, strings.Fields(c.Text())...) })
	return strings.Join(parts, " ")
}

// TestBroadcastPageWithoutReceipts: recipients on a channel that reports no receipts (the web
// chat) are not shown as delivered 0, read 0: the page says why those columns are missing.
func TestBroadcastPageWithoutReceipts(t *testing.T) {
	var plans *fakePlans
	h := newHarness(t, withPlans(&plans))
	h.MustUser("boss", dashboard.RoleAdmin)
	h.MustLogin("boss")
	b := mustStart(t, h, plans)
	plans.report = broadcast.Report{Planned: 2, Sent: 2}
	plans.recipients = []broadcast.Recipient{{Seq: 1, ParticipantID: "p1", Channel: "webchat", Status: "released"}, {Seq: 2, ParticipantID: "p2", Channel: "webchat", Status: "released"}}
	doc := MustDoc(t, h.Get("/dashboard/campaigns/bouncer/broadcasts/"+b.ID))
	if n := doc.Find(".count-delivered, .count-read").Length(); n != 0 {
		t.Errorf("%d delivered/read counts shown for web chat recipients, want none", n)
	}
	if doc.Find(".no-receipts").Length() != 1 {
		t.Error("the page does not say the channel reports no receipts")
	}
}

// TestPlanWithoutWhatsApp: a broadcast that reaches nobody on WhatsApp (a web chat campaign,
// a server without WhatsApp) names no number and no messaging limit.
func TestPlanWithoutWhatsApp(t *testing.T) {
	var plans *fakePlans
	h := newHarness(t, withPlans(&plans))
	plans.plan = broadcast.Plan{Audience: 3, InWindow: 3, Limit: broadcast.Unlimited,
		Days: []broadcast.PlanDay{{Start: plans.now(), Count: 3}}, Skipped: map[string]int{}}
	h.MustUser("boss", dashboard.RoleAdmin)
	h.MustLogin("boss")
	doc := MustDoc(t, h.Submit("/dashboard/campaigns/bouncer/broadcast", url.Values{"text": {"hi"}}))
	if got := doc.Find("dd.number").Text(); got != "none: nobody gets it on WhatsApp, so no messaging limit applies" {
		t.Errorf("number = %q", got)
	}
	for _, sel := range []string{"dd.limit", ".n.used", ".n.allowed-today", ".limit-unknown"} {
		if doc.Find(sel).Length() != 0 {
			t.Errorf("%s shown for a broadcast without WhatsApp recipients", sel)
		}
	}
	if got := doc.Find(".n.in-window").Text(); got != "3" {
		t.Errorf("in window = %q", got)
	}
}

// TestPlanBackKeepsTheMessage: the plan page's Back brings the admin to the form with what
// they typed and chose, and sends nothing.
func TestPlanBackKeepsTheMessage(t *testing.T) {
	var plans *fakePlans
	h := newHarness(t, withPlans(&plans))
	h.MustUser("boss", dashboard.RoleAdmin)
	h.MustLogin("boss")
	plan := MustDoc(t, h.Submit("/dashboard/campaigns/bouncer/broadcast", url.Values{"text": {"Doors open at <nine>"}, "state": {"door"}}))
	back := plan.Find("form.confirm-broadcast button.back")
	if action, _ := back.Attr("formaction"); action != "/dashboard/campaigns/bouncer/broadcast/edit" {
		t.Fatalf("Back goes to %q", action)
	}
	carried := url.Values{}
	plan.Find("form.confirm-broadcast input[type=hidden]").Each(func(_ int, s *goquery.Selection) {
		if n, _ := s.Attr("name"); n != "csrf" {
			carried.Set(n, s.AttrOr("value", ""))
		}
	})
	calls := len(plans.Calls())
	resp := h.Submit("/dashboard/campaigns/bouncer/broadcast/edit", carried)
	wantStatus(t, resp, http.StatusOK)
	doc := MustDoc(t, resp)
	if got := doc.Find("form.broadcast-form textarea[name=text]").Text(); got != "Doors open at <nine>" {
		t.Errorf("text = %q", got)
	}
	if got := doc.Find("form.broadcast-form select[name=state] option[selected]").AttrOr("value", ""); got != "door" {
		t.Errorf("state = %q", got)
	}
	if got := plans.Calls(); len(got) != calls {
		t.Errorf("Back called the service: %q", got[calls:])
	}
	h.MustUser("mod1", dashboard.RoleModerator)
	h.MustLogin("mod1")
	wantStatus(t, h.Submit("/dashboard/campaigns/bouncer/broadcast/edit", carried), http.StatusForbidden)
}
