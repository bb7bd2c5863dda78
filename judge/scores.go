package judge

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/errs"
)

// Scorecard is one judge's raw scores on one entry, by criterion name. The raw scores are
// kept, never only a total, so weights can be explained, audited and exported afterwards.
type Scorecard struct {
	Campaign string
	EntryID  string
	Judge    string
	Scores   map[string]int
	// At is when the scores were last saved.
	At time.Time
	// Given is when the judge first scored the entry; the store keeps it across changes (it
	// ignores the field on save), and a score lock counts from it.
	Given time.Time
}

// Scores is what scoring needs from persistence.
type Scores interface {
	// SaveScorecard stores c, replacing every score c.Judge gave c.EntryID before (all
	// criteria at once: a criterion left out of c is no longer scored by that judge). Other
	// judges' scorecards are left alone. Saving the same scorecard twice has one effect. The
	// stored Given is c.At for a first scorecard and stays what it was on a change.
	SaveScorecard(ctx context.Context, c Scorecard) error
	// Scorecards returns the scorecards of a campaign's entries, or of one entry when entryID
	// is not empty, ordered by entry id, then judge. No scorecards is an empty result, not an
	// error.
	Scorecards(ctx context.Context, campaign, entryID string) ([]Scorecard, error)
}

// Score records judge c.Judge's scores on an entry against the campaign's rubric, replacing
// the scores that judge gave the entry before. Every criterion must be scored, within the
// rubric's scale; anything else fails with errs.ErrInvalid and stores nothing. An unknown
// entry, or one of another campaign, is errs.ErrNotFound.
func (s *Service) Score(ctx context.Context, def *campaigns.Definition, c Scorecard) error {
	if s.Scores == nil {
		return fmt.Errorf("judge: score: %w: scoring is not configured", errs.ErrInvalid)
	}
	if def == nil || def.Rubric == nil || len(def.Rubric.Criteria) == 0 {
		return fmt.Errorf("judge: score entry %s: %w: the campaign has no rubric", c.EntryID, errs.ErrInvalid)
	}
	if strings.TrimSpace(c.Judge) == "" {
		return fmt.Errorf("judge: score entry %s: %w: no judge", c.EntryID, errs.ErrInvalid)
	}
	if err := CheckScores(def.Rubric, c.Scores); err != nil {
		return fmt.Errorf("judge: score entry %s: %w", c.EntryID, err)
	}
	e, err := s.Store.Entry(ctx, c.EntryID)
	if err != nil {
		return fmt.Errorf("judge: score entry %s: %w", c.EntryID, err)
	}
	if e.Campaign != def.ID {
		return fmt.Errorf("judge: score entry %s: %w in campaign %s", c.EntryID, errs.ErrNotFound, def.ID)
	}
	c.Campaign = def.ID
	if c.At.IsZero() {
		c.At = s.now()
	}
	if err := s.mayScore(ctx, def, c); err != nil {
		return fmt.Errorf("judge: score entry %s: %w", c.EntryID, err)
	}
	if err := s.Scores.SaveScorecard(ctx, c); err != nil {
		return fmt.Errorf("judge: score entry %s: %w", c.EntryID, err)
	}
	s.audit(ctx, Event{Kind: EventScore, Campaign: def.ID, EntryID: c.EntryID, By: c.Judge, Detail: scoreDetail(def.Rubric, c.Scores), At: c.At})
	return nil
}

// ErrNotOnPanel is a score refused because the campaign shares its entries out among a panel
// and the judge has no seat on the entry's (or declared a conflict). It is an errs.ErrInvalid.
var ErrNotOnPanel = fmt.Errorf("%w: not on this entry's panel", errs.ErrInvalid)

// LockedError is a change of scores refused because they locked: the campaign's score_lock
// passed since the judge first scored the entry. It is an errs.ErrConflict.
type LockedError struct {
	Judge    string
	LockedAt time.Time
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("%s's scores on this entry locked at %s", e.Judge, e.LockedAt.UTC().Format("2006-01-02 15:04 UTC"))
}

// Is makes a LockedError an errs.ErrConflict.
func (e *LockedError) Is(target error) bool { return target == errs.ErrConflict }

// mayScore refuses a score from a judge off the entry's panel, who recused, or whose earlier
// scores on it locked.
func (s *Service) mayScore(ctx context.Context, def *campaigns.Definition, c Scorecard) error {
	if s.Panels != nil {
		p, err := s.Panel(ctx, c.EntryID)
		if err != nil {
			return err
		}
		if r, ok := p.Recusal(c.Judge); ok {
			what := "declared a conflict of interest"
			if r.Kind == RecuseAbstain {
				what = "abstained"
			}
			return fmt.Errorf("%w: %s %s on this entry", errs.ErrConflict, c.Judge, what)
		}
		if Panelled(def) && !p.Seated(c.Judge) {
			return fmt.Errorf("%s: %w", c.Judge, ErrNotOnPanel)
		}
	}
	if def.Judging == nil || def.Judging.ScoreLock <= 0 {
		return nil
	}
	cards, err := s.Scores.Scorecards(ctx, def.ID, c.EntryID)
	if err != nil {
		return err
	}
	for _, old := range cards {
		if old.Judge != c.Judge {
			continue
		}
		given := old.Given
		if given.IsZero() {
			given = old.At
		}
		if lock := given.Add(def.Judging.ScoreLock); !c.At.Before(lock) {
			return &LockedError{Judge: c.Judge, LockedAt: lock}
		}
	}
	return nil
}

