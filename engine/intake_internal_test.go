package engine

import (
	"context"
	"testing"
	"time"
)

// fakeAfter is a clock for Intake's waits: a wait ends when the test says so.
type fakeAfter struct {
	asked []time.Duration
	fire  chan time.Time
	// waiting gets a value each time a wait begins, so a test can act on a waiting Admit
	// rather than on one that has not started yet.
	waiting chan struct{}
}

func (f *fakeAfter) after(d time.Duration) <-chan time.Time {
	f.asked = append(f.asked, d)
	select {
	case f.waiting <- struct{}{}:
	default:
	}
	return f.fire
}

func newTestIntake(p IntakePolicy) (*Intake, *fakeAfter) {
	in := NewIntake(p)
	f := &fakeAfter{fire: make(chan time.Time, 1), waiting: make(chan struct{}, 1)}
	in.after = f.after
	return in, f
}

// measured makes the worker's rate 1,000 events/s and the sender's 2,000 replies/s.
func measured(in *Intake) {
	in.Received(1000)
	in.Processed(1000, time.Second)
	in.Queued(2000)
	in.Sent(2000, time.Second)
}

func TestIntakePolicy(t *testing.T) {
	policy := IntakePolicy{Target: 100 * time.Millisecond, MinBacklog: 64, Wait: 2 * time.Second,
		Limit: 10 * time.Second, MaxBacklog: 50_000}
	tests := []struct {
		name    string
		policy  IntakePolicy
		events  int // waiting for the worker (1,000/s)
		replies int // waiting for the sender (2,000/s)
		rate    bool
		// want: "now" (admitted without a wait), "wait" (waits), "refuse" (refused at once).
		want  string
		retry time.Duration
	}{
		{name: "under the minimum, rate unknown", policy: policy, events: 63, want: "now"},
		{name: "under the target", policy: policy, events: 80, replies: 20, rate: true, want: "now"},
		{name: "target counts both queues", policy: policy, events: 80, replies: 100, rate: true, want: "wait"},
		{name: "rate unknown waits, never refuses", policy: policy, events: 5000, want: "wait"},
		{name: "past the limit refuses at once", policy: policy, events: 11_000, rate: true, want: "refuse", retry: 10 * time.Second},
		{name: "past the limit in replies", policy: policy, replies: 30_000, rate: true, want: "refuse", retry: 10 * time.Second},
		{name: "past the most events refuses even with the rate unknown", policy: policy, events: 50_000, want: "refuse", retry: 10 * time.Second},
		{name: "no wait: refused at once past the target", policy: IntakePolicy{Wait: -1}, events: 3000, rate: true, want: "refuse", retry: 3 * time.Second},
		{name: "off", policy: IntakePolicy{Off: true}, events: 1_000_000, rate: true, want: "now"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, clock := newTestIntake(tt.policy)
			if tt.rate {
				measured(in)
			}
			in.Received(tt.events)
			in.Queued(tt.replies)
			if tt.want == "wait" {
				// The wait runs out with the backlog unchanged: refused.
				clock.fire <- time.Time{}
			}
			retry, err := in.Admit(context.Background())
			switch tt.want {
			case "now":
				if err != nil || len(clock.asked) != 0 {
					t.Fatalf("Admit = %v after waits %v, want admitted at once", err, clock.asked)
				}
			case "wait":
				if !IsBusy(err) || len(clock.asked) != 1 || clock.asked[0] != in.policy.Wait {
					t.Fatalf("Admit = %v after waits %v, want refused after a wait of %v", err, clock.asked, in.policy.Wait)
				}
			case "refuse":
				if !IsBusy(err) || len(clock.asked) != 0 {
					t.Fatalf("Admit = %v after waits %v, want refused at once", err, clock.asked)
				}
				if retry != tt.retry {
					t.Errorf("Retry-After %v, want %v", retry, tt.retry)
				}
			}
			if got, want := in.State().Refused, int64(map[bool]int{true: 1}[err != nil]); got != want {
				t.Errorf("refused %d, want %d", got, want)
			}
		})
	}
}

// A webhook that waits is let in as soon as the worker brings the backlog under the target.
func TestIntakeWaitEndsWithProgress(t *testing.T) {
	in, clock := newTestIntake(IntakePolicy{Target: 100 * time.Millisecond, MinBacklog: 1, Wait: time.Hour, Limit: 10 * time.Second})
	measured(in)
	in.Received(500) // half a second of work
	done := make(chan error, 1)
	go func() { _, err := in.Admit(context.Background()); done <- err }()
	// Under a loaded machine the goroutine may start only after the progress below, and would
	// then be admitted without waiting: act once it waits.
	<-clock.waiting
	in.Processed(300, 300*time.Millisecond) // 0.2 s left: still waiting
	select {
	case err := <-done:
		t.Fatalf("admitted with 0.2 s of work waiting: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	in.Processed(150, 150*time.Millisecond) // 0.05 s left
	if err := <-done; err != nil {
		t.Fatalf("Admit = %v, want admitted", err)
	}
	if len(clock.asked) != 1 {
		t.Errorf("waits %v, want one", clock.asked)
	}
	// The sender finding nothing due and the worker nothing pending empty the backlog.
	in.Received(10_000)
	in.Queued(10_000)
	in.Reset(0)
	in.ResetRepliesSince(in.RepliesMark())
	if s := in.State(); s.Events != 0 || s.Replies != 0 || s.Seconds != 0 {
		t.Errorf("after the resets: %+v", s)
	}
}

// TestRepliesQueuedDuringAnEmptyReadStayCounted: the sender's read finds no reply due, while
// steps committed meanwhile queue some (their count comes after their commit, so after or
// during the read). Only the replies counted before the read began are cleared: those
// queued since may be due and unread, and the back-pressure must count them. Before, the
// reset cleared them too, and a continuous sender, reading on every commit, lost hundreds a
// second: the policy then let in more than the sender could send.
func TestRepliesQueuedDuringAnEmptyReadStayCounted(t *testing.T) {
	for _, tc := range []struct {
		name           string
		before, during int
		want           int
	}{
		{"nothing queued meanwhile", 5, 0, 0},
		{"queued during the read", 5, 3, 3},
		{"nothing before, some during", 0, 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := NewIntake(IntakePolicy{})
			in.Queued(tc.before)
			mark := in.RepliesMark()
			in.Queued(tc.during)
			in.ResetRepliesSince(mark)
			if got := in.State().Replies; got != tc.want {
				t.Errorf("replies counted after the empty read: %d, want %d", got, tc.want)
			}
		})
	}
}
