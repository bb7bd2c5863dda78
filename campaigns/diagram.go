package campaigns

import (
	"fmt"
	"strings"
)

// An edge of a diagram: a transition that moves the participant (staying transitions are left
// out: they would make every state a tangle of loops without showing the flow).
type edge struct {
	from, to, label string
	full            bool // the branch taken when a pool is full
}

func edges(d *Definition) []edge {
	var out []edge
	for _, name := range d.Order {
		st := d.States[name]
		if st == nil {
			continue
		}
		for _, t := range st.On {
			label := transitionLabel(t)
			switch {
			case t.Goto != "":
				out = append(out, edge{from: name, to: t.Goto, label: label})
			case t.End:
				out = append(out, edge{from: name, label: label})
			}
			if t.TakeFull != "" {
				out = append(out, edge{from: name, to: t.TakeFull, label: t.Take + " full", full: true})
			}
		}
	}
	return out
}

// transitionLabel says what fires a transition and what it does besides moving, briefly.
func transitionLabel(t *Transition) string {
	var parts []string
	switch t.Kind {
	case OnText:
		switch {
		case t.AnyText:
			parts = append(parts, "any text")
		case t.Pattern != nil:
			parts = append(parts, "text matching a pattern")
		default:
			parts = append(parts, strings.Join(t.Keywords, " / "))
		}
	case OnMedia:
		kinds := "media"
		if len(t.Media) > 0 {
			kinds = strings.Join(t.Media, " / ")
		}
		if t.Count > 1 {
			kinds = fmt.Sprintf("%d× %s", t.Count, kinds)
		}
		parts = append(parts, kinds)
	case OnChoice:
		if len(t.Choices) == 0 {
			parts = append(parts, "any choice")
		} else {
			parts = append(parts, "choice "+strings.Join(t.Choices, " / "))
		}
	case OnTimeout:
		parts = append(parts, "after "+fmtDuration(t.After))
	case OnVerdict:
		parts = append(parts, t.Verdict)
	case OnRound:
		r := "round"
		if t.Round != "" {
			r = t.Round
		}
		parts = append(parts, r+" "+t.RoundEvent)
	case OnLocation:
		if t.Area != nil {
			parts = append(parts, "location "+t.Area.String())
		} else {
			parts = append(parts, "location")
		}
	case OnHandback:
		parts = append(parts, "handback")
	case OnOptOut:
		parts = append(parts, "opt-out")
	case OnEntered:
		parts = append(parts, "entered")
	}
	if t.If != nil {
		parts = append(parts, "if "+t.If.String())
	}
	if len(t.Add) > 0 {
		parts = append(parts, "add "+strings.Join(sortedKeys(t.Add), ", "))
	}
	if t.Save != nil {
		parts = append(parts, "save "+t.Save.Var)
	}
	if t.Collect {
		parts = append(parts, "collect")
	}
	if t.Take != "" {
		parts = append(parts, "take "+t.Take)
	}
	if t.IssueCode {
		parts = append(parts, "code")
	}
	return strings.Join(parts, " · ")
}

// stateLabel is the state's name, its hand-off and its participant count when counts is set.
func stateLabel(st *State, counts map[string]int) []string {
	lines := []string{st.Name}
	if st.Handoff != "" {
		lines = append(lines, "handoff: "+st.Handoff)
	}
	if counts != nil {
		n := counts[st.Name]
		if n == 1 {
			lines = append(lines, "1 participant")
		} else {
			lines = append(lines, fmt.Sprintf("%d participants", n))
		}
	}
	return lines
}

