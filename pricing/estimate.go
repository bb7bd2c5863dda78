package pricing

import (
	"math"
	"slices"

	"github.com/chatcampaigns/campaign/broadcast"
)

var (
	_ broadcast.Pricer = Table{}
	_ broadcast.Pricer = (*Book)(nil)
)

// Estimate prices count template messages of category per country (ISO alpha-2, "" for
// numbers whose country is not known): a line per priced country, by country, and the total;
// the messages to countries the pricer has no price for are counted in Unpriced, never
// guessed. A nil pricer prices nothing.
func Estimate(p broadcast.Pricer, category string, byCountry map[string]int) broadcast.Cost {
	var c broadcast.Cost
	countries := make([]string, 0, len(byCountry))
	for cc, n := range byCountry {
		if n > 0 {
			countries = append(countries, cc)
		}
	}
	slices.Sort(countries)
	for _, cc := range countries {
		n := byCountry[cc]
		if p == nil {
			c.Unpriced += n
			continue
		}
		each, cur, ok := p.Price(category, cc)
		if !ok || (c.Currency != "" && cur != c.Currency) {
			c.Unpriced += n
			continue
		}
		c.Currency = cur
		line := broadcast.CostLine{Country: cc, Category: category, Count: n, Each: each, Total: round(each * float64(n))}
		c.Lines = append(c.Lines, line)
		c.Total += line.Total
	}
	c.Total = round(c.Total)
	return c
}

// round keeps a sum of prices to a millionth, so that adding many small prices shows no
// binary-fraction noise (0.30000000000000004).
func round(f float64) float64 { return math.Round(f*1e6) / 1e6 }
