package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/chatcampaigns/campaign/audit"
	"github.com/chatcampaigns/campaign/draw"
	"github.com/chatcampaigns/campaign/errs"
)

const drawUsage = `usage: campaign draw commit --campaign ID --name NAME --winners N [--status approved] [--out FILE] [--data ./data]
       campaign draw close --campaign ID --name NAME [--out FILE] [--data ./data]
       campaign draw show --campaign ID [--name NAME] [--out FILE] [--data ./data]
       campaign draw verify FILE [--list LIST]   (no server or data folder needed)`

// drawCmd runs verifiable draws (docs/draws.md): commit and close work on the server's store
// (the data folder or CAMPAIGN_MONGODB_URI), verify on a published file alone.
func drawCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, drawUsage)
		return errUsage
	}
	sub := args[0]
	switch sub {
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, drawUsage)
		return nil
	case "verify":
		return drawVerify(args[1:], stdout, stderr)
	case "commit", "close", "show":
	default:
		fmt.Fprintf(stderr, "campaign draw: unknown command %q\n%s\n", sub, drawUsage)
		return errUsage
	}
	fs := flag.NewFlagSet("draw "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "./data", "data folder of the server")
	campaign := fs.String("campaign", "", "campaign id")
	name := fs.String("name", "", "the draw's name (lowercase letters, digits, - and _)")
	out := fs.String("out", "", "write the draw's publication (JSON) to this file")
	var winners *int
	var status *string
	if sub == "commit" {
		winners = fs.Int("winners", 0, "how many win")
		status = fs.String("status", "approved", "the entry status that makes a participant eligible")
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	missing := ""
	switch {
	case *campaign == "":
		missing = "--campaign"
	case *name == "" && sub != "show":
		missing = "--name"
	case winners != nil && *winners < 1:
		missing = "--winners (1 or more)"
	}
	if missing != "" {
		fmt.Fprintf(stderr, "campaign draw %s: %s is required\n%s\n", sub, missing, drawUsage)
		return errUsage
	}
	db, err := openStore(ctx, getenv("CAMPAIGN_MONGODB_URI"), *data)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := &draw.Service{Store: db, Entries: db, Audit: cliRecorder{db}}
	var r draw.Record
	switch sub {
	case "commit":
		r, err = svc.Commit(ctx, *campaign, *name, *status, *winners, audit.ActorCLI)
		switch {
		case errors.Is(err, errs.ErrConflict) && r.Name == "":
			if _, e := svc.Draw(ctx, *campaign, *name); e == nil {
				return fmt.Errorf("campaign %s has a draw %q already (see `campaign draw show --campaign %s --name %s`)", *campaign, *name, *campaign, *name)
			}
			return fmt.Errorf("nobody in campaign %s has an entry with status %s yet, so nobody could win", *campaign, *status)
		case err != nil && r.Name == "":
			return err
		}
		fmt.Fprintf(stdout, "committed draw %q of %s: %d winners among %d participants (entries %s)\n", r.Name, r.Campaign, r.Winners, len(r.Eligible), r.Status)
		printCommitment(stdout, r)
		fmt.Fprintln(stdout, "Publish the commitment now (the file --out writes, or these lines); close the draw later with `campaign draw close`.")
	case "close":
		r, err = svc.Close(ctx, *campaign, *name, audit.ActorCLI)
		switch {
		case errors.Is(err, errs.ErrNotFound):
			return fmt.Errorf("campaign %s has no draw %q (`campaign draw show --campaign %s` lists them)", *campaign, *name, *campaign)
		case errors.Is(err, errs.ErrConflict):
			return fmt.Errorf("draw %q was closed already, by %s on %s; its winners stand", *name, r.ClosedBy, r.ClosedAt.UTC().Format("2006-01-02 15:04 UTC"))
		case err != nil && !r.Closed():
			return err
		}
		fmt.Fprintf(stdout, "closed draw %q of %s\n", r.Name, r.Campaign)
		printCommitment(stdout, r)
		fmt.Fprintf(stdout, "seed             %s\n", r.Publication().Seed)
		for i, w := range r.Drawn {
			fmt.Fprintf(stdout, "winner %d         %s\n", i+1, w)
		}
	case "show":
		if *name == "" {
			return listDraws(ctx, svc, *campaign, stdout)
		}
		if r, err = svc.Draw(ctx, *campaign, *name); err != nil {
			return err
		}
		if *out == "" {
			return writePublication(stdout, r)
		}
	}
	if err != nil {
		return err
	}
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		if err := writePublication(f, r); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "wrote the draw's publication to %s\n", *out)
	}
	return nil
}

func printCommitment(w io.Writer, r draw.Record) {
	fmt.Fprintf(w, "algorithm        %s\neligible_sha256  %s\nseed_sha256      %s\n", r.Algorithm, r.EligibleSHA256, r.SeedSHA256)
}

func writePublication(w io.Writer, r draw.Record) error {
	b, err := json.MarshalIndent(r.Publication(), "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

func listDraws(ctx context.Context, svc *draw.Service, campaign string, stdout io.Writer) error {
	rs, err := svc.Draws(ctx, campaign)
	if err != nil {
		return err
	}
	if len(rs) == 0 {
		fmt.Fprintf(stdout, "campaign %s has no draws yet\n", campaign)
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tELIGIBLE\tWINNERS\tCOMMITTED\tCLOSED")
	for _, r := range rs {
		closed := "open"
		if r.Closed() {
			closed = r.ClosedAt.UTC().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", r.Name, len(r.Eligible), r.Winners, r.CommittedAt.UTC().Format("2006-01-02 15:04"), closed)
	}
	return tw.Flush()
}

// cliRecorder records the draws made from the command line.
type cliRecorder struct{ db audit.Store }

func (c cliRecorder) Record(ctx context.Context, e audit.Event) error { return recordCLI(ctx, c.db, e) }

// drawVerify recomputes a published draw from its file alone.
func drawVerify(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("draw verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	list := fs.String("list", "", "the eligible list as published text (one participant per line); replaces the file's eligible list")
	file, err := parseFileArgs(fs, args, "campaign draw verify FILE [--list LIST]")
	if err != nil {
		return err
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	p, err := draw.ReadPublication(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if *list != "" {
		lf, err := os.Open(*list)
		if err != nil {
			return err
		}
		p.Eligible, err = draw.ReadList(lf)
		lf.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", *list, err)
		}
	}
	checks, err := draw.Verify(p)
	for _, c := range checks {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(stdout, "%s %s\n", mark, c.What)
		if c.Detail != "" {
			fmt.Fprintf(stdout, "     %s\n", c.Detail)
		}
	}
	if err != nil {
		if errors.Is(err, draw.ErrMismatch) {
			return fmt.Errorf("%s: the draw does not verify", file)
		}
		return fmt.Errorf("%s: %w", file, err)
	}
	fmt.Fprintf(stdout, "draw %q of %s verifies: %d participants, winners %s\n", p.Draw, p.Campaign, len(p.Eligible), strings.Join(p.Drawn, ", "))
	fmt.Fprintf(stdout, "compare eligible_sha256 %s and seed_sha256 %s with the commitment published before the draw closed\n", p.EligibleSHA256, p.SeedSHA256)
	return nil
}