// Mermaid draws the state machine as a Mermaid state diagram. With counts (participants per
// state, by state name) each state shows how many participants are in it.
func Mermaid(d *Definition, counts map[string]int) string {
	var b strings.Builder
	ids := diagramIDs(d)
	clean := func(s string) string {
		// Mermaid has no escaping in labels; these characters end or break one.
		return strings.NewReplacer(`"`, "'", ":", " ", ";", ",", "#", "", "\n", " ", "{", "(", "}", ")", "<", "‹", ">", "›").Replace(s)
	}
	b.WriteString("stateDiagram-v2\n")
	if d.Title != "" {
		fmt.Fprintf(&b, "    %%%% %s\n", clean(d.Title))
	}
	for _, name := range d.Order {
		st := d.States[name]
		if st == nil {
			continue
		}
		fmt.Fprintf(&b, "    state \"%s\" as %s\n", clean(strings.Join(stateLabel(st, counts), " · ")), ids[name])
	}
	if d.States[d.Start] != nil {
		fmt.Fprintf(&b, "    [*] --> %s\n", ids[d.Start])
	}
	for _, e := range edges(d) {
		to := "[*]"
		if e.to != "" {
			to = ids[e.to]
		}
		if ids[e.from] == "" || to == "" {
			continue
		}
		fmt.Fprintf(&b, "    %s --> %s", ids[e.from], to)
		if e.label != "" {
			fmt.Fprintf(&b, " : %s", clean(e.label))
		}
		b.WriteString("\n")
	}
	for _, name := range d.Order {
		if st := d.States[name]; st != nil && st.Final {
			fmt.Fprintf(&b, "    %s --> [*]\n", ids[name])
		}
	}
	for _, name := range d.Order {
		if st := d.States[name]; st != nil && st.Handoff != "" {
			fmt.Fprintf(&b, "    class %s handoff\n", ids[name])
		}
	}
	if hasHandoff(d) {
		b.WriteString("    classDef handoff fill:#fff3cd,stroke:#b58900\n")
	}
	return b.String()
}

func hasHandoff(d *Definition) bool {
	for _, st := range d.States {
		if st.Handoff != "" {
			return true
		}
	}
	return false
}

// diagramIDs gives each state an id Mermaid accepts: state names may hold "-", and a name
// like "end" is a keyword there.
func diagramIDs(d *Definition) map[string]string {
	ids := map[string]string{}
	used := map[string]bool{}
	for _, name := range d.Order {
		id := "s_" + strings.ReplaceAll(name, "-", "_")
		for used[id] {
			id += "_"
		}
		used[id] = true
		ids[name] = id
	}
	return ids
}

// DOT draws the state machine in Graphviz's language. With counts (participants per state, by
// state name) each state shows how many participants are in it.
func DOT(d *Definition, counts map[string]int) string {
	var b strings.Builder
	q := func(s string) string {
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
	}
	fmt.Fprintf(&b, "digraph %s {\n", q(d.ID))
	if d.Title != "" {
		fmt.Fprintf(&b, "  label=%s;\n  labelloc=t;\n", q(d.Title))
	}
	b.WriteString("  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n")
	b.WriteString("  \"__start\" [shape=point, label=\"\"];\n")
	ends := false
	for _, e := range edges(d) {
		ends = ends || e.to == ""
	}
	if ends {
		b.WriteString("  \"__end\" [shape=doublecircle, label=\"\", width=0.2];\n")
	}
	for _, name := range d.Order {
		st := d.States[name]
		if st == nil {
			continue
		}
		attrs := []string{"label=" + q(strings.Join(stateLabel(st, counts), "\n"))}
		if st.Final {
			attrs = append(attrs, "peripheries=2")
		}
		if st.Handoff != "" {
			attrs = append(attrs, `style="rounded,filled"`, `fillcolor="#fff3cd"`)
		}
		fmt.Fprintf(&b, "  %s [%s];\n", q(name), strings.Join(attrs, ", "))
	}
	if d.States[d.Start] != nil {
		fmt.Fprintf(&b, "  \"__start\" -> %s;\n", q(d.Start))
	}
	for _, e := range edges(d) {
		to := `"__end"`
		if e.to != "" {
			to = q(e.to)
		}
		attrs := []string{"label=" + q(e.label)}
		if e.full {
			attrs = append(attrs, "style=dashed")
		}
		fmt.Fprintf(&b, "  %s -> %s [%s];\n", q(e.from), to, strings.Join(attrs, ", "))
	}
	b.WriteString("}\n")
	return b.String()
}
