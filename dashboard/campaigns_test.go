package dashboard_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/dashboard"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

type fakeCampaigns struct {
	mu   sync.Mutex
	list []dashboard.CampaignInfo
}

func newFakeCampaigns() *fakeCampaigns {
	def := &campaigns.Definition{ID: "bouncer", Title: "Convince the <b>bouncer</b>", Version: "v1", Start: "door",
		Order: []string{"door", "in"}, Persona: campaigns.Persona{Name: "Sven"},
		States: map[string]*campaigns.State{
			"door": {Name: "door", On: []*campaigns.Transition{{Kind: campaigns.OnMedia, Media: []string{"photo"}, Goto: "in"}}},
			"in":   {Name: "in", Final: true},
		}}
	return &fakeCampaigns{list: []dashboard.CampaignInfo{
		{Def: def, Status: "live", Counts: map[string]int{"door": 3, "in": 1}},
		{Def: raceDef(), Status: "live", Counts: map[string]int{"harbour": 3}},
	}}
}

func (f *fakeCampaigns) CampaignList(context.Context) ([]dashboard.CampaignInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]dashboard.CampaignInfo(nil), f.list...), nil
}

func (f *fakeCampaigns) Campaign(_ context.Context, id string) (dashboard.CampaignInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ci := range f.list {
		if ci.Def.ID == id {
			return ci, nil
		}
	}
	return dashboard.CampaignInfo{}, errs.ErrNotFound
}

func (f *fakeCampaigns) SetStatus(_ context.Context, id, status string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.list {
		if f.list[i].Def.ID == id {
			f.list[i].Status = status
			return nil
		}
	}
	return errs.ErrNotFound
}

type fakeConversations struct {
	mu        sync.Mutex
	replies   []string
	handbacks []string
}

func (f *fakeConversations) Notifications(context.Context, string, int) ([]engine.Notification, error) {
	return []engine.Notification{{Campaign: "bouncer", ParticipantID: "p1", Text: "Ann wrote: <help>", At: time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC)}}, nil
}

func (f *fakeConversations) Transcript(_ context.Context, pid string) ([]engine.Line, error) {
	if pid == mediaPID {
		// A participant who sent a voice note and a video, and a photo the persona did not keep.
		return []engine.Line{{ID: 7, ParticipantID: pid, Direction: engine.In, MediaKey: "bouncer/" + pid + "/a.weba"},
			{ID: 8, ParticipantID: pid, Direction: engine.In, MediaKey: "bouncer/" + pid + "/b.webm", Text: "me dancing"},
			{ID: 9, ParticipantID: pid, Direction: engine.In, MediaKey: "bouncer/" + pid + "/c.jpg"},
			{ID: 10, ParticipantID: pid, Direction: engine.Out, Text: "Nice moves."}}, nil
	}
	if pid == walkerPID {
		return []engine.Line{{ParticipantID: pid, Direction: engine.In, Text: "[location 52.373100,4.892200] Dam"},
			{ParticipantID: pid, Direction: engine.Out, Text: "[location 1,2] is what you typed"},
			{ParticipantID: pid, Direction: engine.In, Text: "[location 95,2] nowhere"},
			// A typed answer that starts with two numbers is no shared location.
			{ParticipantID: pid, Direction: engine.In, Text: "12,5 kilo, 3 boxes"}}, nil
	}
	if pid != "p1" && pid != optedOutPID {
		return nil, nil
	}
	return []engine.Line{{ParticipantID: pid, Direction: engine.In, Text: "<script>hi</script>"},
		{ParticipantID: pid, Direction: engine.Out, Text: "Send me a photo."}}, nil
}

func (f *fakeConversations) Participant(_ context.Context, pid string) (engine.Participant, error) {
	switch pid {
	case "p1":
		return engine.Participant{ID: pid, Campaign: "bouncer", State: "judging", Vars: map[string]string{"handoff": "chefs", "handoff_at": "2026-03-01T19:15:00Z"}}, nil
	case walkerPID:
		return engine.Participant{ID: pid, Campaign: "bouncer", State: "door", Vars: map[string]string{"lat": "52.3731", "lng": "4.8922"}}, nil
	case "bot", mediaPID:
		return engine.Participant{ID: pid, Campaign: "bouncer", State: "door", Vars: map[string]string{}}, nil
	case optedOutPID:
		return engine.Participant{ID: pid, Campaign: "bouncer", State: engine.StateOptedOut, Finished: true}, nil
	}
	return engine.Participant{}, fmt.Errorf("fake participant %s: %w", pid, errs.ErrNotFound)
}

func (f *fakeConversations) AgentSay(_ context.Context, pid, agent, text string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if pid == optedOutPID {
		// What the engine does: the reply is recorded as not sent.
		return fmt.Errorf("fake agent reply: %w", engine.ErrOptedOut)
	}
	f.replies = append(f.replies, agent+": "+text)
	return nil
}

