package engine_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/store/sqlite"
)

type nullSender struct{ n atomic.Int64 }

func (s *nullSender) Send(context.Context, engine.Outbound) (string, error) {
	return fmt.Sprint("out-", s.n.Add(1)), nil
}

// BenchmarkProcess measures the whole engine path with the SQLite store: webhooks storing
// events concurrently (Receive, group commit), the worker applying them (ProcessPending: one
// state machine step and one commit each) and the sender delivering the replies (SendDue).
// It reports events/s; each event is a text from one of 1,000 participants, answered once.
func BenchmarkProcess(b *testing.B) {
	d := def("bench").state("chat", "Hi!", onText("", "You said {{name}}?")).build()
	db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	c := &clock{now: t0}
	eng := engine.New(engine.Config{Store: db, Campaigns: []*campaigns.Definition{d}, Now: c.Now})
	sender := &nullSender{}
	eng.Handle("test", sender)
	ctx := b.Context()
	const participants, webhooks, chunk = 1000, 32, 1000
	var seq atomic.Int64
	b.ResetTimer()
	for done := 0; done < b.N; done += chunk {
		n := min(chunk, b.N-done)
		var wg sync.WaitGroup
		var next atomic.Int64
		for range webhooks {
			wg.Go(func() {
				for next.Add(1) <= int64(n) {
					i := seq.Add(1)
					in := engine.Inbound{Campaign: "bench", Channel: "test", From: fmt.Sprint("p", i%participants),
						PlatformID: fmt.Sprint("m", i), Kind: engine.KindText, Text: "hello"}
					if _, err := eng.Receive(ctx, in); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		for {
			k, err := eng.ProcessPending(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if k == 0 {
				break
			}
		}
		for {
			k, err := eng.SendDue(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if k == 0 {
				break
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if got := sender.n.Load(); got < int64(b.N) {
		b.Fatalf("sent %d replies for %d events", got, b.N)
	}
}
