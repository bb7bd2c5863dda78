package engine

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/errs"
)

// Ranked is one participant's place in a campaign's ranking.
type Ranked struct {
	// Rank is 1 for the first; participants equal in value (and, with the earliest tie-break,
	// in the second they reached it) share a rank, and the next rank skips as many: 1, 2, 2, 4.
	Rank          int
	ParticipantID string
	// Name is the participant's (or team's) name as they gave it; empty when they gave none.
	// Never their address: a ranking is shown to every moderator.
	Name string
	// Value is the ranked variable as the participant holds it (a decimal number).
	Value string
	// ReachedAt is when the participant reached Value, to the second.
	ReachedAt time.Time
	// Winner says the participant had the verdict winner (from a pick or by hand); Finished
	// that their run ended, so no verdict moves them any more.
	Winner, Finished bool
	value            float64
}

// varWinner marks a participant who had the verdict winner.
const varWinner = "winner.by_verdict"

// reachedVar is the variable keeping when a participant's ranked variable last changed. The
// dot keeps it out of reach of a save and of texts, as run.started is.
func reachedVar(by string) string { return by + ".at" }

// Ranking ranks the participants of a campaign on its ranking's variable. Those who opted out,
// declined the consent question or have not answered it yet are not ranked, nor is anyone
// whose variable holds no number. It fails with errs.ErrNotFound for a campaign that is not
// loaded and errs.ErrInvalid for one without a ranking.
func (e *Engine) Ranking(ctx context.Context, campaign string) ([]Ranked, error) {
	def, ok := e.Campaign(campaign)
	if !ok {
		return nil, fmt.Errorf("engine: ranking of %s: %w", campaign, errs.ErrNotFound)
	}
	if def.Ranking == nil {
		return nil, fmt.Errorf("engine: ranking of %s: %w: the campaign has no ranking", campaign, errs.ErrInvalid)
	}
	ps, err := e.store.Participants(ctx, ParticipantFilter{Campaign: campaign})
	if err != nil {
		return nil, fmt.Errorf("engine: ranking of %s: %w", campaign, err)
	}
	return Rank(def.Ranking, ps), nil
}

// Rank ranks ps (in the order they joined, which orders the participants sharing a rank) by
// rk; see Engine.Ranking for who is left out.
func Rank(rk *campaigns.Ranking, ps []Participant) []Ranked {
	out := make([]Ranked, 0, len(ps))
	for _, p := range ps {
		switch p.State {
		case StateOptedOut, StateDeclined, StateConsent:
			continue
		}
		s := p.Vars[rk.By]
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		at, err := time.Parse(time.RFC3339, p.Vars[reachedVar(rk.By)])
		if err != nil {
			// Saved before the campaign had its ranking: their last step is the best we know.
			at = p.UpdatedAt.UTC().Truncate(time.Second)
		}
		name := p.Vars["team"]
		if name == "" {
			name = p.Vars["name"]
		}
		out = append(out, Ranked{ParticipantID: p.ID, Name: name, Value: s, ReachedAt: at, Winner: p.Vars[varWinner] != "", Finished: p.Finished, value: v})
	}
	cmpRanked := func(a, b Ranked) int {
		c := 0
		switch {
		case a.value > b.value:
			c = -1
		case a.value < b.value:
			c = 1
		}
		if rk.Ascending {
			c = -c
		}
		if c == 0 && rk.TieBreak == campaigns.TieEarliest {
			c = a.ReachedAt.Compare(b.ReachedAt)
		}
		return c
	}
	slices.SortStableFunc(out, cmpRanked)
	for i := range out {
		if i > 0 && cmpRanked(out[i-1], out[i]) == 0 {
			out[i].Rank = out[i-1].Rank
		} else {
			out[i].Rank = i + 1
		}
	}
	return out
}

// Winners are the first top of a ranking and everyone sharing the rank of the last of them: a
// tie at the boundary is not broken by luck, so with a top 3 and two participants third, four
// win.
func Winners(ranked []Ranked, top int) []Ranked {
	n := 0
	for n < len(ranked) && ranked[n].Rank <= top {
		n++
	}
	return ranked[:n]
}

// noteReached records, when the participant's ranked variable changed in this step (before is
// its value when the step began), when it did: the earliest tie-break ranks by it. The time
// is kept to the second, the precision the dashboard shows, so what a moderator sees as a tie
// is one. Keeping it in the participant's variables needs no new stored field, and it is
// written in the step's commit with the value itself, so the two never disagree.
func noteReached(def *campaigns.Definition, p *Participant, before string, now time.Time) {
	if def.Ranking == nil {
		return
	}
	by := def.Ranking.By
	after, ok := p.Vars[by]
	if sameNumber(before, after) {
		return
	}
	if !ok {
		delete(p.Vars, reachedVar(by))
		return
	}
	p.Vars[reachedVar(by)] = now.UTC().Truncate(time.Second).Format(time.RFC3339)
}

// sameNumber reports whether two stored values are the same number (1 and 1.0 are), or the
// same text when either is no number.
func sameNumber(a, b string) bool {
	x, errA := strconv.ParseFloat(strings.TrimSpace(a), 64)
	y, errB := strconv.ParseFloat(strings.TrimSpace(b), 64)
	if errA != nil || errB != nil {
		return a == b
	}
	return x == y
}

// rankVars fills {{rank}} and {{rank_of}} for the step's participant, with what the step did
// to them (their new value, reached now) and everyone else as stored; once per step.
func (r *run) rankVars(vars map[string]string) {
	rk := r.def.Ranking
	if rk == nil {
		return
	}
	if r.ranks == nil {
		ps, err := r.e.store.Participants(r.ctx, ParticipantFilter{Campaign: r.def.ID})
		if err != nil {
			r.e.log.Warn("ranking", "campaign", r.def.ID, "err", err)
			return
		}
		me := *r.p
		me.Vars = maps.Clone(r.p.Vars)
		me.UpdatedAt = r.now
		noteReached(r.def, &me, r.rankedBefore, r.now)
		ps = slices.DeleteFunc(ps, func(p Participant) bool { return p.ID == me.ID })
		ranked := Rank(rk, append(ps, me))
		r.ranks = map[string]string{"rank": "", "rank_of": strconv.Itoa(len(ranked))}
		for _, x := range ranked {
			if x.ParticipantID == me.ID {
				r.ranks["rank"] = strconv.Itoa(x.Rank)
			}
		}
	}
	maps.Copy(vars, r.ranks)
}
