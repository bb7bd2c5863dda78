package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// BatchCommitter is implemented by backends that commit several steps in one transaction; the
// engine uses it when it is there. Every step must behave as Commit would on its own.
type BatchCommitter interface {
	CommitBatch(ctx context.Context, steps []engine.Step) ([]error, error)
}

// BatchSentMarker is implemented by backends that record several sent replies at once, each
// as MarkSent would.
type BatchSentMarker interface {
	MarkSentBatch(ctx context.Context, sent []engine.Sent) ([]error, error)
}

var batchTests = []test{
	{"CommitBatchFailsOnlyTheFailingSteps", func(t *testing.T, s Store) {
		bc, ok := s.(BatchCommitter)
		if !ok {
			t.Skip("no CommitBatch")
		}
		a, b, c := MustJoin(t, s, "a"), MustJoin(t, s, "b"), MustJoin(t, s, "c")
		ida := MustSaveInbound(t, s, inbound("ma", "a", "hi"))
		idb := MustSaveInbound(t, s, inbound("mb", "b", "hi"))
		idc := MustSaveInbound(t, s, inbound("mc", "c", "hi"))
		MustCommit(t, s, engine.Step{InboundID: idc, Participant: next(c, "seen", time.Minute), PrevVersion: c.Version})
		a2 := next(a, "convince", time.Minute)
		steps := []engine.Step{
			{InboundID: ida, Participant: a2, PrevVersion: a.Version,
				Outbox: []engine.Outbound{outbound(a, "reply to a", time.Minute)}},
			// Stale: b is at version 1.
			{InboundID: idb, Participant: next(next(b, "x", time.Minute), "x", time.Minute), PrevVersion: b.Version + 1,
				Outbox: []engine.Outbound{outbound(b, "stale reply", time.Minute)}},
			// Consumed already.
			{InboundID: idc, Participant: next(next(c, "seen", time.Minute), "again", time.Minute), PrevVersion: c.Version + 1},
		}
		results, err := bc.CommitBatch(t.Context(), steps)
		noErr(t, "CommitBatch", err)
		if len(results) != 3 {
			t.Fatalf("CommitBatch returned %d results, want 3", len(results))
		}
		noErr(t, "step a", results[0])
		wantErr(t, "stale step b", results[1], errs.ErrConflict)
		wantErr(t, "processed step c", results[2], engine.ErrProcessed)
		got, err := s.Participant(t.Context(), a.ID)
		noErr(t, "Participant a", err)
		equal(t, "a", got, a2)
		gotB, err := s.Participant(t.Context(), b.ID)
		noErr(t, "Participant b", err)
		equal(t, "b", gotB, b)
		equal(t, "due replies", outTexts(due(t, s, at(time.Hour))), []string{"Welcome", "Welcome", "Welcome", "reply to a"})
		equal(t, "pending", pendingIDs(t, s), []int64{idb})
	}},
	{"MarkSentBatchRecordsEachReply", func(t *testing.T, s Store) {
		bm, ok := s.(BatchSentMarker)
		if !ok {
			t.Skip("no MarkSentBatch")
		}
		a, b := MustJoin(t, s, "a"), MustJoin(t, s, "b")
		var ida, idb int64
		for _, o := range due(t, s, at(time.Hour)) {
			switch o.ParticipantID {
			case a.ID:
				ida = o.ID
			case b.ID:
				idb = o.ID
			}
		}
		noErr(t, "MarkSent b", s.MarkSent(t.Context(), idb, "w-b", at(time.Second)))
		results, err := bm.MarkSentBatch(t.Context(), []engine.Sent{
			{ID: ida, PlatformID: "w-a", At: at(2 * time.Second)},
			{ID: idb, PlatformID: "w-b2", At: at(2 * time.Second)},
			{ID: 999999, PlatformID: "w-x", At: at(2 * time.Second)},
		})
		noErr(t, "MarkSentBatch", err)
		if len(results) != 3 {
			t.Fatalf("MarkSentBatch returned %d results, want 3", len(results))
		}
		noErr(t, "reply to a", results[0])
		wantErr(t, "reply to b, sent before", results[1], errs.ErrConflict)
		if !errors.Is(results[2], errs.ErrNotFound) {
			t.Errorf("unknown reply: %v, want not found", results[2])
		}
		equal(t, "due", len(due(t, s, at(time.Hour))), 0)
		equal(t, "a's transcript", lineTexts(t, s, a.ID), []string{"out:Welcome"})
		equal(t, "b's transcript", lineTexts(t, s, b.ID), []string{"out:Welcome"})
	}},
	{"ParticipantsAtFollowsCommits", func(t *testing.T, s Store) {
		// Asked before and after each commit: a store that keeps answers in memory must keep
		// them in step with what it commits, however it commits.
		at316 := func(what string, want ...engine.Participant) {
			t.Helper()
			got, err := s.ParticipantsAt(t.Context(), "whatsapp", "316")
			noErr(t, "ParticipantsAt", err)
			if want == nil {
				want = []engine.Participant{}
			}
			if got == nil {
				got = []engine.Participant{}
			}
			equal(t, "ParticipantsAt "+what, got, want)
		}
		at316("before anyone joined")
		old := joinAs(t, s, "quiz", "whatsapp", "316", at(0))
		at316("after the first join", old)
		got, _ := s.ParticipantsAt(t.Context(), "whatsapp", "316")
		got[0].Vars["mutated"] = "by the caller"
		at316("after the caller changed its copy", old)

		id := MustSaveInbound(t, s, inbound("fin", "316", "bye"))
		done := next(old, "end", time.Minute)
		done.Finished = true
		if bc, ok := s.(BatchCommitter); ok {
			results, err := bc.CommitBatch(t.Context(), []engine.Step{{InboundID: id, Participant: done, PrevVersion: old.Version}})
			noErr(t, "CommitBatch", err)
			noErr(t, "CommitBatch step", results[0])
		} else {
			MustCommit(t, s, engine.Step{InboundID: id, Participant: done, PrevVersion: old.Version})
		}
		at316("after finishing", done)

		fresh := joinAs(t, s, "race", "whatsapp", "316", at(2*time.Minute))
		at316("after joining another campaign", fresh, done)
		stale := next(done, "stale", time.Hour)
		id = MustSaveInbound(t, s, inbound("stale", "316", "x"))
		err := s.Commit(t.Context(), engine.Step{InboundID: id, Participant: stale, PrevVersion: old.Version})
		wantErr(t, "stale Commit", err, errs.ErrConflict)
		at316("after a refused commit", fresh, done)
	}},
}
