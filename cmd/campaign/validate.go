package main

import (
	"flag"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
)

// validateCmd checks definition files (or folders of them) together and prints, for each file
// in name order, its problems as `file:line:col: message` lines (warnings as
// `file:line:col: warning: message`) sorted by position, then one summary line for the file:
//
//	bouncer.yaml: ok (campaign "bouncer", 6 states, version 1a2b3c4d)
//	news.yaml: ok, 1 warning (campaign "news", 3 states, version 5e6f7a8b)
//	desk.yaml: 3 problems: 2 errors, 1 warning
//
// Everything goes to stdout, so the problems and the verdict on them read in one place. The
// exit code is 0 when no file has an error (warnings alone keep it 0), 1 when any has, and 2
// for a wrong command line. now is the clock a schedule is checked against (one that is over
// is a warning).
func validateCmd(args []string, stdout, stderr io.Writer, now func() time.Time) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: campaign validate FILE|FOLDER...   (exit 0: no errors, 1: errors, 2: usage)")
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	defs, probs := campaigns.LoadPaths(fs.Args())
	probs = append(probs, campaigns.SharedNumbers(defs)...)
	for _, d := range defs {
		probs = append(probs, campaigns.CheckSchedule(d, now())...)
	}
	byFile := map[string]campaigns.Problems{}
	var files []string
	add := func(f string) {
		if _, ok := byFile[f]; !ok {
			byFile[f] = nil
			files = append(files, f)
		}
	}
	for _, p := range probs {
		add(p.File)
		byFile[p.File] = append(byFile[p.File], p)
	}
	loaded := map[string]*campaigns.Definition{}
	for _, d := range defs {
		add(d.File)
		loaded[d.File] = d
	}
	sort.Strings(files)
	for _, f := range files {
		ps := byFile[f]
		sort.SliceStable(ps, func(i, j int) bool {
			return ps[i].Line < ps[j].Line || ps[i].Line == ps[j].Line && ps[i].Col < ps[j].Col
		})
		errors, warnings := 0, 0
		for _, p := range ps {
			fmt.Fprintln(stdout, p.String())
			if p.Severity == campaigns.Error {
				errors++
			} else {
				warnings++
			}
		}
		d := loaded[f]
		switch {
		case errors > 0 || d == nil:
			fmt.Fprintf(stdout, "%s: %s: %s, %s\n", f, count(len(ps), "problem", "problems"),
				count(errors, "error", "errors"), count(warnings, "warning", "warnings"))
		case warnings > 0:
			fmt.Fprintf(stdout, "%s: ok, %s (%s)\n", f, count(warnings, "warning", "warnings"), about(d))
		default:
			fmt.Fprintf(stdout, "%s: ok (%s)\n", f, about(d))
		}
	}
	if probs.HasErrors() {
		return 1
	}
	return 0
}

func about(d *campaigns.Definition) string {
	return fmt.Sprintf("campaign %q, %s, version %s", d.ID, count(len(d.States), "state", "states"), d.Version)
}
