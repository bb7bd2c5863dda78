package engine

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
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
	// Unanswered is the participant's state when it answers no verdict winner and their run
	// goes on (still answering questions): a verdict now would move and tell them nothing.
	// Engine.Ranking fills it; Rank, which knows no states, leaves it empty.
	Unanswered string
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
	ranked := Rank(def.Ranking, ps)
	byID := make(map[string]*Participant, len(ps))
	for i := range ps {
		byID[ps[i].ID] = &ps[i]
	}
	for i := range ranked {
		p := byID[ranked[i].ParticipantID]
		if p == nil || p.Finished {
			continue
		}
		d, ok := e.definition(p.Campaign, p.DefVersion)
		if !ok {
			d = def
		}
		if !answersVerdict(d.States[p.State], campaigns.VerdictWinner) {
			ranked[i].Unanswered = p.State
		}
	}
	return ranked, nil
}

// answersVerdict reports whether st has a transition for the verdict.
func answersVerdict(st *campaigns.State, verdict string) bool {
	if st == nil {
		return false
	}
	for _, t := range st.On {
		if t.Kind == campaigns.OnVerdict && t.Verdict == verdict {
			return true
		}
	}
	return false
}

// Rank ranks ps (in the order they joined, which orders the participants sharing a rank) by
// rk; see Engine.Ranking for who is left out.
func Rank(rk *campaigns.Ranking, ps []Participant) []Ranked {
	type row struct {
		Ranked
		key rankEntry
	}
	rows := make([]row, 0, len(ps))
	for _, p := range ps {
		key := entryOf(rk, p)
		if !key.ranked {
			continue
		}
		name := p.Vars["team"]
		if name == "" {
			name = p.Vars["name"]
		}
		rows = append(rows, row{Ranked{ParticipantID: p.ID, Name: name, Value: p.Vars[rk.By], ReachedAt: key.at,
			Winner: p.Vars[varWinner] != "", Finished: p.Finished}, key})
	}
	slices.SortStableFunc(rows, func(a, b row) int { return compareEntries(rk, a.key, b.key) })
	out := make([]Ranked, len(rows))
	for i, r := range rows {
		out[i] = r.Ranked
		if i > 0 && compareEntries(rk, rows[i-1].key, r.key) == 0 {
			out[i].Rank = out[i-1].Rank
		} else {
			out[i].Rank = i + 1
		}
	}
	return out
}

// rankEntry is what ranks a participant: their value and when they reached it.
type rankEntry struct {
	// ranked is false for a participant left out of the ranking.
	ranked  bool
	value   float64
	at      time.Time
	version int64
	// pending marks a standing a batch computed but has not committed yet (see
	// rankBoards.pending): its commit, or its undo, replaces it whatever its version.
	pending bool
}

// entryOf is p's standing under rk.
func entryOf(rk *campaigns.Ranking, p Participant) rankEntry {
	e := rankEntry{version: p.Version}
	switch p.State {
	case StateOptedOut, StateDeclined, StateConsent:
		return e
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(p.Vars[rk.By]), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return e
	}
	at, err := time.Parse(time.RFC3339, p.Vars[reachedVar(rk.By)])
	if err != nil {
		// Saved before the campaign had its ranking: their last step is the best we know.
		at = p.UpdatedAt.UTC().Truncate(time.Second)
	}
	e.ranked, e.value, e.at = true, v, at
	return e
}

// compareEntries is negative when a ranks above b, 0 when they share a rank.
func compareEntries(rk *campaigns.Ranking, a, b rankEntry) int {
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
		c = a.at.Compare(b.at)
	}
	return c
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
// to them (their new value, reached now) and everyone else as the campaign's board has them;
// once per step and value: a condition read before the step's add: and a text said after it
// each see the value they come after.
func (r *run) rankVars(vars map[string]string) {
	rk := r.def.Ranking
	if rk == nil {
		return
	}
	if r.ranks == nil || r.ranksFor != r.p.Vars[rk.By] {
		r.ranksFor = r.p.Vars[rk.By]
		me := *r.p
		me.Vars = maps.Clone(r.p.Vars)
		me.UpdatedAt = r.now
		noteReached(r.def, &me, r.rankedBefore, r.now)
		rank, of, err := r.e.boards.rankOf(r.ctx, r.e.store, r.def, entryOf(rk, me), me.ID, r.now)
		if err != nil {
			r.e.log.Warn("ranking", "campaign", r.def.ID, "err", err)
			return
		}
		r.ranks = map[string]string{"rank": "", "rank_of": strconv.Itoa(of)}
		if rank > 0 {
			r.ranks["rank"] = strconv.Itoa(rank)
		}
	}
	maps.Copy(vars, r.ranks)
}

