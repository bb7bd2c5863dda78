package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/export"
	"github.com/chatcampaigns/campaign/media"
)

const exportUsage = `campaign export --campaign ID [--round NAME] [--out FILE.zip] [--data ./data]
                [--status approved,shortlisted,advanced,winner] [--without-consent] [--phone-numbers]`

// exportCmd writes the approved media of a campaign (or one round) with each participant's
// consent as a ZIP with a CSV manifest, reading the store and media a `campaign serve` with
// the same --data and environment uses (it may be running). Progress goes to stderr.
func exportCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintf(stderr, "usage: %s\n\n", exportUsage); fs.PrintDefaults() }
	campaign := fs.String("campaign", "", "the campaign's id (required)")
	round := fs.String("round", "", "export only this round's entries")
	out := fs.String("out", "", "the ZIP file to write (default CAMPAIGN[-ROUND]-export.zip; - for stdout)")
	data := fs.String("data", "./data", "the data folder of `campaign serve`")
	statuses := fs.String("status", strings.Join(export.DefaultStatuses, ","), "entry statuses to export, comma-separated")
	withoutConsent := fs.Bool("without-consent", false, "also export entries of participants who did not agree to the consent question (marked in the manifest)")
	phones := fs.Bool("phone-numbers", false, "add each participant's address (their phone number on WhatsApp) to the manifest")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *campaign == "" || fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	if *out == "" {
		*out = *campaign + roundPart(*round) + "-export.zip"
	}
	cfg := Config{Data: *data, S3Bucket: getenv("CAMPAIGN_S3_BUCKET"), S3Endpoint: getenv("CAMPAIGN_S3_ENDPOINT"), S3Region: getenv("CAMPAIGN_S3_REGION")}
	db, err := openStore(ctx, getenv("CAMPAIGN_MONGODB_URI"), *data)
	if err != nil {
		return err
	}
	defer db.Close()
	mcfg, s3, err := mediaConfig(cfg)
	if err != nil {
		return err
	}
	if s3 != nil {
		defer s3.Close()
	}
	mediaStore, err := media.New(ctx, mcfg)
	if err != nil {
		return err
	}
	opt := export.Options{Campaign: *campaign, Round: *round, Statuses: strings.Split(*statuses, ","),
		WithoutConsent: *withoutConsent, Addresses: *phones, Progress: stderr}
	if *out == "-" {
		_, err := export.Write(ctx, stdout, db, mediaStore, opt)
		return plainExportError(err)
	}
	// Written beside the target and renamed at the end: an export that failed leaves no
	// half a ZIP under the name the brand expects.
	tmp, err := os.CreateTemp(filepath.Dir(*out), filepath.Base(*out)+".*.partial")
	if err != nil {
		return fmt.Errorf("create %s: %w", *out, err)
	}
	defer os.Remove(tmp.Name())
	sum, err := export.Write(ctx, tmp, db, mediaStore, opt)
	if err != nil {
		tmp.Close()
		return plainExportError(err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	fmt.Fprintf(stdout, "wrote %s: %d files and %s\n", *out, sum.Files, export.ManifestName)
	if n := sum.LeftOut[export.LeftNoConsent]; n > 0 && !*withoutConsent {
		fmt.Fprintf(stderr, "%d approved entries left out: their participant did not agree to the consent question (--without-consent includes them, marked in the manifest)\n", n)
	}
	return nil
}

func roundPart(round string) string {
	if round == "" {
		return ""
	}
	return "-" + round
}

// plainExportError says what the brand can do about an export that did not start.
func plainExportError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errs.ErrNotFound):
		return fmt.Errorf("%w (is --data the folder `campaign serve` uses?)", err)
	}
	return err
}
