package whatsapp_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/broadcast"
	"github.com/chatcampaigns/campaign/channels/whatsapp"
	"github.com/chatcampaigns/campaign/channels/whatsapp/graphtest"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// TestAPIErrorKinds: every code the platform refuses with matches the engine's classes, the
// marketing refusals as well as the kinds of package errs they always had.
func TestAPIErrorKinds(t *testing.T) {
	kinds := []error{errs.ErrInvalid, errs.ErrUnauthorized, engine.ErrMarketingOptOut, engine.ErrMarketingLimit, engine.ErrSpamRate}
	tests := []struct {
		code, status int
		want         []error
		permanent    bool
	}{
		{131050, 400, []error{errs.ErrInvalid, engine.ErrMarketingOptOut}, true},
		{131049, 400, []error{errs.ErrInvalid, engine.ErrMarketingLimit}, true},
		{131048, 400, []error{errs.ErrInvalid, engine.ErrSpamRate}, true},
		{131026, 400, []error{errs.ErrInvalid}, true},
		{131047, 400, []error{errs.ErrInvalid}, true},
		{190, 401, []error{errs.ErrUnauthorized}, true},
		{130429, 400, nil, false},
		{131056, 400, nil, false},
		{131000, 500, nil, false},
	}
	for _, tt := range tests {
		r := newRig(t, func(c *whatsapp.Config) { c.RateLimit = 1000; c.MaxRetries = -1 })
		r.graph.FailNext(tt.code, tt.status)
		_, err := r.ch.Send(t.Context(), engine.Outbound{To: "447911123456", Text: "hi"})
		var apiErr *whatsapp.APIError
		if !errors.As(err, &apiErr) || apiErr.Code != tt.code {
			t.Fatalf("code %d: Send = %v, want an APIError with that code", tt.code, err)
		}
		if engine.Permanent(err) != tt.permanent {
			t.Errorf("code %d: permanent %v, want %v", tt.code, engine.Permanent(err), tt.permanent)
		}
		for _, k := range kinds {
			want := false
			for _, w := range tt.want {
				want = want || w == k
			}
			if errors.Is(err, k) != want {
				t.Errorf("code %d: errors.Is(%v) = %v, want %v", tt.code, k, !want, want)
			}
		}
	}
}

func TestParseLimit(t *testing.T) {
	tests := map[string]int{
		"TIER_250": 250, "TIER_2K": 2000, "TIER_10K": 10000, "TIER_100K": 100000, "TIER_UNLIMITED": broadcast.Unlimited,
		"TIER_50": 50, "TIER_1K": 1000, "UNLIMITED": broadcast.Unlimited, "tier_2k": 2000, "2000": 2000,
		"TIER_NOT_SET": 0, "": 0, "TIER_": 0, "TIER_-5K": 0, "TIER_99999999999K": 0, "LOTS": 0,
	}
	for in, want := range tests {
		if got := whatsapp.ParseLimit(in); got != want {
			t.Errorf("ParseLimit(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestParseQuality(t *testing.T) {
	tests := map[string]broadcast.Quality{
		"GREEN": broadcast.QualityGreen, "YELLOW": broadcast.QualityYellow, "RED": broadcast.QualityRed,
		"HIGH": broadcast.QualityGreen, "MEDIUM": broadcast.QualityYellow, "LOW": broadcast.QualityRed,
		"UNKNOWN": broadcast.QualityUnknown, "NA": broadcast.QualityUnknown, "": broadcast.QualityUnknown, "green": broadcast.QualityGreen,
	}
	for in, want := range tests {
		if got := whatsapp.ParseQuality(in); got != want {
			t.Errorf("ParseQuality(%q) = %q, want %q", in, got, want)
		}
	}
}

// healthLog records what OnHealth handlers are given.
type healthLog struct {
	mu  sync.Mutex
	got []broadcast.NumberHealth
}

func (l *healthLog) add(_ context.Context, h broadcast.NumberHealth) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, h)
}

func (l *healthLog) all() []broadcast.NumberHealth {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]broadcast.NumberHealth(nil), l.got...)
}

