package judge

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/errs"
)

// Normalised is the normalised weighted total of each scorecard, by entry and judge (see
// Normalise). A nil Normalised stands for no normalisation: every card counts its raw total.
type Normalised map[cardKey]float64

type cardKey struct{ entry, judge string }

// Of is c's normalised total; its raw weighted total when n is nil or does not know c.
func (n Normalised) Of(r *campaigns.Rubric, c Scorecard) float64 {
	if v, ok := n[cardKey{c.EntryID, c.Judge}]; ok {
		return v
	}
	return Weighted(r, c.Scores)
}

// Normalise normalises cards per judge, as method says (campaigns.Normalisations):
//
//   - z-score: a card's total becomes (total - m) / sd, with m and sd the mean and (population)
//     standard deviation of the totals its judge gave in cards. A judge who gave one card, or
//     the same total every time, has no spread to measure: their cards become 0, the judge's
//     mean.
//   - rescaled: the z-score mapped back onto the scale with the mean M and standard deviation
//     S of all totals in cards: M + z*S, kept within the rubric's scale. The figures then
//     read like scores, and a strict judge's best entry is as good as a lenient judge's best.
//
// none (or "") gives nil: no normalisation.
func Normalise(r *campaigns.Rubric, method string, cards []Scorecard) Normalised {
	if method != campaigns.NormaliseZScore && method != campaigns.NormaliseRescaled || len(cards) == 0 {
		return nil
	}
	byJudge := map[string][]float64{}
	totals := make([]float64, len(cards))
	for i, c := range cards {
		totals[i] = Weighted(r, c.Scores)
		byJudge[c.Judge] = append(byJudge[c.Judge], totals[i])
	}
	type stat struct{ mean, sd float64 }
	stats := map[string]stat{}
	for j, ts := range byJudge {
		m, sd := meanSD(ts)
		stats[j] = stat{m, sd}
	}
	grandMean, grandSD := meanSD(totals)
	out := make(Normalised, len(cards))
	for i, c := range cards {
		st := stats[c.Judge]
		z := 0.0
		if st.sd > 1e-12 {
			z = (totals[i] - st.mean) / st.sd
		}
		v := z
		if method == campaigns.NormaliseRescaled {
			v = min(max(grandMean+z*grandSD, float64(r.ScaleMin)), float64(r.ScaleMax))
		}
		out[cardKey{c.EntryID, c.Judge}] = v
	}
	return out
}

// meanSD is the mean and population standard deviation of xs (not empty).
func meanSD(xs []float64) (float64, float64) {
	var sum float64
	for _, x := range xs {
		sum += x
	}
	m := sum / float64(len(xs))
	var sq float64
	for _, x := range xs {
		sq += (x - m) * (x - m)
	}
	return m, math.Sqrt(sq / float64(len(xs)))
}

// normalisation is the definition's normalisation method (none when it names none).
func normalisation(def *campaigns.Definition) string {
	if def == nil || def.Judging == nil || def.Judging.Normalise == "" {
		return campaigns.NormaliseNone
	}
	return def.Judging.Normalise
}

// Sheet is a campaign's scores, raw and normalised side by side, for the scores page and its
// export.
type Sheet struct {
	Campaign string
	// Method is the campaign's normalisation (campaigns.Normalisations).
	Method   string
	Criteria []string
	// Cards is one row per scorecard, by entry (in Entries' order), then judge.
	Cards []SheetCard
	// Entries are ranked by the published tie-break on the normalised totals (the raw ones
	// when Method is none): every scored entry, then the unscored ones.
	Entries []SheetEntry
	Seed    int64
	// Recusals are the conflicts of interest and abstentions declared on the entries, in the
	// entries' order, then by time.
	Recusals []Recusal
}

// SheetCard is one judge's scorecard on an entry.
type SheetCard struct {
	EntryID string
	Judge   string
	// Scores are the raw scores in the rubric's order.
	Scores     []int
	Raw        float64
	Normalised float64
	Scorecard  Scorecard
}

