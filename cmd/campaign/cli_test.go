package main

import (
	"bytes"
	"context"
	"net"
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

// TestLaunch sends a changed definition to a running server: it becomes the current version,
// a broken one is refused before anything changes, and a wrong token is refused.
func TestLaunch(t *testing.T) {
	srv, _ := startServer(t, t.TempDir())
	src, _ := os.ReadFile("../../campaigns/examples/bouncer.yaml")
	dir := t.TempDir()
	changed := filepath.Join(dir, "bouncer.yaml")
	os.WriteFile(changed, []byte(strings.Replace(string(src), "Talk is cheap.", "Words are cheap.", 1)), 0o600)
	broken := filepath.Join(dir, "broken.yaml")
	os.WriteFile(broken, []byte(strings.Replace(string(src), "goto: judging", "goto: judgin", 1)), 0o600)
	before, _ := srv.engine.Campaign("bouncer")

	code, out, errOut := runCLI(t, "launch", broken, "--server", srv.URL(), "--token", srv.adminToken)
	if code != 1 || !strings.Contains(out, broken+":") || !strings.Contains(out, `state "judgin" is not defined`) {
		t.Errorf("broken launch: exit %d\n%s%s", code, out, errOut)
	}
	code, _, errOut = runCLI(t, "launch", changed, "--server", srv.URL(), "--token", "wrong-token-wrong-token")
	if code != 1 || !strings.Contains(errOut, "401") {
		t.Errorf("wrong token: exit %d, %s", code, errOut)
	}
	if now, _ := srv.engine.Campaign("bouncer"); now.Version != before.Version {
		t.Fatal("a refused launch changed the campaign")
	}

	code, out, errOut = runCLI(t, "launch", changed, "--server", srv.URL(), "--data", srv.cfg.Data)
	if code != 0 || !strings.Contains(out, `campaign "bouncer" version`) {
		t.Fatalf("launch: exit %d\n%s%s", code, out, errOut)
	}
	now, _ := srv.engine.Campaign("bouncer")
	if now.Version == before.Version || srv.engine.Status("bouncer") != "live" {
		t.Errorf("after launch: version %s (was %s), status %s", now.Version, before.Version, srv.engine.Status("bouncer"))
	}
}

// TestSimulateShowsButtonIDs: /choose takes a button's id, so the interactive rehearsal shows
// each button's id beside its title (the consent buttons' ids are the engine's own).
func TestSimulateShowsButtonIDs(t *testing.T) {
	def := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(def, []byte("id: c\nconsent: OK?\nstart: a\nstates:\n  a:\n    say: {text: Pick, buttons: [{id: six, title: \"6\"}]}\n    on:\n      - choice: six\n        end: true\n"), 0o600)
	var out, errOut bytes.Buffer
	if err := simulateCmd(context.Background(), []string{def}, strings.NewReader("hi\nyes\n"), &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	for _, want := range []string{"[Yes, I agree](consent_yes) [No thanks](consent_no)", "[6](six)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestSimulateShowsSeconds: a timed question counts seconds, so the clock shows them.
func TestSimulateShowsSeconds(t *testing.T) {
	def := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(def, []byte("id: c\nstart: a\nstates:\n  a:\n    say: Quick!\n    on:\n      - after: 20s\n        end: true\n"), 0o600)
	var out, errOut bytes.Buffer
	if err := simulateCmd(context.Background(), []string{def}, strings.NewReader("hi\n/wait 19s\n"), &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "(ann is in state a, Mon 5 Jan 09:00:19)") {
		t.Errorf("output lacks the seconds:\n%s", out.String())
	}
}

// TestSimulateSaysFinished: after end: true the participant stays in the state it ended in;
// the status line says the run is over, so a tester does not expect the state to answer.
func TestSimulateSaysFinished(t *testing.T) {
	def := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(def, []byte("id: c\nstart: a\nstates:\n  a:\n    say: Bye?\n    on:\n      - text: bye\n        end: true\n"), 0o600)
	var out, errOut bytes.Buffer
	if err := simulateCmd(context.Background(), []string{def}, strings.NewReader("hi\nbye\n"), &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "(ann is in state a, Mon 5 Jan 09:00:00)") ||
		!strings.Contains(out.String(), "(ann has finished, in state a, Mon 5 Jan 09:00:00)") {
		t.Errorf("output:\n%s", out.String())
	}
}

// TestLaunchNoServer: with no server at --server, launch says to start one, rather than only
// Go's "dial tcp …: connection refused".
func TestLaunchNoServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	code, _, errOut := runCLI(t, "launch", "../../campaigns/examples/bouncer.yaml", "--server", "http://"+addr, "--token", "a-token-of-enough-length")
	if code != 1 || !strings.Contains(errOut, "no server answers at http://"+addr) || !strings.Contains(errOut, "campaign serve") {
		t.Errorf("launch without a server: exit %d, %q", code, errOut)
	}
}

// TestServePortInUse: a port in use is said in words, with the way out, and leaves no admin
// whose password was never shown.
func TestServePortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	data := t.TempDir()
	_, err = newServer(context.Background(), Config{Addr: ln.Addr().String(), Data: data, Campaigns: []string{"../../campaigns/examples/bouncer.yaml"}})
	if err == nil || !strings.Contains(err.Error(), "is in use") || !strings.Contains(err.Error(), "--addr") || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("serve on a port in use: %v", err)
	}
	if out, err := user(t, data, "", "list"); err != nil || !strings.Contains(out, "no users yet") {
		t.Errorf("after the failed start: %q %v", out, err)
	}
}

// TestSimulateShowsCampaignZoneAndTemplates: the clock reads in the campaign's time zone, as
// /wait until does, and a reply that goes out as a template once the window closed is shown
// as that template, not as the text the participant never gets.
func TestSimulateShowsCampaignZoneAndTemplates(t *testing.T) {
	def := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(def, []byte(`id: c
channels: [whatsapp]
keywords: [GO]
schedule: {timezone: Europe/Amsterdam}
templates:
  later: {name: c_later, params: [name]}
start: a
states:
  a:
    say: "Hi."
    on:
      - after: 2d
        say: {text: "Still there?", template: later}
        end: true
`), 0o600)
	var out, errOut bytes.Buffer
	if err := simulateCmd(context.Background(), []string{def}, strings.NewReader("GO\n/wait until 2026-01-07 09:30\n"), &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	for _, want := range []string{"(ann is in state a, Mon 5 Jan 09:00:00 CET)", "c: (template later ann, the 24-hour window had closed)", "Wed 7 Jan 09:30:00 CET"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
