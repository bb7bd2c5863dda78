package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
)

// validateCmd prints one file:line:col: message line per problem and exits 1 when any of them
// is an error; warnings alone keep the exit code 0. now is the clock a schedule is checked
// against (one that is over is a warning).
func validateCmd(args []string, stdout, stderr io.Writer, now func() time.Time) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, "usage: campaign validate FILE...") }
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
	for _, d := range defs {
		probs = append(probs, campaigns.CheckSchedule(d, now())...)
	}
	for _, p := range probs {
		fmt.Fprintln(stdout, p.String())
	}
	if probs.HasErrors() {
		return 1
	}
	for _, d := range defs {
		fmt.Fprintf(stderr, "%s: ok (campaign %q, %s, version %s)\n", d.File, d.ID, count(len(d.States), "state", "states"), d.Version)
	}
	return 0
}
