// Package export owns the content export for a brand's social pages: the approved media of a
// campaign, or of one of its rounds, with the consent each participant gave, written as a ZIP
// with a CSV manifest. The media are streamed from the media store into the ZIP one at a time,
// never held whole in memory. It reads through the judge's and the engine's read interfaces
// and knows no database or S3.
package export

import (
	"archive/zip"
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/csvcell"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/judge"
)

// Source is what the export reads: stored definitions (engine.Store), entries and
// participants (judge.Store). Both stores provide it.
type Source interface {
	Campaigns(ctx context.Context) ([]engine.CampaignRecord, error)
	Entries(ctx context.Context, f judge.Filter) ([]judge.Entry, error)
	Participant(ctx context.Context, id string) (engine.Participant, error)
}

// Media streams stored media; *media.Store satisfies it. A missing object wraps
// errs.ErrNotFound.
type Media interface {
	Open(ctx context.Context, key string) (body io.ReadCloser, contentType string, err error)
}

// DefaultStatuses are the entry statuses exported unless Options.Statuses says otherwise:
// every verdict that keeps an entry (a moderator approved it, or the jury took it further).
var DefaultStatuses = []string{campaigns.VerdictApproved, campaigns.VerdictShortlisted, campaigns.VerdictAdvanced, campaigns.VerdictWinner}

// ManifestName is the CSV manifest's name in the ZIP.
const ManifestName = "manifest.csv"

// Options say what to export.
type Options struct {
	Campaign string
	// Round, when set, exports only that round's entries (judge.InRound).
	Round string
	// Statuses are the entry statuses exported (default DefaultStatuses).
	Statuses []string
	// WithoutConsent exports the entries of participants who did not agree too; by default
	// only those whose participant answered yes to the consent question are.
	WithoutConsent bool
	// Addresses adds each participant's address (a phone number on WhatsApp) to the
	// manifest. Off by default: the brand must ask.
	Addresses bool
	// Progress, when set, gets a line per file and a summary.
	Progress io.Writer
}

// Summary says what an export wrote and what it left out.
type Summary struct {
	Files int
	Bytes int64
	// LeftOut counts the entries not exported, by reason.
	LeftOut map[string]int
}

// Reasons an entry is left out (Summary.LeftOut).
const (
	LeftNoConsent = "no consent"
	LeftMissing   = "media missing from storage"
	LeftNoMedia   = "no media"
)

// row is one exported entry, as the manifest lists it.
type row struct {
	entry       judge.Entry
	participant string
	address     string
	round       string
	file        string
	consent     engine.Consent
}

// Write writes the export as a ZIP to w: the media files under ROUND/ (or STATE/ for entries of
// no round), named after the entry and the participant, then manifest.csv listing each. An
// unknown campaign or round is errs.ErrNotFound or errs.ErrInvalid; a media object missing
// from storage is left out (and counted), anything else stops the export.
func Write(ctx context.Context, w io.Writer, src Source, media Media, opt Options) (Summary, error) {
	sum := Summary{LeftOut: map[string]int{}}
	def, err := definition(ctx, src, opt.Campaign)
	if err != nil {
		return sum, err
	}
	rows, err := collect(ctx, src, def, opt, sum.LeftOut)
	if err != nil {
		return sum, err
	}
	progress := opt.Progress
	if progress == nil {
		progress = io.Discard
	}
	fmt.Fprintf(progress, "exporting %d entries of %s%s\n", len(rows), opt.Campaign, roundSuffix(opt.Round))
	zw := zip.NewWriter(w)
	var kept []row
	for i, r := range rows {
		n, err := copyMedia(ctx, zw, media, r)
		if errors.Is(err, errs.ErrNotFound) {
			sum.LeftOut[LeftMissing]++
			fmt.Fprintf(progress, "[%d/%d] %s: left out, %v\n", i+1, len(rows), r.file, err)
			continue
		}
		if err != nil {
			return sum, err
		}
		sum.Files++
		sum.Bytes += n
		kept = append(kept, r)
		fmt.Fprintf(progress, "[%d/%d] %s %s\n", i+1, len(rows), r.file, size(n))
	}
	if err := writeManifest(zw, kept, opt.Addresses); err != nil {
		return sum, err
	}
	if err := zw.Close(); err != nil {
		return sum, fmt.Errorf("export: finish the zip: %w", err)
	}
	fmt.Fprintf(progress, "done: %d files, %s", sum.Files, size(sum.Bytes))
	for _, reason := range slices.Sorted(maps.Keys(sum.LeftOut)) {
		fmt.Fprintf(progress, "; %d left out (%s)", sum.LeftOut[reason], reason)
	}
	fmt.Fprintln(progress)
	return sum, nil
}