// LockOf says when judge's scores on an entry lock, from their scorecard; zero when the
// campaign has no score lock or they have not scored.
func LockOf(def *campaigns.Definition, c Scorecard) time.Time {
	if def == nil || def.Judging == nil || def.Judging.ScoreLock <= 0 || c.Judge == "" {
		return time.Time{}
	}
	given := c.Given
	if given.IsZero() {
		given = c.At
	}
	return given.Add(def.Judging.ScoreLock)
}

func scoreDetail(r *campaigns.Rubric, scores map[string]int) string {
	parts := make([]string, 0, len(r.Criteria))
	for _, cr := range r.Criteria {
		parts = append(parts, fmt.Sprintf("%s=%d", cr.Name, scores[cr.Name]))
	}
	return strings.Join(parts, "; ")
}

// Scorecards returns the scorecards given on one entry, ordered by judge.
func (s *Service) Scorecards(ctx context.Context, campaign, entryID string) ([]Scorecard, error) {
	if s.Scores == nil {
		return nil, nil
	}
	cs, err := s.Scores.Scorecards(ctx, campaign, entryID)
	if err != nil {
		return nil, fmt.Errorf("judge: scorecards of %s: %w", entryID, err)
	}
	return cs, nil
}

// CheckScores reports, as errs.ErrInvalid, scores that do not fit r: a criterion missing or
// unknown, or a score outside the scale.
func CheckScores(r *campaigns.Rubric, scores map[string]int) error {
	for _, cr := range r.Criteria {
		v, ok := scores[cr.Name]
		if !ok {
			return fmt.Errorf("%w: criterion %q is not scored", errs.ErrInvalid, cr.Name)
		}
		if v < r.ScaleMin || v > r.ScaleMax {
			return fmt.Errorf("%w: %s scored %d, outside %d to %d", errs.ErrInvalid, cr.Name, v, r.ScaleMin, r.ScaleMax)
		}
	}
	for name := range scores {
		if !slices.ContainsFunc(r.Criteria, func(c campaigns.Criterion) bool { return c.Name == name }) {
			return fmt.Errorf("%w: no criterion %q in the rubric", errs.ErrInvalid, name)
		}
	}
	return nil
}

// Weighted is a scorecard's weighted total on the rubric's own scale: the weights are
// normalised by their sum, so rubrics weighted to 1 and to 100 mean the same. With no
// weight at all every criterion counts the same.
func Weighted(r *campaigns.Rubric, scores map[string]int) float64 {
	var sum, weights float64
	for _, cr := range r.Criteria {
		sum += cr.Weight * float64(scores[cr.Name])
		weights += cr.Weight
	}
	if weights == 0 {
		for _, cr := range r.Criteria {
			sum += float64(scores[cr.Name])
		}
		return sum / float64(len(r.Criteria))
	}
	return sum / weights
}

// Aggregate is what the scorecards of an entry (or of a team's entries in a round) add up to.
type Aggregate struct {
	// Judges is how many scorecards were counted.
	Judges int
	// Mean is the mean across scorecards of their weighted totals: a mean, not a sum, so a
	// judge who abstains does not pull an entry down (as Award Force does).
	Mean float64
	// First is the mean score on the rubric's first criterion, the core criterion of the
	// tie-break rule.
	First float64
	// Median is the median of the weighted totals, the tie-break after First.
	Median float64
	// Criteria is the mean score per criterion, in the rubric's order.
	Criteria []float64
	// Normalised and NormalisedMedian are Mean and Median over the judges' normalised totals
	// (see Normalise); the raw ones when the campaign does not normalise. Rankings order on
	// them.
	Normalised       float64
	NormalisedMedian float64
}

// Aggregated adds up scorecards against r, without normalisation. Scorecards of no judge
// give the zero Aggregate.
func Aggregated(r *campaigns.Rubric, cards []Scorecard) Aggregate {
	return AggregatedBy(r, nil, cards)
}

// AggregatedBy is Aggregated with the normalised totals of n (nil: none).
func AggregatedBy(r *campaigns.Rubric, n Normalised, cards []Scorecard) Aggregate {
	a := Aggregate{Judges: len(cards), Criteria: make([]float64, len(r.Criteria))}
	if len(cards) == 0 {
		return a
	}
	totals := make([]float64, len(cards))
	for i, c := range cards {
		totals[i] = Weighted(r, c.Scores)
		a.Mean += totals[i]
		for j, cr := range r.Criteria {
			a.Criteria[j] += float64(c.Scores[cr.Name])
		}
	}
	count := float64(len(cards))
	a.Mean /= count
	for j := range a.Criteria {
		a.Criteria[j] /= count
	}
	if len(a.Criteria) > 0 {
		a.First = a.Criteria[0]
	}
	a.Median = median(totals)
	if n == nil {
		a.Normalised, a.NormalisedMedian = a.Mean, a.Median
		return a
	}
	for i, c := range cards {
		totals[i] = n.Of(r, c)
		a.Normalised += totals[i]
	}
	a.Normalised /= float64(len(cards))
	a.NormalisedMedian = median(totals)
	return a
}

// median sorts xs (not empty) and returns its median.
func median(xs []float64) float64 {
	slices.Sort(xs)
	m := len(xs) / 2
	if len(xs)%2 == 1 {
		return xs[m]
	}
	return (xs[m-1] + xs[m]) / 2
}
