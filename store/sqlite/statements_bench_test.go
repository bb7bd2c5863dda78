package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"modernc.org/sqlite"

	"github.com/chatcampaigns/campaign/engine"
)

// What each statement of a message's path costs on a store that holds many participants
// (docs/performance.md, "What each statement costs"):
//
//	go test ./store/sqlite -run '^$' -bench 'MessageStatements/stored=100000' -benchtime 20000x
//
// The store is prefilled as `campaign loadgen --prefill N` leaves it (each participant with
// one message, its greeting, two transcript lines, all of them in the search index), once per
// schema in a file of the system's temp folder, and copied for every run. The messages go to
// the participants in turn, in the order they were created, as 128 closed-loop senders
// through 100,000 participants do (neighbours in the tables share pages); path-random takes
// them in a random order, as people who write when they like do.
//
// path runs a message's writes through the store's own functions, a round of statementsRound
// messages at a time as the engine does under load: the webhooks' SaveInbound (concurrent, so
// they share commits), one CommitBatch of the round's echo steps, the sender's DueOutbox,
// AttemptOutbox of each reply (concurrent) and one MarkSentBatch. It reports the process's
// CPU per message (cpu-µs/msg: every goroutine, the search index's filling and the GC
// included) and the wall time of each phase per message.
//
// stmt=… runs one statement of the path alone, the same SQL the store runs, statementsRound
// to a commit, and reports CPU per statement with its share of the commit: which statement,
// with the indexes it maintains, costs what.
//
// stored=1000000 runs only with CAMPAIGN_BENCH_MILLION set: its prefill takes minutes (once
// per schema) and every run copies 1.1 GB.
//
// CAMPAIGN_BENCH_PRAGMA (statements separated by ";") runs on the write connection after
// Open and CAMPAIGN_BENCH_SCHEMA on the copy before it: how a setting or an index is
// measured against the store as it is, A B A B with one test binary.

// statementsRound is how many messages share a round: the worker's batch under the closed
// loop's load.
const statementsRound = 32

// benchEchoDef is the echo campaign's definition version the prefilled participants are on.
const benchEchoDef = "bench-echo-1"

func BenchmarkMessageStatements(b *testing.B) {
	sizes := []int{10000, 100000}
	if os.Getenv("CAMPAIGN_BENCH_MILLION") != "" {
		sizes = append(sizes, 1000000)
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("stored=%d", n), func(b *testing.B) {
			b.Run("path", func(b *testing.B) { benchPath(b, n, false, false) })
			b.Run("path-random", func(b *testing.B) { benchPath(b, n, true, false) })
			b.Run("path-receive", func(b *testing.B) { benchPath(b, n, false, true) })
			for _, st := range benchStatements {
				b.Run("stmt="+st.name, func(b *testing.B) { benchStatement(b, n, st) })
			}
		})
	}
}

// benchPeople are the prefilled participants, as the benchmarks address them.
type benchPerson struct {
	p   engine.Participant
	seq int64
}

func benchAddress(i int) string { return fmt.Sprintf("49151%08d", i) }

func benchParticipant(i int, at time.Time) engine.Participant {
	addr := benchAddress(i)
	return engine.Participant{ID: engine.ParticipantID("echo", "whatsapp", addr), Campaign: "echo",
		Channel: "whatsapp", Address: addr, State: "chat",
		Vars:    map[string]string{"name": fmt.Sprint("Loadgen ", i), "run.started": "true", "wa_number": "100000000000000"},
		Version: 2, DefVersion: benchEchoDef, Entered: 1, LastInboundAt: at, LastReplyDue: at,
		CreatedAt: at, UpdatedAt: at}
}

