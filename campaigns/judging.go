package campaigns

import (
	"time"
)

// Judging is how a campaign's entries are judged: by a panel of judges, blind or not, with
// scores that lock after a while and an optional per-judge normalisation of the scores.
type Judging struct {
	// Blind hides who sent an entry (names, numbers, participant ids, profile pictures,
	// locations) from the judges on every page they can open.
	Blind bool
	// Judges are the usernames of the panel the entries are shared out among.
	Judges []string
	// PerEntry is how many judges score each entry (0: no panels; anyone may score).
	PerEntry int
	// ScoreLock is how long after a judge first scores an entry they may still change their
	// scores (0: they always may).
	ScoreLock time.Duration
	// Normalise is how the scores are normalised per judge before they are averaged:
	// NormaliseNone, NormaliseZScore or NormaliseRescaled.
	Normalise string
}

// The normalisations of judges' scores.
const (
	// NormaliseNone averages the judges' weighted totals as they gave them.
	NormaliseNone = "none"
	// NormaliseZScore turns each judge's totals into z-scores (how many of that judge's
	// standard deviations above that judge's mean), so a strict and a lenient judge weigh the same.
	NormaliseZScore = "z-score"
	// NormaliseRescaled is NormaliseZScore mapped back onto the rubric's scale, with the mean
	// and spread of all the campaign's totals, so the figures read like scores.
	NormaliseRescaled = "rescaled"
)

// Normalisations lists the normalisations.
var Normalisations = []string{NormaliseNone, NormaliseZScore, NormaliseRescaled}

var judgingKeys = []string{"blind", "judges", "per_entry", "score_lock", "normalise"}

// judging reads the judging settings. It runs after the rubric: panels, locks and
// normalisation are about rubric scores.
func (p *parser) judging(f field) {
	fs := p.mapping(f.val, "judging", judgingKeys...)
	if fs == nil {
		return
	}
	j := &Judging{Normalise: NormaliseNone}
	p.def.Judging = j
	if g, ok := fs["blind"]; ok {
		j.Blind = p.boolean(g, "judging blind")
	}
	if g, ok := fs["judges"]; ok {
		names, nodes := p.strList(g, "judging judges")
		for i, n := range names {
			if contains(j.Judges, n) {
				p.errf(nodes[i], "judging judges: %q is listed twice", n)
				continue
			}
			j.Judges = append(j.Judges, n)
		}
	}
	if g, ok := fs["per_entry"]; ok {
		j.PerEntry = p.integer(g, "judging per_entry", 1)
		switch {
		case j.PerEntry > 0 && len(j.Judges) == 0:
			p.errf(g.val, "judging per_entry needs judges: the usernames of the panel the entries are shared out among")
		case j.PerEntry > len(j.Judges):
			p.errf(g.val, "judging per_entry (%d) is more than the %d judges listed; each entry needs judges of its own", j.PerEntry, len(j.Judges))
		}
	} else if g, ok := fs["judges"]; ok && len(j.Judges) > 0 {
		p.errf(g.key, "judging judges: give per_entry too, how many of them score each entry")
	}
	if g, ok := fs["score_lock"]; ok {
		j.ScoreLock = p.duration(g, "judging score_lock")
	}
	if g, ok := fs["normalise"]; ok {
		n := p.str(g, "judging normalise")
		if n != "" && !contains(Normalisations, n) {
			p.errf(g.val, "judging normalise %q: use none, z-score or rescaled%s", n, didYouMean(n, Normalisations))
		} else if n != "" {
			j.Normalise = n
		}
	}
	if p.def.Rubric == nil {
		for _, k := range []string{"per_entry", "score_lock", "normalise"} {
			if g, ok := fs[k]; ok {
				p.errf(g.key, "judging %s is about rubric scores, but the campaign has no rubric", k)
			}
		}
	}
}
