package whatsapp

import (
	"sync"
	"time"
)

// limiters spaces requests per sending number: a token bucket kept as the time the next
// request is due (GCRA), so a number at rest may send Burst at once and then one every
// 1/rate. Time comes from the caller, so a fake clock makes the spacing testable.
type limiters struct {
	interval time.Duration
	burst    int
	mu       sync.Mutex
	due      map[string]time.Time
}

func newLimiters(rate float64, burst int) *limiters {
	return &limiters{
		interval: time.Duration(float64(time.Second) / rate),
		burst:    burst,
		due:      make(map[string]time.Time),
	}
}

// reserve books the next slot of number and says how long to wait for it. A caller that gives
// up waiting leaves its slot unused, which only slows the number down a little.
func (l *limiters) reserve(number string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	tat := l.due[number]
	if tat.Before(now) {
		tat = now
	}
	wait := tat.Sub(now) - time.Duration(l.burst-1)*l.interval
	l.due[number] = tat.Add(l.interval)
	return max(wait, 0)
}
