package judge

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/chatcampaigns/campaign/audit"
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
	At       time.Time
}

// Scores is what scoring needs from persistence.
type Scores interface {
	// SaveScorecard stores c, replacing every score c.Judge gave c.EntryID before (all
	// criteria at once: a criterion left out of c is no longer scored by that judge). Other
	// judges' scorecards are left alone. Saving the same scorecard twice has one effect.
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
	if err := s.Scores.SaveScorecard(ctx, c); err != nil {
		return fmt.Errorf("judge: score entry %s: %w", c.EntryID, err)
	}
	return s.record(ctx, audit.Event{At: c.At, Actor: c.Judge, Action: audit.Score, Campaign: c.Campaign,
		ParticipantID: e.ParticipantID, EntryID: c.EntryID, Detail: scoreDetail(c.Scores)})
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
}

// Aggregated adds up scorecards against r. Scorecards of no judge give the zero Aggregate.
func Aggregated(r *campaigns.Rubric, cards []Scorecard) Aggregate {
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
	n := float64(len(cards))
	a.Mean /= n
	for j := range a.Criteria {
		a.Criteria[j] /= n
	}
	if len(a.Criteria) > 0 {
		a.First = a.Criteria[0]
	}
	slices.Sort(totals)
	if m := len(totals) / 2; len(totals)%2 == 1 {
		a.Median = totals[m]
	} else {
		a.Median = (totals[m-1] + totals[m]) / 2
	}
	return a
}
