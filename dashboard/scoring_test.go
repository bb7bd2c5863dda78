package dashboard_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/dashboard"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/judge"
)

// raceDef is a team race with a rubric: entries collected in "harbour" belong to round
// harbour, whose top 1 advances.
func raceDef() *campaigns.Definition {
	return &campaigns.Definition{ID: "race", Title: "Race", Version: "v1", Start: "harbour", Languages: []string{"en"},
		Order: []string{"harbour", "out"},
		Rubric: &campaigns.Rubric{ScaleMin: 1, ScaleMax: 10, Criteria: []campaigns.Criterion{
			{Name: "Originality", Weight: 60}, {Name: "Team <spirit>", Weight: 40}}},
		Rounds:    []*campaigns.Round{{Name: "harbour", Advance: 1}},
		Templates: map[string]*campaigns.Template{"news": {Key: "news", Name: "news_update", Language: "en"}},
		States: map[string]*campaigns.State{
			"harbour": {Name: "harbour", On: []*campaigns.Transition{{Kind: campaigns.OnRound, Round: "harbour", RoundEvent: campaigns.RoundDeadline, Goto: "out"}}},
			"out":     {Name: "out", Final: true},
		}}
}

// fakeBroadcaster records broadcasts and answers reports it was given.
type fakeBroadcaster struct {
	mu      sync.Mutex
	sent    []string
	queued  int
	reports map[string]engine.BroadcastReport
}

func (f *fakeBroadcaster) BroadcastTo(_ context.Context, campaign string, to engine.Audience, msg campaigns.Message) (string, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	sent := fmt.Sprintf("%s/%s/%s/%s", campaign, to.State, msg.Text.In("en", "en"), msg.Template)
	if to.Var != "" {
		sent += fmt.Sprintf("/%s=%s", to.Var, to.Value)
	}
	for _, l := range []string{"nl", "de"} {
		if s, ok := msg.Text[l]; ok {
			sent += "/" + l + ":" + s
		}
	}
	f.sent = append(f.sent, sent)
	id := fmt.Sprintf("b-%s-%d", campaign, len(f.sent))
	f.reports[id] = engine.BroadcastReport{ID: id, Campaign: campaign, Pending: 1, Sent: f.queued - 2, Failed: 1, Total: f.queued}
	return id, f.queued, nil
}

func (f *fakeBroadcaster) BroadcastReport(_ context.Context, id string) (engine.BroadcastReport, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.reports[id]
	if !ok {
		return r, fmt.Errorf("fake broadcast %s: %w", id, errs.ErrNotFound)
	}
	return r, nil
}

func (f *fakeBroadcaster) Sent() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sent)
}

func scoreForm(scores ...string) url.Values {
	v := url.Values{}
	for i, s := range scores {
		v.Set(fmt.Sprintf("score-%d", i), s)
	}
	return v
}

func (h *harness) Scorecards(entryID string) []judge.Scorecard {
	h.t.Helper()
	cs, err := h.db.Scorecards(context.Background(), "race", entryID)
	if err != nil {
		h.t.Fatal(err)
	}
	return cs
}

