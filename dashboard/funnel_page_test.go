package dashboard_test

import (
	"slices"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/dashboard"
	"github.com/chatcampaigns/campaign/engine"
)

// TestOverviewFunnelPerRound: a race's page draws the teams per round, server-rendered SVG
// with each round's numbers in its title, counted again every ten seconds; a campaign
// without rounds has no such chart.
func TestOverviewFunnelPerRound(t *testing.T) {
	h := newHarness(t)
	def := raceDef()
	def.Teams = &campaigns.Teams{MinSize: 2, MaxSize: 4}
	def.Rounds = []*campaigns.Round{{Name: "harbour"}, {Name: "rooftop"}, {Name: "finale"}}
	h.camps.list[1] = dashboard.CampaignInfo{Def: def, Status: "live", Counts: map[string]int{"harbour": 3, "out": 2}}
	at := h.clock.Now()
	for _, p := range []struct {
		id, round string
		finished  bool
	}{{"t1", "harbour", true}, {"t2", "rooftop", false}, {"t3", "finale", false}, {"t4", "", false}, {"t5", "rooftop", true}} {
		vars := map[string]string{"team": "Team " + p.id}
		if p.round != "" {
			vars["round"] = p.round
		}
		err := h.db.Commit(t.Context(), engine.Step{Created: true, Participant: engine.Participant{ID: p.id, Campaign: "race",
			Channel: "telegram", Address: p.id, State: "harbour", Finished: p.finished, Vars: vars, Version: 1, CreatedAt: at, UpdatedAt: at}})
		if err != nil {
			t.Fatal(err)
		}
	}
	h.MustUser("judy", dashboard.RoleJudge)
	h.MustLogin("judy")
	doc := MustDoc(t, h.Get("/dashboard/campaigns/race"))
	fig := doc.Find("figure.round-funnel")
	if got := fig.Find("h3").Text(); got != "Teams per round" {
		t.Fatalf("heading %q, want Teams per round", got)
	}
	var rows []string
	fig.Find("svg g.funnel-row title").Each(func(_ int, s *goquery.Selection) { rows = append(rows, s.Text()) })
	want := []string{
		"signed up: 5 (4 started a round, 1 not yet)",
		"harbour: 4 (3 went on, 0 in this round now, 1 out in this round)",
		"rooftop: 3 (1 went on, 1 in this round now, 1 out in this round)",
		"finale: 1 (1 in this round now, 0 out or finished in it)",
	}
	if !slices.Equal(rows, want) {
		t.Errorf("funnel rows:\n%q\nwant\n%q", rows, want)
	}
	// t4 starts the harbour round: the funnel says so within ten seconds.
	t4 := engine.Participant{ID: "t4", Campaign: "race", Channel: "telegram", Address: "t4", State: "harbour",
		Vars: map[string]string{"team": "Team t4", "round": "harbour"}, Version: 2, CreatedAt: at, UpdatedAt: at}
	if err := h.db.Commit(t.Context(), engine.Step{Participant: t4, PrevVersion: 1}); err != nil {
		t.Fatal(err)
	}
	first := func() string {
		return MustDoc(t, h.Get("/dashboard/campaigns/race")).Find("figure.round-funnel svg g.funnel-row title").First().Text()
	}
	if got := first(); got != want[0] {
		t.Errorf("at once: %q, want the counts of a moment ago, %q", got, want[0])
	}
	h.clock.Advance(10 * time.Second)
	if got, want := first(), "signed up: 5 (5 started a round, 0 not yet)"; got != want {
		t.Errorf("ten seconds later: %q, want %q", got, want)
	}
	if n := MustDoc(t, h.Get("/dashboard/campaigns/bouncer")).Find("figure.round-funnel").Length(); n != 0 {
		t.Errorf("a campaign without rounds has %d round funnels", n)
	}
}
