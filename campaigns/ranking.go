package campaigns

import (
	"strings"
)

// rankingKeys are the keys of the ranking mapping.
var rankingKeys = []string{"by", "order", "tie_break", "top"}

// ranking reads the ranking: which variable, which way, how ties are broken and how many win.
// It runs after the states, so it can check that a save fills its variable with a number.
func (p *parser) ranking(f field) {
	fs := p.mapping(f.val, "ranking", rankingKeys...)
	if fs == nil {
		return
	}
	r := &Ranking{TieBreak: TieEarliest}
	p.def.Ranking = r
	if g, ok := fs["by"]; ok {
		r.By = p.str(g, "ranking by")
		p.rankedVar(g, r.By)
	} else {
		p.errf(f.val, "ranking needs by: the variable holding the number participants are ranked on")
	}
	if g, ok := fs["order"]; ok {
		switch o := p.str(g, "ranking order"); o {
		case "desc", "":
		case "asc":
			r.Ascending = true
		default:
			p.errf(g.val, "ranking order %q: use desc (the highest ranks first) or asc (the lowest ranks first)%s", o, didYouMean(o, []string{"desc", "asc"}))
		}
	}
	if g, ok := fs["tie_break"]; ok {
		t := p.str(g, "ranking tie_break")
		if t != "" && !contains(TieBreaks, t) {
			p.errf(g.val, "ranking tie_break %q: use earliest (who reached their value first ranks higher) or none (equal values share a rank)%s", t, didYouMean(t, TieBreaks))
		} else if t != "" {
			r.TieBreak = t
		}
	}
	if g, ok := fs["top"]; ok {
		p.topGiven = true
		r.Top = p.integer(g, "ranking top", 1)
		if r.Top > 0 && !p.answersWinner() {
			p.warnf(g.key, "ranking top: no state answers verdict: winner, so picking the top %d as winners moves and tells nobody (add on: - verdict: winner to the state the ranked participants wait in)", r.Top)
		}
	}
}

// rankedVar checks the variable a ranking is on: a name a save fills with a number.
func (p *parser) rankedVar(g field, by string) {
	switch {
	case by == "":
	case !varNameRe.MatchString(by):
		p.errf(g.val, "ranking by %q must be a variable name: lower-case letters, digits and _", by)
	case contains(engineVars, by):
		p.errf(g.val, "ranking by %q: that variable is set by the engine; rank by one of your own, filled with a number", by)
	case !p.saved[by]:
		p.errf(g.val, "ranking by %q: no transition sets it; rank by a number variable (add: {%s: 1}, or save: {var: %s, as: number})%s", by, by, by, didYouMean(by, sortedKeys(p.saved)))
	default:
		var kinds []string
		for _, name := range p.def.Order {
			for _, t := range p.def.States[name].On {
				if t.Save != nil && t.Save.Var == by && t.Save.As != "number" && !contains(kinds, t.Save.As) {
					kinds = append(kinds, t.Save.As)
				}
			}
		}
		if len(kinds) > 0 {
			p.errf(g.val, "ranking by %q: it is saved as %s, not a number; save it with as: number", by, strings.Join(kinds, " and "))
		}
	}
}

// answersWinner reports whether some state has a verdict: winner transition.
func (p *parser) answersWinner() bool {
	for _, name := range p.def.Order {
		for _, t := range p.def.States[name].On {
			if t.MatchVerdict(VerdictWinner) {
				return true
			}
		}
	}
	return false
}