func TestScoreForm(t *testing.T) {
	h := newHarness(t)
	h.MustUser("jury", dashboard.RoleJudge)
	h.MustUser("jury2", dashboard.RoleJudge)
	e := h.MustEntryIn("race", "harbour", "our team")
	plain := h.MustEntry("no rubric here")
	h.MustLogin("jury")
	page := "/dashboard/entries/" + e.ID

	doc := MustDoc(t, h.Get(page))
	form := doc.Find("form.score-form")
	if got := form.Find("input.score").Length(); got != 2 {
		t.Fatalf("%d score inputs, want one per criterion", got)
	}
	if v, _ := form.Find("input[name=csrf]").Attr("value"); v == "" {
		t.Error("score form has no CSRF token")
	}
	if min, _ := form.Find("#score-1").Attr("min"); min != "1" {
		t.Errorf("min = %q", min)
	}
	if got := form.Find(`label[for=score-1]`).Text(); !strings.Contains(got, "Team <spirit>") || !strings.Contains(got, "2") {
		t.Errorf("label = %q", got)
	}
	if got := doc.Find(".score-summary").Text(); !strings.Contains(got, "Not scored yet") {
		t.Errorf("summary = %q", got)
	}
	if MustDoc(t, h.Get("/dashboard/entries/"+plain.ID)).Find("form.score-form").Length() != 0 {
		t.Error("a score form for a campaign without rubric")
	}

	wantStatus(t, h.Post(page+"/score", scoreForm("5", "5")), http.StatusForbidden) // no CSRF token
	for _, bad := range []url.Values{scoreForm("0", "5"), scoreForm("5", "11"), scoreForm("5"), scoreForm("five", "5"), scoreForm("5.5", "5")} {
		resp := h.Submit(page+"/score", bad)
		wantStatus(t, resp, http.StatusSeeOther)
		if got := MustDoc(t, h.Follow(resp)).Find(".flash-error").Text(); !strings.Contains(got, "from 1 to 10") {
			t.Errorf("%v: flash = %q", bad, got)
		}
	}
	if cs := h.Scorecards(e.ID); len(cs) != 0 {
		t.Fatalf("refused scores stored: %+v", cs)
	}
	wantStatus(t, h.Submit("/dashboard/entries/"+plain.ID+"/score", scoreForm("5", "5")), http.StatusBadRequest)

	resp := h.Submit(page+"/score", scoreForm("4", "9"))
	doc = MustDoc(t, h.Follow(resp))
	if got := doc.Find(".flash").Text(); got != "Scores saved." {
		t.Errorf("flash = %q", got)
	}
	if v, _ := doc.Find("#score-0").Attr("value"); v != "4" {
		t.Errorf("own score not shown back: %q", v)
	}
	h.Submit(page+"/score", scoreForm("8", "9")) // re-scoring replaces
	h.MustLogin("jury2")
	if v, _ := MustDoc(t, h.Get(page)).Find("#score-0").Attr("value"); v != "" {
		t.Errorf("another judge's score prefilled: %q", v)
	}
	h.Submit(page+"/score", scoreForm("2", "2"))
	doc = MustDoc(t, h.Get(page))
	// (8*60+9*40)/100 = 8.4 and 2: the mean, not the sum.
	if mean, n := doc.Find(".score-summary .mean").Text(), doc.Find(".score-summary .judges").Text(); mean != "5.20" || n != "2" {
		t.Errorf("summary mean %q from %q judges", mean, n)
	}
	cs := h.Scorecards(e.ID)
	if len(cs) != 2 || cs[0].Judge != "jury" || cs[0].Scores["Originality"] != 8 || cs[1].Scores["Team <spirit>"] != 2 {
		t.Errorf("scorecards = %+v", cs)
	}
}

