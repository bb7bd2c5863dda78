package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/engine"
)

// TestCommitGroupIsolatesWrites runs one group by hand: a write that fails and one whose caller
// gave up must leave nothing behind, while the writes around them commit.
func TestCommitGroupIsolatesWrites(t *testing.T) {
	ctx := t.Context()
	db := openTest(t)
	gone, cancel := context.WithCancel(ctx)
	cancel()
	boom := errors.New("boom")
	insert := func(key string, fail error) func(tx *wtx) error {
		return func(tx *wtx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO claims (key, owner, until) VALUES (?, 'o', 1)`, key); err != nil {
				return err
			}
			return fail
		}
	}
	tests := []struct {
		key  string
		ctx  context.Context
		fail error
		want error
		kept bool
	}{
		{key: "first", ctx: ctx, kept: true},
		{key: "fails", ctx: ctx, fail: boom, want: boom},
		{key: "gave-up", ctx: gone, want: context.Canceled},
		{key: "last", ctx: ctx, kept: true},
		// A statement error inside a write (a duplicate key) is that write's alone.
		{key: "first", ctx: ctx, want: errAny},
	}
	group := make([]writeRequest, len(tests))
	for i, tt := range tests {
		group[i] = writeRequest{ctx: tt.ctx, fn: insert(tt.key, tt.fail), done: make(chan error, 1)}
	}
	runGroup(t, db, group)
	for i, tt := range tests {
		got := <-group[i].done
		switch {
		case tt.want == nil && got != nil:
			t.Errorf("write %d (%s): %v, want nil", i, tt.key, got)
		case tt.want == errAny && got == nil:
			t.Errorf("write %d (%s): nil, want an error", i, tt.key)
		case tt.want != nil && tt.want != errAny && !errors.Is(got, tt.want):
			t.Errorf("write %d (%s): %v, want %v", i, tt.key, got, tt.want)
		}
	}
	for _, tt := range tests {
		var n int
		if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM claims WHERE key = ?`, tt.key).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{true: 1}[tt.kept]; tt.want != errAny && n != want {
			t.Errorf("rows for %s = %d, want %d", tt.key, n, want)
		}
	}
}

var errAny = errors.New("any error")

