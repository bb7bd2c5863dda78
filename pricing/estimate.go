package pricing

import "github.com/chatcampaigns/campaign/broadcast"

var (
	_ broadcast.Pricer = Table{}
	_ broadcast.Pricer = (*Book)(nil)
)

// Estimate prices count template messages of category per country (ISO alpha-2, "" for
// numbers whose country is not known): a line per priced country, by country, and the total;
// the messages to countries the pricer has no price for are counted in Unpriced, never
// guessed. A nil pricer prices nothing.
func Estimate(p broadcast.Pricer, category string, byCountry map[string]int) broadcast.Cost {
	counts := make(map[[2]string]int, len(byCountry))
	for cc, n := range byCountry {
		counts[[2]string{cc, category}] = n
	}
	return broadcast.Price(p, counts)
}