// prefillAt is the time of the prefilled messages; the benchmarks' own are later.
var prefillAt = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// openStored opens a copy of a store prefilled with n participants, with CAMPAIGN_BENCH_SCHEMA
// and CAMPAIGN_BENCH_PRAGMA applied, and returns it with the participants.
func openStored(b *testing.B, n int) (*DB, []benchPerson) {
	b.Helper()
	src := prefilled(b, n)
	dst := filepath.Join(b.TempDir(), "stored.db")
	if err := copyFile(src, dst); err != nil {
		b.Fatal(err)
	}
	if q := os.Getenv("CAMPAIGN_BENCH_SCHEMA"); q != "" {
		w, err := sql.Open("sqlite", dsn(dst, false))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := w.Exec(q); err != nil {
			b.Fatalf("CAMPAIGN_BENCH_SCHEMA: %v", err)
		}
		w.Close()
	}
	db, err := Open(context.Background(), dst)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	for _, q := range strings.Split(os.Getenv("CAMPAIGN_BENCH_PRAGMA"), ";") {
		if q = strings.TrimSpace(q); q != "" {
			err := db.withWriteConn(context.Background(), func(c *sql.Conn) error {
				_, err := c.ExecContext(context.Background(), q)
				return err
			})
			if err != nil {
				b.Fatalf("CAMPAIGN_BENCH_PRAGMA %s: %v", q, err)
			}
		}
	}
	people := make([]benchPerson, n)
	for i := range people {
		people[i] = benchPerson{p: benchParticipant(i, prefillAt), seq: int64(i + 1)}
	}
	return db, people
}