func roundSuffix(round string) string {
	if round == "" {
		return ""
	}
	return ", round " + round
}

// definition is the campaign's latest stored definition, anchored at its launch so that its
// rounds have dates.
func definition(ctx context.Context, src Source, id string) (*campaigns.Definition, error) {
	recs, err := src.Campaigns(ctx)
	if err != nil {
		return nil, fmt.Errorf("export: campaigns: %w", err)
	}
	var latest *engine.CampaignRecord
	var launched time.Time
	var known []string
	for i := range recs {
		r := &recs[i]
		if !slices.Contains(known, r.ID) {
			known = append(known, r.ID)
		}
		if r.ID != id {
			continue
		}
		latest = r // the last of a campaign's records is its latest version
		if at := cmp.Or(r.Launched, r.At); launched.IsZero() || at.Before(launched) {
			launched = at
		}
	}
	if latest == nil {
		return nil, fmt.Errorf("export: campaign %q: %w (stored: %s)", id, errs.ErrNotFound, strings.Join(known, ", "))
	}
	def, probs := campaigns.Parse(latest.File, latest.Source)
	if def == nil {
		return nil, fmt.Errorf("export: campaign %s does not compile: %s: %w", id, probs.Error(), errs.ErrInvalid)
	}
	return def.Anchor(launched), nil
}

