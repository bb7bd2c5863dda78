package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// maxGroup bounds the writes that share one transaction, and so how long a write taken at the
// start of a group waits for the commit.
const maxGroup = 512

const (
	// writerLinger bounds what a loaded writer waits for more writes to a small group: a
	// webhook's answer waits for its commit, so this is added to a webhook at most once.
	writerLinger = 300 * time.Microsecond
	// writerLingerBelow is the group size from which the writer no longer waits.
	writerLingerBelow = 4
)

// errClosed is what writes get after Close.
var errClosed = errors.New("database closed")

// writeRequest is one call of write, waiting for writeLoop.
type writeRequest struct {
	ctx context.Context
	fn  func(tx *wtx) error
	// raw, when set instead of fn, runs on the write connection outside any transaction
	// (withWriteConn).
	raw func(c *sql.Conn) error
	// read, when set instead of fn, only reads: the writer runs it on its connection the
	// moment it takes it, between two groups and outside any transaction (readOnWriter).
	read func(t *wtx) error
	// bulk marks bookkeeping no webhook waits on (writeBulk): it does not join a group that
	// holds a write that is not bulk.
	bulk bool
	done chan error
}

// write runs fn in a write transaction; fn's writes are committed if it returns nil and none of
// them is if it returns an error.
//
// Every write goes through writeLoop, which runs all the writes waiting at the moment in one
// transaction (group commit). SQLite has one writer, and a commit (writing the changed pages
// to the log) costs more than the statements of a typical write: the webhooks, the worker, the
// sender and the dashboard share one commit per round instead of queueing for the connection
// one transaction each.
//
// Once fn was taken, write waits for the commit even if ctx ends, so its answer is always
// true: nil means committed. fn runs on the writer's goroutine and must not call write itself.
// fn may run twice (commitGroup runs a group again, each write in a savepoint of its own, when
// one of its writes failed), so whatever it records outside the transaction must start afresh
// on each run.
func (db *DB) write(ctx context.Context, fn func(tx *wtx) error) error {
	return db.send(writeRequest{ctx: ctx, fn: fn, done: make(chan error, 1)})
}

// writeBulk is write for bookkeeping no webhook waits on (the sender's record of a round's
// sent replies, the search index): taken while a group holds other writes, it waits for the
// next group instead of lengthening that one.
func (db *DB) writeBulk(ctx context.Context, fn func(tx *wtx) error) error {
	return db.send(writeRequest{ctx: ctx, fn: fn, bulk: true, done: make(chan error, 1)})
}

// writeOne is write for an fn that changes the database with at most one statement (it may
// read around it). Every write now runs without a savepoint of its own unless one of its group
// failed (commitGroup), so it is write; the name stays to say what the fn does.
func (db *DB) writeOne(ctx context.Context, fn func(tx *wtx) error) error {
	return db.write(ctx, fn)
}

// readOnWriter runs fn, which must only read, on the write connection: between two groups,
// outside any transaction, so it sees what was committed and nothing of a group under way.
// The writer answers a read the moment it takes it, ahead of the writes it is gathering (it
// waits neither for their linger nor for their commit), but after the group it is
// committing, if any.
//
// Why a read would go to the writer: under writes, SQLite empties a reader connection's page
// cache at every read transaction that finds the log changed, which under load is every one,
// so a reader pays for the whole B-tree descent from the file each time. The write
// connection's cache is never emptied by its own commits: the interior pages are there, and
// the leaf a read brings in is the one the write that usually follows it changes. For the
// read of a participant by address at every webhook from someone not kept in memory that
// was 60 µs of CPU on a reader, and 27 µs on the writer plus 11 µs handing it over, at
// 1,000,000 stored (docs/performance.md, "Where it stands (issue 12, tenth round)"). The
// sender's read of the replies due, rows the writer has just written, halved the same way.
// It costs the writer's goroutine, the one line every write waits in, that time: only the
// message path's reads of a few rows the writer just wrote, or is about to change, belong
// here.
func (db *DB) readOnWriter(ctx context.Context, fn func(t *wtx) error) error {
	return db.send(writeRequest{ctx: ctx, read: fn, done: make(chan error, 1)})
}

// runRead answers a read request (readOnWriter) on the write connection.
func (db *DB) runRead(r writeRequest) {
	if err := r.ctx.Err(); err != nil {
		r.done <- err
		return
	}
	r.done <- r.read(&wtx{c: db.wc, db: db})
}

// withWriteConn runs fn on the write connection, between two groups of writes and outside any
// transaction: a test's or a benchmark's way to set a pragma, read the connection's counters
// or fill a file in a transaction of its own, since the writer holds its one connection for
// good.
func (db *DB) withWriteConn(ctx context.Context, fn func(c *sql.Conn) error) error {
	return db.send(writeRequest{ctx: ctx, raw: fn, done: make(chan error, 1)})
}

