package engine

import (
	"strconv"

	"github.com/chatcampaigns/campaign/campaigns"
)

// maxEnteredMoves caps the entered transitions one step follows. Validation refuses a loop of
// them; the cap keeps a definition that slipped through (or a future bug) from spinning.
const maxEnteredMoves = 32

// holds reports whether t's condition (if:) holds for the participant now; no condition holds.
func (r *run) holds(t *campaigns.Transition) bool {
	if t.If == nil {
		return true
	}
	return t.If.Eval(r.lookup)
}

// lookup reads a variable for a condition. A participant who never chose a language speaks
// the campaign's first one; what the engine works out for texts ({{rank}}, {{rank_of}},
// {{top}}, {{places_left}}, {{persona}}) is worked out the same way, now.
func (r *run) lookup(name string) (string, bool) {
	switch name {
	case "rank", "rank_of":
		vars := map[string]string{}
		r.rankVars(vars)
		if v := vars[name]; v != "" {
			return v, true
		}
		// Not ranked (no number yet) is no place at all, not 0: rank <= 3 does not hold,
		// as for any variable holding no number.
		return "not ranked", true
	case "top":
		if rk := r.def.Ranking; rk != nil && rk.Top > 0 {
			return strconv.Itoa(rk.Top), true
		}
		return "", false
	case "places_left":
		v := r.placesLeft()
		return v, v != ""
	case "persona":
		return r.def.Persona.Name, true
	}
	v, ok := r.p.Vars[name]
	if !ok && name == "lang" {
		return lang(r.def), true
	}
	return v, ok
}

// timerFires reports whether the timer event fires t. Only the first after: transition of each
// duration has a timer (see enter); when it fires, every after: transition of that duration is
// tried in file order, so one whose condition does not hold falls to the next.
func (r *run) timerFires(st *campaigns.State, t *campaigns.Transition) bool {
	if t.Kind != campaigns.OnTimeout {
		return false
	}
	for _, o := range st.On {
		if o.Kind == campaigns.OnTimeout && o.Name == r.in.Timer {
			return o.After == t.After
		}
	}
	return false
}

// firstTimers reports, per after: transition of st, whether it is the first of its duration:
// those set the state's timers.
func firstTimers(st *campaigns.State) map[*campaigns.Transition]bool {
	first := map[*campaigns.Transition]bool{}
	seen := map[int64]bool{}
	for _, t := range st.On {
		if t.Kind == campaigns.OnTimeout && !seen[int64(t.After)] {
			seen[int64(t.After)] = true
			first[t] = true
		}
	}
	return first
}

// setNumbers runs a transition's set: and add: actions.
func (r *run) setNumbers(t *campaigns.Transition) {
	for k, v := range t.Set {
		r.p.Vars[k] = v
	}
	for k, d := range t.Add {
		r.p.Vars[k] = campaigns.AddNumber(r.p.Vars[k], d)
	}
}

// settle follows the entered transitions of the states this step entered: the first of the
// state whose condition holds runs, which may enter the next state, and so on.
func (r *run) settle() error {
	for moves := 0; r.arrived != nil; moves++ {
		st := r.arrived
		r.arrived = nil
		p := r.p
		if p.Finished || p.State != st.Name || p.Vars["handoff"] != "" {
			return nil
		}
		if moves == maxEnteredMoves {
			r.e.log.Warn("entered transitions: too many moves in one step; the participant stays",
				"campaign", r.def.ID, "participant", p.ID, "state", st.Name, "moves", moves)
			return nil
		}
		for _, t := range st.On {
			if t.Kind == campaigns.OnEntered && r.holds(t) {
				if err := r.do(t); err != nil {
					return err
				}
				break
			}
		}
	}
	return nil
}

// fillNumbers shows a number variable not set yet as 0, as add: counts it.
func fillNumbers(def *campaigns.Definition, vars map[string]string) {
	for _, n := range def.Numbers {
		if _, ok := vars[n]; !ok {
			vars[n] = "0"
		}
	}
}

// varValue is a variable's value as a text shows it: a number variable not set yet is 0.
func varValue(def *campaigns.Definition, vars map[string]string, name string) string {
	if v, ok := vars[name]; ok {
		return v
	}
	for _, n := range def.Numbers {
		if n == name {
			return "0"
		}
	}
	return ""
}