// collect lists the entries to export, oldest first, with their participants' names and
// consent; what it leaves out is counted in left.
func collect(ctx context.Context, src Source, def *campaigns.Definition, opt Options, left map[string]int) ([]row, error) {
	statuses := opt.Statuses
	if len(statuses) == 0 {
		statuses = DefaultStatuses
	}
	rounds := map[string]func(judge.Entry) bool{}
	for _, r := range def.Rounds {
		if in, err := judge.InRound(def, r.Name); err == nil {
			rounds[r.Name] = in
		}
	}
	if opt.Round != "" {
		in, err := judge.InRound(def, opt.Round)
		if err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
		rounds = map[string]func(judge.Entry) bool{opt.Round: in}
	}
	entries, err := src.Entries(ctx, judge.Filter{Campaign: def.ID})
	if err != nil {
		return nil, fmt.Errorf("export: entries of %s: %w", def.ID, err)
	}
	slices.SortStableFunc(entries, func(a, b judge.Entry) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	people := map[string]engine.Participant{}
	var rows []row
	for _, e := range entries {
		if !slices.Contains(statuses, e.Status) {
			continue
		}
		round := roundOf(def, rounds, e)
		if opt.Round != "" && round == "" {
			continue
		}
		if e.MediaKey == "" {
			left[LeftNoMedia]++
			continue
		}
		p, ok := people[e.ParticipantID]
		if !ok {
			if p, err = src.Participant(ctx, e.ParticipantID); err != nil && !errors.Is(err, errs.ErrNotFound) {
				return nil, fmt.Errorf("export: participant of entry %s: %w", e.ID, err)
			}
			people[e.ParticipantID] = p // an erased participant is a zero one: no consent
		}
		c := engine.ConsentOf(p)
		if c.Answer != "yes" && !opt.WithoutConsent {
			left[LeftNoConsent]++
			continue
		}
		name := DisplayName(p, e.ParticipantID)
		folder := slug(cmp.Or(round, e.State, "entries"))
		rows = append(rows, row{entry: e, participant: name, address: p.Address, round: round, consent: c,
			file: folder + "/" + slug(e.ID) + "-" + slug(name) + ext(e.MediaKey)})
	}
	return rows, nil
}

// roundOf is the round (in def's order) an entry belongs to, or "".
func roundOf(def *campaigns.Definition, rounds map[string]func(judge.Entry) bool, e judge.Entry) string {
	for _, r := range def.Rounds {
		if in := rounds[r.Name]; in != nil && in(e) {
			return r.Name
		}
	}
	return ""
}

// phoneLike is a name that is a phone number (a WhatsApp profile without a name shows one).
var phoneLike = regexp.MustCompile(`^[+()\d\s.-]{6,}$`)

// DisplayName is how the export names a participant: their team's name, else their name
// (as the channel gave it, else as they gave it: first_name),
// else "participant" and the start of their id. Never a phone number: a name that looks like
// one is replaced as well.
func DisplayName(p engine.Participant, id string) string {
	for _, n := range []string{p.Vars["team"], p.Vars["name"], p.Vars["first_name"]} {
		if n = strings.TrimSpace(n); n != "" && !phoneLike.MatchString(n) {
			return n
		}
	}
	return "participant " + id[:min(8, len(id))]
}

var unsafe = regexp.MustCompile(`[^\p{L}\p{N}_]+`)

// slug makes a name safe as part of a file name in any unzip tool: letters, digits and _, runs of
// anything else a dash, at most 40 characters.
func slug(s string) string {
	s = strings.Trim(unsafe.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if r := []rune(s); len(r) > 40 {
		s = strings.TrimRight(string(r[:40]), "-")
	}
	return cmp.Or(s, "x")
}

func ext(key string) string {
	e := path.Ext(key)
	if e == "" || len(e) > 6 {
		return ""
	}
	return strings.ToLower(e)
}

// copyMedia streams one entry's media into the zip, stored as it is (photos and videos are
// compressed already), and returns how many bytes it copied.
func copyMedia(ctx context.Context, zw *zip.Writer, media Media, r row) (int64, error) {
	body, _, err := media.Open(ctx, r.entry.MediaKey)
	if err != nil {
		return 0, fmt.Errorf("export: media of entry %s: %w", r.entry.ID, err)
	}
	defer body.Close()
	f, err := zw.CreateHeader(&zip.FileHeader{Name: r.file, Method: zip.Store, Modified: r.entry.CreatedAt})
	if err != nil {
		return 0, fmt.Errorf("export: %s: %w", r.file, err)
	}
	n, err := io.Copy(f, body)
	if err != nil {
		return n, fmt.Errorf("export: copy media of entry %s: %w", r.entry.ID, err)
	}
	return n, nil
}

// manifestHeader are the manifest's columns (address only when asked).
var manifestHeader = []string{"participant", "entry_id", "round", "status", "file", "content_type", "consent", "consent_at", "consent_version"}

func writeManifest(zw *zip.Writer, rows []row, addresses bool) error {
	f, err := zw.CreateHeader(&zip.FileHeader{Name: ManifestName, Method: zip.Deflate, Modified: time.Unix(0, 0).UTC()})
	if err != nil {
		return fmt.Errorf("export: manifest: %w", err)
	}
	cw := csv.NewWriter(f)
	header := manifestHeader
	if addresses {
		header = append(slices.Clone(header), "address")
	}
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("export: manifest: %w", err)
	}
	for _, r := range rows {
		consent, at := cmp.Or(r.consent.Answer, "none"), ""
		if !r.consent.At.IsZero() {
			at = r.consent.At.UTC().Format(time.RFC3339)
		}
		rec := []string{csvcell.Safe(r.participant), r.entry.ID, r.round, r.entry.Status, r.file, r.entry.MIME, consent, at, csvcell.Safe(r.consent.Version)}
		if addresses {
			rec = append(rec, r.address) // a phone number or platform id, never a formula
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("export: manifest: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("export: manifest: %w", err)
	}
	return nil
}

func size(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
