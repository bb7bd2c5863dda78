package draw

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/chatcampaigns/campaign/audit"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/judge"
)

// Record is a draw as the store keeps it. Seed stays secret until the draw closes: only
// Publication, of a closed draw, reveals it.
type Record struct {
	Campaign string
	Name     string
	// Status is the entry status that made a participant eligible (approved by default).
	Status    string
	Algorithm string
	Winners   int
	// Eligible is the canonical eligible list, frozen at the commitment.
	Eligible       []string
	EligibleSHA256 string
	Seed           []byte
	SeedSHA256     string
	CommittedBy    string
	CommittedAt    time.Time
	// ClosedBy, ClosedAt and Drawn are set when the draw closed; Drawn holds the winners in
	// the order they were drawn.
	ClosedBy string
	ClosedAt time.Time
	Drawn    []string
}

// Closed reports whether the draw was made.
func (r Record) Closed() bool { return !r.ClosedAt.IsZero() }

// Publication is what may be published about r: the commitment, and the seed and winners
// once it closed.
func (r Record) Publication() Publication {
	p := Publication{
		Campaign: r.Campaign, Draw: r.Name, Algorithm: r.Algorithm, Winners: r.Winners,
		EligibleSHA256: r.EligibleSHA256, SeedSHA256: r.SeedSHA256, CommittedAt: r.CommittedAt.UTC(),
		Eligible: r.Eligible,
	}
	if p.Eligible == nil {
		p.Eligible = []string{}
	}
	if r.Closed() {
		at := r.ClosedAt.UTC()
		p.Seed, p.Drawn, p.ClosedAt = hex.EncodeToString(r.Seed), r.Drawn, &at
	}
	return p
}

// Store keeps draws.
type Store interface {
	// CreateDraw stores a new, open draw; errs.ErrConflict when the campaign has a draw of
	// that name already (which is left as it was).
	CreateDraw(ctx context.Context, r Record) error
	// Draw returns one draw, or an error wrapping errs.ErrNotFound.
	Draw(ctx context.Context, campaign, name string) (Record, error)
	// Draws lists a campaign's draws, oldest commitment first.
	Draws(ctx context.Context, campaign string) ([]Record, error)
	// CloseDraw records the winners of an open draw; errs.ErrConflict when it closed before
	// (and keeps the first winners), errs.ErrNotFound when there is no such draw.
	CloseDraw(ctx context.Context, campaign, name string, drawn []string, by string, at time.Time) error
}

// Entries is where the eligible participants come from; judge.Store satisfies it.
type Entries interface {
	Entries(ctx context.Context, f judge.Filter) ([]judge.Entry, error)
}

// Service commits to and closes draws.
type Service struct {
	Store   Store
	Entries Entries
	// Audit records every commitment and closing.
	Audit audit.Recorder
	// Rand gives the seeds; crypto/rand when nil.
	Rand io.Reader
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// namePattern is what a draw may be called: it appears in URLs and file names.
var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// Commit starts a draw of n winners among the participants with an entry of the given status
// (approved when empty) in the campaign, now: the eligible list is frozen, a secret seed is
// made, and the commitment recorded. Entries decided afterwards do not change the draw.
func (s *Service) Commit(ctx context.Context, campaign, name, status string, n int, by string) (Record, error) {
	if !namePattern.MatchString(name) {
		return Record{}, fmt.Errorf("draw: commit: %w: name %q: use lowercase letters, digits, - and _ (up to 64)", errs.ErrInvalid, name)
	}
	if n < 1 {
		return Record{}, fmt.Errorf("draw: commit %s: %w: a draw picks at least one winner", name, errs.ErrInvalid)
	}
	if status == "" {
		status = judge.StatusApproved
	}
	es, err := s.Entries.Entries(ctx, judge.Filter{Campaign: campaign, Status: status})
	if err != nil {
		return Record{}, fmt.Errorf("draw: commit %s: eligible entries: %w", name, err)
	}
	ids := make([]string, 0, len(es))
	for _, e := range es {
		ids = append(ids, e.ParticipantID)
	}
	list, err := Canonical(ids)
	if err != nil {
		return Record{}, fmt.Errorf("draw: commit %s: %w", name, err)
	}
	if len(list) == 0 {
		return Record{}, fmt.Errorf("draw: commit %s: %w: no participant in %s has an entry with status %s", name, errs.ErrConflict, campaign, status)
	}
	seed := make([]byte, SeedSize)
	rnd := s.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	if _, err := io.ReadFull(rnd, seed); err != nil {
		return Record{}, fmt.Errorf("draw: commit %s: seed: %w", name, err)
	}
	r := Record{
		Campaign: campaign, Name: name, Status: status, Algorithm: AlgorithmV1, Winners: n,
		Eligible: list, EligibleSHA256: ListHash(list), Seed: seed, SeedSHA256: SeedHash(seed),
		CommittedBy: by, CommittedAt: s.now(),
	}
	if err := s.Store.CreateDraw(ctx, r); err != nil {
		return Record{}, fmt.Errorf("draw: commit %s: %w", name, err)
	}
	err = audit.Record(ctx, s.Audit, audit.Event{
		At: r.CommittedAt, Actor: by, Action: audit.DrawCommit, Campaign: campaign, Subject: name,
		Detail: fmt.Sprintf("%d winners among %d participants (%s entries); %s; eligible_sha256 %s; seed_sha256 %s",
			n, len(list), status, AlgorithmV1, r.EligibleSHA256, r.SeedSHA256),
	})
	if err != nil {
		return r, fmt.Errorf("draw: commit %s: %w", name, err)
	}
	return r, nil
}

// Close reveals the seed of an open draw and draws its winners. A draw closes once:
// errs.ErrConflict the second time.
func (s *Service) Close(ctx context.Context, campaign, name, by string) (Record, error) {
	r, err := s.Store.Draw(ctx, campaign, name)
	if err != nil {
		return Record{}, fmt.Errorf("draw: close %s: %w", name, err)
	}
	if r.Closed() {
		return r, fmt.Errorf("draw: close %s: %w: closed already by %s", name, errs.ErrConflict, r.ClosedBy)
	}
	drawn, err := Pick(r.Eligible, r.Seed, r.Winners)
	if err != nil {
		return Record{}, fmt.Errorf("draw: close %s: %w", name, err)
	}
	at := s.now()
	if err := s.Store.CloseDraw(ctx, campaign, name, drawn, by, at); err != nil {
		return Record{}, fmt.Errorf("draw: close %s: %w", name, err)
	}
	r.Drawn, r.ClosedBy, r.ClosedAt = drawn, by, at
	err = audit.Record(ctx, s.Audit, audit.Event{
		At: at, Actor: by, Action: audit.DrawClose, Campaign: campaign, Subject: name,
		Detail: fmt.Sprintf("seed %s; winners %s", hex.EncodeToString(r.Seed), strings.Join(drawn, ", ")),
	})
	if err != nil {
		return r, fmt.Errorf("draw: close %s: %w", name, err)
	}
	return r, nil
}

// Draw returns one draw.
func (s *Service) Draw(ctx context.Context, campaign, name string) (Record, error) {
	r, err := s.Store.Draw(ctx, campaign, name)
	if err != nil {
		return Record{}, fmt.Errorf("draw: %s: %w", name, err)
	}
	return r, nil
}

// Draws lists a campaign's draws.
func (s *Service) Draws(ctx context.Context, campaign string) ([]Record, error) {
	rs, err := s.Store.Draws(ctx, campaign)
	if err != nil {
		return nil, fmt.Errorf("draw: draws of %s: %w", campaign, err)
	}
	return rs, nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}
