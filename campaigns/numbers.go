package campaigns

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// numberUses is what the parse collects about numbers and conditions, checked once the whole
// definition is known.
type numberUses struct {
	numbers map[string]*yaml.Node // variables counted with add:, or set: to a number
	texts   map[string]string     // variables that hold a text, and what makes them one
	conds   []condUse
}

// condUse is one comparison of an if:, and where it is written.
type condUse struct {
	c   *Condition
	pos *yaml.Node // a node at the comparison's line and column
}

// textOnlyVars hold texts the engine or the chat app sets: nothing can be added to them.
var textOnlyVars = []string{"name", "lang"}

// conditional says whether the transition has an if:, also one that did not parse (reported):
// checks that treat an unconditional transition differently would otherwise echo that error.
func (t *Transition) conditional() bool { return t.If != nil || t.ifNode != nil }

// condition reads an if: of a transition.
func (p *parser) condition(f field, t *Transition) {
	src := p.str(f, "if")
	if src == "" {
		return
	}
	t.ifNode = f.val
	c, err := ParseCondition(src)
	if err != nil {
		off := 0
		msg := err.Error()
		if ce, ok := err.(*ConditionError); ok {
			off = ce.Offset
		}
		p.errf(condPos(f.val, off), "%s", msg)
		return
	}
	t.If = c
	for _, cmp := range c.comparisons() {
		p.nums.conds = append(p.nums.conds, condUse{c: cmp, pos: condPos(f.val, cmp.Col)})
	}
}

// condPos is a node standing for the offset off of the condition written at n, so a problem
// points at the comparison itself.
func condPos(n *yaml.Node, off int) *yaml.Node {
	col := n.Column + off
	if n.Style == yaml.DoubleQuotedStyle || n.Style == yaml.SingleQuotedStyle {
		col++
	}
	if strings.Contains(n.Value, "\n") || n.Style == yaml.LiteralStyle || n.Style == yaml.FoldedStyle {
		col = n.Column // a condition over lines: point at its start
	}
	return &yaml.Node{Line: n.Line, Column: col}
}

// varTarget checks a variable an add: or set: writes.
func (p *parser) varTarget(k *yaml.Node, action string) bool {
	switch {
	case k.Kind != yaml.ScalarNode || !varNameRe.MatchString(k.Value):
		p.errf(k, "%s var %q must be lower-case letters, digits and _ (it is used as {{%s}})", action, k.Value, k.Value)
	case contains(engineVars, k.Value):
		p.errf(k, "%s var %q is set by the engine; choose another name", action, k.Value)
	case action == "add" && contains(textOnlyVars, k.Value):
		p.errf(k, "add var %q holds a text; only a number can be added to", k.Value)
	default:
		return true
	}
	return false
}

// add reads add: {var: number, ...}.
func (p *parser) add(f field, t *Transition) {
	n := f.val
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		p.errf(n, "add must be a mapping of variables to numbers, like add: {points: 1}")
		return
	}
	t.Add = map[string]float64{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !p.varTarget(k, "add") {
			continue
		}
		x, ok := ParseNumber(v.Value)
		if v.Kind != yaml.ScalarNode || !ok || x > 1e15 || x < -1e15 {
			p.errf(v, "add: %s must be a number, like 1 or -2, not %q", k.Value, v.Value)
			continue
		}
		if _, dup := t.Add[k.Value]; dup {
			p.errf(k, "add: %s is listed twice", k.Value)
			continue
		}
		t.Add[k.Value] = x
		p.numberVar(k)
	}
}

// set reads set: {var: value, ...}: a value as written, a number or a text.
func (p *parser) set(f field, t *Transition) {
	n := f.val
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		p.errf(n, "set must be a mapping of variables to values, like set: {level: 2}")
		return
	}
	t.Set = map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !p.varTarget(k, "set") {
			continue
		}
		if v.Kind != yaml.ScalarNode || isNull(v) {
			p.errf(v, "set: %s needs a value (a number or a text)", k.Value)
			continue
		}
		if _, dup := t.Set[k.Value]; dup {
			p.errf(k, "set: %s is listed twice", k.Value)
			continue
		}
		value := v.Value
		if x, err := strconv.ParseFloat(value, 64); err == nil && (v.Tag == "!!int" || v.Tag == "!!float") && x == x && x < 1e15 && x > -1e15 {
			value = FormatNumber(x)
			p.numberVar(k)
		} else {
			if k.Value == "lang" && !contains(p.def.Languages, value) {
				p.errf(v, "set: lang %q is not one of languages (%s)%s", value, strings.Join(p.def.Languages, ", "), didYouMean(value, p.def.Languages))
			}
			p.setVar(k.Value)
			p.textVar(k.Value, fmt.Sprintf("set: %s: %q", k.Value, value))
		}
		t.Set[k.Value] = value
	}
}

func (p *parser) numberVar(k *yaml.Node) {
	p.setVar(k.Value)
	if p.nums.numbers == nil {
		p.nums.numbers = map[string]*yaml.Node{}
	}
	if p.nums.numbers[k.Value] == nil {
		p.nums.numbers[k.Value] = k
	}
}

// setVar notes a variable an action gives a value, so texts and conditions may use it.
func (p *parser) setVar(name string) {
	if p.saved == nil {
		p.saved = map[string]bool{}
	}
	p.saved[name] = true
}

func (p *parser) textVar(name, why string) {
	if p.nums.texts == nil {
		p.nums.texts = map[string]string{}
	}
	if _, ok := p.nums.texts[name]; !ok {
		p.nums.texts[name] = why
	}
}

