package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/store/sqlite"
)

// user runs `campaign user ARGS` on a data folder with stdin as given, and returns what it
// printed and its error.
func user(t *testing.T, data, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := userCmd(context.Background(), append(args, "--data", data), strings.NewReader(stdin), &out, &errOut, func(string) string { return "" })
	return out.String(), err
}

func TestUserCommands(t *testing.T) {
	data := t.TempDir()
	must := func(out string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatalf("%v (printed %q)", err, out)
		}
		return out
	}
	must(user(t, data, "first-password\n", "add", "--name", "ann", "--role", "admin"))
	must(user(t, data, "second-password\n", "add", "--name", "bob", "--role", "judge"))

	// A taken name is said plainly, with the two ways out.
	_, err := user(t, data, "another-password\n", "add", "--name", "ann", "--role", "moderator")
	if err == nil {
		t.Fatal("a second ann was added")
	}
	for _, want := range []string{`"ann" already exists`, "campaign user passwd --name ann", "campaign user remove --name ann"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("taken name: %q, want it to say %q", err, want)
		}
	}
	if strings.Contains(strings.ToLower(err.Error()), "sqlite") || strings.Contains(err.Error(), "UNIQUE") {
		t.Errorf("taken name: the store's own error shows: %q", err)
	}

	out := must(user(t, data, "", "list"))
	if !strings.Contains(out, "ann") || !strings.Contains(out, "admin") || !strings.Contains(out, "bob") || !strings.Contains(out, "judge") ||
		strings.Index(out, "ann") > strings.Index(out, "bob") {
		t.Errorf("list:\n%s", out)
	}

	if out := must(user(t, data, "a-new-password\n", "passwd", "--name", "bob")); !strings.Contains(out, `"bob"`) {
		t.Errorf("passwd said %q", out)
	}
	if _, err := user(t, data, "short\n", "passwd", "--name", "bob"); err == nil || !strings.Contains(err.Error(), "10 characters") {
		t.Errorf("passwd with a short password: %v", err)
	}
	if _, err := user(t, data, "a-new-password\n", "passwd", "--name", "nobody"); err == nil || !strings.Contains(err.Error(), `no user "nobody"`) {
		t.Errorf("passwd of nobody: %v", err)
	}

	// The only admin stays; others go.
	if _, err := user(t, data, "", "remove", "--name", "ann"); err == nil || !strings.Contains(err.Error(), "only admin") {
		t.Errorf("removing the only admin: %v", err)
	}
	must(user(t, data, "", "remove", "--name", "bob"))
	if _, err := user(t, data, "", "remove", "--name", "bob"); err == nil || !strings.Contains(err.Error(), `no user "bob"`) {
		t.Errorf("removing bob twice: %v", err)
	}
	if out := must(user(t, data, "", "list")); strings.Contains(out, "bob") {
		t.Errorf("bob still listed:\n%s", out)
	}
	if code, _, errOut := runCLI(t, "user", "rename"); code != 2 || !strings.Contains(errOut, "passwd") {
		t.Errorf("unknown subcommand: exit %d, %q", code, errOut)
	}
}

// TestCountsInCommandOutput: "1 state", "1 line", never "1 states".
func TestCountsInCommandOutput(t *testing.T) {
	dir := t.TempDir()
	one := filepath.Join(dir, "one.yaml")
	os.WriteFile(one, []byte("id: one\nstart: a\nstates:\n  a:\n    say: hi\n    final: true\n"), 0o600)
	script := filepath.Join(dir, "one.rehearsal")
	os.WriteFile(script, []byte("/wait 1h\n"), 0o600)
	if code, out, _ := runCLI(t, "validate", one); code != 0 || !strings.Contains(out, "1 state,") {
		t.Errorf("validate: exit %d, %q, want it to count 1 state", code, out)
	}
	if code, out, errOut := runCLI(t, "simulate", one, "--script", script); code != 0 || !strings.Contains(out, "(1 line)") {
		t.Errorf("simulate: exit %d, %q %q, want it to count 1 line", code, out, errOut)
	}
	os.WriteFile(script, []byte("> hello\n"), 0o600) // "hi" comes unexpected
	if code, _, errOut := runCLI(t, "simulate", one, "--script", script); code != 1 || !strings.Contains(errOut, "1 mismatch in") {
		t.Errorf("simulate: exit %d, %q, want it to count 1 mismatch", code, errOut)
	}
}