// SheetEntry is one entry's place and aggregate.
type SheetEntry struct {
	Rank int
	// ByDraw says the seeded draw, not the scores, put this entry above or below a neighbour.
	ByDraw bool
	Entry  Entry
	Aggregate
}

// Sheet builds the scores sheet of def's campaign: every entry that is not rejected, with
// the scorecards given on it.
func (s *Service) Sheet(ctx context.Context, def *campaigns.Definition) (Sheet, error) {
	if s.Scores == nil {
		return Sheet{}, fmt.Errorf("judge: scores sheet: %w: scoring is not configured", errs.ErrInvalid)
	}
	if def == nil || def.Rubric == nil || len(def.Rubric.Criteria) == 0 {
		return Sheet{}, fmt.Errorf("judge: scores sheet: %w: the campaign has no rubric", errs.ErrInvalid)
	}
	entries, err := s.Store.Entries(ctx, Filter{Campaign: def.ID})
	if err != nil {
		return Sheet{}, fmt.Errorf("judge: scores sheet of %s: %w", def.ID, err)
	}
	cards, err := s.Scores.Scorecards(ctx, def.ID, "")
	if err != nil {
		return Sheet{}, fmt.Errorf("judge: scores sheet of %s: %w", def.ID, err)
	}
	sh := SheetOf(def, entries, cards)
	if s.Panels == nil {
		return sh, nil
	}
	// In slices, so no query holds more entry ids than a database takes at once.
	const chunk = 500
	for i := 0; i < len(sh.Entries); i += chunk {
		ids := make([]string, 0, chunk)
		for _, e := range sh.Entries[i:min(i+chunk, len(sh.Entries))] {
			ids = append(ids, e.Entry.ID)
		}
		ps, err := s.Panels.Panels(ctx, ids)
		if err != nil {
			return Sheet{}, fmt.Errorf("judge: scores sheet of %s: %w", def.ID, err)
		}
		for _, id := range ids {
			sh.Recusals = append(sh.Recusals, ps[id].Recusals...)
		}
	}
	return sh, nil
}

// SheetOf is the pure part of Sheet.
func SheetOf(def *campaigns.Definition, entries []Entry, cards []Scorecard) Sheet {
	r := def.Rubric
	sh := Sheet{Campaign: def.ID, Method: normalisation(def), Seed: DrawSeed(def.ID, "")}
	for _, cr := range r.Criteria {
		sh.Criteria = append(sh.Criteria, cr.Name)
	}
	kept := map[string]Entry{}
	var rows []Entry
	for _, e := range entries {
		if e.Status == StatusRejected {
			continue
		}
		kept[e.ID] = e
		// Each entry ranks on its own: it stands in for its participant in RankEntriesBy.
		row := e
		row.ParticipantID = e.ID
		rows = append(rows, row)
	}
	var counted []Scorecard
	byEntry := map[string][]Scorecard{}
	for _, c := range cards {
		if _, ok := kept[c.EntryID]; ok {
			counted = append(counted, c)
			byEntry[c.EntryID] = append(byEntry[c.EntryID], c)
		}
	}
	norm := Normalise(r, sh.Method, counted)
	rk := RankEntriesBy(r, norm, rows, byEntry, sh.Seed, def.ID, "")
	for _, row := range rk.Rows {
		sh.Entries = append(sh.Entries, SheetEntry{Rank: row.Rank, ByDraw: row.ByDraw, Entry: kept[row.ParticipantID], Aggregate: row.Aggregate})
		cs := byEntry[row.ParticipantID]
		slices.SortFunc(cs, func(a, b Scorecard) int { return cmp.Compare(a.Judge, b.Judge) })
		for _, c := range cs {
			sc := SheetCard{EntryID: c.EntryID, Judge: c.Judge, Raw: Weighted(r, c.Scores), Normalised: norm.Of(r, c), Scorecard: c}
			for _, cr := range r.Criteria {
				sc.Scores = append(sc.Scores, c.Scores[cr.Name])
			}
			sh.Cards = append(sh.Cards, sc)
		}
	}
	return sh
}