func TestCheckNumbersReadsSavesAndTellsOnChange(t *testing.T) {
	r := newRig(t, nil)
	r.graph.AddPhoneNumber(testNumber, graphtest.PhoneNumber{Display: "+44 7700 900123", Limit: "TIER_2K"})
	r.graph.AddPhoneNumber("200", graphtest.PhoneNumber{Display: "+31 6 1111 2222", Limit: "TIER_UNLIMITED", Throughput: "HIGH", Quality: "YELLOW"})
	var log healthLog
	r.ch.OnHealth(log.add)
	if err := r.ch.CheckNumbers(t.Context(), []string{testNumber, "200"}); err != nil {
		t.Fatalf("CheckNumbers: %v", err)
	}
	want := broadcast.NumberHealth{Channel: "whatsapp", Number: testNumber, Display: "+44 7700 900123", Limit: 2000,
		Throughput: 80, Quality: broadcast.QualityGreen, Status: "CONNECTED", CheckedAt: now}
	if h, _ := r.nums.get(testNumber); h != want {
		t.Errorf("saved %+v\nwant %+v", h, want)
	}
	second := broadcast.NumberHealth{Channel: "whatsapp", Number: "200", Display: "+31 6 1111 2222", Limit: broadcast.Unlimited,
		Throughput: 1000, Quality: broadcast.QualityYellow, Status: "CONNECTED", CheckedAt: now}
	if h, _ := r.nums.get("200"); h != second {
		t.Errorf("saved %+v\nwant %+v", h, second)
	}
	if got := log.all(); len(got) != 2 {
		t.Fatalf("handlers told %d times after the first reads, want 2: %+v", len(got), got)
	}

	// Nothing new: saved (the dashboard says when it was checked), nobody told.
	r.clock.now = now.Add(time.Hour)
	if err := r.ch.CheckNumbers(t.Context(), []string{testNumber}); err != nil {
		t.Fatalf("CheckNumbers again: %v", err)
	}
	if h, _ := r.nums.get(testNumber); !h.CheckedAt.Equal(now.Add(time.Hour)) {
		t.Errorf("checked at %v, want %v", h.CheckedAt, now.Add(time.Hour))
	}
	if n := len(log.all()); n != 2 {
		t.Errorf("handlers told %d times after a read with nothing new, want still 2", n)
	}

	// The rating drops: told, with the new rating.
	r.graph.SetQuality(testNumber, "RED")
	r.clock.now = now.Add(2 * time.Hour)
	if err := r.ch.CheckNumbers(t.Context(), []string{testNumber}); err != nil {
		t.Fatalf("CheckNumbers after the drop: %v", err)
	}
	got := log.all()
	if len(got) != 3 || got[2].Quality != broadcast.QualityRed || got[2].Number != testNumber {
		t.Fatalf("after the drop handlers got %+v, want a third call with RED", got)
	}
}

func TestCheckNumbersFailureIsLoggedAndRetried(t *testing.T) {
	r := newRig(t, nil)
	r.graph.AddPhoneNumber(testNumber, graphtest.PhoneNumber{Display: "+44 7700 900123", Limit: "TIER_10K"})
	r.graph.AddPhoneNumber("200", graphtest.PhoneNumber{Display: "+31 6 1111 2222"})
	r.graph.FailNumberReads(1)
	err := r.ch.CheckNumbers(t.Context(), []string{testNumber, "200"})
	var apiErr *whatsapp.APIError
	if !errors.As(err, &apiErr) || apiErr.Permanent {
		t.Fatalf("CheckNumbers = %v, want the transient APIError of the failed read", err)
	}
	if _, ok := r.nums.get(testNumber); ok {
		t.Errorf("a failed read saved something")
	}
	if _, ok := r.nums.get("200"); !ok {
		t.Errorf("the failure of one number's read kept the other from being read")
	}
	if err := r.ch.CheckNumbers(t.Context(), []string{testNumber}); err != nil {
		t.Fatalf("CheckNumbers the next time: %v", err)
	}
	if h, ok := r.nums.get(testNumber); !ok || h.Limit != 10000 {
		t.Errorf("after the retry saved %+v, want limit 10000", h)
	}
	// An unknown number is the platform's 404: reported, not fatal.
	if err := r.ch.CheckNumbers(t.Context(), []string{"999"}); err == nil {
		t.Errorf("CheckNumbers of an unknown number succeeded")
	}
}

