package sqlite_test

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/chatcampaigns/campaign/engine"
)

// BenchmarkAttemptThenMarkSent measures what the sender writes per reply: its attempt recorded
// before the send, eight senders at once as the engine does (they share commits), then the
// sends recorded 25 per call. Against BenchmarkMarkSentBatch it is the cost of recording the
// attempt.
func BenchmarkAttemptThenMarkSent(b *testing.B) {
	db := MustOpen(b, filepath.Join(b.TempDir(), "campaign.db"))
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
	b.ResetTimer()
	for i := 0; i < b.N; i += 25 {
		round := due[i:min(i+25, b.N)]
		var wg sync.WaitGroup
		work := make(chan engine.Outbound)
		for range 8 {
			wg.Go(func() {
				for o := range work {
					if err := db.AttemptOutbox(ctx, o.ID, "node", t0); err != nil {
						b.Error(err)
					}
				}
			})
		}
		var sent []engine.Sent
		for _, o := range round {
			work <- o
			sent = append(sent, engine.Sent{ID: o.ID, PlatformID: "wamid", At: t0})
		}
		close(work)
		wg.Wait()
		if err := allDone(db.MarkSentBatch(ctx, sent)); err != nil {
			b.Fatal(err)
		}
	}
}
