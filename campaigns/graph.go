package campaigns

// Edge is one arrow of the flow diagram: a transition that moves a participant from one state
// to another (To empty: it ends their run). Staying transitions are left out, as in Mermaid
// and DOT.
type Edge struct {
	From, To, Label string
	// Full marks the branch taken when a pool is full.
	Full bool
}

// Edges are the arrows of d's flow diagram, in the order of the states and their
// transitions: what Mermaid and DOT draw, for drawers of other formats (the dashboard's SVG).
func Edges(d *Definition) []Edge {
	var out []Edge
	for _, e := range edges(d) {
		out = append(out, Edge{From: e.from, To: e.to, Label: e.label, Full: e.full})
	}
	return out
}
