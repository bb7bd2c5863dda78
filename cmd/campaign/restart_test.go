package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestRestartKeepsLaunchedVersion restarts `campaign serve` with the same --campaigns folder:
// a version launched with `campaign launch` stays current while the file on disk is unchanged,
// and a changed file becomes current at the next start. The start-up log says which version
// each campaign runs and where it came from.
func TestRestartKeepsLaunchedVersion(t *testing.T) {
	data, defs := t.TempDir(), t.TempDir()
	src, file := copyBouncer(t, defs)
	start := func() (*server, *lockedWriter) {
		log := &lockedWriter{}
		srv, _ := startServer(t, data, func(c *Config) {
			c.Campaigns = []string{defs}
			c.Log = slog.New(slog.NewTextHandler(log, nil))
		})
		return srv, log
	}
	current := func(srv *server) string {
		d, ok := srv.engine.Campaign("bouncer")
		if !ok {
			t.Fatal("bouncer is not loaded")
		}
		return d.Version
	}
	wantLog := func(log *lockedWriter, version, from string) {
		t.Helper()
		re := regexp.MustCompile(`msg=campaign campaign=bouncer version=` + version + ` status=live from="?` + regexp.QuoteMeta(from))
		if !re.MatchString(log.String()) {
			t.Errorf("start-up log does not say bouncer runs %s from %s:\n%s", version, from, log.String())
		}
	}

	srv, log := start()
	fileVersion := current(srv)
	wantLog(log, fileVersion, "file ")
	launched := filepath.Join(t.TempDir(), "bouncer.yaml")
	os.WriteFile(launched, []byte(strings.Replace(string(src), "Talk is cheap.", "Words are cheap.", 1)), 0o600)
	if code, out, errOut := runCLI(t, "launch", launched, "--server", srv.URL(), "--token", srv.adminToken); code != 0 {
		t.Fatalf("launch: exit %d\n%s%s", code, out, errOut)
	}
	launchedVersion := current(srv)
	if launchedVersion == fileVersion {
		t.Fatal("the launch did not change the version")
	}
	srv.Close()

	srv, log = start()
	if got := current(srv); got != launchedVersion {
		t.Errorf("after a restart bouncer runs %s, want the launched %s (the file's is %s)", got, launchedVersion, fileVersion)
	}
	wantLog(log, launchedVersion, "launch")
	srv.Close()

	edited := strings.Replace(string(src), "Talk is cheap.", "Show, don't tell.", 1)
	if err := os.WriteFile(file, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, log = start()
	editedVersion := current(srv)
	if editedVersion == launchedVersion || editedVersion == fileVersion {
		t.Errorf("after editing the file bouncer runs %s, want the file's new version", editedVersion)
	}
	if d, _ := srv.engine.Campaign("bouncer"); !strings.Contains(string(d.Source), "Show, don't tell.") {
		t.Error("the current version is not the edited file")
	}
	wantLog(log, editedVersion, "file ")
	srv.Close()

	// Unchanged again: the edited version stays, nothing new is stored.
	srv, _ = start()
	if got := current(srv); got != editedVersion {
		t.Errorf("an unchanged file moved bouncer to %s, want %s", got, editedVersion)
	}
}

// TestRestartWithoutItsFile: a campaign whose file is no longer among --campaigns keeps
// running from the store, and the start-up log says so (it said "launch (campaign launch)",
// found on the tour, for campaigns that had only ever been loaded from a file).
func TestRestartWithoutItsFile(t *testing.T) {
	data, defs := t.TempDir(), t.TempDir()
	_, file := copyBouncer(t, defs)
	srv, _ := startServer(t, data, func(c *Config) { c.Campaigns = []string{file} })
	srv.Close()
	log := &lockedWriter{}
	srv, _ = startServer(t, data, func(c *Config) {
		c.Campaigns = []string{"../../campaigns/examples/news.yaml"}
		c.Log = slog.New(slog.NewTextHandler(log, nil))
	})
	defer srv.Close()
	if _, ok := srv.engine.Campaign("bouncer"); !ok {
		t.Fatal("bouncer is not running any more")
	}
	want := `msg=campaign campaign=bouncer version=`
	line := ""
	for _, l := range strings.Split(log.String(), "\n") {
		if strings.Contains(l, want) {
			line = l
		}
	}
	if !strings.Contains(line, `from="stored (`+file+`, launched or loaded at an earlier start; no file among --campaigns holds this campaign)"`) {
		t.Errorf("start-up log line %q, want it to say bouncer runs from the store, once loaded from %s", line, file)
	}
}

// copyBouncer copies the bouncer example into dir and returns its bytes and the copy's path.
func copyBouncer(t *testing.T, dir string) ([]byte, string) {
	t.Helper()
	src, err := os.ReadFile("../../campaigns/examples/bouncer.yaml")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "bouncer.yaml")
	if err := os.WriteFile(file, src, 0o600); err != nil {
		t.Fatal(err)
	}
	return src, file
}