// checkNumbers runs once the whole definition is read: a variable is a number or a text, and
// every condition names a variable something sets and compares it with the right kind.
func (p *parser) checkNumbers() {
	def := p.def
	for _, name := range def.Order {
		for _, t := range def.States[name].On {
			if t.Save != nil && t.Save.Var != "" && t.Save.As != "number" && t.Save.As != "age" {
				p.textVar(t.Save.Var, fmt.Sprintf("save: {var: %s, as: %s}", t.Save.Var, t.Save.As))
			}
			if t.Save != nil && t.Save.Var != "" {
				if _, ok := t.Set[t.Save.Var]; ok {
					p.warnf(t.triggerNode, "set: %s overwrites the answer save: stores in %s in the same transition (set runs after save)", t.Save.Var, t.Save.Var)
				}
			}
		}
	}
	numbers := sortedKeys(p.nums.numbers)
	def.Numbers = numbers
	for _, v := range numbers {
		if why, ok := p.nums.texts[v]; ok {
			p.errf(p.nums.numbers[v], "%s is counted with add: but also holds a text (%s); a variable holds a number or a text", v, why)
		}
	}
	known := append(p.knownVars(), "lang")
	for _, u := range p.nums.conds {
		c := u.c
		_, isNum := p.nums.numbers[c.Var]
		switch {
		case !contains(known, c.Var) && engineVarMissing(def, c.Var) != "":
			p.errf(u.pos, "if: %s", engineVarMissing(def, c.Var))
		case !contains(known, c.Var):
			p.errf(u.pos, "if: %s is never set: give it a value with add:, set: or save:%s", c.Var, didYouMean(c.Var, known))
		case isNum && !c.IsNum:
			p.errf(u.pos, "if: %s is a number (add: counts it); compare it with a number, not %q", c.Var, c.Text)
		case !c.IsNum && c.Op != "==" && c.Op != "!=":
			p.errf(u.pos, "if: %s compares numbers; %q is a text (texts compare with == or !=)", c.Op, c.Text)
		case c.Var == VarLanguage && !c.IsNum && !containsFold(def.Languages, strings.TrimSpace(c.Text)):
			// The participant's language is always a code of languages: lang == fr in a
			// [nl, en] campaign never holds, lang != fr always does.
			outcome := "never holds"
			if c.Op == "!=" {
				outcome = "always holds"
			}
			p.errf(u.pos, "if: lang %q is not one of languages (%s), so this %s%s", c.Text, strings.Join(def.Languages, ", "), outcome, didYouMean(c.Text, def.Languages))
		}
	}
}

// checkEntered refuses entered transitions that lead round in a circle (a participant would
// move on for ever), and warns about a state its entered conditions can leave a participant
// stuck in.
func (p *parser) checkEntered() {
	def := p.def
	// An edge is where an entered transition can take a participant: its goto, and its full:
	// when it takes from a pool.
	type edge struct {
		to   string
		node *yaml.Node
	}
	next := map[string][]edge{}
	for _, name := range def.Order {
		st := def.States[name]
		allEntered, allIf := len(st.On) > 0, true
		for _, t := range st.On {
			if t.Kind != OnEntered {
				allEntered = false
				continue
			}
			allIf = allIf && t.conditional()
			if t.Goto != "" && def.States[t.Goto] != nil {
				next[name] = append(next[name], edge{t.Goto, t.gotoNode})
			}
			if t.TakeFull != "" && def.States[t.TakeFull] != nil {
				next[name] = append(next[name], edge{t.TakeFull, t.fullNode})
			}
		}
		if allEntered && allIf {
			p.warnf(st.keyNode, "state %q: when none of its entered conditions holds, the participant stays here and nothing else moves them on; give the last entered transition no if:", name)
		}
	}
	// Depth-first search for a cycle; each is reported once, at the transition closing it.
	const (
		unseen = iota
		onPath
		done
	)
	mark := map[string]int{}
	var path []string
	var visit func(s string)
	visit = func(s string) {
		mark[s] = onPath
		path = append(path, s)
		for _, e := range next[s] {
			switch mark[e.to] {
			case onPath:
				i := len(path) - 1
				for path[i] != e.to {
					i--
				}
				loop := append(append([]string{}, path[i:]...), e.to)
				p.errf(e.node, "entered transitions go round in a loop (%s): a participant would never stop moving; give one of them another trigger", strings.Join(loop, " → "))
			case unseen:
				visit(e.to)
			}
		}
		path = path[:len(path)-1]
		mark[s] = done
	}
	for _, s := range def.Order {
		if mark[s] == unseen {
			visit(s)
		}
	}
}

// enteredMessages are what the entered transitions of state, and the states they lead to, can
// say in the step that enters state: those go out as late as its own say.
func enteredMessages(def *Definition, state string) [][]Message {
	var out [][]Message
	seen := map[string]bool{}
	var walk func(string)
	walk = func(name string) {
		st := def.States[name]
		if st == nil || seen[name] {
			return
		}
		seen[name] = true
		for _, t := range st.On {
			if t.Kind != OnEntered {
				continue
			}
			out = append(out, t.Say)
			for _, next := range []string{t.Goto, t.TakeFull} {
				if next != "" && def.States[next] != nil && !seen[next] {
					out = append(out, def.States[next].Say)
					walk(next)
				}
			}
		}
	}
	walk(state)
	return out
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