// runGroup runs a group of writes made by hand on the writer's goroutine, between two of its
// own groups (the search index's filling writes from the start).
func runGroup(t *testing.T, db *DB, group []writeRequest) {
	t.Helper()
	err := db.withWriteConn(t.Context(), func(*sql.Conn) error {
		db.commitGroup(group, false)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// openTest opens a fresh database in t's temporary folder, closed when t ends (the package's
// own tests cannot use sqlite_test.MustOpen).
func openTest(t *testing.T) *DB {
	t.Helper()
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "campaign.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestWriteAfterClose(t *testing.T) {
	ctx := t.Context()
	db := openTest(t)
	db.Close()
	err := db.write(ctx, func(*wtx) error { return nil })
	if !errors.Is(err, errClosed) {
		t.Fatalf("write after Close: %v, want %v", err, errClosed)
	}
}

// TestCommitGroupRunsAgainOnFailure: the writes of a group run without savepoints, so one that
// fails sends the group round again with a savepoint each; the writes before and after it
// still commit, once, and nothing of the failed one stays, even the statements it ran before
// failing.
func TestCommitGroupRunsAgainOnFailure(t *testing.T) {
	ctx := t.Context()
	boom := errors.New("boom")
	insert := func(keys ...string) func(tx *wtx) error {
		return func(tx *wtx) error {
			for _, k := range keys {
				if _, err := tx.ExecContext(ctx, `INSERT INTO claims (key, owner, until) VALUES (?, 'o', 1)`, k); err != nil {
					return err
				}
			}
			return nil
		}
	}
	tests := []struct {
		name   string
		writes []func(tx *wtx) error
		failed []bool
		rows   []string
	}{
		{name: "duplicate key", writes: []func(tx *wtx) error{insert("a"), insert("a"), insert("b"), insert("c")},
			failed: []bool{false, true, false, false}, rows: []string{"a", "b", "c"}},
		{name: "second statement fails", writes: []func(tx *wtx) error{insert("a"), insert("x", "a"), insert("b")},
			failed: []bool{false, true, false}, rows: []string{"a", "b"}},
		{name: "fn fails after its statement", writes: []func(tx *wtx) error{insert("a"),
			func(tx *wtx) error { insert("x")(tx); return boom }, insert("b")},
			failed: []bool{false, true, false}, rows: []string{"a", "b"}},
		{name: "first fails", writes: []func(tx *wtx) error{func(*wtx) error { return boom }, insert("a")},
			failed: []bool{true, false}, rows: []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openTest(t)
			group := make([]writeRequest, len(tt.writes))
			for i, fn := range tt.writes {
				group[i] = writeRequest{ctx: ctx, fn: fn, done: make(chan error, 1)}
			}
			runGroup(t, db, group)
			for i := range group {
				if err := <-group[i].done; tt.failed[i] != (err != nil) {
					t.Errorf("write %d: %v, want failed %v", i, err, tt.failed[i])
				}
			}
			rows, err := db.r.QueryContext(ctx, `SELECT key FROM claims ORDER BY key`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var got []string
			for rows.Next() {
				var k string
				if err := rows.Scan(&k); err != nil {
					t.Fatal(err)
				}
				got = append(got, k)
			}
			if !slices.Equal(got, tt.rows) {
				t.Errorf("rows %v, want %v", got, tt.rows)
			}
		})
	}
}

// TestGather: a loaded writer waits for more writes to a small group, an idle one does not,
// and a wait nobody joined makes the next groups commit at once. The waits that must end by
// themselves are an hour long, so a wrong wait hangs the test instead of passing by luck.
func TestGather(t *testing.T) {
	req := func() writeRequest { return writeRequest{ctx: t.Context(), fn: func(*wtx) error { return nil }} }
	tests := []struct {
		name   string
		linger time.Duration
		ended  time.Duration // how long ago the last group committed
		skip   int
		start  int // writes the group holds when gathering starts
		send   int // writes sent while it gathers
		want   int
		skipAf int
	}{
		{name: "idle writer commits at once", linger: time.Hour, ended: 2 * time.Hour, start: 1, want: 1},
		{name: "loaded writer waits for company", linger: time.Hour, start: 1, send: 2, want: 3},
		{name: "a wait nobody joins backs off", linger: time.Millisecond, start: 1, want: 1, skipAf: lingerBackoff},
		{name: "backed off commits at once", linger: time.Hour, skip: 3, start: 1, want: 1, skipAf: 2},
		{name: "writes together end the back-off", linger: time.Hour, skip: 3, start: 2, send: 1, want: 3},
		{name: "a full group does not wait", linger: time.Hour, start: 3, want: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := &DB{writes: make(chan writeRequest), quit: make(chan struct{}), linger: tt.linger, lingerBelow: 3}
			g := gatherer{db: db, timer: time.NewTimer(time.Hour), ended: time.Now().Add(-tt.ended), skip: tt.skip}
			g.timer.Stop()
			var group []writeRequest
			for range tt.start {
				group = append(group, req())
			}
			for range tt.send {
				go func() { db.writes <- req() }()
			}
			got, raw := g.gather(group)
			if raw != nil || len(got) != tt.want {
				t.Errorf("group of %d (raw %v), want %d", len(got), raw != nil, tt.want)
			}
			if g.skip != tt.skipAf {
				t.Errorf("skip = %d, want %d", g.skip, tt.skipAf)
			}
		})
	}
}

// TestGatherDefersBulk: a bulk write (the sender's record of sent replies, the search
// index) taken while a group holds any other write waits for the next group, which it
// starts, ahead of anything taken later; bulk writes share a group with each other.
func TestGatherDefersBulk(t *testing.T) {
	urgent := func(name string) writeRequest {
		return writeRequest{ctx: t.Context(), fn: func(*wtx) error { return errors.New(name) }}
	}
	bulk := func(name string) writeRequest {
		r := urgent(name)
		r.bulk = true
		return r
	}
	name := func(rs []writeRequest) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.fn(nil).Error())
		}
		return out
	}
	tests := []struct {
		name         string
		start, sent  []writeRequest
		want, defers []string
	}{
		{"bulk waits for the next group", []writeRequest{urgent("u1")}, []writeRequest{bulk("b1"), urgent("u2"), bulk("b2")},
			[]string{"u1", "u2"}, []string{"b1", "b2"}},
		{"bulk writes share a group", []writeRequest{bulk("b1")}, []writeRequest{bulk("b2"), bulk("b3")},
			[]string{"b1", "b2", "b3"}, nil},
		{"a bulk group takes a webhook's write, and the bulk after it waits", []writeRequest{bulk("b1")},
			[]writeRequest{urgent("u1"), bulk("b2")}, []string{"b1", "u1"}, []string{"b2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// An idle writer: the group takes what is waiting and does not linger.
			db := &DB{writes: make(chan writeRequest, len(tt.sent)), quit: make(chan struct{}), linger: time.Hour, lingerBelow: 100}
			for _, r := range tt.sent {
				db.writes <- r
			}
			g := gatherer{db: db, timer: time.NewTimer(time.Hour), ended: time.Now().Add(-2 * time.Hour)}
			g.timer.Stop()
			got, raw := g.gather(tt.start)
			if raw != nil || !slices.Equal(name(got), tt.want) || !slices.Equal(name(g.deferred), tt.defers) {
				t.Errorf("group %v, deferred %v (raw %v); want %v, %v", name(got), name(g.deferred), raw != nil, tt.want, tt.defers)
			}
		})
	}
}

