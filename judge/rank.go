package judge

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strconv"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// Ranking is the order of a round's participants (teams) by their entries' scores.
//
// The published tie-break rule (docs: JUDGING.md): the mean weighted total across judges
// (normalised per judge when the campaign's judging says normalise) first (a mean, so a missing judge does not count as a zero); on a tie, the mean score on
// the rubric's first criterion; then the median judge's weighted total; then a draw. The draw
// orders tied rows by sha256("<seed>:<participant id>"), with Seed recorded here, so anyone
// can recompute it, and it gives the same order on every page load.
type Ranking struct {
	Campaign string
	Round    string
	Seed     int64
	Rows     []Row
	// Unscored counts the rows with an entry no judge has scored yet; they rank last, and
	// Advance refuses to decide while there are any.
	Unscored int
}

// Row is one participant's place in a ranking.
type Row struct {
	// Rank is the 1-based place.
	Rank          int
	ParticipantID string
	// EntryIDs are the participant's entries of the round, oldest first.
	EntryIDs []string
	// Aggregate is over every scorecard on any of the participant's entries of the round:
	// a team that sent three shots is judged on the three together.
	Aggregate
	// Unscored entries of the participant have no scorecard yet.
	Unscored int
	// Draw is the row's draw key; ByDraw says the draw, not the scores, decided between this
	// row and a neighbour.
	Draw   string
	ByDraw bool
}

// DrawSeed is the default seed of a round's draw: a hash of the campaign and the round, so
// the seed is fixed before any score is given and needs no storage to be recomputed.
func DrawSeed(campaign, round string) int64 {
	h := fnv.New64a()
	h.Write([]byte(campaign + "\x00" + round))
	return int64(h.Sum64() & math.MaxInt64)
}

// RoundStates are the states whose entries belong to a round: the states that close at the
// round's deadline (a transition `round: {name: R, event: deadline}`). That is where a race
// collects the round's submission; the states after it wait for the verdict.
func RoundStates(def *campaigns.Definition, round string) []string {
	var out []string
	for _, name := range def.Order {
		for _, t := range def.States[name].On {
			if t.Kind == campaigns.OnRound && t.Round == round && t.RoundEvent == campaigns.RoundDeadline {
				out = append(out, name)
				break
			}
		}
	}
	return out
}

// Rank ranks the participants who sent entries in a round of def. An entry belongs to the
// round when it was collected in one of RoundStates; when the definition names no such
// state, when it was created between the round's fixed start and its deadline. Rejected
// entries do not count. An unknown round, or one whose entries cannot be told apart, is
// errs.ErrInvalid.
func (s *Service) Rank(ctx context.Context, campaign, round string, def *campaigns.Definition) (Ranking, error) {
	if s.Scores == nil {
		return Ranking{}, fmt.Errorf("judge: rank: %w: scoring is not configured", errs.ErrInvalid)
	}
	if def == nil || def.ID != campaign {
		return Ranking{}, fmt.Errorf("judge: rank %s: %w: no definition of the campaign", campaign, errs.ErrInvalid)
	}
	if def.Rubric == nil || len(def.Rubric.Criteria) == 0 {
		return Ranking{}, fmt.Errorf("judge: rank %s: %w: the campaign has no rubric", campaign, errs.ErrInvalid)
	}
	i := slices.IndexFunc(def.Rounds, func(r *campaigns.Round) bool { return r.Name == round })
	if i < 0 {
		return Ranking{}, fmt.Errorf("judge: rank %s: %w: no round %q", campaign, errs.ErrInvalid, round)
	}
	in, err := roundFilter(def, def.Rounds[i])
	if err != nil {
		return Ranking{}, fmt.Errorf("judge: rank %s round %s: %w", campaign, round, err)
	}
	entries, err := s.Store.Entries(ctx, Filter{Campaign: campaign})
	if err != nil {
		return Ranking{}, fmt.Errorf("judge: rank %s round %s: %w", campaign, round, err)
	}
	cards, err := s.Scores.Scorecards(ctx, campaign, "")
	if err != nil {
		return Ranking{}, fmt.Errorf("judge: rank %s round %s: %w", campaign, round, err)
	}
	byEntry := map[string][]Scorecard{}
	for _, c := range cards {
		byEntry[c.EntryID] = append(byEntry[c.EntryID], c)
	}
	var kept []Entry
	for _, e := range entries {
		if e.Status != StatusRejected && in(e) {
			kept = append(kept, e)
		}
	}
	seed := DrawSeed(campaign, round)
	if s.Seed != nil {
		seed = s.Seed(campaign, round)
	}
	// Judges are normalised over all they scored in the campaign, not one round's few cards.
	norm := Normalise(def.Rubric, normalisation(def), cards)
	return RankEntriesBy(def.Rubric, norm, kept, byEntry, seed, campaign, round), nil
}

