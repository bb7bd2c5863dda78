package engine_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// waitErr is a platform's "slow down, try again in d" (Telegram's 429 retry_after).
type waitErr struct{ d time.Duration }

func (e waitErr) Error() string             { return fmt.Sprintf("rate limited for %v", e.d) }
func (e waitErr) RetryAfter() time.Duration { return e.d }

// waiting refuses its first send with waitErr, then delivers.
type waiting struct {
	mu    sync.Mutex
	d     time.Duration
	tries int
	sent  []string
}

func (w *waiting) Send(_ context.Context, out engine.Outbound) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.tries++
	if w.tries == 1 {
		return "", fmt.Errorf("telegram: send: %w", waitErr{w.d})
	}
	w.sent = append(w.sent, out.Text)
	return "ok", nil
}

func (w *waiting) texts() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.sent...)
}

// TestRetryAfterIsHonoured: a reply the platform asks to hold back for a while is not tried
// again before that while, though the engine's own backoff would try after a second.
func TestRetryAfterIsHonoured(t *testing.T) {
	d := def("wait").state("chat", "", onText("", "")).build()
	d.States["chat"].On[0].Say = says("Hello.")
	h := newEnv(t, d)
	h.join("wait", "ann")
	w := &waiting{d: 30 * time.Second}
	h.eng.Handle("test", w)
	h.receive("wait", "ann", engine.Inbound{Kind: engine.KindText, Text: "go"})
	h.process()
	send := func() {
		t.Helper()
		if _, err := h.eng.SendDue(h.ctx); err != nil {
			t.Fatal(err)
		}
	}
	send()
	h.clock.Advance(5 * time.Second)
	send()
	if got := w.texts(); len(got) != 0 {
		t.Fatalf("sent %q 5s after the platform asked for 30s", got)
	}
	h.clock.Advance(26 * time.Second)
	send()
	wantTexts(t, w.texts(), "Hello.")
}

func TestPermanentAndRetryAfter(t *testing.T) {
	tests := []struct {
		err       error
		permanent bool
		wait      time.Duration
	}{
		{errs.ErrInvalid, true, 0},
		{fmt.Errorf("x: %w", errs.ErrUnauthorized), true, 0},
		{tempErr{}, false, 0},
		{fmt.Errorf("x: %w", waitErr{7 * time.Second}), false, 7 * time.Second},
		{nil, false, 0},
	}
	for _, tt := range tests {
		if got := engine.Permanent(tt.err); got != tt.permanent {
			t.Errorf("Permanent(%v) = %v, want %v", tt.err, got, tt.permanent)
		}
		if got, ok := engine.RetryAfter(tt.err); got != tt.wait || ok != (tt.wait > 0) {
			t.Errorf("RetryAfter(%v) = %v, %v, want %v", tt.err, got, ok, tt.wait)
		}
	}
}
