package dashboard_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/chatcampaigns/campaign/audit"
	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/dashboard"
	"github.com/chatcampaigns/campaign/judge"
)

// auditTrail notes the judging events the dashboard's actions cause, as action:who (who is
// the actor, or the judge the system seated), and passes them on to the harness's trail.
type auditTrail struct {
	next  audit.Recorder
	kinds []string
}

func (a *auditTrail) Record(ctx context.Context, e audit.Event) error {
	who := e.Actor
	if e.Actor == audit.ActorSystem {
		who = e.Subject
	}
	a.kinds = append(a.kinds, e.Action+":"+who)
	return a.next.Record(ctx, e)
}

// newJudgingHarness is a harness with claims (10-minute leases), panels and the scores page,
// and the race campaign judged as judging says.
func newJudgingHarness(t *testing.T, judging *campaigns.Judging) (*harness, *auditTrail) {
	t.Helper()
	trail := &auditTrail{}
	h := newHarnessWith(t, func(h *harness, j *judge.Service, cfg *dashboard.Config) {
		trail.next = h.trail
		j.Leases, j.Panels, j.LeaseFor, j.Audit = h.db, h.db, 10*time.Minute, trail
		cfg.Judging = j
		var plans *fakePlans // the paced broadcasts' and prices' routes too
		withPlans(&plans)(h, cfg)
	})
	for i, ci := range h.camps.list {
		if ci.Def.ID == "race" {
			h.camps.list[i].Def.Judging = judging
		}
	}
	return h, trail
}

func TestClaimShowsWhoIsJudging(t *testing.T) {
	h, trail := newJudgingHarness(t, nil)
	h.MustUser("anna", dashboard.RoleModerator)
	h.MustUser("ben", dashboard.RoleModerator)
	e := h.MustEntry("let me in")
	page := "/dashboard/entries/" + e.ID

	h.MustLogin("anna")
	if got := MustDoc(t, h.Get(page)).Find(".claim-mine").Text(); !strings.Contains(got, "You are judging this entry until 20:10 UTC") {
		t.Errorf("anna's entry page claim = %q", got)
	}

	h.MustLogin("ben")
	if got := MustDoc(t, h.Get("/dashboard/entries")).Find(`li.entry[data-id="` + e.ID + `"] .claim`).Text(); !strings.Contains(got, "anna is judging this") {
		t.Errorf("ben's queue shows %q, want anna is judging this", got)
	}
	doc := MustDoc(t, h.Get(page))
	if got := doc.Find(".claim-other").Text(); !strings.Contains(got, "anna is judging this entry") {
		t.Errorf("ben's entry page claim = %q", got)
	}
	if got := flashOf(t, h, h.Submit(page+"/approve", url.Values{"back": {page}})); !strings.Contains(got, "Not decided: anna is judging this entry") || !strings.Contains(got, "20:10 UTC") {
		t.Errorf("ben's approve: flash = %q", got)
	}
	if got := h.Entry(e.ID); got.Status != judge.StatusPending || len(h.VerdictEvents(e.ID)) != 0 {
		t.Fatalf("after ben's refused approve: %s with %d events", got.Status, len(h.VerdictEvents(e.ID)))
	}

	h.clock.Advance(10*time.Minute + time.Second)
	if n := MustDoc(t, h.Get("/dashboard/entries")).Find(".claim").Length(); n != 0 {
		t.Errorf("%d claims in the queue after anna's lease ran out, want none", n)
	}
	if got := flashOf(t, h, h.Submit(page+"/approve", url.Values{"back": {page}})); !strings.Contains(got, "Entry approved.") {
		t.Errorf("ben's approve after the lease: flash = %q", got)
	}
	if got := h.Entry(e.ID); got.Status != judge.StatusApproved || got.DecidedBy != "ben" {
		t.Errorf("entry = %s by %s", got.Status, got.DecidedBy)
	}
	want := "claim:anna claim:ben claim.release:ben verdict:ben"
	if got := strings.Join(trail.kinds, " "); got != want {
		t.Errorf("audit = %q, want %q", got, want)
	}
}

func TestReleaseReturnsEntryToTheQueue(t *testing.T) {
	h, _ := newJudgingHarness(t, nil)
	h.MustUser("anna", dashboard.RoleModerator)
	h.MustUser("ben", dashboard.RoleModerator)
	e := h.MustEntry("let me in")
	page := "/dashboard/entries/" + e.ID
	h.MustLogin("anna")
	h.Get(page)
	if got := flashOf(t, h, h.Submit(page+"/release", nil)); !strings.Contains(got, "back in the queue") {
		t.Errorf("release flash = %q", got)
	}
	h.MustLogin("ben")
	if got := MustDoc(t, h.Get(page)).Find(".claim-mine").Text(); !strings.Contains(got, "You are judging this entry") {
		t.Errorf("ben after anna's release: %q", got)
	}
}

