package draw

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocsKnownVector: docs/draws.md states the known vector of testdata/v1.json, so the
// page someone reimplements the algorithm from cannot drift from the code.
func TestDocsKnownVector(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "draws.md"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join("testdata", "v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := ReadPublication(f)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{AlgorithmV1, p.EligibleSHA256, p.SeedSHA256, p.Seed, strings.Join(p.Eligible, " "),
		"`" + strings.Join(p.Drawn, "`, `") + "`"}
	for _, w := range want {
		if !strings.Contains(string(doc), w) {
			t.Errorf("docs/draws.md does not say %q", w)
		}
	}
}
