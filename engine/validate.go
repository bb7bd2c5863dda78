package engine

import (
	"math"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
)

// phoneRe accepts E.164 numbers as people type them: an optional +, 8 to 15 digits, with
// spaces, dashes, dots or parentheses between them.
var phoneRe = regexp.MustCompile(`^\+?[0-9][0-9 ().-]{6,20}[0-9]$`)

// numberRe is a number as people type it: digits, a decimal point or comma, an exponent.
// strconv reads more (NaN, Inf, 0x10, 1_000), which no participant means as their answer.
var numberRe = regexp.MustCompile(`^[+-]?([0-9]+([.,][0-9]*)?|[.,][0-9]+)([eE][+-]?[0-9]+)?$`)

// maxNumber bounds a number answer, as add: and set: are bounded: beyond it a float holds
// whole numbers no longer exactly, and 1e308 would be kept as a text of 309 digits.
const maxNumber = 1e15

// validate checks an answer against a Save and returns the value to store. Numbers are stored
// as typed (with a dot for decimals), phones as + and digits, dates as YYYY-MM-DD, ages in
// whole years.
func validate(s *campaigns.Save, answer string, now time.Time) (string, bool) {
	a := strings.TrimSpace(answer)
	if a == "" {
		return "", false
	}
	switch s.As {
	case "", "text":
		return a, inBounds(s, float64(len([]rune(a))))
	case "number":
		if !numberRe.MatchString(a) {
			return "", false
		}
		f, err := strconv.ParseFloat(strings.ReplaceAll(a, ",", "."), 64)
		if err != nil || math.Abs(f) > maxNumber {
			return "", false
		}
		return strconv.FormatFloat(f, 'f', -1, 64), inBounds(s, f)
	case "email":
		addr, err := mail.ParseAddress(a)
		if err != nil || addr.Address != a || !strings.Contains(a[strings.LastIndex(a, "@"):], ".") {
			return "", false
		}
		return a, true
	case "phone":
		if !phoneRe.MatchString(a) {
			return "", false
		}
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, a)
		if len(digits) < 8 || len(digits) > 15 {
			return "", false
		}
		return "+" + digits, true
	case "date":
		d, err := time.Parse("2006-01-02", a)
		if err != nil {
			return "", false
		}
		return d.Format("2006-01-02"), true
	case "age":
		var age int
		if d, err := time.Parse("2006-01-02", a); err == nil {
			if d.After(now) {
				return "", false
			}
			age = yearsBetween(d, now)
		} else if n, err := strconv.Atoi(a); err == nil && n >= 0 && n < 150 {
			age = n
		} else {
			return "", false
		}
		return strconv.Itoa(age), inBounds(s, float64(age))
	}
	return "", false
}

func inBounds(s *campaigns.Save, v float64) bool {
	return (s.Min == nil || v >= *s.Min) && (s.Max == nil || v <= *s.Max)
}

// yearsBetween is a birthday's age on day now: whole years, a year counted only once its day
// has come.
func yearsBetween(birth, now time.Time) int {
	now = now.UTC()
	years := now.Year() - birth.Year()
	if now.Month() < birth.Month() || (now.Month() == birth.Month() && now.Day() < birth.Day()) {
		years--
	}
	return years
}
