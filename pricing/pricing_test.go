package pricing_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/chatcampaigns/campaign/broadcast"
	"github.com/chatcampaigns/campaign/pricing"
)

func TestCountryOf(t *testing.T) {
	for _, tc := range []struct{ number, want string }{
		{"31612345678", "NL"},
		{"+31 6 1234 5678", "NL"},
		{"4915112345678", "DE"},
		{"447911123456", "GB"},
		{"12025550123", "US"},   // Washington DC
		{"14165550123", "CA"},   // Toronto
		{"16045550123", "CA"},   // Vancouver
		{"18765550123", "JM"},   // Jamaica shares +1
		{"17875550123", "PR"},   // Puerto Rico
		{"18095550123", "DO"},   // Dominican Republic
		{"79161234567", "RU"},   // +7 9…: Russia
		{"77011234567", "KZ"},   // +7 7…: Kazakhstan
		{"5997123456", "BQ"},    // +599 7: Bonaire, longer than +599
		{"59991234567", "CW"},   // +599 9: Curaçao
		{"919812345678", "IN"},  // +91
		{"9647712345678", "IQ"}, // +964, not +96 (no such code)
		{"2348012345678", "NG"},
		{"", ""},
		{"abc", ""},
		{"0612345678", ""},        // a national number, no calling code
		{"123", ""},               // too short
		{"1234567890123456", ""},  // 16 digits: longer than E.164
		{"-1001234567890", ""},    // a Telegram group's chat id
		{"2800000000", ""},        // +28: no such code
		{"31612345678@x", ""},     // not a number
		{"+31-6-1234-5678", "NL"}, // written with dashes
	} {
		if got := pricing.CountryOf(tc.number); got != tc.want {
			t.Errorf("CountryOf(%q) = %q, want %q", tc.number, got, tc.want)
		}
	}
}

func TestParseExample(t *testing.T) {
	src, err := os.ReadFile("testdata/example.csv")
	if err != nil {
		t.Fatal(err)
	}
	tab, err := pricing.Parse(string(src))
	if err != nil {
		t.Fatal(err)
	}
	if tab.Currency != "EUR" {
		t.Errorf("currency %q", tab.Currency)
	}
	for _, tc := range []struct {
		category, country string
		want              float64
		ok                bool
	}{
		{"marketing", "NL", 0.11, true},
		{"utility", "NL", 0.04, true},
		{"marketing", "FR", 0.06, true}, // not named: the * row
		{"utility", "GB", 0.02, true},
		{"marketing", "", 0, false}, // a number whose country is not known
	} {
		got, cur, ok := tab.Price(tc.category, tc.country)
		if got != tc.want || ok != tc.ok || (ok && cur != "EUR") {
			t.Errorf("Price(%s, %s) = %v %s %v, want %v %v", tc.category, tc.country, got, cur, ok, tc.want, tc.ok)
		}
	}
	// What CSV writes, Parse reads back the same.
	again, err := pricing.Parse(tab.CSV())
	if err != nil {
		t.Fatal(err)
	}
	if again.CSV() != tab.CSV() {
		t.Errorf("round trip:\n%s\nvs\n%s", again.CSV(), tab.CSV())
	}
}

// TestParseErrors: every problem of a table is reported at its line, all at once.
func TestParseErrors(t *testing.T) {
	src, err := os.ReadFile("testdata/bad.csv")
	if err != nil {
		t.Fatal(err)
	}
	_, err = pricing.Parse(string(src))
	var pe pricing.Errors
	if !errors.As(err, &pe) || !errors.Is(err, pricing.ErrTable) {
		t.Fatalf("want pricing.Errors, got %v", err)
	}
	want := []string{
		"line 3: 4 fields; a price is country,category,price (write decimals with a point: 0.0125, not 0,0125)",
		`line 4: country "XX" is not the ISO 3166 alpha-2 code of a country with a calling code (like NL, US, IN), or * for every other`,
		`line 5: category "promo" is not one of marketing, utility, authentication`,
		"line 6: price -1 is negative",
		`line 7: price "abc" is not a number like 0.0125`,
		"line 9: NL marketing is priced twice (also on line 8)",
		"line 10: the currency is given twice (also on line 1); a table has one currency",
	}
	if got := strings.Split(err.Error(), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseSmallErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"", "line 1: the table needs a line currency,CODE (like currency,EUR) saying what its prices are in"},
		{"NL,marketing,0.1\n", "line 1: the table needs a line currency,CODE"},
		{"currency,euro\n", `line 1: currency "euro" is not an ISO 4217 code`},
		{"currency\n", "line 1: write the currency as currency,CODE"},
		{"currency,EUR\n\n# note\nNL,\"marketing,0.1\n", "line 4: extraneous or missing \" in quoted-field"},
		{"currency,EUR\nNL,marketing\n", "line 2: 2 fields; a price is country,category,price"},
		{"currency,EUR\nNL,marketing,NaN\n", `line 2: price "NaN" is not a number`},
		{"currency,EUR\nNL,marketing,1e9\n", "line 2: price 1e9 is more than a million"},
		{strings.Repeat("#", pricing.MaxTableBytes+1), "line 1: the table is 262145 bytes"},
	} {
		_, err := pricing.Parse(tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%.40q) = %v, want %q", tc.src, err, tc.want)
		}
	}
	tab, err := pricing.Parse("# lower case and spaces are fine\n currency, eur\nnl, Marketing, 0.5\n")
	if err != nil {
		t.Fatal(err)
	}
	if p, cur, ok := tab.Price("marketing", "NL"); p != 0.5 || cur != "EUR" || !ok {
		t.Errorf("got %v %s %v", p, cur, ok)
	}
}

func TestEstimate(t *testing.T) {
	tab, err := pricing.Parse("currency,EUR\nNL,marketing,0.1\nDE,marketing,0.13\nNL,utility,0.04\n")
	if err != nil {
		t.Fatal(err)
	}
	got := pricing.Estimate(tab, "marketing", map[string]int{"NL": 3, "DE": 10, "FR": 2, "": 1, "BE": 0})
	want := broadcast.Cost{Currency: "EUR", Total: 1.6, Unpriced: 3, Lines: []broadcast.CostLine{
		{Country: "DE", Category: "marketing", Count: 10, Each: 0.13, Total: 1.3},
		{Country: "NL", Category: "marketing", Count: 3, Each: 0.1, Total: 0.3},
	}}
	if !costEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if got := pricing.Estimate(nil, "marketing", map[string]int{"NL": 3}); got.Unpriced != 3 || got.Total != 0 || len(got.Lines) != 0 {
		t.Errorf("nil pricer: %+v", got)
	}
	if got := pricing.Estimate(tab, "utility", map[string]int{"NL": 5}); got.Total != 0.2 || got.Unpriced != 0 {
		t.Errorf("utility: %+v", got)
	}
}

func costEqual(a, b broadcast.Cost) bool {
	if a.Currency != b.Currency || a.Total != b.Total || a.Unpriced != b.Unpriced || len(a.Lines) != len(b.Lines) {
		return false
	}
	for i := range a.Lines {
		if a.Lines[i] != b.Lines[i] {
			return false
		}
	}
	return true
}