func panelJudging() *campaigns.Judging {
	return &campaigns.Judging{Judges: []string{"anna", "ben", "carla"}, PerEntry: 2, ScoreLock: 5 * time.Minute, Normalise: campaigns.NormaliseNone}
}

func TestPanelQueueScoringAndConflict(t *testing.T) {
	h, trail := newJudgingHarness(t, panelJudging())
	for _, u := range []string{"anna", "ben", "carla"} {
		h.MustUser(u, dashboard.RoleJudge)
	}
	e1 := h.MustEntryIn("race", "harbour", "one")
	e2 := h.MustEntryIn("race", "harbour", "two")

	// Oldest first, least loaded first: e1 to anna and ben, e2 to carla and anna.
	h.MustLogin("carla")
	doc := MustDoc(t, h.Get("/dashboard/entries"))
	if ids := doc.Find("li.entry").Map(func(_ int, s *goquery.Selection) string { return s.AttrOr("data-id", "") }); strings.Join(ids, ",") != e2.ID {
		t.Fatalf("carla's queue = %v, want only %s", ids, e2.ID)
	}
	if got := doc.Find("li.entry .panel").Text(); !strings.Contains(got, "carla, anna") {
		t.Errorf("panel = %q", got)
	}
	doc = MustDoc(t, h.Get("/dashboard/entries/"+e1.ID))
	if doc.Find("form.score-form").Length() != 0 || !strings.Contains(doc.Find(".score-closed").Text(), "not on this entry's panel; its judges are anna, ben") {
		t.Errorf("carla off e1's panel: form %d, %q", doc.Find("form.score-form").Length(), doc.Find(".score-closed").Text())
	}
	if got := flashOf(t, h, h.Submit("/dashboard/entries/"+e1.ID+"/score", scoreForm("5", "5"))); !strings.Contains(got, "not on this entry's panel") {
		t.Errorf("carla scores e1: flash %q", got)
	}

	h.MustLogin("ben")
	resp := h.Submit("/dashboard/entries/"+e1.ID+"/recuse", url.Values{"kind": {"conflict"}, "reason": {"my sister's team"}})
	if got := flashOf(t, h, resp); !strings.Contains(got, "Conflict of interest recorded") {
		t.Errorf("ben's conflict: flash %q", got)
	}
	h.MustLogin("carla")
	doc = MustDoc(t, h.Get("/dashboard/entries/"+e1.ID))
	if got := doc.Find(".panel").Text(); !strings.Contains(got, "anna, carla") {
		t.Errorf("e1's panel after ben's conflict = %q, want anna, carla", got)
	}
	if got := doc.Find(".recusal-conflict").Text(); !strings.Contains(got, "ben declared a conflict of interest: my sister's team") {
		t.Errorf("recusal = %q", got)
	}
	if doc.Find("form.score-form").Length() != 1 {
		t.Error("carla, now on e1's panel, gets no score form")
	}
	if got := strings.Join(trail.kinds, " "); !strings.Contains(got, "conflict:ben assign:carla") {
		t.Errorf("audit = %q", got)
	}
	if got := MustDoc(t, h.Get("/dashboard/campaigns/race/scores")).Find(".recusals-table tbody").Text(); !strings.Contains(got, "ben") || !strings.Contains(got, "my sister's team") {
		t.Errorf("scores page recusals = %q", got)
	}
	rows, err := csv.NewReader(strings.NewReader(MustBody(t, h.Get("/dashboard/campaigns/race/recusals.csv")))).ReadAll()
	if err != nil || len(rows) != 2 || strings.Join(rows[1][:4], ",") != e1.ID+",ben,conflict,my sister's team" {
		t.Errorf("recusals csv = %v, %v", rows, err)
	}
}

func TestScoreLockOnTheEntryPage(t *testing.T) {
	h, _ := newJudgingHarness(t, panelJudging())
	h.MustUser("anna", dashboard.RoleJudge)
	e := h.MustEntryIn("race", "harbour", "one")
	page := "/dashboard/entries/" + e.ID
	h.MustLogin("anna")
	h.Get("/dashboard/entries")
	if got := flashOf(t, h, h.Submit(page+"/score", scoreForm("4", "6"))); got != "Scores saved." {
		t.Fatalf("flash = %q", got)
	}
	if got := MustDoc(t, h.Get(page)).Find(".score-lock").Text(); !strings.Contains(got, "until 20:05 UTC") {
		t.Errorf("lock hint = %q", got)
	}
	h.clock.Advance(5 * time.Minute)
	doc := MustDoc(t, h.Get(page))
	if doc.Find("form.score-form").Length() != 0 || !strings.Contains(doc.Find(".score-closed").Text(), "Your scores locked at") {
		t.Errorf("after the lock: form %d, %q", doc.Find("form.score-form").Length(), doc.Find(".score-closed").Text())
	}
	if got := flashOf(t, h, h.Submit(page+"/score", scoreForm("9", "9"))); !strings.Contains(got, "Not changed: your scores on this entry locked at 20:05 UTC") {
		t.Errorf("change after the lock: flash %q", got)
	}
	if cs := h.Scorecards(e.ID); len(cs) != 1 || cs[0].Scores["Originality"] != 4 {
		t.Errorf("scorecards = %+v", cs)
	}
}