// roundFilter says which entries belong to round rd.
func roundFilter(def *campaigns.Definition, rd *campaigns.Round) (func(Entry) bool, error) {
	if states := RoundStates(def, rd.Name); len(states) > 0 {
		return func(e Entry) bool { return slices.Contains(states, e.State) }, nil
	}
	deadline := rd.Deadline
	if deadline.IsZero() && !rd.Starts.IsZero() && rd.Duration > 0 {
		deadline = rd.Starts.Add(rd.Duration)
	}
	if rd.Starts.IsZero() || deadline.IsZero() {
		return nil, fmt.Errorf("%w: no state closes at the round's deadline and the round has no fixed start and deadline", errs.ErrInvalid)
	}
	return func(e Entry) bool { return !e.CreatedAt.Before(rd.Starts) && e.CreatedAt.Before(deadline) }, nil
}

// RankEntries ranks the participants of entries by the scorecards of their entries (by entry
// id), breaking ties as Ranking describes. It is the pure part of Rank.
func RankEntries(r *campaigns.Rubric, entries []Entry, cards map[string][]Scorecard, seed int64, campaign, round string) Ranking {
	return RankEntriesBy(r, nil, entries, cards, seed, campaign, round)
}

// RankEntriesBy is RankEntries on the normalised totals of n (nil: the raw ones).
func RankEntriesBy(r *campaigns.Rubric, n Normalised, entries []Entry, cards map[string][]Scorecard, seed int64, campaign, round string) Ranking {
	type acc struct {
		entries []Entry
		cards   []Scorecard
		bare    int
	}
	byP := map[string]*acc{}
	for _, e := range entries {
		a := byP[e.ParticipantID]
		if a == nil {
			a = &acc{}
			byP[e.ParticipantID] = a
		}
		a.entries = append(a.entries, e)
		if cs := cards[e.ID]; len(cs) > 0 {
			a.cards = append(a.cards, cs...)
		} else {
			a.bare++
		}
	}
	rk := Ranking{Campaign: campaign, Round: round, Seed: seed, Rows: make([]Row, 0, len(byP))}
	for pid, a := range byP {
		slices.SortFunc(a.entries, func(x, y Entry) int {
			return cmp.Or(x.CreatedAt.Compare(y.CreatedAt), cmp.Compare(x.ID, y.ID))
		})
		row := Row{ParticipantID: pid, Aggregate: AggregatedBy(r, n, a.cards), Unscored: a.bare, Draw: drawKey(seed, pid)}
		for _, e := range a.entries {
			row.EntryIDs = append(row.EntryIDs, e.ID)
		}
		if a.bare > 0 {
			rk.Unscored++
		}
		rk.Rows = append(rk.Rows, row)
	}
	slices.SortFunc(rk.Rows, func(x, y Row) int {
		if c := scoreOrder(x, y); c != 0 {
			return c
		}
		return cmp.Compare(x.Draw, y.Draw)
	})
	for i := range rk.Rows {
		rk.Rows[i].Rank = i + 1
		if i > 0 && scoreOrder(rk.Rows[i-1], rk.Rows[i]) == 0 {
			rk.Rows[i-1].ByDraw, rk.Rows[i].ByDraw = true, true
		}
	}
	return rk
}

