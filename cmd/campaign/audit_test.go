package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chatcampaigns/campaign/audit"
)

// TestAccountChangesAreAudited: every account change made with `campaign user` is in the
// trail, by the command line, and `campaign audit export --out` writes it as CSV.
func TestAccountChangesAreAudited(t *testing.T) {
	data := t.TempDir()
	steps := [][]string{
		{"add", "--name", "ann", "--role", "admin"},
		{"add", "--name", "bob", "--role", "judge", "--team", "chefs"},
		{"team", "--name", "bob", "--team", ""},
		{"role", "--name", "bob", "--role", "moderator"},
		{"campaigns", "--name", "bob", "--campaign", "race"},
		{"passwd", "--name", "bob"},
		{"remove", "--name", "bob"},
	}
	for _, s := range steps {
		if out, err := user(t, data, "a-long-password\n", s...); err != nil {
			t.Fatalf("user %v: %v (%s)", s, err, out)
		}
	}
	file := filepath.Join(t.TempDir(), "audit.csv")
	if code, _, errOut := runCLI(t, "audit", "export", "--out", file, "--data", data); code != 0 {
		t.Fatalf("audit export: %d %s", code, errOut)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows[1:] {
		got = append(got, strings.Join([]string{r[2], r[3], r[7], r[8]}, " "))
	}
	want := []string{
		"cli user.add ann role admin",
		"cli user.add bob role judge, team chefs",
		"cli user.teams bob in no team",
		"cli role bob role moderator (was judge), every campaign",
		"cli role bob role moderator, campaign race",
		"cli user.password bob new password; sessions logged out",
		"cli user.remove bob ",
		"cli export audit the whole audit trail as CSV",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("trail:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if code, _, errOut := runCLI(t, "audit", "remove"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Errorf("audit remove: %d %s", code, errOut)
	}
}

// TestLaunchIsAudited: a launch through the admin API is in the trail, by the API, with the
// version it made current; the first start's admin by the system.
func TestLaunchIsAudited(t *testing.T) {
	srv, _ := startServer(t, t.TempDir())
	src, _ := os.ReadFile("../../campaigns/examples/bouncer.yaml")
	changed := filepath.Join(t.TempDir(), "bouncer.yaml")
	os.WriteFile(changed, []byte(strings.Replace(string(src), "Talk is cheap.", "Words are cheap.", 1)), 0o600)
	if code, out, errOut := runCLI(t, "launch", changed, "--server", srv.URL(), "--data", srv.cfg.Data); code != 0 {
		t.Fatalf("launch: %d %s %s", code, out, errOut)
	}
	now, _ := srv.engine.Campaign("bouncer")
	es, err := srv.db.AuditEvents(t.Context(), audit.Query{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Actor+" "+e.Action+" "+e.Campaign+e.Subject)
	}
	want := []string{"system user.add admin", "api campaign.launch bouncer"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("trail = %q, want %q", got, want)
	}
	if !strings.Contains(es[1].Detail, now.Version) {
		t.Errorf("launch detail %q does not name version %s", es[1].Detail, now.Version)
	}
}
