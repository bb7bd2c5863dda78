package main

import (
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// flagRe finds a flag in a usage line ("--addr") or in the flag package's help ("  -addr").
var (
	flagRe     = regexp.MustCompile(`--([a-z][a-z-]*)`)
	helpFlagRe = regexp.MustCompile(`(?m)^  -([a-z][a-z-]*)`)
)

// TestReadmeFlagsMatchHelp: the command lines of the README's "Running it" and of
// `campaign --help` name the flags each command has, and (loadgen aside, whose long list the
// README cuts short) all of them; found on the tour: the README's `launch` lacked `--data`
// and `campaign --help` lacked serve's `--pprof`.
func TestReadmeFlagsMatchHelp(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "## Running it\n\n```\n")
	block, _, _ := strings.Cut(after, "```")
	if !ok || block == "" {
		t.Fatal(`README has no "## Running it" block of commands`)
	}
	check := func(source, block string, complete bool) {
		for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
			line = strings.TrimSpace(line)
			if !strings.HasPrefix(line, "campaign ") {
				continue
			}
			words := strings.Fields(line)
			cmd := words[1:2]
			if cmd[0] == "user" || cmd[0] == "channels" || cmd[0] == "draw" || cmd[0] == "audit" || cmd[0] == "participant" || cmd[0] == "broadcast" {
				if words[2] == "list" && strings.Contains(line, "|") {
					continue // "user list | passwd --name NAME | remove ...": several in one line
				}
				cmd = words[1:3]
			}
			code, out, errOut := runCLI(t, append(cmd, "-h")...)
			if code != 0 {
				t.Errorf("campaign %s -h: exit %d", strings.Join(cmd, " "), code)
				continue
			}
			has := map[string]bool{}
			for _, m := range helpFlagRe.FindAllStringSubmatch(out+errOut, -1) {
				has[m[1]] = true
			}
			named := map[string]bool{}
			for _, m := range flagRe.FindAllStringSubmatch(line, -1) {
				named[m[1]] = true
				if !has[m[1]] {
					t.Errorf("%s: `campaign %s` names --%s, which the command does not have", source, strings.Join(cmd, " "), m[1])
				}
			}
			if !complete || cmd[0] == "loadgen" {
				continue
			}
			var missing []string
			for f := range has {
				if !named[f] {
					missing = append(missing, "--"+f)
				}
			}
			sort.Strings(missing)
			if len(missing) > 0 {
				t.Errorf("%s: `campaign %s` leaves out %s", source, strings.Join(cmd, " "), strings.Join(missing, ", "))
			}
		}
	}
	check("README", block, true)
	_, help, _ := strings.Cut(usage, "Usage:\n")
	check("campaign --help", help, false)
	for _, f := range []string{"--pprof", "--data"} {
		if !strings.Contains(help, f) {
			t.Errorf("campaign --help does not mention %s", f)
		}
	}
}