// prefilled returns the path of a store holding n participants as the load tool's prefill
// leaves them, built once per schema (its migrations' hash names the file).
func prefilled(b *testing.B, n int) string {
	b.Helper()
	h := sha256.New()
	names, _ := fs.Glob(migrations, "migrations/*.sql")
	for _, name := range names {
		body, _ := migrations.ReadFile(name)
		h.Write([]byte(name))
		h.Write(body)
	}
	h.Write([]byte(fillVersion))
	path := filepath.Join(os.TempDir(), fmt.Sprintf("campaign-bench-%s-%d.db", hex.EncodeToString(h.Sum(nil))[:12], n))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	start := time.Now()
	tmp := path + ".building"
	for _, f := range []string{tmp, tmp + "-wal", tmp + "-shm"} {
		os.Remove(f)
	}
	db, err := Open(context.Background(), tmp)
	if err != nil {
		b.Fatal(err)
	}
	if err := db.withWriteConn(context.Background(), func(c *sql.Conn) error { return fill(c, n) }); err != nil {
		db.Close()
		b.Fatalf("prefill %d: %v", n, err)
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	b.Logf("prefilled %d participants in %v: %s", n, time.Since(start).Round(time.Second), path)
	return path
}

// fillVersion names what fill writes: change it with fill, so no older file is taken for it.
const fillVersion = "2"

// fill writes n participants, their first message, greeting and transcript lines in one
// transaction, and indexes the lines for the search.
func fill(w *sql.Conn, n int) error {
	ctx := context.Background()
	if _, err := w.ExecContext(ctx, `PRAGMA cache_size(-1048576)`); err != nil {
		return err
	}
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	ins, err := tx.PrepareContext(ctx, `INSERT INTO participants (id, campaign, channel, address, state, vars,
		version, def_version, entered, finished, last_inbound_at, last_reply_due, created_at, updated_at, seq)
		VALUES (?, 'echo', 'whatsapp', ?, 'chat', ?, 2, ?, 1, 0, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	for i := range n {
		p := benchParticipant(i, prefillAt)
		vars := fmt.Sprintf(`{"name":"Loadgen %d","run.started":"true","wa_number":"100000000000000"}`, i)
		at := prefillAt.UnixNano()
		if _, err := ins.ExecContext(ctx, p.ID, p.Address, vars, benchEchoDef, at, at, at, at, i+1); err != nil {
			return err
		}
	}
	for _, q := range []string{
		`INSERT INTO inbound (channel, platform_id, campaign, sender, name, participant_id, kind, text,
			media, verdict, entry_id, at, processed, extra)
		SELECT 'whatsapp', 'wamid.prefill.' || seq, 'echo', address, json_extract(vars, '$.name'), id,
			'text', 'hello there', NULL, '', '', created_at, 1, '{"to":"100000000000000"}'
		FROM participants ORDER BY seq`,
		`INSERT INTO lines (participant_id, participant_seq, direction, text, media_key, at)
		SELECT id, seq, d.direction, d.text, '', created_at FROM participants
			CROSS JOIN (SELECT 1 AS k, 'in' AS direction, 'hello there' AS text UNION ALL SELECT 2, 'out', 'Hi!') AS d
		ORDER BY seq, d.k`,
		`INSERT INTO outbox (participant_id, participant_seq, campaign, channel, recipient, text, due_at,
			status, platform_id, error, attempts, sent_at, updated_at, attempted_at, attempted_by, sender)
		SELECT id, seq, 'echo', 'whatsapp', address, 'Hi!', created_at, 'sent', 'wamid.prefill.out.' || seq,
			'', 1, created_at, created_at, created_at, 'prefill', '100000000000000'
		FROM participants ORDER BY seq`,
		`INSERT INTO lines_search (rowid, text) SELECT id, text FROM lines`,
		// One segment, as the merges of a long-running server leave an index: the store's
		// chunks of new lines then merge among themselves, not into the bulk of the prefill.
		`INSERT INTO lines_search (lines_search) VALUES ('optimize')`,
		`UPDATE lines_search_state SET indexed = (SELECT max(id) FROM lines)`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%.40s: %w", strings.TrimSpace(q), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	_, err = w.ExecContext(ctx, `PRAGMA cache_size(-8192)`)
	return err
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	// Synced, so that the first checkpoint's fsync does not write the whole copy out.
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// cpuTime is the process's CPU time so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// pageCounts are the write connection's page counters: pages its statements found in its
// cache, pages they had to read, and pages its commits wrote to the log. Unlike CPU time on
// a shared machine they do not vary from run to run.
type pageCounts struct{ hit, miss, write int }

func writerPages(b *testing.B, db *DB) pageCounts {
	b.Helper()
	var c pageCounts
	err := db.withWriteConn(context.Background(), func(conn *sql.Conn) error {
		return conn.Raw(func(dc any) error {
			st := dc.(sqlite.DBStatus)
			for _, x := range []struct {
				op sqlite.DBStatusOp
				n  *int
			}{{sqlite.DBStatusCacheHit, &c.hit}, {sqlite.DBStatusCacheMiss, &c.miss}, {sqlite.DBStatusCacheWrite, &c.write}} {
				var err error
				if *x.n, _, err = st.Status(x.op, false); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// reportPages reports what the write connection's pages did per unit since from.
func reportPages(b *testing.B, db *DB, from pageCounts, unit string) {
	to := writerPages(b, db)
	n := float64(b.N)
	b.ReportMetric(float64(to.write-from.write)/n, "pages-written/"+unit)
	b.ReportMetric(float64(to.miss-from.miss)/n, "pages-read/"+unit)
	b.ReportMetric(float64(to.hit-from.hit)/n, "cache-hits/"+unit)
}

// benchPath runs b.N messages through the store's functions, a round at a time (see
// BenchmarkMessageStatements). receive runs the writes `campaign serve` makes on SQLite: each
// round's messages stored with their steps in one ReceiveApplied (the engine's receive loop),
// the replies' attempts in one AttemptOutboxBatch (the sender), then one MarkSentBatch.
func benchPath(b *testing.B, n int, random, receive bool) {
	db, people := openStored(b, n)
	ctx := context.Background()
	order := make([]int, len(people))
	for i := range order {
		order[i] = i
	}
	if random {
		rand.New(rand.NewPCG(1, 2)).Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
	next := 0 // the next participant to write, in order
	msg := 0
	var phases [5]time.Duration // inbound, step, due, attempt, sent
	var rounds []time.Duration
	round := func(k int) {
		at := time.Now()
		group := make([]*benchPerson, k)
		for i := range group {
			group[i] = &people[order[next]]
			next = (next + 1) % len(people)
		}
		t0 := time.Now()
		var wg sync.WaitGroup
		if receive {
			first := db.NextInboundIDs(k)
			items := make([]engine.ReceivedStep, k)
			for i, pp := range group {
				msg++
				p := pp.p
				prev := p.Version
				p.Version++
				p.LastInboundAt, p.LastReplyDue, p.UpdatedAt = at, at, at
				id := first + int64(i)
				items[i] = engine.ReceivedStep{ID: id, Inbound: benchInbound(pp, msg, at),
					Step: &engine.Step{InboundID: id, Participant: p, PrevVersion: prev,
						Lines: []engine.Line{{ParticipantID: p.ID, Direction: engine.In, Text: "hello there", At: at}},
						Outbox: []engine.Outbound{{ParticipantID: p.ID, Campaign: "echo", Channel: "whatsapp", To: p.Address,
							From: "100000000000000", Text: "ok", DueAt: at, Status: engine.StatusPending}}}}
				pp.p = p
			}
			outs, err := db.ReceiveApplied(ctx, items)
			if err != nil {
				b.Fatal(err)
			}
			for _, o := range outs {
				if !o.Applied {
					b.Fatalf("not applied: %+v", o)
				}
			}
			t1 := time.Now()
			due, err := db.DueOutbox(ctx, time.Now(), 0)
			if err != nil || len(due) != k {
				b.Fatalf("%d due of %d: %v", len(due), k, err)
			}
			t2 := time.Now()
			ids := make([]int64, k)
			for i, o := range due {
				ids[i] = o.ID
			}
			if err := allStepsDone(db.AttemptOutboxBatch(ctx, ids, "bench", t2)); err != nil {
				b.Fatal(err)
			}
			t3 := time.Now()
			sent := make([]engine.Sent, k)
			for i, o := range due {
				sent[i] = engine.Sent{ID: o.ID, PlatformID: fmt.Sprint("wamid.out.", o.ID), At: t3}
			}
			if err := allStepsDone(db.MarkSentBatch(ctx, sent)); err != nil {
				b.Fatal(err)
			}
			t4 := time.Now()
			for i, d := range []time.Duration{t1.Sub(t0), 0, t2.Sub(t1), t3.Sub(t2), t4.Sub(t3)} {
				phases[i] += d
			}
			rounds = append(rounds, t4.Sub(t0))
			return
		}
		ids := make([]int64, k)
		for i, pp := range group {
			msg++
			in := benchInbound(pp, msg, at)
			wg.Go(func() {
				id, _, err := db.SaveInbound(ctx, in)
				if err != nil {
					b.Error(err)
				}
				ids[i] = id
			})
		}
		wg.Wait()
		t1 := time.Now()
		steps := make([]engine.Step, k)
		for i, pp := range group {
			p := pp.p
			prev := p.Version
			p.Version++
			p.LastInboundAt, p.LastReplyDue, p.UpdatedAt = at, t1, t1
			steps[i] = engine.Step{InboundID: ids[i], Participant: p, PrevVersion: prev,
				Lines: []engine.Line{{ParticipantID: p.ID, Direction: engine.In, Text: "hello there", At: at}},
				Outbox: []engine.Outbound{{ParticipantID: p.ID, Campaign: "echo", Channel: "whatsapp", To: p.Address,
					From: "100000000000000", Text: "ok", DueAt: t1, Status: engine.StatusPending}}}
			pp.p = p
		}
		if err := allStepsDone(db.CommitBatch(ctx, steps)); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		due, err := db.DueOutbox(ctx, time.Now(), 0)
		if err != nil || len(due) != k {
			b.Fatalf("%d due of %d: %v", len(due), k, err)
		}
		t3 := time.Now()
		for _, o := range due {
			wg.Go(func() {
				if err := db.AttemptOutbox(ctx, o.ID, "bench", t3); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
		t4 := time.Now()
		sent := make([]engine.Sent, k)
		for i, o := range due {
			sent[i] = engine.Sent{ID: o.ID, PlatformID: fmt.Sprint("wamid.out.", o.ID), At: t4}
		}
		if err := allStepsDone(db.MarkSentBatch(ctx, sent)); err != nil {
			b.Fatal(err)
		}
		t5 := time.Now()
		for i, d := range []time.Duration{t1.Sub(t0), t2.Sub(t1), t3.Sub(t2), t4.Sub(t3), t5.Sub(t4)} {
			phases[i] += d
		}
		rounds = append(rounds, t5.Sub(t0))
	}
	// Warm the write connection's page cache as a running server has it.
	for range 2000 / statementsRound {
		round(statementsRound)
	}
	phases = [5]time.Duration{}
	rounds = rounds[:0]
	pages := writerPages(b, db)
	cpu := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i += statementsRound {
		round(min(statementsRound, b.N-i))
	}
	b.StopTimer()
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 / float64(b.N) }
	b.ReportMetric(per(cpuTime()-cpu), "cpu-µs/msg")
	reportPages(b, db, pages, "msg")
	// The log must stay short under a steady load (checkpoint.go): its file's size at the end.
	var seq int
	var name, file string
	if err := db.r.QueryRow(`PRAGMA database_list`).Scan(&seq, &name, &file); err != nil {
		b.Fatal(err)
	}
	if st, err := os.Stat(file + "-wal"); err == nil {
		b.ReportMetric(float64(st.Size())/(1<<20), "wal-MiB")
	}
	// A round that waited for the disk (a checkpoint's fsyncs) stands out of the others.
	slices.Sort(rounds)
	b.ReportMetric(float64(rounds[len(rounds)/2].Microseconds())/1e3, "round-p50-ms")
	b.ReportMetric(float64(rounds[len(rounds)*99/100].Microseconds())/1e3, "round-p99-ms")
	for i, name := range []string{"inbound", "step", "due", "attempt", "sent"} {
		if receive && i == 1 {
			continue // in the inbound phase's write
		}
		b.ReportMetric(per(phases[i]), name+"-µs/msg")
	}
}

// benchInbound is the msg-th message of the benchmark, from pp.
func benchInbound(pp *benchPerson, msg int, at time.Time) engine.Inbound {
	return engine.Inbound{Campaign: "echo", Channel: "whatsapp", From: pp.p.Address, To: "100000000000000",
		Name: pp.p.Vars["name"], ParticipantID: pp.p.ID, PlatformID: fmt.Sprint("wamid.bench.", msg),
		Kind: engine.KindText, Text: "hello there", At: at}
}

func allStepsDone(errs []error, err error) error {
	if err != nil {
		return err
	}
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// benchStatement is one statement of the path, as the store runs it.
type benchStmt struct {
	name string
	// prep, when set, writes what the statement needs before the timer starts: rows for
	// op's i-th run to update.
	prep func(ctx context.Context, tx *wtx, people []benchPerson, i int) error
	op   func(ctx context.Context, tx *wtx, pp *benchPerson, i int) error
}

// Each statement below is the text the store's function runs (engine.go, claims.go): keep
// them the same when those change.
var benchStatements = []benchStmt{
	{name: "inbound-insert", op: func(ctx context.Context, tx *wtx, pp *benchPerson, i int) error {
		res, err := tx.ExecContext(ctx, `
		INSERT INTO inbound (channel, platform_id, campaign, sender, name, participant_id, kind,
			text, media, verdict, entry_id, at, extra)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (channel, platform_id) DO NOTHING`,
			"whatsapp", fmt.Sprint("wamid.stmt.", i), "echo", pp.p.Address, pp.p.Vars["name"], pp.p.ID,
			"text", "hello there", nil, "", "", time.Now().UnixNano(), `{"to":"100000000000000"}`)
		return oneRow(res, err)
	}},
	{name: "inbound-processed",
		prep: func(ctx context.Context, tx *wtx, people []benchPerson, i int) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO inbound (channel, platform_id, campaign, sender, name, participant_id, kind,
				text, media, verdict, entry_id, at, extra) VALUES ('whatsapp', ?, 'echo', ?, '', ?, 'text', 'hello there', NULL, '', '', ?, NULL)`,
				fmt.Sprint("wamid.prep.", i), people[i%len(people)].p.Address, people[i%len(people)].p.ID, time.Now().UnixNano())
			return err
		},
		op: func(ctx context.Context, tx *wtx, pp *benchPerson, i int) error {
			res, err := tx.ExecContext(ctx,
				`UPDATE inbound SET processed = 1, skip_reason = ? WHERE id = ? AND processed = 0`, "", benchFirst+int64(i))
			return oneRow(res, err)
		}},
	{name: "participant-update-full", op: func(ctx context.Context, tx *wtx, pp *benchPerson, i int) error {
		p := pp.p
		now := time.Now().UnixNano()
		res, err := tx.ExecContext(ctx, `
			UPDATE participants SET state = ?, vars = ?, handoff = ?, round = ?,
				version = ?, def_version = ?, entered = ?, finished = ?, last_inbound_at = ?,
				last_reply_due = ?, updated_at = ?
			WHERE id = ? AND version = ?`,
			p.State, fmt.Sprintf(`{"name":%q,"run.started":"true","wa_number":"100000000000000"}`, p.Vars["name"]), "", "",
			p.Version+1, p.DefVersion, true, false, now, now, now, p.ID, p.Version)
		pp.p.Version++
		return oneRow(res, err)
	}},
	// What a step runs when def_version and finished did not change (writeParticipant).
	{name: "participant-update", op: func(ctx context.Context, tx *wtx, pp *benchPerson, i int) error {
		p := pp.p
		now := time.Now().UnixNano()
		res, err := tx.ExecContext(ctx, `
			UPDATE participants SET state = ?, vars = ?, handoff = ?, round = ?,
				version = ?, entered = ?, last_inbound_at = ?, last_reply_due = ?, updated_at = ?
			WHERE id = ? AND version = ? AND def_version = ? AND finished = ?`,
			p.State, fmt.Sprintf(`{"name":%q,"run.started":"true","wa_number":"100000000000000"}`, p.Vars["name"]), "", "",
			p.Version+1, true, now, now, now, p.ID, p.Version, p.DefVersion, false)
		pp.p.Version++
		return oneRow(res, err)
	}},
	{name: "line-insert", op: func(ctx context.Context, tx *wtx, pp *benchPerson, i int) error {
		res, err := tx.ExecContext(ctx, `
		INSERT INTO lines (participant_id, participant_seq, direction, text, media_key, at)
		VALUES (?, (SELECT seq FROM participants WHERE id = ?), ?, ?, ?, ?)`,
			pp.p.ID, pp.p.ID, "in", "hello there", "", time.Now().UnixNano())
		return oneRow(res, err)
	}},
	{name: "line-insert-seq", op: func(ctx context.Context, tx *wtx, pp *benchPerson, i int) error {
		res, err := tx.ExecContext(ctx, `
		INSERT INTO lines (participant_id, participant_seq, direction, text, media_key, at)
		VALUES (?, ?, ?, ?, ?, ?)`,
			pp.p.ID, pp.seq, "out", "ok", "", time.Now().UnixNano())
		return oneRow(res, err)
	}},
	{name: "outbox-insert", op: func(ctx context.Context, tx *wtx, pp *benchPerson, i int) error {
		now := time.Now().UnixNano()
		res, err := tx.ExecContext(ctx, `
		INSERT INTO outbox (participant_id, participant_seq, campaign, channel, recipient, text,
			buttons, media_url, template, broadcast_id, due_at, status, platform_id, error, attempts, sender, agent)
		VALUES (?, (SELECT seq FROM participants WHERE id = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			pp.p.ID, pp.p.ID, "echo", "whatsapp", pp.p.Address, "ok", nil, "", nil, nil, now, "pending", "", "", 0,
			"100000000000000", "")
		return oneRow(res, err)
	}},
	{name: "outbox-attempt", prep: prepOutbox, op: func(ctx context.Context, tx *wtx, pp *benchPerson, i int) error {
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1,
			attempted_at = ?, attempted_by = ?, maybe_twice = maybe_twice | in_flight, in_flight = 1
			WHERE id = ? AND status = 'pending'`, time.Now().UnixNano(), "bench", benchFirst+int64(i))
		return oneRow(res, err)
	}},
	{name: "outbox-sent", prep: prepOutbox, op: func(ctx context.Context, tx *wtx, pp *benchPerson, i int) error {
		now := time.Now().UnixNano()
		res, err := tx.ExecContext(ctx,
			`UPDATE outbox SET status = 'sent', platform_id = ?, error = '', sent_at = ?, updated_at = ?, attempts = attempts + (in_flight = 0), in_flight = 0
		WHERE id = ? AND status <> 'sent'`, fmt.Sprint("wamid.out.", i), now, now, benchFirst+int64(i))
		if err := oneRow(res, err); err != nil {
			return err
		}
		var (
			pid  sql.NullString
			seq  sql.NullInt64
			text string
		)
		return tx.QueryRowContext(ctx, `SELECT participant_id, participant_seq, text FROM outbox WHERE id = ?`,
			benchFirst+int64(i)).Scan(&pid, &seq, &text)
	}},
	{name: "commit-empty", op: func(ctx context.Context, tx *wtx, pp *benchPerson, i int) error { return nil }},
}