// TestBlindJudgingHidesTheSender renders every page a judge can open on a blind campaign and
// checks none holds the participant's id (whole or shortened), number or location.
func TestBlindJudgingHidesTheSender(t *testing.T) {
	j := panelJudging()
	j.Blind, j.PerEntry, j.Judges = true, 1, []string{"anna"}
	h, _ := newJudgingHarness(t, j)
	h.MustUser("anna", dashboard.RoleJudge)
	h.MustUser("mod", dashboard.RoleModerator)
	e := h.MustEntryIn("race", "harbour", "our shot")
	if _, err := h.db.Entry(context.Background(), e.ID); err != nil {
		t.Fatal(err)
	}
	secrets := []string{e.ParticipantID, e.ParticipantID[:8], testPhone, "31612345678"}
	pages := []string{"/dashboard/entries", "/dashboard/entries?status=all", "/dashboard/entries/" + e.ID, "/dashboard/campaigns/race/scores", "/dashboard/campaigns/race/scores.csv"}

	h.MustLogin("anna")
	h.Get("/dashboard/entries")
	flashOf(t, h, h.Submit("/dashboard/entries/"+e.ID+"/score", scoreForm("4", "6")))
	for _, p := range pages {
		body := MustBody(t, h.Get(p))
		if !strings.Contains(body, e.ID) {
			t.Errorf("%s does not show the entry at all", p)
		}
		for _, s := range secrets {
			if strings.Contains(body, s) {
				t.Errorf("%s shows %q to a judge of a blind campaign", p, s)
			}
		}
	}
	wantStatus(t, h.Get("/dashboard/campaigns/race/participants/"+e.ParticipantID), http.StatusForbidden)

	// The same pages show the sender to a moderator: the check above can fail.
	h.MustLogin("mod")
	if body := MustBody(t, h.Get("/dashboard/entries/"+e.ID)); !strings.Contains(body, e.ParticipantID[:8]) {
		t.Error("a moderator does not see the participant either: the blind check proves nothing")
	}
}

func TestScoresPageRawAndNormalisedSideBySide(t *testing.T) {
	j := panelJudging()
	j.Normalise, j.ScoreLock = campaigns.NormaliseZScore, 0
	j.PerEntry = 3
	h, _ := newJudgingHarness(t, j)
	for _, u := range []string{"anna", "ben", "carla"} {
		h.MustUser(u, dashboard.RoleJudge)
	}
	e1 := h.MustEntryIn("race", "harbour", "one")
	e2 := h.MustEntryIn("race", "harbour", "two")
	for _, u := range []struct {
		name   string
		e1, e2 string
	}{{"anna", "2", "4"}, {"ben", "8", "9"}, {"carla", "5", "5"}} {
		h.MustLogin(u.name)
		h.Get("/dashboard/entries")
		flashOf(t, h, h.Submit("/dashboard/entries/"+e1.ID+"/score", scoreForm(u.e1, u.e1)))
		flashOf(t, h, h.Submit("/dashboard/entries/"+e2.ID+"/score", scoreForm(u.e2, u.e2)))
	}
	doc := MustDoc(t, h.Get("/dashboard/campaigns/race/scores"))
	if got := doc.Find(".scores-table th").Text(); !strings.Contains(got, "Mean (raw)") || !strings.Contains(got, "Mean (z-score)") {
		t.Errorf("headers = %q", got)
	}
	first := doc.Find("tr.sheet-entry").First()
	// e2: raw mean (4+9+5)/3 = 6; z-scores +1, +1, 0 (carla gave 5 twice: no spread) = 0.67.
	if first.AttrOr("data-entry", "") != e2.ID || first.Find(".raw").Text() != "6.00" || first.Find(".normalised").Text() != "0.67" {
		t.Errorf("first row = %s raw %s normalised %s", first.AttrOr("data-entry", ""), first.Find(".raw").Text(), first.Find(".normalised").Text())
	}
	if n := doc.Find("tr.card").Length(); n != 6 {
		t.Errorf("%d scorecards, want 6", n)
	}
	resp := h.Get("/dashboard/campaigns/race/scores.csv")
	wantStatus(t, resp, http.StatusOK)
	rows, err := csv.NewReader(strings.NewReader(MustBody(t, resp))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 7 || strings.Join(rows[0], ",") != "rank,entry,participant,judge,Originality,Team <spirit>,raw_total,normalised_total,normalisation,entry_raw_mean,entry_normalised_mean,given_at,changed_at" {
		t.Fatalf("csv = %v", rows)
	}
	if got := strings.Join(rows[1][:11], ","); got != "1,"+e2.ID+","+e2.ParticipantID+",anna,4,4,4.0000,1.0000,z-score,6.0000,0.6667" {
		t.Errorf("first csv row = %s", got)
	}
}
