package campaigns_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/chatcampaigns/campaign/campaigns"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/diagrams")

// TestDiagrams compares each example's diagrams with the golden files in testdata/diagrams;
// run `go test ./campaigns -run TestDiagrams -update` after a deliberate change.
func TestDiagrams(t *testing.T) {
	tests := []struct {
		name, example string
		counts        map[string]int
	}{
		{"bouncer", "bouncer", nil},
		{"bouncer-counts", "bouncer", map[string]int{"door": 41, "judging": 12, "guest_list": 100, "list_full": 1}},
		{"race", "race", nil},
		{"fridge", "fridge", nil},
		{"news", "news", map[string]int{"subscribed": 25310}},
		{"photocontest", "photocontest", nil},
		{"quiz", "quiz", map[string]int{"q3": 12, "result": 0}},
		{"desk", "desk", map[string]int{"menu": 3, "billing": 2, "appointments": 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def := mustLoad(t, "examples/"+tt.example+".yaml")
			for ext, got := range map[string]string{
				".mmd": campaigns.Mermaid(def, tt.counts),
				".dot": campaigns.DOT(def, tt.counts),
			} {
				golden := filepath.Join("testdata", "diagrams", tt.name+ext)
				if *update {
					if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if got != string(want) {
					t.Errorf("%s differs from the golden file; got:\n%s", golden, got)
				}
			}
		})
	}
}
