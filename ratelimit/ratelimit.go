// Package ratelimit owns the server's abuse limits: token buckets per key (a participant, an
// address) for requests that cost work, and growing delays after failed sign-ins. It knows
// nothing of HTTP beyond a Fiber handler that answers 429 with Retry-After; the keys and the
// wording of a refusal belong to the caller. Clocks are injected, so tests are exact.
package ratelimit

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Rule lets Burst requests through at once and then one every Every. The zero Rule is no
// limit at all.
type Rule struct {
	Burst int
	Every time.Duration
}

// Off reports whether r limits nothing.
func (r Rule) Off() bool { return r.Burst <= 0 || r.Every <= 0 }

// String writes r the way ParseRule reads it: "30/1m" is 30 requests per minute.
func (r Rule) String() string {
	if r.Off() {
		return "off"
	}
	return strconv.Itoa(r.Burst) + "/" + (r.Every * time.Duration(r.Burst)).String()
}

// ParseRule reads "N/DURATION" (N requests per DURATION, all of them allowed at once) or
// "off". "30/1m" refills one request every two seconds up to 30.
func ParseRule(s string) (Rule, error) {
	s = strings.TrimSpace(s)
	if s == "off" || s == "0" {
		return Rule{}, nil
	}
	n, per, ok := strings.Cut(s, "/")
	if !ok {
		return Rule{}, fmt.Errorf("rate %q: want N/DURATION like 30/1m, or off", s)
	}
	burst, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil || burst < 1 || burst > 1_000_000 {
		return Rule{}, fmt.Errorf("rate %q: the count must be a whole number from 1 to 1000000", s)
	}
	d, err := time.ParseDuration(strings.TrimSpace(per))
	if err != nil || d < time.Millisecond || d > 24*time.Hour {
		return Rule{}, fmt.Errorf("rate %q: the period must be a duration from 1ms to 24h, like 10s or 1m", s)
	}
	every := d / time.Duration(burst)
	if every <= 0 {
		every = 1
	}
	return Rule{Burst: burst, Every: every}, nil
}

// RuleFlag is a flag.Value for a Rule.
type RuleFlag struct{ R *Rule }

func (f RuleFlag) String() string {
	if f.R == nil {
		return ""
	}
	return f.R.String()
}

func (f RuleFlag) Set(s string) error {
	r, err := ParseRule(s)
	if err != nil {
		return err
	}
	*f.R = r
	return nil
}

// maxKeys is how many keys a limiter tracks before it forgets the idle ones, so a flood of
// fresh addresses costs bounded memory.
const maxKeys = 100_000

// Limiter applies one Rule per key. It is safe for concurrent use.
type Limiter struct {
	name    string
	rule    Rule
	now     func() time.Time
	refused func(name string)

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// New makes a limiter called name (as it appears in /metrics). now nil means the wall clock;
// refused, if set, is called with name for every request refused.
func New(name string, r Rule, now func() time.Time, refused func(name string)) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{name: name, rule: r, now: now, refused: refused, buckets: map[string]*bucket{}}
}

// Name is the limiter's name.
func (l *Limiter) Name() string { return l.name }

// Allow takes one request for key. It returns zero when the request may go ahead, or how long
// until it would be allowed.
func (l *Limiter) Allow(key string) time.Duration {
	if l == nil || l.rule.Off() {
		return 0
	}
	now := l.now()
	l.mu.Lock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxKeys {
			l.forget(now)
		}
		b = &bucket{tokens: float64(l.rule.Burst), at: now}
		l.buckets[key] = b
	}
	l.refill(b, now)
	if b.tokens >= 1 {
		b.tokens--
		l.mu.Unlock()
		return 0
	}
	wait := time.Duration(math.Ceil((1 - b.tokens) * float64(l.rule.Every)))
	l.mu.Unlock()
	if l.refused != nil {
		l.refused(l.name)
	}
	return max(wait, time.Nanosecond)
}

func (l *Limiter) refill(b *bucket, now time.Time) {
	if el := now.Sub(b.at); el > 0 {
		b.tokens = min(float64(l.rule.Burst), b.tokens+float64(el)/float64(l.rule.Every))
		b.at = now
	}
}

// forget drops the buckets that have refilled: to them a fresh bucket is the same. If every
// key is busy, the oldest half go, which errs towards letting a request through.
func (l *Limiter) forget(now time.Time) {
	for k, b := range l.buckets {
		l.refill(b, now)
		if b.tokens >= float64(l.rule.Burst) {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) < maxKeys {
		return
	}
	n := 0
	for k := range l.buckets {
		delete(l.buckets, k)
		if n++; n >= maxKeys/2 {
			break
		}
	}
}