func (db *DB) send(req writeRequest) error {
	ctx := req.ctx
	select {
	case db.writes <- req:
	case <-db.quit:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-req.done
}

// writeLoop is the only user of the write connection once Open returned. The channel is
// unbuffered: a request is either taken, and then always answered, or not sent at all, so
// Close never strands a caller.
func (db *DB) writeLoop() {
	defer close(db.loopDone)
	g := gatherer{db: db, timer: time.NewTimer(time.Hour)}
	g.timer.Stop()
	for {
		// Bulk writes deferred from the last group start this one.
		group := g.deferred
		g.deferred = nil
		if len(group) == 0 {
			select {
			case r := <-db.writes:
				if r.raw != nil {
					g.runRaw(r)
					continue
				}
				if r.read != nil {
					db.runRead(r)
					continue
				}
				group = append(group, r)
			case <-db.quit:
				return
			}
		}
		group, raw := g.gather(group)
		db.commitGroup(group, false)
		g.ended = time.Now()
		db.reloadWaiting()
		if raw != nil {
			g.runRaw(*raw)
		}
	}
}

// runRaw answers a raw request (withWriteConn) between two groups. Raw requests are tests':
// one that set the linger sees the next group gathered by it, not skipped by an earlier
// back-off.
func (g *gatherer) runRaw(r writeRequest) {
	r.done <- r.raw(g.db.wc)
	g.skip = 0
}

// gatherer forms the writer's groups. A commit costs the writer 60-170 µs whatever the group
// holds (the log frames of the pages changed; the table and index pages its writes share are
// written once), and under load the receive loop's and the sender's writes each came a little
// after the last commit, one or two writes a group: 1,600-1,900 commits a second. So when the
// writer is loaded a small group waits up to db.linger for more writes. An idle writer commits
// at once, and one caller writing one write after the other (a prefill, an import) finds that
// nobody joins and is soon no longer made to wait.
type gatherer struct {
	db    *DB
	timer *time.Timer
	// ended is when the last group committed.
	ended time.Time
	// skip counts the groups that commit at once after a wait that nobody joined.
	skip int
	// deferred are bulk writes taken while gathering a group of others: the next group's.
	deferred []writeRequest
}

// add puts r in group, or among the deferred when r is bulk and group holds a write that is
// not.
func (g *gatherer) add(group []writeRequest, r writeRequest) []writeRequest {
	if r.bulk {
		for i := range group {
			if !group[i].bulk {
				g.deferred = append(g.deferred, r)
				return group
			}
		}
	}
	return append(group, r)
}

// lingerBackoff is how many groups commit without waiting after a wait that nobody joined,
// unless writes come together by themselves: a caller writing alone waits once in that many.
const lingerBackoff = 16

// gather adds to group the writes waiting, up to maxGroup, and returns it with the raw request
// that ended it, if one did. The group waits for more (up to db.linger, until it holds
// db.lingerBelow) when the writer is loaded: its first write came within db.linger of the last
// commit, and either writes came together by themselves or the last waits were joined.
func (g *gatherer) gather(group []writeRequest) ([]writeRequest, *writeRequest) {
	db := g.db
	for len(group) < maxGroup {
		select {
		case r := <-db.writes:
			if r.raw != nil {
				return group, &r
			}
			if r.read != nil {
				db.runRead(r)
				continue
			}
			group = g.add(group, r)
			continue
		default:
		}
		break
	}
	if len(group) > 1 {
		g.skip = 0
	}
	if g.skip > 0 {
		g.skip--
		return group, nil
	}
	if len(group) >= db.lingerBelow || time.Since(g.ended) >= db.linger {
		return group, nil
	}
	n := len(group)
	g.timer.Reset(db.linger)
	defer g.timer.Stop()
	for len(group) < db.lingerBelow {
		select {
		case r := <-db.writes:
			if r.raw != nil {
				return group, &r
			}
			if r.read != nil {
				// Not company: the group still waits for writes.
				db.runRead(r)
				continue
			}
			group = g.add(group, r)
		case <-g.timer.C:
			if len(group) == n {
				g.skip = lingerBackoff
			}
			return group, nil
		case <-db.quit:
			return group, nil
		}
	}
	return group, nil
}

// commitGroup runs a group of writes in one transaction and answers each. A write that fails
// is rolled back alone. If the transaction itself fails (begin, a savepoint, the commit),
// every write of the group gets that error: nothing was committed.
//
// The writes run one after the other without savepoints unless isolate is set: a savepoint
// and its release are two statements, and the statement journal they keep copies every page
// a write changes, for writes that almost never fail (the receive loop's and the sender's
// batches answer each item's refusal themselves). When a write fails, SQLite may even have
// rolled back the whole transaction (it does on a full disk or an I/O error) and later
// statements would then commit on their own; so the group is rolled back at once and run
// again with a savepoint for every write, which rolls back the failed one alone.
func (db *DB) commitGroup(group []writeRequest, isolate bool) {
	// The transaction belongs to the whole group: no caller's context may cancel it, since an
	// interrupted statement can roll back the whole transaction.
	ctx := context.Background()
	results := make([]error, len(group))
	fail := func(err error) {
		for _, r := range group {
			r.done <- err
		}
	}
	w := &wtx{c: db.wc, db: db}
	if err := w.begin(ctx); err != nil {
		fail(err)
		return
	}
	for i, r := range group {
		if err := r.ctx.Err(); err != nil {
			// The caller gave up before its turn; nothing of it is written.
			results[i] = err
			continue
		}
		if !isolate || len(group) == 1 {
			if results[i] = r.fn(w); results[i] != nil {
				w.Rollback()
				if len(group) == 1 {
					// Alone: the transaction was the savepoint.
					r.done <- results[i]
					return
				}
				db.commitGroup(group, true)
				return
			}
			continue
		}
		kept := len(w.cleared)
		if _, err := w.ExecContext(ctx, `SAVEPOINT write`); err != nil {
			w.Rollback()
			fail(fmt.Errorf("savepoint: %w", err))
			return
		}
		if results[i] = r.fn(w); results[i] != nil {
			w.cleared = w.cleared[:kept] // what it found is undone with it
			if _, err := w.ExecContext(ctx, `ROLLBACK TO write`); err != nil {
				// SQLite rolls a whole transaction back on some errors (a full disk, an I/O
				// error); then there is no savepoint left and nothing of the group stands.
				w.Rollback()
				fail(errors.Join(results[i], fmt.Errorf("roll back to savepoint: %w", err)))
				return
			}
		}
		if _, err := w.ExecContext(ctx, `RELEASE write`); err != nil {
			w.Rollback()
			fail(fmt.Errorf("release savepoint: %w", err))
			return
		}
	}
	if err := w.Commit(); err != nil {
		fail(err)
		return
	}
	w.committed()
	for i, r := range group {
		r.done <- results[i]
	}
}

// wtx is the write transaction of a group, on the write connection, which runs every
// statement prepared: a statement is prepared the first time its text is run and kept
// (every statement text is built from constants, so the cache stays small). Its methods drop
// the cancellation of the context they are given: the transaction is shared by the group, and
// only commitGroup decides its fate.
//
// The transaction is SQL of its own (BEGIN IMMEDIATE, COMMIT, ROLLBACK) on a connection the
// writer holds for good, not a database/sql Tx: a Tx rebinds every prepared statement to
// itself on each use (a Stmt allocated, its dependencies registered and dropped), starts a
// goroutine to watch its context, and so does every query's Rows inside it. On the message
// path that was about a tenth of the writer's CPU (docs/performance.md, "The writer's
// statements").
type wtx struct {
	c  *sql.Conn
	db *DB
	// cleared are the participants found with no event waiting (fused.go), taken out of
	// db.waiting once the transaction commits.
	cleared []cleared
}

// begin starts the group's transaction. IMMEDIATE takes the write lock at once, so that
// another process holding the file makes the writer wait for the busy timeout instead of
// failing half-way through a transaction.
func (t *wtx) begin(ctx context.Context) error {
	_, err := t.ExecContext(ctx, `BEGIN IMMEDIATE`)
	return err
}

// Commit commits the transaction. A commit that failed may leave it open (SQLITE_BUSY): it is
// rolled back then, so the next group starts afresh.
func (t *wtx) Commit() error {
	if _, err := t.ExecContext(context.Background(), `COMMIT`); err != nil {
		t.Rollback()
		return err
	}
	return nil
}

// Rollback rolls the transaction back. SQLite may have done so already (it does on a full
// disk or an I/O error): the error then says no transaction is active, which is no news.
func (t *wtx) Rollback() {
	t.ExecContext(context.Background(), `ROLLBACK`)
}

func (t *wtx) stmt(ctx context.Context, query string) *sql.Stmt {
	t.db.stmtMu.Lock()
	st := t.db.stmts[query]
	t.db.stmtMu.Unlock()
	if st != nil {
		return st
	}
	st, err := t.c.PrepareContext(ctx, query)
	if err != nil {
		// Run unprepared: the statement's error, if it has one, comes from running it.
		return nil
	}
	t.db.stmtMu.Lock()
	t.db.stmts[query] = st
	t.db.stmtMu.Unlock()
	return st
}

// ExecContext is sql.Conn.ExecContext through the statement cache.
func (t *wtx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx = context.WithoutCancel(ctx)
	if st := t.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.c.ExecContext(ctx, query, args...)
}

// QueryRowContext is sql.Conn.QueryRowContext through the statement cache.
func (t *wtx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = context.WithoutCancel(ctx)
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.c.QueryRowContext(ctx, query, args...)
}

// QueryContext is sql.Conn.QueryContext through the statement cache.
func (t *wtx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = context.WithoutCancel(ctx)
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.c.QueryContext(ctx, query, args...)
}