// TestHelpOfEveryCommand: `campaign COMMAND -h` (the top-level help points there) shows the
// command's usage and exits 0, for every command; `campaign user --help` used to be "unknown
// command" with exit 2.
func TestHelpOfEveryCommand(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "-h"}, {"validate", "-h"}, {"simulate", "-h"}, {"diagram", "-h"}, {"launch", "-h"},
		{"loadgen", "-h"}, {"user", "-h"}, {"user", "--help"}, {"user", "help"}, {"user", "add", "-h"},
	} {
		code, out, errOut := runCLI(t, args...)
		if code != 0 || !strings.Contains(strings.ToLower(out+errOut), "usage") {
			t.Errorf("campaign %s: exit %d, printed %q %q", strings.Join(args, " "), code, out, errOut)
		}
	}
	if _, out, _ := runCLI(t, "user", "--help"); !strings.Contains(out, "campaign user passwd") {
		t.Errorf("campaign user --help printed %q, want the usage of every user command", out)
	}
}

// TestUserPasswordMissing: without a password on stdin, add and passwd say how to give one.
func TestUserPasswordMissing(t *testing.T) {
	for _, sub := range []string{"add", "passwd"} {
		_, err := user(t, t.TempDir(), "", sub, "--name", "ann")
		if err == nil || !strings.Contains(err.Error(), "echo") {
			t.Errorf("user %s without a password: %v, want how to pipe one in", sub, err)
		}
	}
}

// TestUserTeams: `--team` puts a user in hand-off teams (repeatable or comma-separated), list
// shows them, and `user team` changes them.
func TestUserTeams(t *testing.T) {
	data := t.TempDir()
	if _, err := user(t, data, "first-password\n", "add", "--name", "ann", "--team", "appointments", "--team", "billing"); err != nil {
		t.Fatal(err)
	}
	if _, err := user(t, data, "second-password\n", "add", "--name", "bob", "--team", "billing,appointments"); err != nil {
		t.Fatal(err)
	}
	if _, err := user(t, data, "third-password\n", "add", "--name", "cid"); err != nil {
		t.Fatal(err)
	}
	out, err := user(t, data, "", "list")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"TEAMS", "appointments,billing", "cid   moderator  -"} {
		if !strings.Contains(out, want) {
			t.Errorf("list does not show %q:\n%s", want, out)
		}
	}
	if _, err := user(t, data, "x-password-long\n", "add", "--name", "dan", "--team", "Billing Desk"); err == nil || !strings.Contains(err.Error(), `team "Billing Desk" must be lower-case`) {
		t.Errorf("a bad team name: %v", err)
	}
	if out, err := user(t, data, "", "team", "--name", "ann", "--team", "billing"); err != nil || !strings.Contains(out, `"ann" is now in team billing`) {
		t.Errorf("team: %q, %v", out, err)
	}
	if out, err := user(t, data, "", "team", "--name", "bob", "--team", ""); err != nil || !strings.Contains(out, `"bob" is now in no team`) {
		t.Errorf("team none: %q, %v", out, err)
	}
	if _, err := user(t, data, "", "team", "--name", "nobody", "--team", "x"); err == nil || !strings.Contains(err.Error(), `no user "nobody"`) {
		t.Errorf("team of nobody: %v", err)
	}
	out, _ = user(t, data, "", "list")
	if !strings.Contains(out, "ann   moderator  billing  all\n") || !strings.Contains(out, "bob   moderator  -        all\n") {
		t.Errorf("list after team changes:\n%s", out)
	}
}

