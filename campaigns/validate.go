package campaigns

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// validate runs the checks that need the whole definition: targets, variables, the 24-hour
// window, and the shape of the state graph.
func (p *parser) validate() {
	def := p.def
	for _, name := range def.Order {
		for _, t := range def.States[name].On {
			if t.Goto != "" && def.States[t.Goto] == nil {
				p.errf(t.gotoNode, "goto: state %q is not defined%s", t.Goto, didYouMean(t.Goto, def.Order))
			}
			if t.TakeFull != "" && def.States[t.TakeFull] == nil {
				p.errf(t.fullNode, "full: state %q is not defined%s", t.TakeFull, didYouMean(t.TakeFull, def.Order))
			}
			if t.Kind == OnOptOut && t.Goto != "" && def.States[t.Goto] != nil && !def.States[t.Goto].Final {
				p.errf(t.gotoNode, "an optout transition can only goto a final state: opting out always ends the participation")
			}
		}
	}
	p.checkUnused()
	p.checkVars()
	p.checkNumbers()
	// Every check runs, errors or not, so one run shows every problem of the file (a 24-hour
	// problem must not wait until the typos are fixed). checkGraph leaves out what would
	// only echo an error above: a misspelt goto is no "state with no way out".
	p.checkShadowed()
	p.checkLanguageSaves()
	p.checkWindow()
	p.checkMessengerWindow()
	p.checkGroups()
	if !p.unsure {
		p.checkEntered()
		if !p.unsureButtons {
			p.checkChoices()
		}
		p.checkGraph()
	}
	sort.SliceStable(p.probs, func(i, j int) bool {
		a, b := p.probs[i], p.probs[j]
		return a.Line < b.Line || a.Line == b.Line && a.Col < b.Col
	})
}

