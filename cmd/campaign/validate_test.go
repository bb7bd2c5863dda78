package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files of TestValidateGolden")

// TestValidateGolden: `campaign validate` prints every problem of every file in one run,
// sorted by position, then one summary line per file, the same way for each; the exit code
// is 1 when any file has an error. The golden files are the expected output (go test
// -run TestValidateGolden -update rewrites them).
func TestValidateGolden(t *testing.T) {
	now := func() time.Time { return time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC) }
	dir := filepath.Join("testdata", "validate")
	tests := []struct {
		golden string
		files  []string
		code   int
	}{
		// A file with problems of every kind: keys, variables, buttons, the graph, a bad
		// hand-off team, the 24-hour window, a verdict; all at once.
		{"many.golden", []string{"many.yaml"}, 1},
		// Problems that used to stop the checks behind them.
		{"onepass.golden", []string{"onepass.yaml"}, 1},
		// Several files: each its problems and its summary; one campaign takes the other's
		// strangers on a shared number.
		{"several.golden", []string{"clean.yaml", "shared-desk.yaml", "shared-news.yaml"}, 0},
	}
	version := regexp.MustCompile(`version [0-9a-f]{16}`)
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			var args []string
			for _, f := range tt.files {
				args = append(args, filepath.Join(dir, f))
			}
			var out, errOut bytes.Buffer
			code := validateCmd(args, &out, &errOut, now)
			got := version.ReplaceAll(out.Bytes(), []byte("version V"))
			path := filepath.Join(dir, tt.golden)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if code != tt.code || !bytes.Equal(got, want) {
				t.Errorf("exit %d (want %d), output:\n%s\nwant:\n%s\nstderr: %s", code, tt.code, got, want, errOut.String())
			}
		})
	}
}
