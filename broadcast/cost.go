package broadcast

import (
	"cmp"
	"math"
	"slices"
)

// Price prices messages counted by country and category (keys {country, category}): a line
// per priced pair, by country then category, and the total. Messages the pricer has no price
// for, or priced in another currency than the first line's, are counted in Unpriced, never
// guessed. A nil pricer prices nothing. The plan, the report and the dashboard all price
// through here, so an estimate and a report of the same messages agree to the cent.
func Price(p Pricer, counts map[[2]string]int) Cost {
	var c Cost
	keys := make([][2]string, 0, len(counts))
	for k, n := range counts {
		if n > 0 {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b [2]string) int {
		if a[0] != b[0] {
			return cmp.Compare(a[0], b[0])
		}
		return cmp.Compare(a[1], b[1])
	})
	for _, k := range keys {
		n := counts[k]
		if p == nil {
			c.Unpriced += n
			continue
		}
		each, cur, ok := p.Price(k[1], k[0])
		if !ok || (c.Currency != "" && cur != c.Currency) {
			c.Unpriced += n
			continue
		}
		c.Currency = cur
		line := CostLine{Country: k[0], Category: k[1], Count: n, Each: each, Total: roundPrice(each * float64(n))}
		c.Lines = append(c.Lines, line)
		c.Total += line.Total
	}
	c.Total = roundPrice(c.Total)
	return c
}

// roundPrice keeps a sum of prices to a millionth, so that adding many small prices shows no
// binary-fraction noise (0.30000000000000004).
func roundPrice(f float64) float64 { return math.Round(f*1e6) / 1e6 }
