package sqlite_test

import (
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/chatcampaigns/campaign/engine"
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
