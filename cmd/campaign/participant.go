package main

import (
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"github.com/chatcampaigns/campaign/audit"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/media"
	"github.com/chatcampaigns/campaign/media/s3server"
	"github.com/chatcampaigns/campaign/privacy"
)

const participantUsage = `usage: campaign participant export ID [--data ./data] > participant.zip
       campaign participant export --campaign ID --channel whatsapp|webchat|... --address ADDRESS [--data ./data] > participant.zip
       campaign participant erase ID --yes [--data ./data]
       campaign participant erase --campaign ID --channel CHANNEL --address ADDRESS --yes [--data ./data]
       campaign participant consent --campaign ID [--data ./data] > consent.csv
       campaign participant purge --campaign ID --yes [--data ./data]   (a closed campaign: every participant and file)`

// participantCmd answers a participant's data request: a ZIP of everything stored about them,
// or their erasure. It works on the server's store (the embedded one in --data, or MongoDB
// with CAMPAIGN_MONGODB_URI) and media (the embedded S3 in --data, or CAMPAIGN_S3_BUCKET).
func participantCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, participantUsage)
		return errUsage
	}
	sub := args[0]
	switch sub {
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, participantUsage)
		return nil
	case "export", "erase", "consent", "purge":
	default:
		fmt.Fprintf(stderr, "campaign participant: unknown command %q\n%s\n", sub, participantUsage)
		return errUsage
	}
	fs := flag.NewFlagSet("participant "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "./data", "data folder of the server")
	camp := fs.String("campaign", "", "campaign id, with --channel and --address")
	channel, address := new(string), new(string)
	if sub == "export" || sub == "erase" {
		fs.StringVar(channel, "channel", "", "channel the participant writes on, with --address")
		fs.StringVar(address, "address", "", "the participant's address on the channel (a phone number as +31612345678 for WhatsApp)")
	}
	yes := false
	if sub == "erase" || sub == "purge" {
		fs.BoolVar(&yes, "yes", false, "really erase: nothing erased can be brought back")
	}
	// The id may come before or after the flags.
	var id string
	rest := args[1:]
	if len(rest) > 0 && len(rest[0]) > 0 && rest[0][0] != '-' {
		id, rest = rest[0], rest[1:]
	}
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	if id == "" && fs.NArg() == 1 {
		id = fs.Arg(0)
	}
	switch {
	case sub == "consent" || sub == "purge":
		if *camp == "" {
			fmt.Fprintf(stderr, "campaign participant %s: --campaign is required\n%s\n", sub, participantUsage)
			return errUsage
		}
		if sub == "purge" && !yes {
			return fmt.Errorf("purging %s deletes every participant, conversation, entry, score and file of it for good; run again with --yes to do it", *camp)
		}
	case id == "" && *address != "":
		if *camp == "" || *channel == "" {
			fmt.Fprintf(stderr, "campaign participant %s: --address needs --campaign and --channel\n%s\n", sub, participantUsage)
			return errUsage
		}
		id = engine.ParticipantID(*camp, *channel, addressAs(*channel, *address))
	case id == "":
		fmt.Fprintf(stderr, "campaign participant %s: give the participant's id (shown on their dashboard page) or --campaign, --channel and --address\n%s\n", sub, participantUsage)
		return errUsage
	}
	if sub == "erase" && !yes {
		return fmt.Errorf("erasing %s deletes their conversation, entries, scores and media for good; run again with --yes to do it", id)
	}

	mongoURI := getenv("CAMPAIGN_MONGODB_URI")
	if mongoURI == "" && (sub == "erase" || sub == "purge") {
		instead := "erase them on their page in the dashboard (Erase participant)"
		if sub == "purge" {
			instead = "purge it on the campaign's page in the dashboard (Purge data)"
		}
		lock, err := lockForWrite(*data, "campaign participant "+sub, instead)
		if err != nil {
			return err
		}
		defer lock.Close()
	}
	db, err := openStore(ctx, mongoURI, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	ms, closeMedia, err := openMedia(ctx, *data, getenv)
	if err != nil {
		return err
	}
	defer closeMedia()
	svc := privacyService(db, ms, rankingsOf(ctx, db), time.Now, slog.New(slog.NewTextHandler(stderr, nil)))

	switch sub {
	case "consent":
		return consentCSV(ctx, db, *camp, stdout)
	case "purge":
		var n int
		n, err = svc.Purge(ctx, *camp, "cli")
		if err == nil {
			fmt.Fprintf(stdout, "campaign %s purged: %d participants and their media deleted\n", *camp, n)
		}
	case "export":
		err = svc.Export(ctx, id, stdout)
	case "erase":
		var rec privacy.Record
		rec, err = svc.Erase(ctx, id, "cli")
		if err == nil {
			fmt.Fprintf(stdout, "participant %s of %s erased: %d transcript lines, %d entries, %d media objects; rankings show them as %q (%s)\n",
				id, rec.Campaign, rec.Lines, rec.Entries, rec.Objects, engine.ErasedName, rec.Tombstone)
		}
	}
	if errors.Is(err, errs.ErrNotFound) && id != "" {
		return fmt.Errorf("no participant %s in this store (check --data, CAMPAIGN_MONGODB_URI, and the address as the channel writes it)", id)
	}
	return err
}