// rankBoardTTL is how long a board is trusted before it is read again from the store. The
// engine keeps its own commits on the board as they happen, so within one process it is
// exact; what other processes sharing the store commit reaches {{rank}} within the TTL.
const rankBoardTTL = 10 * time.Second

// rankBoards keep, per ranked campaign, every participant's standing, so that a {{rank}} costs
// one pass over numbers instead of reading every participant from the store (a fifth of a
// second for 10,000 on SQLite), which a quiz saying the rank after every answer would pay
// for every message.
type rankBoards struct {
	mu sync.Mutex
	m  map[string]*rankBoard
}

type rankBoard struct {
	rk      *campaigns.Ranking
	loaded  time.Time
	entries map[string]rankEntry
}

// rankOf is the rank of the participant id standing at me, among the others on the board of
// def's campaign, and how many are ranked with them; rank is 0 when me is not ranked.
func (bs *rankBoards) rankOf(ctx context.Context, st Store, def *campaigns.Definition, me rankEntry, id string, now time.Time) (rank, of int, err error) {
	rk := def.Ranking
	bs.mu.Lock()
	b := bs.m[def.ID]
	fresh := b != nil && b.rk == rk && !now.Before(b.loaded) && now.Sub(b.loaded) < rankBoardTTL
	bs.mu.Unlock()
	if !fresh {
		ps, err := st.Participants(ctx, ParticipantFilter{Campaign: def.ID})
		if err != nil {
			return 0, 0, fmt.Errorf("ranking board of %s: %w", def.ID, err)
		}
		nb := &rankBoard{rk: rk, loaded: now, entries: make(map[string]rankEntry, len(ps))}
		for _, p := range ps {
			nb.entries[p.ID] = entryOf(rk, p)
		}
		bs.mu.Lock()
		if old := bs.m[def.ID]; old != nil && old.rk == rk {
			// Commits announced while the store was read are newer than what it returned.
			for pid, e := range old.entries {
				if e.version > nb.entries[pid].version || e.pending {
					nb.entries[pid] = e
				}
			}
		}
		if bs.m == nil {
			bs.m = map[string]*rankBoard{}
		}
		bs.m[def.ID] = nb
		bs.mu.Unlock()
	}
	bs.mu.Lock()
	defer bs.mu.Unlock()
	better := 0
	for pid, e := range bs.m[def.ID].entries {
		if pid == id || !e.ranked {
			continue
		}
		of++
		if me.ranked && compareEntries(rk, e, me) < 0 {
			better++
		}
	}
	if !me.ranked {
		return 0, of, nil
	}
	return better + 1, of + 1, nil
}

// committed puts a committed participant's standing on their campaign's board, if it has one.
func (bs *rankBoards) committed(p Participant) {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	b := bs.m[p.Campaign]
	if b == nil {
		return
	}
	if old, ok := b.entries[p.ID]; ok && !old.pending && old.version >= p.Version {
		return
	}
	b.entries[p.ID] = entryOf(b.rk, p)
}

// pending puts the standing of a step computed but not yet committed on its campaign's board,
// so that the later steps of the same batch count it in their {{rank}}, as they would had it
// committed first; the commit replaces it (committed), and undo takes it back when the step
// is not written. A campaign without a ranking has no board and nothing to undo.
func (bs *rankBoards) pending(def *campaigns.Definition, p Participant) (undo func()) {
	if def == nil || def.Ranking == nil || p.ID == "" {
		return func() {}
	}
	return bs.pendingOn(def, p)
}

// pendingOn is pending for a campaign with a ranking. It is apart because its undo keeps the
// participant: a parameter a closure keeps is moved to the heap as the function begins, so in
// pending every step of every campaign copied its participant there, ranked or not.
func (bs *rankBoards) pendingOn(def *campaigns.Definition, p Participant) (undo func()) {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	b := bs.m[def.ID]
	if b == nil || b.rk != def.Ranking {
		// Not loaded yet: a board the next {{rank}} reads the store into (it is not fresh),
		// keeping the pending standings on top.
		b = &rankBoard{rk: def.Ranking, entries: map[string]rankEntry{}}
		if bs.m == nil {
			bs.m = map[string]*rankBoard{}
		}
		bs.m[def.ID] = b
	}
	old, had := b.entries[p.ID]
	e := entryOf(def.Ranking, p)
	e.pending = true
	b.entries[p.ID] = e
	return func() {
		bs.mu.Lock()
		defer bs.mu.Unlock()
		cur := bs.m[def.ID]
		if cur == nil {
			return
		}
		if e, ok := cur.entries[p.ID]; !ok || !e.pending {
			return // committed since
		}
		if had {
			cur.entries[p.ID] = old
		} else {
			delete(cur.entries, p.ID)
		}
		if cur != b {
			// Read again since: what it read of this participant is lost; read it once more.
			cur.loaded = time.Time{}
		}
	}
}
