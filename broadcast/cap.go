package broadcast

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
)

// FrequencyCap bounds how many broadcasts one person (a channel and an address) is released
// in any period of Per, across every campaign; the zero cap bounds nothing.
type FrequencyCap struct {
	N   int
	Per time.Duration
}

// IsZero reports whether the cap bounds nothing.
func (c FrequencyCap) IsZero() bool { return c.N <= 0 || c.Per <= 0 }

// String writes the cap as ParseFrequencyCap reads it ("" for none).
func (c FrequencyCap) String() string {
	if c.IsZero() {
		return ""
	}
	return strconv.Itoa(c.N) + "/" + c.Per.String()
}

// ErrFrequencyCap is what ParseFrequencyCap says of a text that is no cap.
var ErrFrequencyCap = errors.New("not a frequency cap (write it like 2/168h or 1/7d: broadcasts per period; off for none)")

// ParseFrequencyCap reads a cap written N/PERIOD: 2/168h is at most two broadcasts to a
// person in any seven days. The period takes days too (2/7d). "" and "off" are no cap.
func ParseFrequencyCap(s string) (FrequencyCap, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "off") {
		return FrequencyCap{}, nil
	}
	n, per, ok := strings.Cut(s, "/")
	if !ok {
		return FrequencyCap{}, fmt.Errorf("%q: %w", s, ErrFrequencyCap)
	}
	count, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil || count < 1 || count > 1000 {
		return FrequencyCap{}, fmt.Errorf("%q: %w", s, ErrFrequencyCap)
	}
	d, err := campaigns.ParseDuration(per)
	if err != nil || d < time.Hour || d > 366*24*time.Hour {
		return FrequencyCap{}, fmt.Errorf("%q: %w (the period is between 1h and 366d)", s, ErrFrequencyCap)
	}
	return FrequencyCap{N: count, Per: d}, nil
}

// Set makes *FrequencyCap a flag.Value.
func (c *FrequencyCap) Set(s string) error {
	v, err := ParseFrequencyCap(s)
	if err != nil {
		return err
	}
	*c = v
	return nil
}
