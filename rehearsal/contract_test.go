package rehearsal_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/chatcampaigns/campaign/campaigns"
)

// TestContract replays the scripts in testdata/contract: each pins one promise the engine
// makes to participants (silence after opting out, a finished run stays finished, replies in
// order, ...) on a small campaign written for it. NAME.rehearsal plays NAME.yaml.
func TestContract(t *testing.T) {
	scripts, _ := filepath.Glob("testdata/contract/*.rehearsal")
	if len(scripts) == 0 {
		t.Fatal("no contract scripts in testdata/contract")
	}
	for _, path := range scripts {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".rehearsal"), func(t *testing.T) {
			def, probs := campaigns.LoadFile(strings.TrimSuffix(path, ".rehearsal") + ".yaml")
			if def == nil {
				t.Fatalf("definition: %v", probs)
			}
			for _, f := range replay(t, def, path) {
				t.Error(f)
			}
		})
	}
}
