package loadgen

import (
	"context"
	"time"
)

// Clock is the time source of the pacer; tests pass a fake one whose Sleep moves time on.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx is done, and returns ctx.Err() in the latter case.
	Sleep(ctx context.Context, d time.Duration) error
}

// wallClock is the real clock.
type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func (wallClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Due is when message i (from 0) of a run at rate messages/s starting at start is due. Times
// are computed from the start, not from the previous message, so a late wake-up is caught up
// (a short burst) instead of lowering the rate for good.
func Due(start time.Time, rate float64, i int) time.Time {
	return start.Add(time.Duration(float64(i) * float64(time.Second) / rate))
}

// Pace calls emit(i, due) for i from 0 to n-1, each at its Due time at rate messages/s (at
// once when rate <= 0), and returns how many it emitted: n, or fewer if ctx ended. emit
// should hand the work on and return at once; a slow emit makes the following calls late.
func Pace(ctx context.Context, clock Clock, rate float64, n int, emit func(i int, due time.Time)) int {
	start := clock.Now()
	for i := range n {
		due := start
		if rate > 0 {
			due = Due(start, rate, i)
			if wait := due.Sub(clock.Now()); wait > 0 {
				if clock.Sleep(ctx, wait) != nil {
					return i
				}
			}
		}
		if ctx.Err() != nil {
			return i
		}
		emit(i, due)
	}
	return n
}