func TestRoundRanking(t *testing.T) {
	h := newHarness(t)
	h.MustUser("jury", dashboard.RoleJudge)
	h.MustUser("mod", dashboard.RoleModerator)
	var es []engine.Entry
	for i := range 3 {
		es = append(es, h.MustEntryIn("race", "harbour", fmt.Sprint("team ", i)))
	}
	h.MustEntryIn("race", "lobby", "not of the round")
	page := "/dashboard/campaigns/race"
	advance := page + "/rounds/harbour/advance"

	h.MustLogin("jury")
	doc := MustDoc(t, h.Get(page))
	sec := doc.Find(`section.ranking[data-round=harbour]`)
	if got := sec.Find("tr.rank").Length(); got != 3 {
		t.Fatalf("%d ranked teams, want 3", got)
	}
	if sec.Find(".unscored").Length() != 3 || sec.Find("form.advance").Length() != 0 {
		t.Error("unscored marks missing, or a judge is offered the advance form")
	}
	wantStatus(t, h.Submit(advance, url.Values{"n": {"1"}}), http.StatusForbidden)
	for i, s := range []string{"5", "9", "7"} {
		h.Submit("/dashboard/entries/"+es[i].ID+"/score", scoreForm(s, s))
	}

	h.MustLogin("mod")
	resp := h.Submit(advance, url.Values{"n": {"1"}})
	if got := MustDoc(t, h.Follow(resp)).Find(".flash-error").Text(); got != "" {
		t.Fatalf("advance refused: %q", got)
	}
	// The first Advance went through: one verdict event per team.
	var verdicts []string
	pending, _ := h.db.PendingInbound(context.Background(), 0)
	for _, in := range pending {
		if in.Kind == engine.KindVerdict {
			verdicts = append(verdicts, in.ParticipantID+":"+in.Verdict+":"+in.Agent)
		}
	}
	if len(verdicts) != 3 || !slices.Contains(verdicts, es[1].ParticipantID+":advanced:mod") {
		t.Errorf("verdicts = %v", verdicts)
	}

	doc = MustDoc(t, h.Get(page))
	sec = doc.Find(`section.ranking[data-round=harbour]`)
	var order []string
	for i := range sec.Find("tr.rank").Nodes {
		pid, _ := sec.Find("tr.rank").Eq(i).Attr("data-participant")
		order = append(order, pid)
	}
	if !slices.Equal(order, []string{es[1].ParticipantID, es[2].ParticipantID, es[0].ParticipantID}) {
		t.Errorf("ranking order = %v", order)
	}
	if got := sec.Find("tr.rank .mean").First().Text(); got != "9.00" {
		t.Errorf("top mean = %q", got)
	}
	form := sec.Find("form.advance")
	if v, _ := form.Find("input[name=n]").Attr("value"); v != "1" {
		t.Errorf("advance defaults to %q, want the round's 1", v)
	}
	if v, _ := form.Find("input[name=csrf]").Attr("value"); v == "" {
		t.Error("advance form without CSRF token")
	}
	if sec.Find("code.seed").Text() == "" {
		t.Error("the draw's seed is not shown")
	}

	resp = h.Submit(advance, url.Values{"n": {"2"}})
	if got := MustDoc(t, h.Follow(resp)).Find(".flash-error").Text(); !strings.Contains(got, "decided already") {
		t.Errorf("second advance flash = %q", got)
	}
	if again, _ := h.db.PendingInbound(context.Background(), 0); len(again) != len(pending) {
		t.Errorf("a second advance queued %d more events", len(again)-len(pending))
	}
	wantStatus(t, h.Submit(advance, url.Values{"n": {"0"}}), http.StatusBadRequest)
	wantStatus(t, h.Post(advance, url.Values{"n": {"1"}}), http.StatusForbidden)
	wantStatus(t, h.Submit(page+"/rounds/nope/advance", url.Values{"n": {"1"}}), http.StatusBadRequest)
}

func TestAdvanceRefusesUnscoredRound(t *testing.T) {
	h := newHarness(t)
	h.MustUser("boss", dashboard.RoleAdmin)
	h.MustEntryIn("race", "harbour", "unscored")
	h.MustLogin("boss")
	resp := h.Submit("/dashboard/campaigns/race/rounds/harbour/advance", url.Values{"n": {"1"}})
	if got := MustDoc(t, h.Follow(resp)).Find(".flash-error").Text(); !strings.Contains(got, "nobody scored") {
		t.Errorf("flash = %q", got)
	}
	if pending, _ := h.db.PendingInbound(context.Background(), 0); len(pending) != 0 {
		t.Errorf("%d events queued by a refused advance", len(pending))
	}
}