// benchFirst is the id of the first row a statement's prep wrote (set by benchStatement).
var benchFirst int64

func prepOutbox(ctx context.Context, tx *wtx, people []benchPerson, i int) error {
	pp := &people[i%len(people)]
	_, err := tx.ExecContext(ctx, `INSERT INTO outbox (participant_id, participant_seq, campaign, channel, recipient, text,
		due_at, status, attempts, sender) VALUES (?, ?, 'echo', 'whatsapp', ?, 'ok', ?, 'pending', 0, '100000000000000')`,
		pp.p.ID, pp.seq, pp.p.Address, time.Now().UnixNano())
	return err
}

func oneRow(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("%d rows changed: %v", n, err)
	}
	return nil
}

// benchStatement runs st b.N times through the writer, statementsRound to a write (one
// transaction: a write alone in its group has no savepoint), each run on the next
// participant, through the writer's statement cache (wtx), as the store runs them.
func benchStatement(b *testing.B, n int, st benchStmt) {
	db, people := openStored(b, n)
	ctx := context.Background()
	warm := 2000
	if st.prep != nil {
		table := "inbound"
		if strings.HasPrefix(st.name, "outbox") {
			table = "outbox"
		}
		if err := db.r.QueryRowContext(ctx, `SELECT max(id) + 1 FROM `+table).Scan(&benchFirst); err != nil {
			b.Fatal(err)
		}
		err := db.write(ctx, func(tx *wtx) error {
			for i := range warm + b.N {
				if err := st.prep(ctx, tx, people, i); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	// The prep's rows are written in participant order: the runs start at the first
	// participant as well.
	run := func(from, to int) {
		for i := from; i < to; i += statementsRound {
			err := db.write(ctx, func(tx *wtx) error {
				for j := i; j < min(to, i+statementsRound); j++ {
					if err := st.op(ctx, tx, &people[j%len(people)], j); err != nil {
						return fmt.Errorf("%s: %w", st.name, err)
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	run(0, warm)
	pages := writerPages(b, db)
	cpu := cpuTime()
	b.ResetTimer()
	run(warm, warm+b.N)
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu).Nanoseconds())/1e3/float64(b.N), "cpu-µs/op")
	reportPages(b, db, pages, "op")
}
