package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
)

// The raw limit and the real path on the same store, in one run, so their ratio is measured
// on one machine in the same minutes (docs/performance.md, "Path and raw limit"):
//
//	go test ./store/sqlite -run '^$' -bench 'RawMessageWrites|EnginePath' -benchtime 20000x
//
// Both report msgs/s.

// benchParticipants is how many participants the messages are spread over (each created
// beforehand, so a message updates one).
const benchParticipants = 1000

var benchEcho = []byte(`id: echo
title: Bench echo
languages: [en]
channels: [whatsapp]
start: chat
states:
  chat:
    say: "Hi!"
    on:
      - text: any
        say: "ok"
`)

func benchDB(b *testing.B) *DB {
	b.Helper()
	db, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// rawWriter is a write connection of its own on a fresh store's file, closed when b ends: the
// store's writer holds its own connection for good.
func rawWriter(b *testing.B) *sql.DB {
	b.Helper()
	path := filepath.Join(b.TempDir(), "raw.db")
	db, err := Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	w, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		b.Fatal(err)
	}
	w.SetMaxOpenConns(1)
	b.Cleanup(func() { w.Close() })
	return w
}

// BenchmarkRawMessageWrites does only the writes one message needs, straight on the write
// connection with prepared statements: the inbound row, the participant read and its
// compare-and-swap on the version, two transcript lines (in and out), the outbox row and its
// update to sent. Commits of 100 messages and of 1.
func BenchmarkRawMessageWrites(b *testing.B) {
	for _, per := range []int{100, 1} {
		b.Run(fmt.Sprintf("commit=%d", per), func(b *testing.B) {
			ctx := context.Background()
			w := rawWriter(b)
			now := time.Now().UnixNano()
			for i := range benchParticipants {
				_, err := w.ExecContext(ctx, `INSERT INTO participants (id, campaign, channel, address, state, vars,
					version, def_version, created_at, updated_at, seq) VALUES (?, 'echo', 'whatsapp', ?, 'chat', '{}', 1, '1', ?, ?, ?)`,
					fmt.Sprint("p", i), fmt.Sprint(i), now, now, i+1)
				if err != nil {
					b.Fatal(err)
				}
			}
			prep := func(q string) *sql.Stmt {
				st, err := w.PrepareContext(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				return st
			}
			insInbound := prep(`INSERT INTO inbound (channel, platform_id, campaign, sender, name, participant_id, kind, text, media, verdict, entry_id, at)
				VALUES ('whatsapp', ?, 'echo', ?, '', ?, 'text', 'hello', NULL, '', '', ?)`)
			readP := prep(`SELECT state, vars, version FROM participants WHERE id = ?`)
			casP := prep(`UPDATE participants SET state = ?, vars = ?, version = ?, updated_at = ? WHERE id = ? AND version = ?`)
			insLine := prep(`INSERT INTO lines (participant_id, participant_seq, direction, text, media_key, at)
				VALUES (?, (SELECT seq FROM participants WHERE id = ?), ?, ?, '', ?)`)
			insOut := prep(`INSERT INTO outbox (participant_id, participant_seq, campaign, channel, recipient, text, due_at, status, platform_id, error, attempts)
				VALUES (?, (SELECT seq FROM participants WHERE id = ?), 'echo', 'whatsapp', ?, 'ok', ?, 'pending', '', '', 0)`)
			sent := prep(`UPDATE outbox SET status = 'sent', platform_id = ?, sent_at = ?, updated_at = ?, attempts = attempts + 1 WHERE id = ?`)
			one := func(tx *sql.Tx, i int) {
				p := fmt.Sprint("p", i%benchParticipants)
				at := time.Now().UnixNano()
				if _, err := tx.Stmt(insInbound).ExecContext(ctx, fmt.Sprint("m", i), p, p, at); err != nil {
					b.Fatal(err)
				}
				var state, vars string
				var version int64
				if err := tx.Stmt(readP).QueryRowContext(ctx, p).Scan(&state, &vars, &version); err != nil {
					b.Fatal(err)
				}
				res, err := tx.Stmt(casP).ExecContext(ctx, state, vars, version+1, at, p, version)
				if err != nil {
					b.Fatal(err)
				}
				if n, _ := res.RowsAffected(); n != 1 {
					b.Fatal("compare-and-swap lost")
				}
				if _, err := tx.Stmt(insLine).ExecContext(ctx, p, p, "in", "hello", at); err != nil {
					b.Fatal(err)
				}
				res, err = tx.Stmt(insOut).ExecContext(ctx, p, p, p, at)
				if err != nil {
					b.Fatal(err)
				}
				id, _ := res.LastInsertId()
				if _, err := tx.Stmt(sent).ExecContext(ctx, fmt.Sprint("wamid.", id), at, at, id); err != nil {
					b.Fatal(err)
				}
				if _, err := tx.Stmt(insLine).ExecContext(ctx, p, p, "out", "ok", at); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for i := 0; i < b.N; i += per {
				tx, err := w.BeginTx(ctx, nil)
				if err != nil {
					b.Fatal(err)
				}
				for j := i; j < min(b.N, i+per); j++ {
					one(tx, j)
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// nullSender accepts every reply at once.
type nullSender struct{ n atomic.Int64 }

func (s *nullSender) Send(context.Context, engine.Outbound) (string, error) {
	return fmt.Sprint("wamid.", s.n.Add(1)), nil
}

// BenchmarkEnginePath runs the real path on the same store: 32 webhooks at a time storing
// messages (Receive, group commit) while the engine runs (worker, sender), the echo campaign
// answering each once, the sender's platform answering at once. It is the path of
// BenchmarkRawMessageWrites' writes, plus what the engine adds: leases, the event consumed,
// the state machine, reads of the pending events and due replies, and the group commits'
// waits. msgs/s is messages answered per second of wall time, cpu-µs/msg the process's CPU
// (every goroutine: the benchmark's senders, the engine, the writer) per message. Run with
// the replies sent directly after their step's write (direct, the default) and with the
// sender's rounds only (rounds, engine.Config.NoDirectSends).
func BenchmarkEnginePath(b *testing.B) {
	for _, rounds := range []bool{false, true} {
		b.Run(map[bool]string{false: "direct", true: "rounds"}[rounds], func(b *testing.B) { benchEnginePath(b, rounds) })
	}
}

func benchEnginePath(b *testing.B, rounds bool) {
	db := benchDB(b)
	def, probs := campaigns.Parse("echo.yaml", benchEcho)
	if def == nil {
		b.Fatal(probs)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	eng := engine.New(engine.Config{Store: db, Campaigns: []*campaigns.Definition{def}, NoDirectSends: rounds})
	sender := &nullSender{}
	eng.Handle("whatsapp", sender)
	receive := func(i int) {
		in := engine.Inbound{Campaign: "echo", Channel: "whatsapp", From: fmt.Sprint(i % benchParticipants),
			PlatformID: fmt.Sprint("m", i), Kind: engine.KindText, Text: "hello"}
		if _, err := eng.Receive(ctx, in); err != nil {
			b.Error(err)
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() { eng.Run(ctx) })
	defer wg.Wait()
	defer cancel()
	// Every participant exists before the timer starts, as in the raw benchmark.
	for i := range benchParticipants {
		receive(-i - 1)
	}
	waitSent := func(n int64) {
		for sender.n.Load() < n {
			time.Sleep(time.Millisecond)
		}
	}
	waitSent(benchParticipants)
	cpu := cpuTime()
	b.ResetTimer()
	var next atomic.Int64
	var senders sync.WaitGroup
	for range 32 {
		senders.Go(func() {
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				receive(int(i))
			}
		})
	}
	senders.Wait()
	waitSent(int64(benchParticipants + b.N))
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64((cpuTime()-cpu).Nanoseconds())/1e3/float64(b.N), "cpu-µs/msg")
}
