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
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/dashboard"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// fakeRanking ranks the participants set for campaign "quiz".
type fakeRanking struct {
	mu     sync.Mutex
	ranked []engine.Ranked
}

func (f *fakeRanking) Ranking(_ context.Context, campaign string) ([]engine.Ranked, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if campaign != "quiz" {
		return nil, fmt.Errorf("fake ranking of %s: %w", campaign, errs.ErrInvalid)
	}
	return slices.Clone(f.ranked), nil
}

func quizDef() *campaigns.Definition {
	return &campaigns.Definition{ID: "quiz", Title: "Quiz", Version: "v1", Start: "wait", Order: []string{"wait", "won"},
		Ranking: &campaigns.Ranking{By: "points", TieBreak: campaigns.TieEarliest, Top: 2},
		States: map[string]*campaigns.State{
			"wait": {Name: "wait", On: []*campaigns.Transition{{Kind: campaigns.OnVerdict, Verdict: campaigns.VerdictWinner, Goto: "won"}}},
			"won":  {Name: "won", Final: true},
		}}
}

// TestRankingPage: the ranking page publishes the rule, lists the ranked with their value and
// the second they reached it, says a tie at the boundary makes more winners and which winners
// no verdict reaches; an admin's button gives the top the verdict winner through the judge
// (one event each, as a verdict from the participant page), a moderator sees no button and is
// refused, a post without the CSRF token is refused, a campaign without ranking has no page.
func TestRankingPage(t *testing.T) {
	h := newHarness(t)
	h.camps.mu.Lock()
	h.camps.list = append(h.camps.list, dashboard.CampaignInfo{Def: quizDef(), Status: "live", Counts: map[string]int{}})
	h.camps.mu.Unlock()
	at := time.Date(2026, 3, 1, 19, 0, 0, 0, time.UTC)
	h.MustParticipant("quiz", "p-ann", "wait", false)
	h.MustParticipant("quiz", "p-bob", "wait", false)
	h.MustParticipant("quiz", "p-cy", "wait", false)
	h.MustParticipant("quiz", "p-dan", "done", true)
	h.ranks.ranked = []engine.Ranked{
		{Rank: 1, ParticipantID: "p-dan", Name: "Dan", Value: "9", ReachedAt: at, Finished: true},
		{Rank: 2, ParticipantID: "p-ann", Name: "<Ann>", Value: "7", ReachedAt: at.Add(time.Minute)},
		{Rank: 2, ParticipantID: "p-bob", Name: "", Value: "7", ReachedAt: at.Add(time.Minute)},
		{Rank: 4, ParticipantID: "p-cy", Name: "Cy", Value: "3", ReachedAt: at.Add(2 * time.Minute)},
	}
	page := "/dashboard/campaigns/quiz/ranking"

	h.MustUser("mod", "moderator")
	h.MustLogin("mod")
	doc := MustDoc(t, h.Get(page))
	if doc.Find(".pick-top").Length() != 0 {
		t.Error("a moderator is offered the winners button")
	}
	wantStatus(t, h.Submit(page+"/winners", url.Values{}), http.StatusForbidden)

	h.MustUser("ada", "admin")
	h.MustLogin("ada")
	if doc := MustDoc(t, h.Get("/dashboard/campaigns/quiz")); doc.Find(`a.ranking-link[href="`+page+`"]`).Length() != 1 {
		t.Error("the campaign page does not link to its ranking")
	}
	if body := MustBody(t, h.Get(page)); strings.Contains(body, "<Ann>") || !strings.Contains(body, "&lt;Ann&gt;") {
		t.Error("a participant's name is not escaped")
	}
	doc = MustDoc(t, h.Get(page))
	if rule := doc.Find(".rule").Text(); rule != "Ranked by highest points first; of equal points, who reached it first ranks higher; equal at the same second share a rank. The top 2 win; anyone tied with number 2 wins too." {
		t.Errorf("rule %q", rule)
	}
	var rows []string
	doc.Find("tr.rank").Each(func(_ int, s *goquery.Selection) {
		var cells []string
		s.Find("td").Each(func(_ int, c *goquery.Selection) { cells = append(cells, strings.TrimSpace(c.Text())) })
		if s.HasClass("wins") {
			cells = append(cells, "wins")
		}
		rows = append(rows, strings.Join(cells, " | "))
	})
	want := []string{
		"1 | Dan | 9 | 2026-03-01 19:00:00 UTC | top 2 · run ended | wins",
		"2 | <Ann> | 7 | 2026-03-01 19:01:00 UTC | top 2 | wins",
		"2 | p-bob | 7 | 2026-03-01 19:01:00 UTC | top 2 | wins",
		"4 | Cy | 3 | 2026-03-01 19:02:00 UTC | ",
	}
	if !slices.Equal(rows, want) {
		t.Errorf("rows\n%s\nwant\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
	if tie := doc.Find(".tie").Text(); tie != "2 participants share rank 2, so all of them win: 3 winners for a top 2." {
		t.Errorf("tie %q", tie)
	}
	if ended := doc.Find(".ended").Text(); !strings.Contains(ended, "Dan") {
		t.Errorf("ended %q, want Dan named", ended)
	}
	if got := doc.Find(".pick-top").Text(); got != "Pick the top 2 as winners" {
		t.Errorf("button %q", got)
	}

	wantStatus(t, h.Post(page+"/winners", url.Values{}), http.StatusForbidden) // no CSRF token
	resp := h.Submit(page+"/winners", url.Values{})
	wantStatus(t, resp, http.StatusSeeOther)
	flash := MustDoc(t, h.Follow(resp)).Find(".flash").Text()
	if flash != "Named 2 winners: <Ann>, p-bob. No verdict reaches Dan (participant has finished): tell them another way." {
		t.Errorf("flash %q", flash)
	}
	var verdicts []string
	pending, err := h.db.PendingInbound(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range pending {
		if in.Kind == engine.KindVerdict {
			verdicts = append(verdicts, in.ParticipantID+" "+in.Verdict+" by "+in.Agent)
		}
	}
	if want := []string{"p-ann winner by ada", "p-bob winner by ada"}; !slices.Equal(verdicts, want) {
		t.Errorf("verdict events %q, want %q", verdicts, want)
	}
	// Pressed again (the engine has not processed the verdicts yet): nobody twice.
	flash = MustDoc(t, h.Follow(h.Submit(page+"/winners", url.Values{}))).Find(".flash").Text()
	if !strings.HasPrefix(flash, "Nobody new was named winner. 2 winners were named before: <Ann>, p-bob.") {
		t.Errorf("flash after a second pick %q", flash)
	}

	wantStatus(t, h.Get("/dashboard/campaigns/bouncer/ranking"), http.StatusNotFound)
	if doc := MustDoc(t, h.Get("/dashboard/campaigns/bouncer")); doc.Find("a.ranking-link").Length() != 0 {
		t.Error("a campaign without ranking links to one")
	}
}

// TestRankingPageNamesWhoIsStillPlaying: a participant in the top still answering questions
// (their state answers no verdict winner) is named on the page before the pick, and the pick
// passes them by, saying so.
func TestRankingPageNamesWhoIsStillPlaying(t *testing.T) {
	h := newHarness(t)
	h.camps.mu.Lock()
	h.camps.list = append(h.camps.list, dashboard.CampaignInfo{Def: quizDef(), Status: "live", Counts: map[string]int{}})
	h.camps.mu.Unlock()
	at := time.Date(2026, 3, 1, 19, 0, 0, 0, time.UTC)
	h.MustParticipant("quiz", "p-ann", "wait", false)
	h.MustParticipant("quiz", "p-bob", "q2", false)
	h.ranks.ranked = []engine.Ranked{
		{Rank: 1, ParticipantID: "p-ann", Name: "Ann", Value: "7", ReachedAt: at},
		{Rank: 2, ParticipantID: "p-bob", Name: "Bob", Value: "5", ReachedAt: at, Unanswered: "q2"},
	}
	page := "/dashboard/campaigns/quiz/ranking"
	h.MustUser("ada", "admin")
	h.MustLogin("ada")
	doc := MustDoc(t, h.Get(page))
	if got := doc.Find(".playing").First().Text(); !strings.Contains(got, "still playing") || !strings.Contains(got, "Bob") {
		t.Errorf("page says %q, want Bob named as still playing", got)
	}
	if got := strings.TrimSpace(doc.Find(`tr[data-participant="p-bob"] td.note`).Text()); got != "top 2 · playing (q2)" {
		t.Errorf("Bob's note %q", got)
	}
	flash := MustDoc(t, h.Follow(h.Submit(page+"/winners", url.Values{}))).Find(".flash").Text()
	if flash != "Named 1 winner: Ann. Not named yet, still playing: Bob; pick again once they wait for the verdict." {
		t.Errorf("flash %q", flash)
	}
}
