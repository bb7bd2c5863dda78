package dashboard

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/reports"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite the golden SVG files in testdata")

// TestRoundFunnel: a round got to everyone whose last round is it or a later one; of those,
// some went on, some are in it now, some went out in it.
func TestRoundFunnel(t *testing.T) {
	def := &campaigns.Definition{Rounds: []*campaigns.Round{{Name: "harbour"}, {Name: "rooftop"}, {Name: "finale"}}}
	counts := []reports.RoundCount{
		{Round: "finale", Playing: 1, Out: 1},
		{Round: "harbour", Playing: 0, Out: 15},
		{Round: "rooftop", Playing: 3, Out: 2},
		{Round: "gone", Playing: 4}, // a round the definition no longer has
	}
	got := roundFunnel(def, 30, counts)
	want := []funnelRow{
		{"signed up", []int{22, 8, 0}, 30},
		{"harbour", []int{7, 0, 15}, 22},
		{"rooftop", []int{2, 3, 2}, 7},
		{"finale", []int{0, 1, 1}, 2},
	}
	if len(got) != len(want) {
		t.Fatalf("rows %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].Label != want[i].Label || got[i].Total != want[i].Total || !equalInts(got[i].Segs, want[i].Segs) {
			t.Errorf("row %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	golden := filepath.Join("testdata", "round_funnel.svg")
	svg := string(funnelChart("Teams per round", got))
	if *updateGolden {
		if err := os.WriteFile(golden, []byte(svg+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if svg+"\n" != string(b) {
		t.Errorf("the funnel's SVG is not %s (go test ./dashboard -run TestRoundFunnel -update-golden rewrites it):\n%s", golden, svg)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