// openMedia opens the media store as campaign serve does: the bucket in CAMPAIGN_S3_BUCKET,
// or the embedded S3 server's files in the data folder.
func openMedia(ctx context.Context, data string, getenv func(string) string) (*media.Store, func(), error) {
	cfg := media.Config{Bucket: getenv("CAMPAIGN_S3_BUCKET"), Endpoint: getenv("CAMPAIGN_S3_ENDPOINT"), Region: getenv("CAMPAIGN_S3_REGION")}
	closeFn := func() {}
	if cfg.Bucket == "" {
		srv, err := s3server.Start(filepath.Join(data, "s3"))
		if err != nil {
			return nil, nil, fmt.Errorf("open the embedded S3 files: %w", err)
		}
		closeFn = func() { srv.Close() }
		cfg = media.Config{Bucket: embeddedBucket, Endpoint: srv.URL, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, CreateBucket: true}
	}
	ms, err := media.New(ctx, cfg)
	if err != nil {
		closeFn()
		return nil, nil, err
	}
	return ms, closeFn, nil
}

// rankingsOf reads each stored campaign's ranking from its latest definition.
func rankingsOf(ctx context.Context, db store) func(string) *campaigns.Ranking {
	return func(id string) *campaigns.Ranking {
		recs, err := db.Campaigns(ctx)
		if err != nil {
			return nil
		}
		var rk *campaigns.Ranking
		for _, r := range recs {
			if r.ID != id {
				continue
			}
			if def, probs := campaigns.Parse(r.File, r.Source); len(probs) == 0 && def != nil {
				rk = def.Ranking // the last is the latest
			}
		}
		return rk
	}
}

// privacyService wires export and erase to a store and media; erasures are recorded in log.
func privacyService(db store, ms *media.Store, ranking func(string) *campaigns.Ranking, now func() time.Time, log *slog.Logger) *privacy.Service {
	return &privacy.Service{Store: db, Scores: db, Media: ms, Ranking: ranking, Now: now,
		NewID: newTombstoneID, Audit: logAudit{log: log, trail: &audit.Log{Store: db, Now: now}}, Lister: db, Closed: closedIn(db)}
}

func newTombstoneID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return "erased-" + hex.EncodeToString(b)
}

// logAudit records erasures in the audit trail and the log: the record names no person, only
// the tombstone left in the rankings.
type logAudit struct {
	log   *slog.Logger
	trail audit.Recorder
}

func (a logAudit) Erased(ctx context.Context, r privacy.Record) error {
	a.log.Info("participant erased", "campaign", r.Campaign, "tombstone", r.Tombstone, "by", r.By,
		"at", r.At, "lines", r.Lines, "entries", r.Entries, "media_objects", r.Objects)
	by := r.By
	if by == "" {
		by = audit.ActorSystem // the retention job
	}
	return audit.Record(ctx, a.trail, audit.Event{At: r.At, Actor: by, Action: audit.Erase, Campaign: r.Campaign,
		Subject: r.Tombstone, Detail: fmt.Sprintf("%d transcript lines, %d entries, %d media objects", r.Lines, r.Entries, r.Objects)})
}

// addressAs writes an address as the channel stores it: WhatsApp ids are the number's digits,
// so "+31 6 1234 5678" finds the participant 31612345678.
func addressAs(channel, address string) string {
	if channel != "whatsapp" {
		return address
	}
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, address)
}

// closedIn tells from the stored campaigns whether one is closed.
func closedIn(db store) privacy.Closed {
	return func(ctx context.Context, campaign string) (bool, error) {
		recs, err := db.Campaigns(ctx)
		if err != nil {
			return false, err
		}
		status := ""
		for _, r := range recs {
			if r.ID == campaign {
				status = r.Status
			}
		}
		if status == "" {
			return false, fmt.Errorf("no campaign %q is stored: %w", campaign, errs.ErrNotFound)
		}
		return status == engine.StatusClosed, nil
	}
}

// consentCSV writes the consent ledger of a campaign: one row per participant who was asked,
// with what they answered, how, on which channel, to which text version and when.
func consentCSV(ctx context.Context, db store, campaign string, w io.Writer) error {
	ps, err := db.Participants(ctx, engine.ParticipantFilter{Campaign: campaign})
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Write([]string{"participant", "channel", "answer", "by", "consent_channel", "text_version", "at"})
	for _, p := range ps {
		c := engine.ConsentOf(p)
		if c.Answer == "" {
			continue
		}
		at := ""
		if !c.At.IsZero() {
			at = c.At.UTC().Format(time.RFC3339)
		}
		cw.Write([]string{p.ID, p.Channel, c.Answer, c.By, c.Channel, c.Version, at})
	}
	cw.Flush()
	return cw.Error()
}
