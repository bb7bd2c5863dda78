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
	db, ctx := MustOpen(b, filepath.Join(b.TempDir(), "campaign.db")), b.Context()
	due := dueReplies(b, db)
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
