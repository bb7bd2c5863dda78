package ratelimit_test

import (
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/ratelimit"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock               { return &clock{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }
func mustRule(t *testing.T, s string) ratelimit.Rule {
	t.Helper()
	r, err := ratelimit.ParseRule(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestLimiterBurstThenRefill(t *testing.T) {
	c := newClock()
	refused := 0
	l := ratelimit.New("chat", mustRule(t, "3/3s"), c.now, func(name string) {
		if name != "chat" {
			t.Errorf("refused called with %q", name)
		}
		refused++
	})
	for i := range 3 {
		if w := l.Allow("a"); w != 0 {
			t.Fatalf("request %d refused (%v), want the burst of 3 allowed", i, w)
		}
	}
	if w := l.Allow("a"); w != time.Second {
		t.Fatalf("4th request: wait %v, want 1s", w)
	}
	if w := l.Allow("b"); w != 0 {
		t.Fatalf("another key was refused: %v", w)
	}
	c.add(500 * time.Millisecond)
	if w := l.Allow("a"); w != 500*time.Millisecond {
		t.Fatalf("after 0.5s: wait %v, want 0.5s", w)
	}
	c.add(500 * time.Millisecond)
	if w := l.Allow("a"); w != 0 {
		t.Fatalf("after 1s: refused (%v), want one request refilled", w)
	}
	if refused != 2 {
		t.Errorf("refused counted %d times, want 2", refused)
	}
}

func TestLimiterOff(t *testing.T) {
	l := ratelimit.New("x", ratelimit.Rule{}, nil, nil)
	for range 1000 {
		if l.Allow("a") != 0 {
			t.Fatal("the zero rule refused a request")
		}
	}
}

func TestParseRule(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ratelimit.Rule
		err  bool
	}{
		{"30/1m", ratelimit.Rule{Burst: 30, Every: 2 * time.Second}, false},
		{"5/10s", ratelimit.Rule{Burst: 5, Every: 2 * time.Second}, false},
		{"off", ratelimit.Rule{}, false},
		{"30", ratelimit.Rule{}, true},
		{"0/1m", ratelimit.Rule{}, true},
		{"-1/1m", ratelimit.Rule{}, true},
		{"10/forever", ratelimit.Rule{}, true},
		{"10/0s", ratelimit.Rule{}, true},
	} {
		got, err := ratelimit.ParseRule(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseRule(%q) = %+v, %v; want %+v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
	if s := (ratelimit.Rule{Burst: 30, Every: 2 * time.Second}).String(); s != "30/1m0s" {
		t.Errorf("String = %q", s)
	}
}

func FuzzParseRule(f *testing.F) {
	for _, s := range []string{"30/1m", "off", "1/1ms", "1000000/24h", "x/y", "/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ratelimit.ParseRule(s)
		if err != nil {
			return
		}
		if r.Off() {
			return
		}
		back, err := ratelimit.ParseRule(r.String())
		if err != nil || back.Burst != r.Burst {
			t.Fatalf("ParseRule(%q) = %+v, whose String %q reads back as %+v, %v", s, r, r.String(), back, err)
		}
	})
}

func TestBackoffGrows(t *testing.T) {
	c := newClock()
	b := ratelimit.NewBackoff("login", 3, time.Second, time.Minute, c.now, nil)
	var waits []time.Duration
	for range 11 {
		if w := b.Wait("user:a", "addr:1"); w > 0 {
			waits = append(waits, w)
			c.add(w)
		}
		b.Fail("user:a", "addr:1")
	}
	want := []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, time.Minute}
	if len(waits) != len(want) {
		t.Fatalf("waits %v, want %v", waits, want)
	}
	for i := range want {
		if waits[i] != want[i] {
			t.Fatalf("waits %v, want %v", waits, want)
		}
	}
	b.Reset("user:a")
	if w := b.Wait("user:a"); w != 0 {
		t.Errorf("after a reset the account waits %v", w)
	}
	if w := b.Wait("addr:1"); w == 0 {
		t.Error("the address was reset with the account")
	}
}
