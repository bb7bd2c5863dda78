package pricing

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/chatcampaigns/campaign/campaigns"
)

// AnyCountry in a table's country column prices every country the table does not name.
const AnyCountry = "*"

// Limits on a table, so a pasted file cannot make the server parse without end.
const (
	MaxTableBytes = 256 << 10
	maxRows       = 5000
)

// Table is the price of one template message by category and country, in one currency.
// The zero Table prices nothing.
type Table struct {
	Currency string
	// Rows are the prices in the order the table gave them.
	Rows   []Row
	prices map[rowKey]float64
}

// Row is one price of a table: Country is an ISO 3166 alpha-2 code or AnyCountry.
type Row struct {
	Country, Category string
	Price             float64
	// Line is the row's line in the text it was read from.
	Line int
}

type rowKey struct{ category, country string }

// Price is what one template message of category costs to a number in country: the
// country's row, else the table's AnyCountry row of that category. ok is false when the
// table has neither, or country is "" (a number whose country is not known).
func (t Table) Price(category, country string) (each float64, currency string, ok bool) {
	if country == "" {
		return 0, "", false
	}
	if p, ok := t.prices[rowKey{category, country}]; ok {
		return p, t.Currency, true
	}
	if p, ok := t.prices[rowKey{category, AnyCountry}]; ok {
		return p, t.Currency, true
	}
	return 0, "", false
}

// Country is the country of a number, by its calling code (see CountryOf).
func (t Table) Country(address string) string { return CountryOf(address) }

// Empty says the table has no price.
func (t Table) Empty() bool { return len(t.Rows) == 0 }

// CSV writes the table in the form Parse reads.
func (t Table) CSV() string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"currency", t.Currency})
	_ = w.Write([]string{"country", "category", "price"})
	for _, r := range t.Rows {
		_ = w.Write([]string{r.Country, r.Category, strconv.FormatFloat(r.Price, 'f', -1, 64)})
	}
	w.Flush()
	return b.String()
}

// LineError is one problem of a price table, at its line (1 is the first).
type LineError struct {
	Line int
	Msg  string
}

func (e LineError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Errors are all the problems Parse found, in line order.
type Errors []LineError

func (e Errors) Error() string {
	s := make([]string, len(e))
	for i, l := range e {
		s[i] = l.Error()
	}
	return strings.Join(s, "\n")
}

// ErrTable is what every Errors wraps (errors.Is), for callers that only ask whether the
// table was bad.
var ErrTable = errors.New("bad price table")

func (e Errors) Is(target error) bool { return target == ErrTable }

// Parse reads a price table:
//
//	# Example prices: not Meta's current rates.
//	currency,EUR
//	country,category,price
//	NL,marketing,0.11
//	*,marketing,0.06
//
// Blank lines and lines starting with # are skipped. One line says the currency (an ISO
// 4217 code); the header line is optional; each other line is an ISO 3166 alpha-2 country
// (or * for every country not named), a template category (marketing, utility,
// authentication) and the price of one message, a decimal number with a point. It reports
// every problem with its line (Errors); a table with any problem is not returned.
func Parse(text string) (Table, error) {
	var errs Errors
	bad := func(line int, format string, args ...any) {
		if len(errs) < 50 {
			errs = append(errs, LineError{line, fmt.Sprintf(format, args...)})
		}
	}
	if len(text) > MaxTableBytes {
		return Table{}, Errors{{1, fmt.Sprintf("the table is %d bytes; at most %d are read", len(text), MaxTableBytes)}}
	}
	r := csv.NewReader(strings.NewReader(text))
	r.Comment = '#'
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	t := Table{prices: map[rowKey]float64{}}
	currencyLine := 0
	seen := map[rowKey]int{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			bad(pe.Line, "%s", pe.Err)
			if pe.Err == csv.ErrQuote || pe.Err == csv.ErrBareQuote {
				break // the rest of the text is inside a quote: its lines mean nothing
			}
			continue
		}
		if err != nil {
			bad(1, "%s", err)
			break
		}
		line, _ := r.FieldPos(0)
		for i := range rec {
			rec[i] = strings.TrimSpace(rec[i])
		}
		if len(rec) == 1 && rec[0] == "" {
			continue
		}
		switch strings.ToLower(rec[0]) {
		case "currency":
			if len(rec) != 2 {
				bad(line, "write the currency as currency,CODE (like currency,EUR)")
				continue
			}
			if currencyLine != 0 {
				bad(line, "the currency is given twice (also on line %d); a table has one currency", currencyLine)
				continue
			}
			currencyLine = line
			c := strings.ToUpper(rec[1])
			if !isLetters(c, 3) {
				bad(line, "currency %q is not an ISO 4217 code like EUR, USD or INR", rec[1])
				continue
			}
			t.Currency = c
			continue
		case "country":
			if len(rec) == 3 && strings.EqualFold(rec[1], "category") && strings.EqualFold(rec[2], "price") {
				continue // the header
			}
		}
		if len(rec) != 3 {
			hint := ""
			if len(rec) == 4 {
				hint = " (write decimals with a point: 0.0125, not 0,0125)"
			}
			bad(line, "%d fields; a price is country,category,price%s", len(rec), hint)
			continue
		}
		row := Row{Country: strings.ToUpper(rec[0]), Category: strings.ToLower(rec[1]), Line: line}
		ok := true
		if row.Country != AnyCountry && !knownCountry[row.Country] {
			bad(line, "country %q is not the ISO 3166 alpha-2 code of a country with a calling code (like NL, US, IN), or * for every other", rec[0])
			ok = false
		}
		if !slices.Contains(campaigns.Categories, row.Category) {
			bad(line, "category %q is not one of %s", rec[1], strings.Join(campaigns.Categories, ", "))
			ok = false
		}
		p, err := strconv.ParseFloat(rec[2], 64)
		switch {
		case err != nil || math.IsNaN(p) || math.IsInf(p, 0):
			bad(line, "price %q is not a number like 0.0125", rec[2])
			ok = false
		case p < 0:
			bad(line, "price %s is negative", rec[2])
			ok = false
		case p > 1e6:
			bad(line, "price %s is more than a million for one message", rec[2])
			ok = false
		}
		if !ok {
			continue
		}
		k := rowKey{row.Category, row.Country}
		if first, dup := seen[k]; dup {
			bad(line, "%s %s is priced twice (also on line %d)", row.Country, row.Category, first)
			continue
		}
		if len(t.Rows) == maxRows {
			bad(line, "more than %d prices", maxRows)
			break
		}
		seen[k] = line
		row.Price = p
		t.Rows = append(t.Rows, row)
		t.prices[k] = p
	}
	if currencyLine == 0 && len(errs) == 0 {
		bad(1, "the table needs a line currency,CODE (like currency,EUR) saying what its prices are in")
	}
	if len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b LineError) int { return a.Line - b.Line })
		return Table{}, errs
	}
	return t, nil
}

func isLetters(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}
