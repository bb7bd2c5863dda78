package pricing_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/chatcampaigns/campaign/pricing"
)

// FuzzParse: no text makes Parse panic, and a table it accepts reads back the same from
// what CSV writes of it.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.csv")
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(src))
	}
	f.Add("currency,EUR\n\"NL\",marketing,0.1\r\n*,utility,0\n")
	f.Fuzz(func(t *testing.T, src string) {
		tab, err := pricing.Parse(src)
		if err != nil {
			return
		}
		again, err := pricing.Parse(tab.CSV())
		if err != nil {
			t.Fatalf("CSV of an accepted table does not parse: %v\n%s", err, tab.CSV())
		}
		if again.CSV() != tab.CSV() {
			t.Fatalf("round trip changed the table:\n%s\nvs\n%s", tab.CSV(), again.CSV())
		}
	})
}

// FuzzCountryOf: no text makes CountryOf panic.
func FuzzCountryOf(f *testing.F) {
	for _, s := range []string{"31612345678", "+1 416 555 0123", "", "+", "7701"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { _ = pricing.CountryOf(s) })
}