// TestUserTeamNobodyHandsOffTo: a team no stored campaign hands off to is most likely a typo;
// the command does what it was told and warns, naming the teams the campaigns use.
func TestUserTeamNobodyHandsOffTo(t *testing.T) {
	data := t.TempDir()
	db, err := sqlite.Open(context.Background(), filepath.Join(data, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	src := "id: desk\nstart: menu\nstates:\n  menu:\n    say: hi\n    on:\n      - text: bill\n        goto: billing\n" +
		"  billing:\n    handoff: billing\n    on:\n      - handback: true\n        goto: menu\n"
	if err := db.SaveCampaign(context.Background(), engine.CampaignRecord{ID: "desk", Version: "v1", File: "desk.yaml", Source: []byte(src), Status: engine.StatusLive, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	run := func(stdin string, args ...string) (string, string) {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := userCmd(context.Background(), append(args, "--data", data), strings.NewReader(stdin), &out, &errOut, func(string) string { return "" }); err != nil {
			t.Fatalf("%v (%s)", err, errOut.String())
		}
		return out.String(), errOut.String()
	}
	_, warn := run("a-long-password\n", "add", "--name", "ann", "--team", "billling")
	if want := `warning: no campaign hands off to team "billling" (the teams handed off to: billing); did you mean "billing"?`; !strings.Contains(warn, want) {
		t.Errorf("add with a misspelt team warned %q, want %q", warn, want)
	}
	if _, warn := run("", "team", "--name", "ann", "--team", "billing"); strings.Contains(warn, "warning") {
		t.Errorf("a team in use warned: %q", warn)
	}
	if _, warn := run("", "team", "--name", "ann", "--team", "kitchen"); !strings.Contains(warn, `no campaign hands off to team "kitchen"`) || strings.Contains(warn, "did you mean") {
		t.Errorf("an unused team, far from any: %q", warn)
	}
}

// TestUserCampaignsAndRole: a user can be given campaigns (add --campaign, repeatable; the
// campaigns command replaces them) and another role; the last admin keeps theirs.
func TestUserCampaignsAndRole(t *testing.T) {
	data := t.TempDir()
	must := func(out string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatalf("%v (printed %q)", err, out)
		}
		return out
	}
	must(user(t, data, "first-password\n", "add", "--name", "ann", "--role", "admin"))
	out := must(user(t, data, "second-password\n", "add", "--name", "judy", "--role", "judge", "--campaign", "race", "--campaign", "bouncer"))
	if !strings.Contains(out, "for campaigns bouncer, race") {
		t.Errorf("add said %q", out)
	}
	out = must(user(t, data, "", "list"))
	if !strings.Contains(out, "CAMPAIGNS") || !regexpMatch(`judy\s+judge\s+-\s+bouncer,race`, out) || !regexpMatch(`ann\s+admin\s+-\s+all`, out) {
		t.Errorf("list:\n%s", out)
	}
	if _, err := user(t, data, "third-password\n", "add", "--name", "bad", "--campaign", "Race!"); err == nil || !strings.Contains(err.Error(), `campaign "Race!"`) {
		t.Errorf("a bad campaign id: %v", err)
	}
	if out := must(user(t, data, "", "campaigns", "--name", "judy", "--campaign", "race")); !strings.Contains(out, `"judy" now works on campaign race`) {
		t.Errorf("campaigns said %q", out)
	}
	if out := must(user(t, data, "", "campaigns", "--name", "judy", "--campaign", "")); !strings.Contains(out, "every campaign") {
		t.Errorf("campaigns \"\" said %q", out)
	}
	if out := must(user(t, data, "", "role", "--name", "judy", "--role", "moderator")); !strings.Contains(out, `"judy" is now moderator (was judge)`) {
		t.Errorf("role said %q", out)
	}
	if _, err := user(t, data, "", "role", "--name", "ann", "--role", "judge"); err == nil || !strings.Contains(err.Error(), "only admin") {
		t.Errorf("demoting the only admin: %v", err)
	}
	if _, err := user(t, data, "", "role", "--name", "nobody", "--role", "judge"); err == nil || !strings.Contains(err.Error(), `no user "nobody"`) {
		t.Errorf("role of nobody: %v", err)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(data, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, err := db.UserByName(context.Background(), "judy")
	if err != nil || u.Role != "moderator" || u.Campaigns != nil {
		t.Errorf("judy = %+v, %v", u, err)
	}
}

func regexpMatch(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }
