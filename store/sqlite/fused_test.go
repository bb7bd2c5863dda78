package sqlite_test

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/judge"
	"github.com/chatcampaigns/campaign/store/sqlite"
)

// pendingIDs are the ids of the unprocessed events, in the order the worker takes them.
func pendingIDs(t *testing.T, db *sqlite.DB) []int64 {
	t.Helper()
	pending, err := db.PendingInbound(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, in := range pending {
		ids = append(ids, in.ID)
	}
	return ids
}

// TestReceiveApplied stores and applies, in one call, every case the receive loop meets:
// each step applied has its event stored processed and its effects written; each one not
// applied leaves its event stored unprocessed, after the events stored before it, and its
// participant as it was; a duplicate stores and applies nothing.
func TestReceiveApplied(t *testing.T) {
	ctx := t.Context()
	db := MustOpen(t, filepath.Join(t.TempDir(), "campaign.db"))
	save := func(from string, n int) int64 {
		t.Helper()
		id, _, err := db.SaveInbound(ctx, event(from, n))
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	// "old" and "stale" exist at version 1, "waiting" has an event stored and not processed,
	// and "dup"'s event 0 was stored before.
	for _, from := range []string{"old", "stale", "waiting"} {
		if err := db.Commit(ctx, engine.Step{InboundID: save(from, 0), Participant: participant(from), Created: true}); err != nil {
			t.Fatal(err)
		}
	}
	waiting := save("waiting", 1)
	dup := save("dup", 0)
	if err := db.Commit(ctx, engine.Step{Participant: participant("coded"), Created: true, Codes: []string{"TAKEN"}}); err != nil {
		t.Fatal(err)
	}
	next := func(from string) engine.Participant {
		p := participant(from)
		p.Version, p.State = 2, "next"
		return p
	}
	step := func(p engine.Participant, prev int64, created bool) *engine.Step {
		return &engine.Step{Participant: p, PrevVersion: prev, Created: created,
			Lines:  []engine.Line{{ParticipantID: p.ID, Direction: engine.In, Text: "hi " + p.Address, At: t0}},
			Outbox: []engine.Outbound{{Campaign: "c", Channel: "webchat", To: p.Address, Text: "yo " + p.Address, DueAt: t0}}}
	}
	coded := step(participant("x"), 0, true)
	coded.Codes = []string{"TAKEN"}
	tests := []struct {
		name    string
		in      engine.Inbound
		step    *engine.Step
		applied bool
		dup     bool
		why     error // of a step not applied
	}{
		{name: "new participant", in: event("new", 0), step: step(participant("new"), 0, true), applied: true},
		{name: "next version", in: event("old", 1), step: step(next("old"), 1, false), applied: true},
		{name: "stale version", in: event("stale", 1), step: step(next("stale"), 7, false), why: errs.ErrConflict},
		{name: "events waiting", in: event("waiting", 2), step: step(next("waiting"), 1, false), why: engine.ErrEventsWaiting},
		{name: "duplicate", in: event("dup", 0), step: step(participant("dup"), 0, true), dup: true},
		{name: "stored only", in: event("later", 0)},
		{name: "code taken", in: event("x", 0), step: coded, why: engine.ErrCodeTaken},
		{name: "stranger", in: event("s", 0), step: &engine.Step{Outbox: step(participant("s"), 0, false).Outbox}, applied: true},
	}
	first := db.NextInboundIDs(len(tests))
	items := make([]engine.ReceivedStep, len(tests))
	for i, tt := range tests {
		items[i] = engine.ReceivedStep{ID: first + int64(i), Inbound: tt.in, Step: tt.step}
	}
	got, err := db.ReceiveApplied(ctx, items)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(tests) {
		t.Fatalf("%d outcomes for %d items", len(got), len(tests))
	}
	wantPending := []int64{waiting, dup}
	for i, tt := range tests {
		if !tt.applied && !tt.dup {
			wantPending = append(wantPending, items[i].ID)
		}
	}
	if p := pendingIDs(t, db); !slices.Equal(p, wantPending) {
		t.Errorf("pending %v, want %v", p, wantPending)
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := got[i]
			if o.Applied != tt.applied || o.Duplicate != tt.dup {
				t.Fatalf("applied %v duplicate %v (%v), want %v %v", o.Applied, o.Duplicate, o.NotApplied, tt.applied, tt.dup)
			}
			if tt.why != nil && !errors.Is(o.NotApplied, tt.why) || tt.why == nil && o.NotApplied != nil {
				t.Errorf("not applied because %v, want %v", o.NotApplied, tt.why)
			}
			if tt.step == nil || tt.step.Participant.ID == "" || tt.dup {
				return
			}
			id := tt.step.Participant.ID
			lines, err := db.Transcript(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			outbox, err := db.Outbox(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			want := 0
			if tt.applied {
				want = 1
			}
			if len(lines) != want || len(outbox) != want {
				t.Errorf("%d lines and %d replies, want %d of each", len(lines), len(outbox), want)
			}
			p, err := db.Participant(ctx, id)
			switch {
			case tt.applied && (err != nil || p.Version != tt.step.Participant.Version):
				t.Errorf("participant version %d (%v), want %d", p.Version, err, tt.step.Participant.Version)
			case !tt.applied && err == nil && p.Version != 1:
				t.Errorf("participant moved to version %d by a step not applied", p.Version)
			}
		})
	}
	// The stale participant is as the table holds it.
	if p, err := db.Participant(ctx, participant("stale").ID); err != nil || p.Version != 1 || p.State != "start" {
		t.Errorf("stale = version %d state %q (%v), want 1 in start", p.Version, p.State, err)
	}
}

// TestReceiveAppliedFailedWrite: a write that fails answers every item with the error and
// stores none of them.
func TestReceiveAppliedFailedWrite(t *testing.T) {
	ctx := t.Context()
	db := MustOpen(t, filepath.Join(t.TempDir(), "campaign.db"))
	broken := &engine.Step{Participant: participant("b"), Created: true,
		// Two entries with one id: the second insert fails after the step was begun.
		Entries: []engine.Entry{{ID: "e1", Campaign: "c", State: "s", Kind: "photo", CreatedAt: t0},
			{ID: "e1", Campaign: "c", State: "s", Kind: "photo", CreatedAt: t0}}}
	first := db.NextInboundIDs(3)
	items := []engine.ReceivedStep{
		{ID: first, Inbound: event("a", 0), Step: &engine.Step{Participant: participant("a"), Created: true}},
		{ID: first + 1, Inbound: event("b", 0), Step: broken},
		{ID: first + 2, Inbound: event("c", 0)},
	}
	if got, err := db.ReceiveApplied(ctx, items); err == nil {
		t.Fatalf("outcomes %+v, want an error", got)
	}
	if p := pendingIDs(t, db); len(p) != 0 {
		t.Errorf("events %v stored by a failed write", p)
	}
	if _, err := db.Participant(ctx, participant("a").ID); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("participant a after a failed write: %v, want not found", err)
	}
	// Each event can still be stored the old way, with the ids reserved or new ones.
	for _, it := range items {
		if _, dup, err := db.SaveInbound(ctx, it.Inbound); err != nil || dup {
			t.Fatalf("SaveInbound after the failed write: duplicate %v, %v", dup, err)
		}
	}
}

// TestInboundIDsNeverCollide: ids reserved for the receive loop are never taken by the
// other inserts of events (webhooks stored the old way, timers' events, verdicts), in this
// run or after a reopen, and a second handle on the file (another process) that took one
// makes the event go the old way instead of failing.
func TestInboundIDsNeverCollide(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "campaign.db")
	db := MustOpen(t, path)
	reserved := db.NextInboundIDs(2)
	if _, _, err := db.SaveInbound(ctx, event("a", 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.StoreEvents(ctx, 0, []engine.Inbound{event("b", 0)}); err != nil {
		t.Fatal(err)
	}
	entry := engine.Step{Participant: participant("j"), Created: true,
		Entries: []engine.Entry{{ID: "j1", Campaign: "c", State: "s", Kind: "photo", CreatedAt: t0}}}
	if err := db.Commit(ctx, entry); err != nil {
		t.Fatal(err)
	}
	verdict := event("j", 0)
	verdict.Kind, verdict.Verdict, verdict.EntryID = engine.KindVerdict, judge.StatusApproved, "j1"
	if err := db.Decide(ctx, judge.Decision{EntryID: "j1", Verdict: judge.StatusApproved, By: "m", At: t0}, verdict); err != nil {
		t.Fatal(err)
	}
	others := pendingIDs(t, db)
	if len(others) != 3 || slices.Contains(others, reserved) || slices.Contains(others, reserved+1) {
		t.Errorf("reserved ids %d and %d, the others' %v", reserved, reserved+1, others)
	}
	items := []engine.ReceivedStep{
		{ID: reserved, Inbound: event("r", 0), Step: &engine.Step{Participant: participant("r"), Created: true}},
		{ID: reserved + 1, Inbound: event("r", 1)},
	}
	got, err := db.ReceiveApplied(ctx, items)
	if err != nil {
		t.Fatal(err)
	}
	if !got[0].Applied || got[1].Applied || got[1].Duplicate {
		t.Errorf("outcomes %+v, want the first applied and the second stored", got)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// After a reopen the sequence goes on past every id stored.
	db = MustOpen(t, path)
	second := MustOpen(t, path)
	mine := db.NextInboundIDs(1)
	if last := slices.Max(others); mine <= last {
		t.Errorf("after reopen the next id is %d, ids up to %d stored", mine, last)
	}

	// A second handle takes the id the first reserved: the first stores its event under
	// another id, unprocessed, and the step goes to the worker.
	theirs, _, err := second.SaveInbound(ctx, event("other", 0))
	if err != nil {
		t.Fatal(err)
	}
	if theirs != mine {
		t.Fatalf("the second handle took id %d, not the reserved %d: no collision to test", theirs, mine)
	}
	got, err = db.ReceiveApplied(ctx, []engine.ReceivedStep{{ID: mine, Inbound: event("late", 0),
		Step: &engine.Step{Participant: participant("late"), Created: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Applied || got[0].Duplicate || got[0].NotApplied == nil {
		t.Errorf("outcome %+v, want stored unprocessed with a reason", got[0])
	}
	pending, err := db.PendingInbound(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if last := pending[len(pending)-1]; last.PlatformID != event("late", 0).PlatformID || last.ID == mine {
		t.Errorf("last pending %d %s, want the late event under a new id", last.ID, last.PlatformID)
	}
	// And the old way meets the same collision by taking the next free id.
	if _, _, err := second.SaveInbound(ctx, event("other", 1)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.SaveInbound(ctx, event("mine", 1)); err != nil {
		t.Errorf("SaveInbound after another handle took ids: %v", err)
	}
}

// TestReceiveAppliedSends: asked to (SendAs), the write records the attempt of a step's first
// reply, and says which replies it queued, only when nothing the participant has pending
// could be overtaken by sending it now: none pending, or only replies the caller posted
// already (Posted). Otherwise every reply is queued unattempted, for the sender's rounds.
func TestReceiveAppliedSends(t *testing.T) {
	ctx := t.Context()
	db := MustOpen(t, filepath.Join(t.TempDir(), "campaign.db"))
	reply := func(p engine.Participant, text string) engine.Outbound {
		return engine.Outbound{Campaign: "c", Channel: "webchat", To: p.Address, Text: text, DueAt: t0}
	}
	// "waits" and "posted" have a reply pending from before, "sent" one sent already.
	before := map[string]int64{}
	for _, from := range []string{"waits", "posted", "sent"} {
		id, _, err := db.SaveInbound(ctx, event(from, 0))
		if err != nil {
			t.Fatal(err)
		}
		p := participant(from)
		if err := db.Commit(ctx, engine.Step{InboundID: id, Participant: p, Created: true,
			Outbox: []engine.Outbound{reply(p, "earlier")}}); err != nil {
			t.Fatal(err)
		}
		out, err := db.Outbox(ctx, p.ID)
		if err != nil || len(out) != 1 {
			t.Fatalf("outbox of %s: %v %v", from, out, err)
		}
		before[from] = out[0].ID
	}
	if err := db.MarkSent(ctx, before["sent"], "wamid.1", t0); err != nil {
		t.Fatal(err)
	}
	next := func(from string, texts ...string) *engine.Step {
		p := participant(from)
		s := &engine.Step{Participant: p, Created: true}
		if _, ok := before[from]; ok {
			p.Version, p.State = 2, "next"
			s = &engine.Step{Participant: p, PrevVersion: 1}
		}
		for _, text := range texts {
			s.Outbox = append(s.Outbox, reply(p, text))
		}
		return s
	}
	stale := next("waits", "late")
	stale.PrevVersion = 7
	tests := []struct {
		name   string
		from   string
		step   *engine.Step
		posted []int64
		sends  int // the step's replies named in Sending; 0: nothing attempted
	}{
		{name: "nothing pending", from: "new", step: next("new", "hi"), sends: 1},
		{name: "two replies, the first attempted", from: "two", step: next("two", "hi", "there"), sends: 2},
		{name: "a reply sent before", from: "sent", step: next("sent", "again"), sends: 1},
		{name: "a reply pending before", from: "waits", step: next("waits", "after")},
		{name: "the reply pending posted already", from: "posted", step: next("posted", "after"), posted: []int64{before["posted"]}, sends: 1},
		{name: "no reply", from: "quiet", step: next("quiet")},
	}
	first := db.NextInboundIDs(len(tests) + 1)
	items := []engine.ReceivedStep{{ID: first + int64(len(tests)), Inbound: event("stale", 1), Step: stale, SendAs: "me", SendAt: t0}}
	for i, tt := range tests {
		items = append(items, engine.ReceivedStep{ID: first + int64(i), Inbound: event(tt.from, 1), Step: tt.step,
			SendAs: "me", SendAt: t0, Posted: tt.posted})
	}
	got, err := db.ReceiveApplied(ctx, items)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Applied || got[0].Sending != nil {
		t.Errorf("a stale step: applied %v, sending %v; want neither", got[0].Applied, got[0].Sending)
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := got[i+1]
			if !o.Applied {
				t.Fatalf("not applied: %v", o.NotApplied)
			}
			out, err := db.Outbox(ctx, tt.step.Participant.ID)
			if err != nil {
				t.Fatal(err)
			}
			mine := out[len(out)-len(tt.step.Outbox):]
			if len(o.Sending) != tt.sends {
				t.Fatalf("sending %v, want %d of the step's replies", o.Sending, tt.sends)
			}
			for k, r := range mine {
				if tt.sends > 0 && o.Sending[k] != r.ID {
					t.Errorf("sending %v, want the step's replies %d, ...", o.Sending, mine[0].ID)
				}
				attempted := tt.sends > 0 && k == 0
				if got := r.Attempts == 1 && r.InFlight && r.AttemptedBy == "me" && r.AttemptedAt.Equal(t0); got != attempted {
					t.Errorf("reply %q: attempts %d in flight %v by %q at %v; want attempted %v",
						r.Text, r.Attempts, r.InFlight, r.AttemptedBy, r.AttemptedAt, attempted)
				}
				if r.Status != engine.StatusPending {
					t.Errorf("reply %q is %s, want pending", r.Text, r.Status)
				}
			}
		})
	}
}