func (f *fakeConversations) Consent(_ context.Context, pid string) (engine.Consent, error) {
	if pid != "p1" {
		return engine.Consent{}, nil
	}
	return engine.Consent{Answer: "yes", By: `button "Yes, I agree"`, Channel: "webchat", Version: "1a2b3c4d@v7",
		At: time.Date(2026, 3, 1, 19, 58, 0, 0, time.UTC)}, nil
}

func (f *fakeConversations) Handback(_ context.Context, pid, agent string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.handbacks = append(f.handbacks, pid)
	return nil
}

func TestCampaignPages(t *testing.T) {
	h := newHarness(t)
	h.MustUser("boss", dashboard.RoleAdmin)
	h.MustUser("mod", dashboard.RoleModerator)
	h.MustLogin("mod")

	doc := MustDoc(t, h.Get("/dashboard/campaigns"))
	row := doc.Find(`tr.campaign[data-id=bouncer]`)
	if row.Find(".count").Text() != "4" || row.Find(".status").Text() != "live" {
		t.Errorf("campaign row: %q", row.Text())
	}
	doc = MustDoc(t, h.Get("/dashboard/campaigns/bouncer"))
	if got := doc.Find(`li.state[data-state=door] > .count`).Text(); got != "3" {
		t.Errorf("participants at the door = %q, want 3", got)
	}
	if got := doc.Find(`li.state[data-state=door] li`).Text(); got != "photo → in" {
		t.Errorf("door's transition = %q", got)
	}
	if doc.Find("button.pause").Length() != 0 {
		t.Error("a moderator is offered the pause button")
	}
	if html, _ := doc.Find("h1").Html(); strings.Contains(html, "<b>") {
		t.Error("campaign title is not escaped")
	}
	if !strings.Contains(doc.Find(".notification").Text(), "Ann wrote: <help>") {
		t.Errorf("notification = %q", doc.Find(".notification").Text())
	}
	wantStatus(t, h.Submit("/dashboard/campaigns/bouncer/status", url.Values{"status": {"paused"}}), http.StatusForbidden)
	wantStatus(t, h.Get("/dashboard/campaigns/nope"), http.StatusNotFound)

	h.MustLogin("boss")
	wantStatus(t, h.Post("/dashboard/campaigns/bouncer/status", url.Values{"status": {"paused"}}), http.StatusForbidden) // no CSRF token
	wantStatus(t, h.Submit("/dashboard/campaigns/bouncer/status", url.Values{"status": {"exploded"}}), http.StatusBadRequest)
	if got := h.camps.list[0].Status; got != "live" {
		t.Fatalf("status after refused requests = %q", got)
	}
	resp := h.Submit("/dashboard/campaigns/bouncer/status", url.Values{"status": {"paused"}})
	wantStatus(t, resp, http.StatusSeeOther)
	doc = MustDoc(t, h.Follow(resp))
	if !strings.Contains(doc.Find(".flash").Text(), "paused") || doc.Find("button.resume").Length() != 1 {
		t.Errorf("after pausing: flash %q", doc.Find(".flash").Text())
	}
}