// TestWriterCommitsDeferredBulk: on the running writer, a bulk write deferred from a group
// is committed in the next one, and its caller answered.
func TestWriterCommitsDeferredBulk(t *testing.T) {
	ctx := t.Context()
	db := openTest(t)
	// A loaded writer (it just committed) gathering a group waits for nothing but a raw
	// request.
	if err := db.withWriteConn(ctx, func(*sql.Conn) error {
		db.linger, db.lingerBelow = time.Hour, 1<<30
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	insert := func(key string) func(tx *wtx) error {
		return func(tx *wtx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO claims (key, owner, until) VALUES (?, 'test', 0)`, key)
			return err
		}
	}
	first := writeRequest{ctx: ctx, fn: insert("first"), done: make(chan error, 1)}
	db.writes <- first
	bulk := writeRequest{ctx: ctx, fn: insert("bulk"), bulk: true, done: make(chan error, 1)}
	db.writes <- bulk // taken, and deferred: the group holds a write that is not bulk
	if err := db.withWriteConn(ctx, func(*sql.Conn) error {
		db.linger, db.lingerBelow = writerLinger, writerLingerBelow
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []writeRequest{first, bulk} {
		select {
		case err := <-r.done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a write was not answered")
		}
	}
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM claims WHERE key IN ('first', 'bulk')`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d of the two writes stored (%v)", n, err)
	}
}

// TestGatherReadIsNoCompany: a read taken while a group lingers is answered at once and
// does not join the group: the group still waits for writes, and a wait only reads came in
// counts as one nobody joined.
func TestGatherReadIsNoCompany(t *testing.T) {
	db := &DB{writes: make(chan writeRequest), quit: make(chan struct{}), linger: 200 * time.Millisecond, lingerBelow: 2}
	g := gatherer{db: db, timer: time.NewTimer(time.Hour), ended: time.Now()}
	g.timer.Stop()
	answered := make(chan error, 1)
	go func() {
		answered <- db.readOnWriter(t.Context(), func(*wtx) error { return nil })
	}()
	got, raw := g.gather([]writeRequest{{ctx: t.Context(), fn: func(*wtx) error { return nil }}})
	if raw != nil || len(got) != 1 {
		t.Errorf("group of %d (raw %v), want the one write", len(got), raw != nil)
	}
	if g.skip != lingerBackoff {
		t.Errorf("skip = %d, want %d: the read counted as company", g.skip, lingerBackoff)
	}
	select {
	case err := <-answered:
		if err != nil {
			t.Errorf("read: %v", err)
		}
	default:
		t.Error("the read was not answered while the group gathered")
	}
}

// TestReadOnWriter: the message path's reads (a participant by address, the replies due) run
// on the write connection (with every reader connection taken they still answer), see what
// was committed, and are answered while the writer gathers a group: they neither wait for
// the group's linger nor join it.
func TestReadOnWriter(t *testing.T) {
	ctx := t.Context()
	db := openTest(t)
	at := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	ann := engine.Participant{ID: engine.ParticipantID("echo", "whatsapp", "316"), Campaign: "echo",
		Channel: "whatsapp", Address: "316", State: "chat", Version: 1, CreatedAt: at, UpdatedAt: at}
	if err := db.write(ctx, func(tx *wtx) error {
		return writeParticipant(ctx, tx, engine.Step{Participant: ann, Created: true})
	}); err != nil {
		t.Fatal(err)
	}
	// Set on the writer's goroutine, which reads them: a loaded writer (it just committed)
	// now waits an hour for company, whatever the store's own loops (the search index, the
	// checkpoints) write meanwhile; only a raw request (below) ends the wait.
	if err := db.withWriteConn(ctx, func(*sql.Conn) error {
		db.linger, db.lingerBelow = time.Hour, 1<<30
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	db.r.SetMaxOpenConns(1)
	reader, err := db.r.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()

	write := func() writeRequest {
		return writeRequest{ctx: ctx, fn: func(*wtx) error { return nil }, done: make(chan error, 1)}
	}
	first := write()
	db.writes <- first // taken: the writer is gathering its group now

	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	got, err := db.ParticipantsAt(rctx, "whatsapp", "316")
	if err != nil {
		t.Fatalf("read while the writer gathers, every reader busy: %v", err)
	}
	if len(got) != 1 || got[0].ID != ann.ID || got[0].State != "chat" {
		t.Fatalf("read %+v, want ann", got)
	}
	if _, err := db.DueOutbox(rctx, at, 10); err != nil {
		t.Fatalf("replies due read while the writer gathers, every reader busy: %v", err)
	}
	select {
	case err := <-first.done:
		t.Fatalf("the group committed (%v) while it lingered: the reads ended its wait", err)
	default:
	}
	// A raw request ends the gathering: the group commits, then the linger is put back.
	if err := db.withWriteConn(ctx, func(*sql.Conn) error {
		db.linger, db.lingerBelow = writerLinger, writerLingerBelow
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := <-first.done; err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := db.routes.get("whatsapp", "316"); !ok {
		t.Error("the read's participants were not kept")
	}
}

// TestReadOnWriterGivesUp: a read whose caller gave up, or on a closed database, answers
// with that and reads nothing.
func TestReadOnWriterGivesUp(t *testing.T) {
	db := openTest(t)
	ran := false
	read := func(*wtx) error { ran = true; return nil }
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := db.readOnWriter(ctx, read); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled read: %v, want %v", err, context.Canceled)
	}
	db.Close()
	if err := db.readOnWriter(t.Context(), read); !errors.Is(err, errClosed) {
		t.Errorf("read after Close: %v, want %v", err, errClosed)
	}
	if ran {
		t.Error("a read ran")
	}
}
