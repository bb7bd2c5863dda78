package dashboard

import (
	"fmt"
	"html/template"
	"math"
	"strings"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/reports"
)

// The funnel per round: how many participants (teams, in a race) signed up, how many each
// round got to, and of those how many went on to the next, are in it now and went out in it.
// A participant's `round` variable is the last round that started for them, so a round got
// to everyone whose last round is it or a later one.

// funnelRow is one bar of the funnel: a stage, and its participants split into segments.
type funnelRow struct {
	Label string
	// Segs are the counts of the funnel's segment keys, in their order; Total their sum.
	Segs  []int
	Total int
}

// funnelKeys are the segments of each row, as the legend names them.
var funnelKeys = []legendItem{{"went on", "#1a7f37"}, {"in this round now", "#0b5cad"}, {"out in this round", "#9aa4ae"}}

// roundFunnel works out the funnel of def's rounds from the participants counted per last
// round, total being everyone taking part. Rounds the definition no longer has are left out.
func roundFunnel(def *campaigns.Definition, total int, counts []reports.RoundCount) []funnelRow {
	by := map[string]reports.RoundCount{}
	for _, rc := range counts {
		by[rc.Round] = rc
	}
	reached := make([]int, len(def.Rounds)+1) // reached[i]: got to round i or later
	for i := len(def.Rounds) - 1; i >= 0; i-- {
		rc := by[def.Rounds[i].Name]
		reached[i] = reached[i+1] + rc.Playing + rc.Out
	}
	rows := []funnelRow{{Label: "signed up", Segs: []int{reached[0], max(0, total-reached[0]), 0}, Total: max(total, reached[0])}}
	for i, rd := range def.Rounds {
		rc := by[rd.Name]
		rows = append(rows, funnelRow{Label: rd.Name, Segs: []int{reached[i+1], rc.Playing, rc.Out}, Total: reached[i]})
	}
	return rows
}

// funnelChart draws the rows as horizontal bars, each split into its segments, the longest to
// scale, with each row's count and its share of the first row's written after it.
func funnelChart(label string, rows []funnelRow) template.HTML {
	const labelW, barW, rowH = 110, 330, 26
	most := 1
	for _, r := range rows {
		most = max(most, r.Total)
	}
	first := 0
	if len(rows) > 0 {
		first = rows[0].Total
	}
	w, h := labelW+barW+110, len(rows)*rowH+8
	var b strings.Builder
	fmt.Fprintf(&b, `<svg viewBox="0 0 %d %d" width="%d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`, w, h, w, esc(label))
	for i, r := range rows {
		y := 4 + i*rowH
		var tip string
		switch {
		case i == 0:
			tip = fmt.Sprintf("%d started a round, %d not yet", r.Segs[0], r.Segs[1])
		case i == len(rows)-1:
			tip = fmt.Sprintf("%d in this round now, %d out or finished in it", r.Segs[1], r.Segs[2])
		default:
			tip = fmt.Sprintf("%d went on, %d in this round now, %d out in this round", r.Segs[0], r.Segs[1], r.Segs[2])
		}
		fmt.Fprintf(&b, `<g class="funnel-row" data-stage="%s"><title>%s: %d (%s)</title>`, esc(r.Label), esc(r.Label), r.Total, esc(tip))
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" font-size="12" fill="#1f2328">%s</text>`, labelW-8, y+16, esc(ellipsis(r.Label, 14)))
		x := float64(labelW)
		for j, n := range r.Segs {
			if n <= 0 {
				continue
			}
			sw := math.Max(float64(n)/float64(most)*barW, 2)
			color := funnelKeys[j].Color
			if i == 0 && j == 1 {
				color = "#d8dde3" // signed up, no round yet
			}
			fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"/>`, x, y+4, sw, rowH-10, color)
			x += sw
		}
		share := ""
		if first > 0 && i > 0 {
			share = fmt.Sprintf(" · %d%%", int(math.Round(float64(r.Total)*100/float64(first))))
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="12" fill="#3d454d">%d%s</text></g>`, x+6, y+16, r.Total, share)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
