// Package privacy owns what a participant can ask of the data kept about them: a copy of all
// of it (Export, a ZIP) and its erasure (Erase), leaving a tombstone so rankings already
// published keep their places and show "removed", and a record of the erasure that names
// nobody. It knows the stores and the media only through the small interfaces below.
package privacy

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/judge"
)

// Store is what Export and Erase need of the database; both stores implement it.
type Store interface {
	Participant(ctx context.Context, id string) (engine.Participant, error)
	Transcript(ctx context.Context, participantID string) ([]engine.Line, error)
	Entries(ctx context.Context, f judge.Filter) ([]judge.Entry, error)
	EraseParticipant(ctx context.Context, id string, tombstone *engine.Participant) error
}

// Scores reads the rubric scores given to an entry.
type Scores interface {
	Scorecards(ctx context.Context, campaign, entryID string) ([]judge.Scorecard, error)
}

// Media is the media store: *media.Store implements it.
type Media interface {
	Keys(ctx context.Context, campaign, participant string) ([]string, error)
	CampaignKeys(ctx context.Context, campaign string) ([]string, error)
	Open(ctx context.Context, key string) (io.ReadCloser, string, error)
	Delete(ctx context.Context, keys []string) (int, error)
}

// Auditor keeps the record of an erasure; the audit trail, or a log.
type Auditor interface {
	Erased(ctx context.Context, r Record) error
}

// Record is what is kept of an erasure: which campaign, the tombstone left in the rankings,
// who asked and when, and how much went. Nothing in it leads back to the person.
type Record struct {
	Campaign  string
	Tombstone string
	By        string
	At        time.Time
	Entries   int
	Lines     int
	Objects   int
}

// Service exports and erases participants.
type Service struct {
	Store  Store
	Scores Scores // nil: exports carry no scores
	Media  Media
	// Ranking returns the ranking of a campaign (nil when it has none); a tombstone keeps the
	// variables it reads.
	Ranking func(campaign string) *campaigns.Ranking
	// NewID makes a tombstone's id: random, so it cannot be recomputed from an address.
	NewID func() string
	Now   func() time.Time
	Audit Auditor // nil: no record beyond the tombstone
	// Lister and Closed are what Purge needs: the campaign's participants, and whether it is
	// closed.
	Lister Lister
	Closed Closed
}

// maxEntries bounds the entries read per campaign to find one participant's.
const maxEntries = 1 << 20

// entriesOf returns the participant's entries (newest first).
func (s *Service) entriesOf(ctx context.Context, p engine.Participant) ([]judge.Entry, error) {
	all, err := s.Store.Entries(ctx, judge.Filter{Campaign: p.Campaign, Limit: maxEntries})
	if err != nil {
		return nil, fmt.Errorf("privacy: entries of %s: %w", p.ID, err)
	}
	var mine []judge.Entry
	for _, e := range all {
		if e.ParticipantID == p.ID {
			mine = append(mine, e)
		}
	}
	return mine, nil
}

