package ratelimit

import (
	"sync"
	"time"
)

// Backoff slows down guessing: after Free failures for a key (an account, an address), each
// further failure locks that key for twice as long as the one before, from Base up to Max.
// A success resets the key. It is safe for concurrent use.
type Backoff struct {
	free      int
	base, max time.Duration
	now       func() time.Time
	refused   func(name string)
	name      string

	mu sync.Mutex
	m  map[string]*strikes
}

type strikes struct {
	fails int
	until time.Time
	last  time.Time
}

// NewBackoff makes a Backoff called name; free < 0 means no delays at all.
func NewBackoff(name string, free int, base, max time.Duration, now func() time.Time, refused func(string)) *Backoff {
	if now == nil {
		now = time.Now
	}
	return &Backoff{free: free, base: base, max: max, now: now, refused: refused, name: name, m: map[string]*strikes{}}
}

// Wait returns how long the most locked of keys stays locked, zero when none is. A refusal
// is counted once per call.
func (b *Backoff) Wait(keys ...string) time.Duration {
	if b == nil || b.free < 0 {
		return 0
	}
	now := b.now()
	var wait time.Duration
	b.mu.Lock()
	for _, k := range keys {
		if s := b.m[k]; s != nil && s.until.After(now) {
			wait = max(wait, s.until.Sub(now))
		}
	}
	b.mu.Unlock()
	if wait > 0 && b.refused != nil {
		b.refused(b.name)
	}
	return wait
}

// Fail records a failure for every key.
func (b *Backoff) Fail(keys ...string) {
	if b == nil || b.free < 0 {
		return
	}
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.m) >= maxKeys {
		for k, s := range b.m {
			if now.Sub(s.last) > b.max {
				delete(b.m, k)
			}
		}
	}
	for _, k := range keys {
		s := b.m[k]
		if s == nil || now.Sub(s.last) > 2*b.max {
			// Quiet for long enough: start over rather than punish a user for last week.
			s = &strikes{}
			b.m[k] = s
		}
		s.fails++
		s.last = now
		if over := s.fails - b.free; over > 0 {
			d := b.base
			for i := 1; i < over && d < b.max; i++ {
				d *= 2
			}
			s.until = now.Add(min(d, b.max))
		}
	}
}

// Reset forgets the failures of key.
func (b *Backoff) Reset(key string) {
	if b == nil {
		return
	}
	b.mu.Lock()
	delete(b.m, key)
	b.mu.Unlock()
}
