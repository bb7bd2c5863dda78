package broadcast_test

import (
	"testing"

	"github.com/chatcampaigns/campaign/broadcast"
)

// prices is a pricer of a few fixed prices: NL in euros, US in dollars.
type prices map[[2]string]struct {
	each float64
	cur  string
}

func (p prices) Country(string) string { return "" }
func (p prices) Price(category, country string) (float64, string, bool) {
	v, ok := p[[2]string{country, category}]
	return v.each, v.cur, ok
}

func TestPrice(t *testing.T) {
	p := prices{
		{"NL", "marketing"}: {0.1, "EUR"},
		{"DE", "marketing"}: {0.13, "EUR"},
		{"US", "marketing"}: {0.025, "USD"},
	}
	tests := []struct {
		name     string
		pricer   broadcast.Pricer
		counts   map[[2]string]int
		total    float64
		lines    int
		unpriced int
	}{
		{"sums without binary noise", p, map[[2]string]int{{"NL", "marketing"}: 3}, 0.3, 1, 0},
		{"by country, each priced", p, map[[2]string]int{{"NL", "marketing"}: 10, {"DE", "marketing"}: 10}, 2.3, 2, 0},
		{"another currency is not added", p, map[[2]string]int{{"DE", "marketing"}: 1, {"US", "marketing"}: 4}, 0.13, 1, 4},
		{"no price, not guessed", p, map[[2]string]int{{"NL", "utility"}: 2, {"", "marketing"}: 5}, 0, 0, 7},
		{"no pricer prices nothing", nil, map[[2]string]int{{"NL", "marketing"}: 2}, 0, 0, 2},
		{"nothing to price", p, nil, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := broadcast.Price(tt.pricer, tt.counts)
			if c.Total != tt.total || len(c.Lines) != tt.lines || c.Unpriced != tt.unpriced {
				t.Errorf("Price = total %v, %d lines, %d unpriced; want %v, %d, %d", c.Total, len(c.Lines), c.Unpriced, tt.total, tt.lines, tt.unpriced)
			}
		})
	}
	c := broadcast.Price(p, map[[2]string]int{{"NL", "marketing"}: 1, {"DE", "marketing"}: 1})
	if c.Lines[0].Country != "DE" || c.Currency != "EUR" {
		t.Errorf("lines %+v in %q: want DE first, in EUR", c.Lines, c.Currency)
	}
}
