package engine_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

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

// BenchmarkReceiveLoop is the webhooks' side of the path on the SQLite store: 32 webhooks at
// once each Receive a text of one of 1,000 participants, which the receive loop (Run's, here
// alone: no worker, no sender) stores and applies with the others waiting, in one write. One
// op is one message; allocs/op counts the loop's, the step's and the store's. store=sqlite
// writes; store=none is the same store with a ReceiveApplied that writes nothing and says
// every step was applied: the engine's own share (the hand-offs, the steps, the observers).
func BenchmarkReceiveLoop(b *testing.B) {
	b.Run("store=sqlite", func(b *testing.B) { benchmarkReceiveLoop(b, false) })
	b.Run("store=none", func(b *testing.B) { benchmarkReceiveLoop(b, true) })
}

// appliedUnwritten is a SQLite store whose ReceiveApplied writes nothing and reports each
// item stored and, if it has a step, applied.
type appliedUnwritten struct{ *sqlite.DB }

func (appliedUnwritten) ReceiveApplied(_ context.Context, items []engine.ReceivedStep) ([]engine.ReceiveOutcome, error) {
	out := make([]engine.ReceiveOutcome, len(items))
	for i, it := range items {
		out[i].Applied = it.Step != nil
	}
	return out, nil
}

func benchmarkReceiveLoop(b *testing.B, unwritten bool) {
	d := def("bench").state("chat", "Hi!", onText("", "You said {{name}}?")).build()
	db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	c := &clock{now: t0}
	cfg := engine.Config{Store: db, Campaigns: []*campaigns.Definition{d}, Now: c.Now}
	eng := engine.New(cfg)
	eng.Handle("test", &nullSender{})
	ctx, cancel := context.WithCancel(b.Context())
	stopped := eng.ReceiveLoop(ctx)
	defer func() { cancel(); <-stopped }()
	const participants, webhooks = 1000, 32
	var seq atomic.Int64
	receive := func(eng *engine.Engine, n int) {
		var wg sync.WaitGroup
		var next atomic.Int64
		for range webhooks {
			wg.Go(func() {
				for next.Add(1) <= int64(n) {
					i := seq.Add(1)
					in := engine.Inbound{Campaign: "bench", Channel: "test", From: "p" + strconv.FormatInt(i%participants, 10),
						PlatformID: "m" + strconv.FormatInt(i, 10), Kind: engine.KindText, Text: "hello"}
					if _, err := eng.Receive(ctx, in); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
	}
	receive(eng, participants) // every participant joined: each op is a step of one playing
	if unwritten {
		cfg.Store = appliedUnwritten{db}
		eng = engine.New(cfg)
		eng.Handle("test", &nullSender{})
		stopped2 := eng.ReceiveLoop(ctx)
		defer func() { cancel(); <-stopped2 }()
	}
	b.ReportAllocs()
	b.ResetTimer()
	before := cpuTime()
	receive(eng, b.N)
	b.ReportMetric(float64((cpuTime()-before).Nanoseconds())/1e3/float64(b.N), "cpu-µs/op")
}

// cpuTime is the process's CPU time so far, user and system: on two cores shared with other
// work it says more than the wall time per op.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