func TestBroadcast(t *testing.T) {
	h := newHarness(t)
	h.MustUser("boss", dashboard.RoleAdmin)
	h.MustUser("mod", dashboard.RoleModerator)
	send := "/dashboard/campaigns/race/broadcast"

	h.MustLogin("mod")
	if MustDoc(t, h.Get("/dashboard/campaigns/race")).Find("form.broadcast-form").Length() != 0 {
		t.Error("a moderator is offered the broadcast form")
	}
	wantStatus(t, h.Submit(send, url.Values{"text": {"hi"}}), http.StatusForbidden)

	h.MustLogin("boss")
	form := MustDoc(t, h.Get("/dashboard/campaigns/race")).Find("form.broadcast-form")
	if v, _ := form.Find("input[name=csrf]").Attr("value"); v == "" {
		t.Fatal("broadcast form without CSRF token")
	}
	var states []string
	for i := range form.Find("select[name=state] option").Nodes {
		v, _ := form.Find("select[name=state] option").Eq(i).Attr("value")
		states = append(states, v)
	}
	if !slices.Equal(states, []string{"", "harbour"}) || form.Find("select[name=template] option[value=news]").Length() != 1 {
		t.Errorf("state options %q", states)
	}
	wantStatus(t, h.Post(send, url.Values{"text": {"hi"}}), http.StatusForbidden) // no CSRF token
	wantStatus(t, h.Submit(send, url.Values{"text": {"hi"}, "state": {"out"}}), http.StatusBadRequest)
	wantStatus(t, h.Submit(send, url.Values{"text": {"hi"}, "template": {"nope"}}), http.StatusBadRequest)
	if got := Refused(t, h.Submit(send, url.Values{"text": {"  "}})).Find(".flash-error").Text(); !strings.Contains(got, "Type the message") {
		t.Errorf("empty broadcast flash = %q", got)
	}
	if len(h.casts.Sent()) != 0 {
		t.Fatalf("refused broadcasts were sent: %v", h.casts.Sent())
	}

	resp := h.Submit(send, url.Values{"text": {"Round two <starts> Monday!"}, "state": {"harbour"}, "template": {"news"}})
	wantStatus(t, resp, http.StatusSeeOther)
	if loc := resp.Header.Get("Location"); loc != "/dashboard/campaigns/race/broadcasts/b-race-1" {
		t.Fatalf("Location = %q", loc)
	}
	if got := h.casts.Sent(); !slices.Equal(got, []string{"race/harbour/Round two <starts> Monday!/news"}) {
		t.Errorf("broadcasts = %q", got)
	}
	doc := MustDoc(t, h.Follow(resp))
	if got := doc.Find(".flash").Text(); got != "Broadcast queued for 3 participants." {
		t.Errorf("flash = %q", got)
	}
	for sel, want := range map[string]string{".count-queued": "3", ".count-sent": "1", ".count-failed": "1", ".count-pending": "1", ".percent": "66%"} {
		if got := doc.Find(sel).Text(); got != want {
			t.Errorf("%s = %q, want %q", sel, got, want)
		}
	}
	wantStatus(t, h.Get("/dashboard/campaigns/bouncer/broadcasts/b-race-1"), http.StatusNotFound)
	wantStatus(t, h.Get("/dashboard/campaigns/race/broadcasts/b-nope"), http.StatusNotFound)

	h.casts.mu.Lock()
	h.casts.queued = 0
	h.casts.mu.Unlock()
	// To every step, nobody is "in that state": the flash says who is left out instead, over
	// the form as it was sent.
	doc = Refused(t, h.Submit(send, url.Values{"text": {"anyone?"}}))
	if got := doc.Find(".flash-error").Text(); got != "Nobody to send to: no participant is playing (those who finished, opted out or have not agreed to take part yet are left out)." {
		t.Errorf("flash = %q", got)
	}
	if got := doc.Find("textarea[name=text]").Text(); got != "anyone?" {
		t.Errorf("the form shown again has %q", got)
	}
}