// checkUnused warns about declarations nothing uses: usually a typo on the using side that
// another check already caught, or a leftover.
func (p *parser) checkUnused() {
	for _, name := range sortedKeys(p.def.Pools) {
		if !p.poolUsed[name] {
			p.warnf(p.keyOf["pool "+name], "pool %q is declared but no transition takes from it", name)
		}
	}
	for _, key := range sortedKeys(p.def.Templates) {
		if !p.tmplUsed[key] && !p.def.Templates[key].Broadcast {
			p.warnf(p.keyOf["template "+key], "template %q is declared but no message uses it; one for broadcasts says broadcast: true", key)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := keys(m)
	sort.Strings(out)
	return out
}

// knownVars lists the variables a campaign's texts may use, in the order they are explained.
func (p *parser) knownVars() []string {
	def := p.def
	known := []string{"name", "persona"}
	if p.codes || p.codePool {
		known = append(known, "code")
	}
	if len(def.Pools) == 1 {
		known = append(known, "places_left")
	}
	if len(def.Rounds) > 0 {
		known = append(known, "round")
	}
	if def.Teams != nil {
		known = append(known, "team")
	}
	if def.Ranking != nil {
		known = append(known, "rank", "rank_of")
		if def.Ranking.Top > 0 {
			known = append(known, "top")
		}
	}
	if p.located {
		known = append(known, "lat", "lng")
	}
	if p.areas {
		known = append(known, "distance")
	}
	return append(known, sortedKeys(p.saved)...)
}

func (p *parser) checkVars() {
	def := p.def
	known := p.knownVars()
	for _, u := range p.vars {
		switch {
		case u.name == "name" && !u.fallback && def.RunsOn("webchat") && def.Teams == nil:
			p.warnf(u.node, "{{name}} is empty on the web chat, which knows no name (\"Hello , …\"): give it a text for then, like {{name|there}}")
		case contains(known, u.name):
		case u.name == "top" && p.topGiven && def.Ranking != nil:
			// top: is written but wrong, which is reported where it is.
		case engineVarMissing(def, u.name) != "":
			p.errf(u.node, "%s", engineVarMissing(def, u.name))
		default:
			p.errf(u.node, "{{%s}} is never set; known variables: %s%s", u.name, strings.Join(known, ", "), didYouMean(u.name, known))
		}
	}
}

// engineVarMissing says what a variable the engine fills needs that def lacks ("" for any
// other name): {{rank}} needs a ranking. Texts and conditions say it alike.
func engineVarMissing(def *Definition, name string) string {
	switch {
	case name == "code":
		return "{{code}} is never set: no transition has issue_code: true or takes from a pool of codes"
	case name == "places_left" && len(def.Pools) == 0:
		return "{{places_left}} needs a pool (add pools: at the top level)"
	case name == "places_left":
		return fmt.Sprintf("{{places_left}} is ambiguous with %d pools; it can only be used with one", len(def.Pools))
	case name == "round":
		return "{{round}} needs rounds (add rounds: at the top level)"
	case name == "team":
		return "{{team}} needs teams (add teams: at the top level)"
	case (name == "rank" || name == "rank_of") && def.Ranking == nil:
		return fmt.Sprintf("{{%s}} needs a ranking (add ranking: at the top level)", name)
	case name == "top":
		return "{{top}} needs a ranking with top: (how many win)"
	}
	return ""
}

// triggerKey names what a transition answers, so two transitions of a state answering the same
// thing can be found; the empty key is never a duplicate.
func triggerKey(t *Transition) []string {
	switch t.Kind {
	case OnText:
		if t.AnyText {
			return []string{"any text"}
		}
		var out []string
		for _, k := range t.Keywords {
			out = append(out, fmt.Sprintf("the text %q", normKeyword(k)))
		}
		return out
	case OnMedia:
		kinds := append([]string{}, t.Media...)
		sort.Strings(kinds)
		if len(kinds) == 0 {
			kinds = []string{"any"}
		}
		return []string{fmt.Sprintf("media %s (count %d)", strings.Join(kinds, ", "), max(t.Count, 1))}
	case OnChoice:
		if len(t.Choices) == 0 {
			return []string{"any choice"}
		}
		var out []string
		for _, c := range t.Choices {
			out = append(out, fmt.Sprintf("the choice %q", c))
		}
		return out
	case OnTimeout:
		return []string{"after " + fmtDuration(t.After)}
	case OnVerdict:
		return []string{"the verdict " + t.Verdict}
	case OnRound:
		if t.Round == "" {
			return []string{"round " + t.RoundEvent}
		}
		return []string{fmt.Sprintf("round %s %s", t.Round, t.RoundEvent)}
	case OnLocation:
		if t.Area != nil {
			// Each place of a scavenger hunt is its own answer.
			return []string{"a location " + t.Area.String()}
		}
		return []string{"any location"}
	case OnHandback, OnOptOut, OnEntered:
		return []string{string(t.Kind)}
	}
	return nil
}

// checkLanguageSaves checks a save into lang: the engine takes only a code of languages (EN
// or en-GB is en) and answers anything else with the save's invalid text.
func (p *parser) checkLanguageSaves() {
	langs := p.def.Languages
	for _, name := range p.def.Order {
		for _, t := range p.def.States[name].On {
			if t.Save == nil || t.Save.Var != VarLanguage {
				continue
			}
			if t.Kind != OnChoice {
				p.warnf(t.triggerNode, "save var \"lang\" from a text takes only a code of languages (%s) and answers anything else with the invalid text; offer a button per language with its code as id", strings.Join(langs, ", "))
				continue
			}
			for _, c := range t.Choices {
				if p.def.MatchLanguage(c) == "" {
					p.errf(t.triggerNode, "save var \"lang\": choice %q is not one of languages (%s), so who taps it hears the invalid text; give each language's button its code as id", c, strings.Join(langs, ", "))
				}
			}
		}
	}
}

// checkShadowed warns about transitions that can never fire, because an earlier one of the
// same state answers first, or because opt-out words are taken before any transition.
func (p *parser) checkShadowed() {
	optOut := append(append([]string{}, DefaultOptOut...), p.def.OptOut...)
	for _, name := range p.def.Order {
		st := p.def.States[name]
		seen := map[string]int{}
		anyText, anyChoice, anyLocation := 0, 0, 0
		for i, t := range st.On {
			for _, k := range triggerKey(t) {
				if j, ok := seen[k]; ok {
					p.warnf(t.triggerNode, "never fires: transition %d of state %q already answers %s", j, name, k)
				} else if !t.conditional() {
					// A transition with an if: leaves what it answers to the next one
					// whenever its condition does not hold.
					seen[k] = i + 1
				}
			}
			switch {
			case t.Kind == OnText && !t.AnyText && anyText > 0:
				p.warnf(t.triggerNode, "never fires: transition %d of state %q already answers any text", anyText, name)
			case t.Kind == OnChoice && len(t.Choices) > 0 && anyChoice > 0:
				p.warnf(t.triggerNode, "never fires: transition %d of state %q already answers any choice", anyChoice, name)
			case t.Kind == OnLocation && t.Area != nil && anyLocation > 0:
				p.warnf(t.triggerNode, "never fires: transition %d of state %q already answers any location", anyLocation, name)
			}
			if t.Kind == OnLocation && t.Area == nil && !t.areaWritten && anyLocation == 0 {
				anyLocation = i + 1
			}
			if t.Kind == OnText && t.AnyText && anyText == 0 && !t.conditional() {
				anyText = i + 1
			}
			if t.Kind == OnChoice && len(t.Choices) == 0 && anyChoice == 0 && !t.conditional() {
				anyChoice = i + 1
			}
			for _, k := range t.Keywords {
				for _, o := range optOut {
					if normKeyword(k) == normKeyword(o) {
						p.warnf(t.triggerNode, "never fires for %q: it is an opt-out word, which always ends the participation (use optout: true to answer it)", k)
					}
				}
			}
		}
	}
}

// checkChoices warns about choice transitions waiting for a button no message offers.
func (p *parser) checkChoices() {
	def := p.def
	offered := map[string][]string{}
	for _, name := range def.Order {
		for _, b := range def.Offered(name) {
			offered[name] = append(offered[name], b.ID)
		}
	}
	for _, name := range def.Order {
		for _, t := range def.States[name].On {
			for _, c := range t.Choices {
				if contains(offered[name], c) {
					continue
				}
				if len(offered[name]) == 0 {
					p.warnf(t.triggerNode, "choice %q: no message in or on the way into state %q offers buttons", c, name)
				} else {
					p.warnf(t.triggerNode, "choice %q is not a button offered in state %q (buttons: %s)%s", c, name, strings.Join(offered[name], ", "), didYouMean(c, offered[name]))
				}
			}
		}
	}
}

// checkWindow enforces WhatsApp's 24-hour rule on what the definition can see: messages that go
// out on a timer of a day or more (certainly outside the window: an error), and messages that
// answer a verdict or a round event (possibly outside it: a warning), including those said on
// entering the state such a transition goes to.
func (p *parser) checkWindow() {
	def := p.def
	if !def.RunsOn("whatsapp") {
		return
	}
	const fix = "when WhatsApp delivers only templates: add template: KEY (declared under templates:)"
	done := map[*yaml.Node]bool{}
	check := func(sev Severity, msgs []Message, why string) {
		for _, m := range msgs {
			if m.Template != "" || done[m.node] {
				continue
			}
			done[m.node] = true
			p.report(m.node, sev, "this message %s, %s", why, fix)
		}
	}
	for _, pass := range []Severity{Error, Warning} {
		for _, name := range def.Order {
			for _, t := range def.States[name].On {
				var sev Severity
				var why, entry string
				const late = "more than 24 hours after the participant's last message"
				switch {
				case t.Kind == OnTimeout && t.After >= 24*time.Hour:
					timing := fmt.Sprintf("%s after state %q is entered", fmtDuration(t.After), name)
					sev = Error
					why = fmt.Sprintf("goes out %s, %s", timing, late)
					entry = fmt.Sprintf("is said on entering state %q %s, %s", t.Goto, timing, late)
				case t.Kind == OnVerdict || t.Kind == OnRound:
					what := "a verdict"
					if t.Kind == OnRound {
						what = "a round event"
					}
					sev = Warning
					why = fmt.Sprintf("answers %s, which can come %s", what, late)
					entry = fmt.Sprintf("is said on entering state %q on %s, which can come %s", t.Goto, what, late)
				default:
					continue
				}
				if sev != pass {
					continue
				}
				check(sev, t.Say, why)
				if target := def.States[t.Goto]; target != nil {
					check(sev, target.Say, entry)
					for _, msgs := range enteredMessages(def, t.Goto) {
						check(sev, msgs, entry)
					}
				}
			}
		}
	}
}

// fmtDuration writes a duration the way a definition would: 2d, 36h, 90m, 1h30m.
func fmtDuration(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// checkGraph reports what only the whole state graph shows: states no participant can reach,
// and states from which no path leads out.
func (p *parser) checkGraph() {
	def := p.def
	// A goto or full: to a state that is not defined is reported above: it counts as a way
	// out here, and the state it was probably meant to name (the suggestion) as reached.
	undefined := map[string]bool{}
	meant := map[string]bool{}
	for _, name := range def.Order {
		for _, t := range def.States[name].On {
			for _, n := range []string{t.Goto, t.TakeFull} {
				if n != "" && def.States[n] == nil {
					undefined[name] = true
					meant[suggest(n, def.Order)] = true
				}
			}
		}
	}
	next := func(s string) []string {
		var out []string
		for _, t := range def.States[s].On {
			for _, n := range []string{t.Goto, t.TakeFull} {
				if n != "" && def.States[n] != nil {
					out = append(out, n)
				}
			}
		}
		return out
	}
	if def.States[def.Start] == nil {
		return // no start state (reported): nothing is reached, and saying so for each state echoes it
	}
	reached := map[string]bool{def.Start: true}
	queue := []string{def.Start}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, n := range next(s) {
			if !reached[n] {
				reached[n] = true
				queue = append(queue, n)
			}
		}
	}
	for _, name := range def.Order {
		if !reached[name] && !meant[name] {
			p.warnf(def.States[name].keyNode, "state %q cannot be reached from the start state %q", name, def.Start)
		}
	}
	// A state has a way out when it is final, ends the participation itself, rests (answers
	// but never moves on, like a subscriber waiting for news: leaving it is opting out), or
	// leads to a state that has one. What is left are closed loops. Iterate to the fixed
	// point; definitions are small.
	out := map[string]bool{}
	for _, name := range def.Order {
		st := def.States[name]
		out[name] = st.Final || len(next(name)) == 0 || undefined[name]
		for _, t := range st.On {
			out[name] = out[name] || t.End || t.Kind == OnOptOut
		}
	}
	// Propagate backwards from the states that have a way out, once over each edge.
	from := map[string][]string{}
	var queue2 []string
	for _, name := range def.Order {
		for _, n := range next(name) {
			from[n] = append(from[n], name)
		}
		if out[name] {
			queue2 = append(queue2, name)
		}
	}
	for len(queue2) > 0 {
		s := queue2[0]
		queue2 = queue2[1:]
		for _, prev := range from[s] {
			if !out[prev] {
				out[prev] = true
				queue2 = append(queue2, prev)
			}
		}
	}
	// States without a way out that lead to each other are one loop: one warning, at its first
	// state in file order, naming the others (a service desk's eight states are one problem).
	stuck := func(name string) bool {
		return reached[name] && !out[name] && len(def.States[name].On) > 0
	}
	index := map[string]int{}
	for i, name := range def.Order {
		index[name] = i
	}
	group := map[string]string{}
	var find func(string) string
	find = func(s string) string {
		if g, ok := group[s]; ok && g != s {
			r := find(g)
			group[s] = r
			return r
		}
		return s
	}
	for _, name := range def.Order {
		if !stuck(name) {
			continue
		}
		if _, ok := group[name]; !ok {
			group[name] = name
		}
		for _, n := range next(name) {
			if !stuck(n) {
				continue
			}
			if _, ok := group[n]; !ok {
				group[n] = n
			}
			a, b := find(name), find(n)
			if a != b {
				if index[a] > index[b] {
					a, b = b, a
				}
				group[b] = a
			}
		}
	}
	members := map[string][]string{}
	for _, name := range def.Order {
		if stuck(name) {
			r := find(name)
			members[r] = append(members[r], name)
		}
	}
	for _, name := range def.Order {
		m := members[name]
		if len(m) == 0 {
			continue
		}
		others := ""
		switch {
		case len(m) == 2:
			others = " (nor does " + quoteAnd(m[1:]) + ", linked to it)"
		case len(m) > 2:
			others = " (nor do " + quoteAnd(m[1:]) + ", linked to it)"
		}
		p.warnf(def.States[name].keyNode, "state %q has no way out: every path from it loops back without reaching a final state or an end: true%s", name, others)
	}
}

// quoteAnd lists names quoted, the last joined with "and": "b", "c" and "d".
func quoteAnd(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
}
