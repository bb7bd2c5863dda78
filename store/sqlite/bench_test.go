package sqlite_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/store/sqlite"
)

// BenchmarkSaveInbound measures many webhooks storing events at once, as group commit sees
// them under load.
func BenchmarkSaveInbound(b *testing.B) {
	db := MustOpen(b, filepath.Join(b.TempDir(), "campaign.db"))
	var n atomic.Int64
	b.SetParallelism(32)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := db.SaveInbound(b.Context(), event("u", int(n.Add(1)))); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCommit measures the worker committing one typical step: a transcript line, a
// reply and the consumed event.
func BenchmarkCommit(b *testing.B) {
	db := MustOpen(b, filepath.Join(b.TempDir(), "campaign.db"))
	ctx := b.Context()
	p := participant("u")
	ids := make([]int64, b.N+1)
	for i := range ids {
		id, _, err := db.SaveInbound(ctx, event(fmt.Sprint("u", i), 0))
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = id
	}
	if err := db.Commit(ctx, engine.Step{InboundID: ids[0], Participant: p, Created: true}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 1; i <= b.N; i++ {
		prev := p.Version
		p.Version++
		err := db.Commit(ctx, engine.Step{InboundID: ids[i], Participant: p, PrevVersion: prev,
			Lines:  []engine.Line{{ParticipantID: p.ID, Direction: engine.In, Text: "hi", At: t0}},
			Outbox: []engine.Outbound{{ParticipantID: p.ID, Campaign: "c", Channel: "webchat", To: "u", Text: "yo", DueAt: t0}}})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCommitBatch measures the worker's batched commit, per step: 25 steps of different
// participants (out of 100,000, the target size) in one call, each a transcript line, a reply and the event.
func BenchmarkCommitBatch(b *testing.B) {
	db := MustOpen(b, filepath.Join(b.TempDir(), "campaign.db"))
	ctx := b.Context()
	const people, per = 100000, 25
	ps := make([]engine.Participant, people)
	var steps []engine.Step
	for i := range ps {
		ps[i] = participant(fmt.Sprint("p", i))
		id, _, err := db.SaveInbound(ctx, event(fmt.Sprint("p", i), 0))
		if err != nil {
			b.Fatal(err)
		}
		steps = append(steps, engine.Step{InboundID: id, Participant: ps[i], Created: true})
		if len(steps) == 500 || i == people-1 {
			if _, err := db.CommitBatch(ctx, steps); err != nil {
				b.Fatal(err)
			}
			steps = steps[:0]
		}
	}
	ids := make([]int64, b.N)
	for i := range ids {
		id, _, err := db.SaveInbound(ctx, event(fmt.Sprint("p", i%people), i+1))
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = id
	}
	b.ResetTimer()
	for i := 0; i < b.N; i += per {
		steps = steps[:0]
		for j := i; j < min(i+per, b.N); j++ {
			p := &ps[j%people]
			prev := p.Version
			p.Version++
			steps = append(steps, engine.Step{InboundID: ids[j], Participant: *p, PrevVersion: prev,
				Lines:  []engine.Line{{ParticipantID: p.ID, Direction: engine.In, Text: "hi", At: t0}},
				Outbox: []engine.Outbound{{ParticipantID: p.ID, Campaign: "c", Channel: "webchat", To: p.Address, Text: "yo", DueAt: t0}}})
		}
		if err := allDone(db.CommitBatch(ctx, steps)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMarkSentBatch measures recording sent replies, 25 per call, per reply.
func BenchmarkMarkSentBatch(b *testing.B) {
	db, ctx := MustOpen(b, filepath.Join(b.TempDir(), "campaign.db")), b.Context()
	due := dueReplies(b, db)
	b.ResetTimer()
	for i := 0; i < b.N; i += 25 {
		var sent []engine.Sent
		for _, o := range due[i:min(i+25, b.N)] {
			sent = append(sent, engine.Sent{ID: o.ID, PlatformID: "wamid", At: t0})
		}
		if err := allDone(db.MarkSentBatch(ctx, sent)); err != nil {
			b.Fatal(err)
		}
	}
}

// allDone returns the error of a batch call, or else its items' errors joined (nil when every
// item succeeded).
func allDone(errs []error, err error) error {
	if err != nil {
		return err
	}
	return errors.Join(errs...)
}

// dueReplies queues b.N replies to one participant and returns them as the sender finds them
// due: the starting point of the benchmarks of what the sender writes.
func dueReplies(b *testing.B, db *sqlite.DB) []engine.Outbound {
	ctx := b.Context()
	p := participant("u")
	id, _, err := db.SaveInbound(ctx, event("u", 0))
	if err != nil {
		b.Fatal(err)
	}
	outs := make([]engine.Outbound, b.N)
	for i := range outs {
		outs[i] = engine.Outbound{ParticipantID: p.ID, Campaign: "c", Channel: "webchat", To: "u", Text: "yo", DueAt: t0}
	}
	if err := db.Commit(ctx, engine.Step{InboundID: id, Participant: p, Created: true, Outbox: outs}); err != nil {
		b.Fatal(err)
	}
	due, err := db.DueOutbox(ctx, t0, 0)
	if err != nil || len(due) != b.N {
		b.Fatalf("%d due, %v", len(due), err)
	}
	return due
}