// TestBroadcastByVariableInLanguages: a campaign in two languages offers a text per language
// and its variables (lang among them); the broadcast carries the texts, the filter and the
// template to the engine.
func TestBroadcastByVariableInLanguages(t *testing.T) {
	h := newHarness(t)
	news := &campaigns.Definition{ID: "nieuws", Title: "Nieuws", Version: "v1", Start: "sub", Languages: []string{"nl", "en"},
		Order:     []string{"sub"},
		Templates: map[string]*campaigns.Template{"weekly": {Key: "weekly", Name: "news_weekly", Language: "nl"}},
		States: map[string]*campaigns.State{"sub": {Name: "sub", On: []*campaigns.Transition{
			{Kind: campaigns.OnChoice, Save: &campaigns.Save{Var: "topic"}},
			{Kind: campaigns.OnText, AnyText: true, Set: map[string]string{"medal": "gold"}, Add: map[string]float64{"points": 1}}}}}}
	h.camps.mu.Lock()
	h.camps.list = append(h.camps.list, dashboard.CampaignInfo{Def: news, Status: "live", Counts: map[string]int{"sub": 2}})
	h.camps.mu.Unlock()
	h.MustUser("boss", dashboard.RoleAdmin)
	h.MustLogin("boss")
	send := "/dashboard/campaigns/nieuws/broadcast"

	form := MustDoc(t, h.Get("/dashboard/campaigns/nieuws")).Find("form.broadcast-form")
	var vars []string
	form.Find("select[name=var] option").Each(func(_ int, o *goquery.Selection) { v, _ := o.Attr("value"); vars = append(vars, v) })
	// The variables set: and add: give too: a broadcast to medal = gold.
	if !slices.Equal(vars, []string{"", "lang", "medal", "points", "topic"}) || form.Find("textarea[name=text]").Length() != 1 ||
		form.Find("textarea[name=text_en]").Length() != 1 || form.Find("input[name=value]").Length() != 1 {
		t.Fatalf("form: vars %q, text fields %d + %d", vars, form.Find("textarea[name=text]").Length(), form.Find("textarea[name=text_en]").Length())
	}
	wantStatus(t, h.Submit(send, url.Values{"text": {"hoi"}, "var": {"colour"}, "value": {"red"}}), http.StatusBadRequest)
	for body, flash := range map[string]url.Values{
		"Type the message in nl first":                                    {"text_en": {"only English"}},
		"Give the value of topic":                                         {"text": {"hoi"}, "var": {"topic"}},
		"Choose the variable the value":                                   {"text": {"hoi"}, "value": {"sport"}},
		`lang is a language code of the campaign (nl, en), not "english"`: {"text": {"hoi"}, "var": {"lang"}, "value": {"english"}},
	} {
		if got := Refused(t, h.Submit(send, flash)).Find(".flash-error").Text(); !strings.Contains(got, body) {
			t.Errorf("%v: flash %q, want %q", flash, got, body)
		}
	}
	if len(h.casts.Sent()) != 0 {
		t.Fatalf("refused broadcasts were sent: %v", h.casts.Sent())
	}
	resp := h.Submit(send, url.Values{"text": {"Sportnieuws"}, "text_en": {"Sports news"}, "state": {"sub"},
		"var": {"topic"}, "value": {" sport "}, "template": {"weekly"}})
	wantStatus(t, resp, http.StatusSeeOther)
	if got := h.casts.Sent(); !slices.Equal(got, []string{"nieuws/sub/Sports news/weekly/topic=sport/nl:Sportnieuws"}) {
		t.Errorf("broadcasts = %q", got)
	}
	h.casts.mu.Lock()
	h.casts.queued = 0
	h.casts.mu.Unlock()
	if got := Refused(t, h.Submit(send, url.Values{"text": {"Nieuws"}, "var": {"lang"}, "value": {"en"}})).Find(".flash-error").Text(); got != "Nobody to send to: no participant playing there has lang = en." {
		t.Errorf("flash = %q", got)
	}

	// To the English speakers, the English text alone will do: nobody it reaches falls back
	// to the Dutch one. To everyone else it still needs the Dutch.
	h.casts.mu.Lock()
	h.casts.queued = 3
	h.casts.mu.Unlock()
	before := len(h.casts.Sent())
	wantStatus(t, h.Submit(send, url.Values{"text_en": {"English only"}, "var": {"lang"}, "value": {"en-GB"}}), http.StatusSeeOther)
	if got := h.casts.Sent()[before:]; !slices.Equal(got, []string{"nieuws//English only//lang=en-GB"}) {
		t.Errorf("broadcasts = %q", got)
	}
	doc := Refused(t, h.Submit(send, url.Values{"text_en": {"English only"}, "var": {"lang"}, "value": {"nl"}}))
	if got := doc.Find(".flash-error").Text(); !strings.Contains(got, "Type the message in nl first") {
		t.Errorf("lang = nl, only English: flash %q", got)
	}
	// What was typed is there to fix: the English text, the variable and its value.
	if en, v, val := doc.Find("textarea[name=text_en]").Text(), doc.Find("select[name=var] option[selected]").AttrOr("value", ""),
		doc.Find("input[name=value]").AttrOr("value", ""); en != "English only" || v != "lang" || val != "nl" {
		t.Errorf("the form shown again has text_en %q, var %q, value %q", en, v, val)
	}
	wantStatus(t, h.Submit(send, url.Values{"text": {"Goud"}, "var": {"medal"}, "value": {"gold"}}), http.StatusSeeOther)
}
