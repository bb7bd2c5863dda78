package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut, func(string) string { return "" })
	return code, out.String(), errOut.String()
}

func TestValidate(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("id: bad\nstart: a\nstates:\n  a:\n    say: hi\n    on:\n      - text: any\n        goto: nowhere\n"), 0o600)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"ExamplesAreValid", []string{"validate", "../../campaigns/examples/bouncer.yaml"}, 0, ""},
		{"ErrorsAsFileLineCol", []string{"validate", bad}, 1, bad + `:8:15: goto: state "nowhere" is not defined`},
		{"MissingFile", []string{"validate", "nope.yaml"}, 1, "nope.yaml:1:1: cannot read"},
		{"NoArguments", []string{"validate"}, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.args...)
			if code != tt.wantCode || !strings.Contains(out, tt.wantOut) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d with %q", code, out, errOut, tt.wantCode, tt.wantOut)
			}
		})
	}
}

func TestSimulateScript(t *testing.T) {
	code, out, errOut := runCLI(t, "simulate", "../../campaigns/examples/bouncer.yaml", "--script", "../../campaigns/examples/bouncer.rehearsal")
	if code != 0 || !strings.Contains(out, "ok") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	wrong := filepath.Join(t.TempDir(), "wrong.rehearsal")
	os.WriteFile(wrong, []byte("> hi\n< Good morning\n"), 0o600)
	code, out, _ = runCLI(t, "simulate", "../../campaigns/examples/bouncer.yaml", "--script", wrong)
	if code != 1 || !strings.Contains(out, wrong+`:2: expected "Good morning"`) {
		t.Errorf("mismatching script: exit %d, output %q; want exit 1 naming line 2", code, out)
	}
}

func TestUnknownCommand(t *testing.T) {
	if code, _, errOut := runCLI(t, "dance"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Errorf("exit %d, %q", code, errOut)
	}
}
