package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/chatcampaigns/campaign/audit"
)

const auditUsage = `usage: campaign audit export [--campaign ID] [--out FILE] [--data ./data]   (CSV; stdout without --out)`

// auditCmd reads the audit trail of the server's store (the embedded one in --data, or
// MongoDB with CAMPAIGN_MONGODB_URI).
func auditCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, auditUsage)
		return errUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, auditUsage)
		return nil
	case "export":
	default:
		fmt.Fprintf(stderr, "campaign audit: unknown command %q\n%s\n", args[0], auditUsage)
		return errUsage
	}
	fs := flag.NewFlagSet("audit export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "./data", "data folder of the server")
	campaign := fs.String("campaign", "", "only this campaign's events (all events when empty)")
	out := fs.String("out", "", "write the CSV to this file instead of stdout")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "campaign audit export: unexpected argument %q\n%s\n", fs.Arg(0), auditUsage)
		return errUsage
	}
	db, err := openStore(ctx, getenv("CAMPAIGN_MONGODB_URI"), *data)
	if err != nil {
		return err
	}
	defer db.Close()
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	what := "the whole audit trail"
	if *campaign != "" {
		what = "the audit trail of " + *campaign
	}
	// Recorded first, so the export holds its own line: whoever reads the file sees when it
	// was taken.
	if err := recordCLI(ctx, db, audit.Event{Action: audit.Export, Campaign: *campaign, Subject: "audit", Detail: what + " as CSV"}); err != nil {
		return err
	}
	if err := audit.WriteCSV(ctx, w, db, audit.Query{Campaign: *campaign}); err != nil {
		return err
	}
	if f, ok := w.(*os.File); ok && *out != "" {
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "wrote %s to %s\n", what, *out)
	}
	return nil
}

// recordCLI adds an event by the command line (audit.ActorCLI) to the trail of db.
func recordCLI(ctx context.Context, db audit.Store, e audit.Event) error {
	e.Actor = audit.ActorCLI
	if err := (&audit.Log{Store: db}).Record(ctx, e); err != nil {
		return fmt.Errorf("done, but not written to the audit trail: %w", err)
	}
	return nil
}