// fakeAfter hands out channels the test fires, so the watcher's waits are the test's.
type fakeAfter struct {
	asked chan time.Duration
	fire  chan time.Time
}

func (f *fakeAfter) After(d time.Duration) <-chan time.Time {
	f.asked <- d
	return f.fire
}

func TestWatchNumbersAtStartEveryIntervalAndAfterAQualityWebhook(t *testing.T) {
	r := newRig(t, nil)
	r.graph.AddPhoneNumber(testNumber, graphtest.PhoneNumber{Display: "+44 7700 900123", Limit: "TIER_10K"})
	var log healthLog
	r.ch.OnHealth(log.add)
	clock := &fakeAfter{asked: make(chan time.Duration), fire: make(chan time.Time)}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.ch.WatchNumbers(ctx, whatsapp.NumberWatch{Numbers: func() []string { return []string{testNumber, "", testNumber} },
			Every: time.Hour, After: clock.After})
	}()
	waitFor := func(what string) {
		t.Helper()
		if d := <-clock.asked; d != time.Hour {
			t.Fatalf("%s: the watcher waits %v, want 1h", what, d)
		}
	}
	waitFor("at start")
	if n := r.graph.NumberReads(); n != 1 {
		t.Fatalf("%d reads at start, want 1 (duplicates and empty ids dropped)", n)
	}
	clock.fire <- now
	waitFor("after an hour")
	if n := r.graph.NumberReads(); n != 2 {
		t.Fatalf("%d reads after an hour, want 2", n)
	}

	// A quality webhook is applied at once, then the number is read again before its time.
	r.graph.SetQuality(testNumber, "YELLOW")
	r.graph.SetLimit(testNumber, "TIER_2K")
	if code := r.post(t, graphtest.QualityUpdateWebhook("447700900123", "DOWNGRADE", "TIER_2K", "TIER_10K", now.Add(time.Minute))); code != 200 {
		t.Fatalf("quality webhook answered %d", code)
	}
	waitFor("after the webhook")
	if n := r.graph.NumberReads(); n != 3 {
		t.Fatalf("%d reads after the webhook, want 3", n)
	}
	cancel()
	<-done
	got := log.all()
	if len(got) != 3 {
		t.Fatalf("handlers got %+v, want the first read, the webhook and the read after it", got)
	}
	if got[1].Event != "DOWNGRADE" || got[1].Limit != 2000 || got[1].Quality != broadcast.QualityGreen {
		t.Errorf("after the webhook %+v, want DOWNGRADE to 2000, rating not yet known to have changed", got[1])
	}
	if got[2].Quality != broadcast.QualityYellow || got[2].Event != "DOWNGRADE" {
		t.Errorf("after the read %+v, want YELLOW with the webhook's event kept", got[2])
	}
}

func TestWatchNumbersOffReadsNothing(t *testing.T) {
	r := newRig(t, nil)
	r.graph.AddPhoneNumber(testNumber, graphtest.PhoneNumber{})
	r.ch.WatchNumbers(t.Context(), whatsapp.NumberWatch{Numbers: func() []string { return []string{testNumber} }})
	if n := r.graph.NumberReads(); n != 0 {
		t.Errorf("%d reads with the interval 0, want none", n)
	}
}

func TestUserPreferencesWebhookFromGraphtest(t *testing.T) {
	r := newRig(t, nil)
	for _, stop := range []bool{true, false} {
		if code := r.post(t, graphtest.UserPreferencesWebhook(testNumber, "447911123456", "Amira", stop, now.Add(time.Duration(btoi(!stop))*time.Minute))); code != 200 {
			t.Fatalf("user_preferences webhook answered %d", code)
		}
	}
	r.nums.mu.Lock()
	p := r.nums.prefs["whatsapp/447911123456"]
	r.nums.mu.Unlock()
	if p.StopMarketing || p.Source != "user_preferences" || !p.At.Equal(now.Add(time.Minute)) {
		t.Errorf("after stop then resume kept %+v, want the resume", p)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