// scoreOrder orders rows by everything but the draw: scored rows first (a row with an
// unscored entry is not finished), then higher mean, first criterion, median.
func scoreOrder(x, y Row) int {
	xs, ys := x.Unscored == 0 && x.Judges > 0, y.Unscored == 0 && y.Judges > 0
	if xs != ys {
		if xs {
			return -1
		}
		return 1
	}
	for _, k := range [][2]float64{{x.Normalised, y.Normalised}, {x.First, y.First}, {x.NormalisedMedian, y.NormalisedMedian}} {
		if c := compareScore(k[1], k[0]); c != 0 {
			return c
		}
	}
	return 0
}

// compareScore compares means rounded to 1e-9, so sums of weights that differ only in the
// last bit (0.1+0.2) still tie as they do on paper.
func compareScore(a, b float64) int {
	return cmp.Compare(math.Round(a*1e9), math.Round(b*1e9))
}

func drawKey(seed int64, participantID string) string {
	sum := sha256.Sum256([]byte(strconv.FormatInt(seed, 10) + ":" + participantID))
	return hex.EncodeToString(sum[:])
}

// Advanced is what Advance did.
type Advanced struct {
	Advanced, Eliminated []string
	// Already counts participants who had their verdict for this round before.
	Already int
	// Left are the participants of the ranking who opted out or finished: they get no verdict
	// and take no place among the n advanced.
	Left []string
}

// Advance gives the top n participants of r the verdict advanced and the others eliminated,
// each as a KindVerdict event their state machine receives. Each participant gets one verdict
// per round, ever: the events are keyed by campaign, round and participant, so running Advance
// again (or after a crash half-way) decides only whom it did not decide before, and fails with
// errs.ErrConflict when everyone had their verdict. Participants who opted out or finished are
// left out (Advanced.Left), and the places go to the next in the ranking. n < 1 is errs.ErrInvalid; while an entry
// of the round is unscored it fails with errs.ErrConflict and decides nothing.
func (s *Service) Advance(ctx context.Context, r Ranking, n int, by string) (Advanced, error) {
	var out Advanced
	if n < 1 {
		return out, fmt.Errorf("judge: advance round %s: %w: advance at least one", r.Round, errs.ErrInvalid)
	}
	if r.Campaign == "" || r.Round == "" {
		return out, fmt.Errorf("judge: advance: %w: a ranking needs its campaign and round", errs.ErrInvalid)
	}
	if r.Unscored > 0 {
		return out, fmt.Errorf("judge: advance round %s: %w: %s entries nobody scored yet", r.Round, errs.ErrConflict, count(r.Unscored, "participant has", "participants have"))
	}
	if len(r.Rows) == 0 {
		return out, fmt.Errorf("judge: advance round %s: %w: nobody sent an entry", r.Round, errs.ErrInvalid)
	}
	at := s.now()
	places := n
	for _, row := range r.Rows {
		switch err := s.open(ctx, row.ParticipantID); {
		case engine.Refusal(err) != "":
			out.Left = append(out.Left, row.ParticipantID)
			continue
		case err != nil:
			return out, fmt.Errorf("judge: advance round %s: %w", r.Round, err)
		}
		verdict := campaigns.VerdictEliminated
		if places > 0 {
			verdict = campaigns.VerdictAdvanced
			places--
		}
		_, dup, err := s.Store.SaveInbound(ctx, engine.Inbound{
			Channel:       "judge",
			PlatformID:    fmt.Sprintf("round-verdict:%s:%s:%s", r.Campaign, r.Round, row.ParticipantID),
			Campaign:      r.Campaign,
			ParticipantID: row.ParticipantID,
			Kind:          engine.KindVerdict,
			Verdict:       verdict,
			Agent:         by,
			At:            at,
		})
		if err != nil {
			return out, fmt.Errorf("judge: %s %s in round %s: %w", verdict, row.ParticipantID, r.Round, err)
		}
		switch {
		case dup:
			out.Already++
		case verdict == campaigns.VerdictAdvanced:
			out.Advanced = append(out.Advanced, row.ParticipantID)
		default:
			out.Eliminated = append(out.Eliminated, row.ParticipantID)
		}
	}
	decided := len(out.Advanced) + len(out.Eliminated)
	if s.Wake != nil && decided > 0 {
		s.Wake()
	}
	if decided == 0 {
		return out, fmt.Errorf("judge: advance round %s: %w: every participant had their verdict already or left", r.Round, errs.ErrConflict)
	}
	return out, nil
}