// exported is participant.json in an export.
type exported struct {
	ID        string            `json:"id"`
	Campaign  string            `json:"campaign"`
	Channel   string            `json:"channel"`
	Address   string            `json:"address"`
	State     string            `json:"state"`
	Finished  bool              `json:"finished"`
	Variables map[string]string `json:"variables"`
	Consent   consent           `json:"consent"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
}

type consent struct {
	Answer  string    `json:"answer,omitempty"`
	By      string    `json:"by,omitempty"`
	Channel string    `json:"channel,omitempty"`
	Version string    `json:"text_version,omitempty"`
	At      time.Time `json:"at,omitzero"`
}

type exportedEntry struct {
	judge.Entry
	File   string            `json:"file,omitempty"`
	Scores []judge.Scorecard `json:"scores,omitempty"`
}

// Export writes a ZIP of everything stored about participant id: participant.json (who,
// where, state, variables, consent), transcript.json, entries.json (with verdicts and
// scores) and every media object under media/. It fails with an error wrapping
// errs.ErrNotFound for an unknown participant.
func (s *Service) Export(ctx context.Context, id string, w io.Writer) error {
	p, err := s.Store.Participant(ctx, id)
	if err != nil {
		return fmt.Errorf("privacy: export %s: %w", id, err)
	}
	lines, err := s.Store.Transcript(ctx, id)
	if err != nil {
		return fmt.Errorf("privacy: transcript of %s: %w", id, err)
	}
	entries, err := s.entriesOf(ctx, p)
	if err != nil {
		return err
	}
	c := engine.ConsentOf(p)
	zw := zip.NewWriter(w)
	if err := writeJSON(zw, "participant.json", exported{ID: p.ID, Campaign: p.Campaign, Channel: p.Channel,
		Address: p.Address, State: p.State, Finished: p.Finished, Variables: p.Vars,
		Consent:   consent{Answer: c.Answer, By: c.By, Channel: c.Channel, Version: c.Version, At: c.At},
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}); err != nil {
		return err
	}
	if lines == nil {
		lines = []engine.Line{}
	}
	if err := writeJSON(zw, "transcript.json", lines); err != nil {
		return err
	}
	out := make([]exportedEntry, 0, len(entries))
	for _, e := range entries {
		x := exportedEntry{Entry: e}
		if e.MediaKey != "" {
			x.File = "media/" + path.Base(e.MediaKey)
		}
		if s.Scores != nil {
			if x.Scores, err = s.Scores.Scorecards(ctx, p.Campaign, e.ID); err != nil {
				return fmt.Errorf("privacy: scores of %s: %w", e.ID, err)
			}
		}
		out = append(out, x)
	}
	if err := writeJSON(zw, "entries.json", out); err != nil {
		return err
	}
	keys, err := s.Media.Keys(ctx, p.Campaign, p.ID)
	if err != nil {
		return fmt.Errorf("privacy: media of %s: %w", id, err)
	}
	for _, key := range keys {
		if err := copyObject(ctx, zw, s.Media, key); err != nil {
			return err
		}
	}
	return zw.Close()
}

func writeJSON(zw *zip.Writer, name string, v any) error {
	f, err := zw.Create(name)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func copyObject(ctx context.Context, zw *zip.Writer, m Media, key string) error {
	body, _, err := m.Open(ctx, key)
	if err != nil {
		return fmt.Errorf("privacy: open %s: %w", key, err)
	}
	defer body.Close()
	// Photos and recordings are compressed already.
	f, err := zw.CreateHeader(&zip.FileHeader{Name: "media/" + path.Base(key), Method: zip.Store})
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, body); err != nil {
		return fmt.Errorf("privacy: copy %s: %w", key, err)
	}
	return nil
}

// Erase deletes participant id and everything stored of them (rows, transcript, entries,
// scores, media objects) and leaves a tombstone under a new id holding only what the
// campaign's ranking reads, named "removed". by says who asked (a dashboard user, "cli").
// The media goes first: a failure part way leaves the participant findable, so the erase can
// be run again. It fails with an error wrapping errs.ErrNotFound for an unknown participant;
// a tombstone cannot be erased again.
func (s *Service) Erase(ctx context.Context, id, by string) (Record, error) {
	p, err := s.Store.Participant(ctx, id)
	if err != nil {
		return Record{}, fmt.Errorf("privacy: erase %s: %w", id, err)
	}
	if engine.IsTombstone(p) {
		return Record{}, fmt.Errorf("privacy: %s is what is left of an erased participant: %w", id, errNotPerson)
	}
	lines, err := s.Store.Transcript(ctx, id)
	if err != nil {
		return Record{}, fmt.Errorf("privacy: transcript of %s: %w", id, err)
	}
	entries, err := s.entriesOf(ctx, p)
	if err != nil {
		return Record{}, err
	}
	keys, err := s.Media.Keys(ctx, p.Campaign, p.ID)
	if err != nil {
		return Record{}, fmt.Errorf("privacy: media of %s: %w", id, err)
	}
	n, err := s.Media.Delete(ctx, keys)
	if err != nil {
		return Record{}, fmt.Errorf("privacy: erase media of %s (%d of %d deleted): %w", id, n, len(keys), err)
	}
	now := s.Now().UTC()
	var rk *campaigns.Ranking
	if s.Ranking != nil {
		rk = s.Ranking(p.Campaign)
	}
	tomb := engine.Tombstone(rk, p, s.NewID(), now)
	if err := s.Store.EraseParticipant(ctx, id, &tomb); err != nil {
		return Record{}, fmt.Errorf("privacy: erase %s: %w", id, err)
	}
	rec := Record{Campaign: p.Campaign, Tombstone: tomb.ID, By: by, At: now, Entries: len(entries), Lines: len(lines), Objects: n}
	if s.Audit != nil {
		if err := s.Audit.Erased(ctx, rec); err != nil {
			return rec, fmt.Errorf("privacy: %s erased, but the audit record failed: %w", id, err)
		}
	}
	return rec, nil
}

// Closed tells whether a campaign is closed; Purge refuses any other.
type Closed func(ctx context.Context, campaign string) (bool, error)

// Purge deletes every participant of a closed campaign, tombstones included, and every media
// object under the campaign's folder: what is left is the definition. It returns how many
// participants went. It refuses a campaign that is not closed with errs.ErrConflict, since
// its participants may still be playing.
func (s *Service) Purge(ctx context.Context, campaign, by string) (int, error) {
	ok, err := s.Closed(ctx, campaign)
	if err != nil {
		return 0, fmt.Errorf("privacy: purge %s: %w", campaign, err)
	}
	if !ok {
		return 0, fmt.Errorf("privacy: purge %s: %w", campaign, errNotClosed)
	}
	ps, err := s.Lister.Participants(ctx, engine.ParticipantFilter{Campaign: campaign})
	if err != nil {
		return 0, fmt.Errorf("privacy: purge %s: %w", campaign, err)
	}
	for i, p := range ps {
		if err := s.Store.EraseParticipant(ctx, p.ID, nil); err != nil {
			return i, fmt.Errorf("privacy: purge %s: %w", campaign, err)
		}
	}
	keys, err := s.Media.CampaignKeys(ctx, campaign)
	if err != nil {
		return len(ps), fmt.Errorf("privacy: purge media of %s: %w", campaign, err)
	}
	n, err := s.Media.Delete(ctx, keys)
	if err != nil {
		return len(ps), fmt.Errorf("privacy: purge media of %s: %w", campaign, err)
	}
	if s.Audit != nil {
		if err := s.Audit.Erased(ctx, Record{Campaign: campaign, By: by, At: s.Now().UTC(), Objects: n}); err != nil {
			return len(ps), err
		}
	}
	return len(ps), nil
}
