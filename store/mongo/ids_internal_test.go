package mongo

import (
	"context"
	"errors"
	"testing"
)

// A leader whose context ends fails only its own call: the callers in line with it are served
// by the next leader, with ids of their own.
func TestIDLineLeaderGivesUp(t *testing.T) {
	var l idLine
	var next int64 = 1
	started := make(chan int, 4)
	reserve := func(ctx context.Context, n int) (int64, error) {
		started <- n
		if ctx.Err() == nil && ctx.Value(blockKey{}) != nil {
			<-ctx.Done()
			return 0, ctx.Err()
		}
		first := next
		next += int64(n)
		return first, nil
	}
	lctx, cancel := context.WithCancel(context.WithValue(t.Context(), blockKey{}, true))
	leader := make(chan error)
	go func() {
		_, err := l.take(lctx, 2, reserve)
		leader <- err
	}()
	if n := <-started; n != 2 {
		t.Fatalf("leader reserved %d, want 2", n)
	}
	// Two callers line up behind the blocked leader: they are not in its batch.
	type res struct {
		first int64
		err   error
	}
	got := make(chan res, 2)
	for range 2 {
		go func() {
			f, err := l.take(t.Context(), 3, reserve)
			got <- res{f, err}
		}()
	}
	for {
		l.mu.Lock()
		n := len(l.waiting)
		l.mu.Unlock()
		if n == 2 {
			break
		}
	}
	cancel()
	if err := <-leader; !errors.Is(err, context.Canceled) {
		t.Fatalf("leader: %v, want its context's end", err)
	}
	if n := <-started; n != 6 {
		t.Fatalf("next leader reserved %d, want 6 (both callers in line)", n)
	}
	a, b := <-got, <-got
	if a.err != nil || b.err != nil || a.first == b.first || min(a.first, b.first) != 1 || max(a.first, b.first) != 4 {
		t.Fatalf("callers got %+v and %+v, want ids 1 and 4", a, b)
	}
	if l.led || len(l.waiting) != 0 {
		t.Errorf("line left led=%v with %d waiting", l.led, len(l.waiting))
	}
}

type blockKey struct{}
