package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestValidateWarnsWhenScheduleIsOver: a definition whose schedule ended validates (exit 0)
// with a warning at its end, judged by the clock validate is given.
func TestValidateWarnsWhenScheduleIsOver(t *testing.T) {
	file := filepath.Join(t.TempDir(), "summer.yaml")
	os.WriteFile(file, []byte("id: summer\nschedule:\n  end: 2025-09-01\n  timezone: Europe/Amsterdam\nstart: a\nstates:\n  a:\n    say: hi\n    final: true\n"), 0o600)
	tests := []struct {
		name string
		now  time.Time
		want string
	}{
		{"Over", time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC),
			file + ":3:8: warning: the schedule is over: it ended on Monday 1 September 2025, 00:00 (Europe/Amsterdam), so nobody new can join (move schedule end, or write it as a time after launch like 30d)\n" +
				file + ": ok, 1 warning (campaign \"summer\", 1 state, version "},
		{"NotOverYet", time.Date(2025, 8, 31, 12, 0, 0, 0, time.UTC), file + ": ok (campaign \"summer\", 1 state, version "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := validateCmd([]string{file}, &out, &errOut, func() time.Time { return tt.now })
			if code != 0 || !strings.HasPrefix(out.String(), tt.want) || strings.Count(out.String(), "\n") != strings.Count(tt.want, "\n")+1 {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 0 and %q", code, out.String(), errOut.String(), tt.want)
			}
		})
	}
}