func TestParticipantConversation(t *testing.T) {
	h := newHarness(t)
	h.MustParticipant("bouncer", "p1", "judging", false)
	h.MustUser("mod", dashboard.RoleModerator)
	h.MustLogin("mod")
	conv := "/dashboard/campaigns/bouncer/participants/p1"
	doc := MustDoc(t, h.Get(conv))
	if got := doc.Find(".line.in .text").Text(); got != "<script>hi</script>" {
		t.Errorf("transcript line = %q", got)
	}
	// Who said what, in words: the lines looked all alike (found on the tour).
	if in, out := doc.Find(".line.in .who").Text(), doc.Find(".line.out .who").Text(); in != "Participant" || out != "Sven" {
		t.Errorf("the transcript's lines say they are by %q and %q, want Participant and Sven", in, out)
	}
	consent := doc.Find(".consent.consent-yes")
	if got := strings.Join(strings.Fields(consent.Text()), " "); !strings.HasPrefix(got, `Consent: agreed by button "Yes, I agree" on webchat,`) || !strings.HasSuffix(got, "(text version 1a2b3c4d@v7)") {
		t.Errorf("consent = %q", got)
	}
	if at, _ := consent.Find("time").Attr("datetime"); at != "2026-03-01T19:58:00Z" {
		t.Errorf("consent time = %q", at)
	}
	wantStatus(t, h.Get("/dashboard/campaigns/bouncer/participants/nobody"), http.StatusNotFound)

	resp := h.Submit(conv+"/reply", url.Values{"text": {"  "}})
	if doc := MustDoc(t, h.Follow(resp)); !strings.Contains(doc.Find(".flash").Text(), "Type a reply") {
		t.Errorf("empty reply flash = %q", doc.Find(".flash").Text())
	}
	wantStatus(t, h.Post(conv+"/reply", url.Values{"text": {"no token"}}), http.StatusForbidden)
	h.Submit(conv+"/reply", url.Values{"text": {"Try the shakshuka."}})
	h.Submit(conv+"/handback", nil)
	if len(h.convs.replies) != 1 || h.convs.replies[0] != "mod: Try the shakshuka." || len(h.convs.handbacks) != 1 {
		t.Errorf("replies %q, handbacks %q", h.convs.replies, h.convs.handbacks)
	}
	// Handing back a conversation no human has, or one of someone who opted out, is refused
	// with the reason (it said "Handed back to the bot." and did nothing).
	for pid, want := range map[string]string{
		"bot":       "Not handed back: this conversation is not handed to a human; the bot answers it already.",
		optedOutPID: "Not handed back: this participant opted out, and nothing reaches them any more.",
	} {
		resp := h.Submit("/dashboard/campaigns/bouncer/participants/"+pid+"/handback", nil)
		got := MustDoc(t, h.Follow(resp)).Find(".flash").Text()
		if got != want {
			t.Errorf("hand back %s: flash %q, want %q", pid, got, want)
		}
	}
	if len(h.convs.handbacks) != 1 {
		t.Errorf("handbacks %q, want only p1's", h.convs.handbacks)
	}
	wantStatus(t, h.Submit(conv+"/verdict", url.Values{"verdict": {"approved"}, "key": {"k"}}), http.StatusBadRequest)
	wantStatus(t, h.Submit(conv+"/verdict", url.Values{"verdict": {"eliminated"}}), http.StatusBadRequest) // no key

	// The page's forms carry one decision key: the same form sent twice is one verdict.
	doc = MustDoc(t, h.Get(conv))
	key, _ := doc.Find("form[action$='/verdict'] input[name=key]").First().Attr("value")
	if key == "" {
		t.Fatal("verdict form without a decision key")
	}
	form := url.Values{"verdict": {"eliminated"}, "key": {key}}
	if doc := MustDoc(t, h.Follow(h.Submit(conv+"/verdict", form))); !strings.Contains(doc.Find(".flash").Text(), "Verdict given: eliminated") {
		t.Errorf("first verdict flash = %q", doc.Find(".flash").Text())
	}
	if doc := MustDoc(t, h.Follow(h.Submit(conv+"/verdict", form))); !strings.Contains(doc.Find(".flash").Text(), "given already") {
		t.Errorf("second verdict flash = %q", doc.Find(".flash").Text())
	}
	if again, _ := MustDoc(t, h.Get(conv)).Find("form[action$='/verdict'] input[name=key]").First().Attr("value"); again == key {
		t.Errorf("the page rendered again with the same decision key %q", key)
	}
	pending, err := h.db.PendingInbound(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	verdicts := 0
	for _, in := range pending {
		if in.Kind == engine.KindVerdict && in.ParticipantID == "p1" {
			verdicts++
		}
	}
	if verdicts != 1 {
		t.Errorf("%d verdict events for p1, want 1", verdicts)
	}
}

// TestFlowLabels: the flow on a campaign's page says where each transition leads: a
// transition with `end: true` ends the run (it read "(stays)"), and durations read as in a
// definition ("after 20h", not "after 20h0m0s").
func TestFlowLabels(t *testing.T) {
	h := newHarness(t)
	h.MustUser("mod", dashboard.RoleModerator)
	h.MustLogin("mod")
	def := &campaigns.Definition{ID: "contest", Title: "Contest", Version: "v1", Start: "entered", Order: []string{"entered"},
		States: map[string]*campaigns.State{"entered": {Name: "entered", On: []*campaigns.Transition{
			{Kind: campaigns.OnOptOut, End: true},
			{Kind: campaigns.OnTimeout, After: 20 * time.Hour},
			{Kind: campaigns.OnTimeout, After: 90 * time.Minute, End: true},
			{Kind: campaigns.OnText, AnyText: true},
		}}}}
	h.camps.mu.Lock()
	h.camps.list = append(h.camps.list, dashboard.CampaignInfo{Def: def, Status: "live", Counts: map[string]int{}})
	h.camps.mu.Unlock()
	doc := MustDoc(t, h.Get("/dashboard/campaigns/contest"))
	var got []string
	doc.Find(`li.state[data-state=entered] li`).Each(func(_ int, s *goquery.Selection) { got = append(got, s.Text()) })
	want := []string{"optout → ends", "after 20h (stays)", "after 1h30m → ends", "any text (stays)"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("transitions:\n got %q\nwant %q", got, want)
	}
}
