package dashboard

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
)

// The flow diagram and the charts are drawn here as SVG, on the server: the pages need no
// script to show them, and the Content-Security-Policy stays strict (SVG presentation
// attributes and the stylesheet's classes, no inline styles).

const (
	boxW, boxH   = 156, 58
	gapX, gapY   = 28, 64
	diagramPad   = 16
	maxEdgeLabel = 26
)

// esc escapes text for SVG.
func esc(s string) string { return html.EscapeString(s) }

// ellipsis cuts s to n characters, the last one an ellipsis when it was longer.
func ellipsis(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// flowDiagram draws def's states in layers by their distance from the start, each box with
// the number of participants in it and a link to the list of them (link "" draws no links).
func flowDiagram(def *campaigns.Definition, counts map[string]int, link func(state string) string) template.HTML {
	edges := campaigns.Edges(def)
	level := map[string]int{}
	if def.Start != "" {
		level[def.Start] = 0
		queue := []string{def.Start}
		for len(queue) > 0 {
			s := queue[0]
			queue = queue[1:]
			for _, e := range edges {
				if e.From != s || e.To == "" {
					continue
				}
				if _, seen := level[e.To]; !seen {
					level[e.To] = level[s] + 1
					queue = append(queue, e.To)
				}
			}
		}
	}
	maxLevel := 0
	for _, l := range level {
		maxLevel = max(maxLevel, l)
	}
	var layers [][]string
	for _, name := range def.Order {
		l, ok := level[name]
		if !ok { // not reachable from the start by a move (reached by an event of its own)
			l = maxLevel + 1
			level[name] = l
		}
		for len(layers) <= l {
			layers = append(layers, nil)
		}
		layers[l] = append(layers[l], name)
	}
	widest := 0
	for _, layer := range layers {
		widest = max(widest, len(layer))
	}
	width := diagramPad*2 + widest*boxW + max(0, widest-1)*gapX + 90 // room for loops on the right
	height := diagramPad*2 + len(layers)*boxH + max(0, len(layers)-1)*gapY
	type pos struct{ x, y int }
	at := map[string]pos{}
	for i, layer := range layers {
		w := len(layer)*boxW + max(0, len(layer)-1)*gapX
		x0 := diagramPad + (width-90-2*diagramPad-w)/2
		for j, name := range layer {
			at[name] = pos{x0 + j*(boxW+gapX), diagramPad + i*(boxH+gapY)}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="flow-diagram" viewBox="0 0 %d %d" width="%d" role="img" aria-label="Flow of %s" xmlns="http://www.w3.org/2000/svg">`, width, height, width, esc(def.Title))
	b.WriteString(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#5e6670"/></marker></defs>`)
	// Edges first, so the boxes sit on top of them; one arrow per pair, labels joined.
	type pair struct{ from, to string }
	labels := map[pair][]string{}
	var pairs []pair
	ends := map[string][]string{}
	for _, e := range edges {
		if e.To == "" {
			ends[e.From] = append(ends[e.From], e.Label)
			continue
		}
		if e.To == e.From {
			continue
		}
		k := pair{e.From, e.To}
		if _, ok := labels[k]; !ok {
			pairs = append(pairs, k)
		}
		labels[k] = append(labels[k], e.Label)
	}
	loop := 0
	for _, k := range pairs {
		a, z := at[k.from], at[k.to]
		label := strings.Join(labels[k], " / ")
		var path string
		var lx, ly int
		if level[k.to] > level[k.from] {
			x1, y1 := a.x+boxW/2, a.y+boxH
			x2, y2 := z.x+boxW/2, z.y
			my := (y1 + y2) / 2
			path = fmt.Sprintf("M%d,%d C%d,%d %d,%d %d,%d", x1, y1, x1, my, x2, my, x2, y2-2)
			// The label sits at three quarters of the way, near the arrow's end: the arrows
			// leaving one state then keep their labels apart.
			lx = int(0.16*float64(x1) + 0.84*float64(x2))
			ly = int(0.016*float64(y1)+0.562*float64(my)+0.422*float64(y2)) + 4
		} else {
			// Back or sideways: around the right of the boxes.
			loop++
			x1, y1 := a.x+boxW, a.y+boxH/2
			x2, y2 := z.x+boxW, z.y+boxH/2
			bulge := max(x1, x2) + 24 + 12*(loop%4)
			path = fmt.Sprintf("M%d,%d C%d,%d %d,%d %d,%d", x1, y1, bulge, y1, bulge, y2, x2+2, y2)
			lx, ly = bulge-4, (y1+y2)/2+4
		}
		fmt.Fprintf(&b, `<g class="edge"><title>%s → %s: %s</title><path d="%s" fill="none" stroke="#8a949e" stroke-width="1.4" marker-end="url(#arrow)"/>`, esc(k.from), esc(k.to), esc(label), path)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" font-size="10" fill="#3d454d" stroke="#fff" stroke-width="3" paint-order="stroke">%s</text></g>`, lx, ly, esc(ellipsis(label, maxEdgeLabel)))
	}
	for _, name := range def.Order {
		st := def.States[name]
		if st == nil {
			continue
		}
		p := at[name]
		fill, stroke := "#ffffff", "#8a949e"
		switch {
		case name == def.Start:
			fill, stroke = "#e7f5eb", "#1a7f37"
		case st.Handoff != "":
			fill, stroke = "#fff4d6", "#8a5a00"
		case st.Final:
			fill, stroke = "#f4f6f8", "#5e6670"
		}
		n := counts[name]
		href := ""
		if link != nil {
			href = link(name)
		}
		if href != "" {
			fmt.Fprintf(&b, `<a href="%s" class="state-link" data-state="%s">`, esc(href), esc(name))
		}
		title := name + ": " + count(n, "participant", "participants")
		if st.Handoff != "" {
			title += ", handed to " + st.Handoff
		}
		if len(ends[name]) > 0 {
			title += "; ends on " + strings.Join(ends[name], " / ")
		}
		fmt.Fprintf(&b, `<g class="state"><title>%s</title><rect x="%d" y="%d" width="%d" height="%d" rx="8" fill="%s" stroke="%s" stroke-width="1.5"%s/>`,
			esc(title), p.x, p.y, boxW, boxH, fill, stroke, dashIf(st.Final))
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" font-size="13" font-weight="600" fill="#1f2328">%s</text>`, p.x+boxW/2, p.y+21, esc(ellipsis(name, 20)))
		sub := count(n, "participant", "participants")
		if st.Handoff != "" {
			sub += " · " + st.Handoff
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" font-size="11" fill="#3d454d" class="state-count">%s</text>`, p.x+boxW/2, p.y+40, esc(ellipsis(sub, 26)))
		b.WriteString(`</g>`)
		if href != "" {
			b.WriteString(`</a>`)
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func dashIf(final bool) string {
	if final {
		return ` stroke-dasharray="5 3"`
	}
	return ""
}

// series is one coloured set of values of a chart, one value per day or bar.
type series struct {
	Name  string
	Color string
	Vals  []float64
}

// hbar is one bar of a horizontal bar chart.
type hbar struct {
	Label string
	Value int
	Href  string
}

// barChart draws horizontal bars, longest to scale: the funnel of participants per state.
func barChart(label string, bars []hbar) template.HTML {
	const labelW, barW, rowH = 150, 360, 24
	most := 1
	for _, b := range bars {
		most = max(most, b.Value)
	}
	w, h := labelW+barW+60, len(bars)*rowH+8
	var b strings.Builder
	fmt.Fprintf(&b, `<svg viewBox="0 0 %d %d" width="%d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`, w, h, w, esc(label))
	for i, bar := range bars {
		y := 4 + i*rowH
		bw := int(math.Round(float64(bar.Value) / float64(most) * barW))
		if bar.Value > 0 {
			bw = max(bw, 2)
		}
		if bar.Href != "" {
			fmt.Fprintf(&b, `<a href="%s">`, esc(bar.Href))
		}
		fmt.Fprintf(&b, `<g><title>%s: %d</title><text x="%d" y="%d" text-anchor="end" font-size="12" fill="#1f2328">%s</text>`, esc(bar.Label), bar.Value, labelW-8, y+15, esc(ellipsis(bar.Label, 20)))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" rx="3" fill="#0b5cad"/>`, labelW, y+3, bw, rowH-8)
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" fill="#3d454d">%d</text></g>`, labelW+bw+6, y+15, bar.Value)
		if bar.Href != "" {
			b.WriteString(`</a>`)
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// dayChart draws one column per day, the series stacked (stacked) or side by side, with the
// largest value's axis line and the first and last day written under it.
func dayChart(label string, days []time.Time, ss []series, stacked bool, unit func(float64) string) template.HTML {
	const w, h, left, bottom, top = 560, 180, 44, 22, 10
	if unit == nil {
		unit = func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }
	}
	most := 0.0
	for i := range days {
		sum := 0.0
		for _, s := range ss {
			if stacked {
				sum += s.Vals[i]
			} else {
				sum = math.Max(sum, s.Vals[i])
			}
		}
		most = math.Max(most, sum)
	}
	if most == 0 {
		most = 1
	}
	plotW, plotH := float64(w-left-8), float64(h-bottom-top)
	colW := plotW / float64(max(1, len(days)))
	var b strings.Builder
	fmt.Fprintf(&b, `<svg viewBox="0 0 %d %d" width="%d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`, w, h, w, esc(label))
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#d8dde3"/>`, left, top, w-8, top)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#8a949e"/>`, left, h-bottom, w-8, h-bottom)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" font-size="11" fill="#5e6670">%s</text>`, left-4, top+4, esc(unit(most)))
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" font-size="11" fill="#5e6670">0</text>`, left-4, h-bottom+4)
	for i, day := range days {
		x := float64(left) + float64(i)*colW
		base := float64(h - bottom)
		var tip []string
		for j, s := range ss {
			v := s.Vals[i]
			tip = append(tip, s.Name+" "+unit(v))
			if v <= 0 {
				continue
			}
			bh := v / most * plotH
			bx, bw := x+colW*0.15, colW*0.7
			if !stacked {
				bw = colW * 0.7 / float64(len(ss))
				bx = x + colW*0.15 + float64(j)*bw
				base = float64(h - bottom)
			}
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, bx, base-bh, math.Max(bw, 1), bh, s.Color)
			if stacked {
				base -= bh
			}
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%.0f" fill="transparent"><title>%s: %s</title></rect>`, x, top, colW, plotH, day.Format("2 Jan"), esc(strings.Join(tip, ", ")))
	}
	if len(days) > 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" fill="#5e6670">%s</text>`, left, h-6, days[0].Format("2 Jan"))
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" font-size="11" fill="#5e6670">%s</text>`, w-8, h-6, days[len(days)-1].Format("2 Jan"))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// legend is the key of a chart's colours.
type legendItem struct{ Name, Color string }

func legendOf(ss []series) []legendItem {
	out := make([]legendItem, 0, len(ss))
	for _, s := range ss {
		out = append(out, legendItem{s.Name, s.Color})
	}
	return out
}

// dayRange is every UTC day from since to now, so a chart shows quiet days as empty columns.
func dayRange(since, now time.Time) []time.Time {
	var out []time.Time
	for d := since.UTC().Truncate(24 * time.Hour); !d.After(now); d = d.Add(24 * time.Hour) {
		out = append(out, d)
	}
	return out
}

func dayIndex(days []time.Time, t time.Time) int {
	return slices.IndexFunc(days, func(d time.Time) bool { return d.Equal(t.UTC().Truncate(24 * time.Hour)) })
}

// stateLink is the participants list of one state.
func stateLink(campaign, state string) string {
	return "/dashboard/campaigns/" + url.PathEscape(campaign) + "/participants?state=" + url.QueryEscape(state)
}
