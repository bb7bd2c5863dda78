package engine_test

import (
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/store/sqlite"
)

// shared is the SQLite store posing as one several processes share (as MongoDB is): the engine
// then takes leases and cannot count the backlog in memory.
type shared struct{ *sqlite.DB }

func (shared) SoleProcess() bool { return false }

// TestBackPressureOnASharedStore: on a store several processes share, a process whose own
// count is zero (another process took the messages in) still slows its intake down once the
// store's backlog is past the policy, and lets messages in again once it is processed.
// Before, the policy was off on such stores.
func TestBackPressureOnASharedStore(t *testing.T) {
	h := newEnv(t, def("echo").state("chat", "", onText("", "Yes.")).build())
	cfg := h.cfg
	cfg.Store = shared{h.db}
	cfg.Intake = engine.IntakePolicy{MinBacklog: 10, Wait: 0}
	taker := engine.New(cfg) // takes the messages in
	other := engine.New(cfg) // the process asked next
	for i := range 20 {
		from := "p" + string(rune('a'+i))
		if _, err := taker.Receive(h.ctx, engine.Inbound{Campaign: "echo", Channel: "test", From: from, PlatformID: "m-" + from, Kind: engine.KindJoin}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := other.Intake().Admit(h.ctx); err != nil {
		t.Fatalf("before counting: %v, want admitted (nothing counted yet)", err)
	}
	if err := other.CountQueues(h.ctx); err != nil {
		t.Fatal(err)
	}
	if got := other.Intake().State().Events; got != 20 {
		t.Errorf("backlog counted = %d events, want the store's 20", got)
	}
	if ra, err := other.Intake().Admit(h.ctx); !engine.IsBusy(err) || ra < time.Second {
		t.Fatalf("with 20 events waiting: Admit = %v, %v; want busy with a Retry-After", ra, err)
	}
	for {
		n, err := taker.ProcessPending(h.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	h.clock.Advance(time.Minute)
	if _, err := taker.SendDue(h.ctx); err != nil {
		t.Fatal(err)
	}
	if err := other.CountQueues(h.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Intake().Admit(h.ctx); err != nil {
		t.Fatalf("after the backlog was processed: %v, want admitted", err)
	}
}
