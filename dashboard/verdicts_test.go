package dashboard_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/dashboard"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/judge"
)

// fakeVerdicts answers what each participant's state takes.
type fakeVerdicts struct {
	mu sync.Mutex
	by map[string][]string
}

func (f *fakeVerdicts) Set(pid string, vs ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.by[pid] = vs
}

func (f *fakeVerdicts) Verdicts(_ context.Context, pid string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	vs, ok := f.by[pid]
	if !ok {
		return nil, errs.ErrNotFound
	}
	return vs, nil
}

func withVerdicts(f *fakeVerdicts) func(*harness, *dashboard.Config) {
	return func(_ *harness, c *dashboard.Config) { c.Verdicts = f }
}

func buttons(s *goquery.Selection) []string {
	var out []string
	s.Find(".actions button").Each(func(_ int, b *goquery.Selection) {
		class, _ := b.Attr("class")
		out = append(out, b.Text()+"("+class+")")
	})
	return out
}

// TestEntryButtonsFollowTheState: an entry is offered the verdicts its participant's state
// takes (a photo contest's entered: shortlist or reject), with the a and r keys on the onward
// and the turning-down one; a verdict the state does not take is refused and the entry stays
// pending; an offered one is given.
func TestEntryButtonsFollowTheState(t *testing.T) {
	vs := &fakeVerdicts{by: map[string][]string{}}
	h := newHarness(t, withVerdicts(vs))
	h.MustUser("mod1", dashboard.RoleModerator)
	h.MustLogin("mod1")
	e := h.MustEntry("beach")
	vs.Set(e.ParticipantID, campaigns.VerdictRejected, campaigns.VerdictShortlisted)

	queue := MustDoc(t, h.Get("/dashboard/entries"))
	want := "Reject(reject verdict-rejected) Shortlist(approve verdict-shortlisted)"
	if got := strings.Join(buttons(queue.Find(`li.entry[data-id="`+e.ID+`"]`)), " "); got != want {
		t.Errorf("queue buttons = %s, want %s", got, want)
	}
	if got := strings.Join(buttons(MustDoc(t, h.Get("/dashboard/entries/"+e.ID)).Selection), " "); got != want {
		t.Errorf("entry page buttons = %s, want %s", got, want)
	}

	wantStatus(t, h.Submit("/dashboard/entries/"+e.ID+"/approve", nil), http.StatusSeeOther)
	if got := MustDoc(t, h.Get("/dashboard/entries")).Find(".flash").Text(); !strings.Contains(got, "takes Reject or Shortlist now, not Approve") {
		t.Errorf("approve on a step that takes no approved: flash %q", got)
	}
	if got := h.Entry(e.ID); got.Status != judge.StatusPending || len(h.VerdictEvents(e.ID)) != 0 {
		t.Fatalf("a refused verdict changed the entry: %s, %d events", got.Status, len(h.VerdictEvents(e.ID)))
	}
	wantStatus(t, h.Submit("/dashboard/entries/"+e.ID+"/verdict", url.Values{"verdict": {campaigns.VerdictShortlisted}}), http.StatusSeeOther)
	if got := h.Entry(e.ID); got.Status != campaigns.VerdictShortlisted {
		t.Fatalf("entry after Shortlist: %s", got.Status)
	}
	if ev := h.VerdictEvents(e.ID); len(ev) != 1 || ev[0].Verdict != campaigns.VerdictShortlisted {
		t.Fatalf("verdict events = %+v", ev)
	}
	wantStatus(t, h.Submit("/dashboard/entries/"+e.ID+"/verdict", url.Values{"verdict": {"crowned"}}), http.StatusBadRequest)
}

// TestEntryOfAStepWithoutVerdictsIsMarkedOnly: when the participant's state takes no
// verdict (they moved on, as in the scavenger hunt), Approve and Reject are offered and say
// they only mark the entry.
func TestEntryOfAStepWithoutVerdictsIsMarkedOnly(t *testing.T) {
	vs := &fakeVerdicts{by: map[string][]string{}}
	h := newHarness(t, withVerdicts(vs))
	h.MustUser("mod1", dashboard.RoleModerator)
	h.MustLogin("mod1")
	e := h.MustEntry("tower")
	vs.Set(e.ParticipantID)
	doc := MustDoc(t, h.Get("/dashboard/entries/"+e.ID))
	if got, want := strings.Join(buttons(doc.Selection), " "), "Approve(approve verdict-approved) Reject(reject verdict-rejected)"; got != want {
		t.Errorf("buttons = %s, want %s", got, want)
	}
	if !strings.Contains(doc.Find(".verdict-note").Text(), "only marks the entry") {
		t.Error("no note that the verdict only marks the entry")
	}
	wantStatus(t, h.Submit("/dashboard/entries/"+e.ID+"/approve", nil), http.StatusSeeOther)
	if got := h.Entry(e.ID); got.Status != judge.StatusApproved {
		t.Fatalf("entry = %s, want approved", got.Status)
	}
}

// TestParticipantPageOffersTheStatesVerdicts: the bouncer's page offers the bouncer's
// verdicts (approved, rejected in judging), not the contest's and race's.
func TestParticipantPageOffersTheStatesVerdicts(t *testing.T) {
	vs := &fakeVerdicts{by: map[string][]string{"p1": {campaigns.VerdictApproved, campaigns.VerdictRejected}, mediaPID: {}}}
	h := newHarness(t, withVerdicts(vs))
	h.MustUser("mod1", dashboard.RoleModerator)
	h.MustLogin("mod1")
	doc := MustDoc(t, h.Get("/dashboard/campaigns/bouncer/participants/p1"))
	var got []string
	doc.Find(`input[name=verdict]`).Each(func(_ int, s *goquery.Selection) { v, _ := s.Attr("value"); got = append(got, v) })
	if strings.Join(got, ",") != "approved,rejected" {
		t.Errorf("participant page verdicts = %v, want approved, rejected", got)
	}
	key, _ := doc.Find(`input[name=key]`).First().Attr("value")
	wantStatus(t, h.Submit("/dashboard/campaigns/bouncer/participants/p1/verdict", url.Values{"verdict": {campaigns.VerdictShortlisted}, "key": {key}}), http.StatusSeeOther)
	if got := MustDoc(t, h.Get("/dashboard/campaigns/bouncer/participants/p1")).Find(".flash").Text(); !strings.Contains(got, "takes Approve or Reject now, not Shortlist") {
		t.Errorf("unoffered verdict: flash %q", got)
	}
	if doc := MustDoc(t, h.Get("/dashboard/campaigns/bouncer/participants/"+mediaPID)); doc.Find(`input[name=verdict]`).Length() != 0 || doc.Find(".no-verdicts").Length() != 1 {
		t.Error("a participant whose step takes no verdict is offered verdicts")
	}
}
