// Package sqlite owns the embedded store: everything the engine, the judge and the dashboard
// keep, in one SQLite file (modernc.org/sqlite, pure Go, WAL). It is the default when no
// MongoDB is configured and passes the same conformance suite (store/storetest) as every other
// backend.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/url"
	"path"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/chatcampaigns/campaign/accounts"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/judge"
)

var (
	_ engine.Store   = (*DB)(nil)
	_ judge.Store    = (*DB)(nil)
	_ accounts.Users = (*DB)(nil)
)

// migrations are applied in file-name order; a file's number is the schema version it brings
// the database to, so a new migration is a new file with the next number, never an edit.
//
//go:embed migrations/*.sql
var migrations embed.FS

// DB is a SQLite database file. Its methods are safe for concurrent use.
//
// SQLite allows one writer at a time. Writes therefore go through one goroutine on one
// connection, which commits the writes waiting together (writer.go), so they queue in Go
// instead of failing with SQLITE_BUSY, while reads use a separate pool that WAL lets run
// alongside the writer.
type DB struct {
	w *sql.DB
	// wc is w's one connection, held by the writer for good (writer.go).
	wc *sql.Conn
	r  *sql.DB
	rq *readCache
	// routes answers ParticipantsAt from memory (routecache.go).
	routes *routeCache
	// ids gives every stored event its id, reserved ahead for the receive loop (fused.go).
	ids inboundIDs
	// waiting says which participants may have events stored unprocessed, for the receive
	// loop's write (fused.go); only the writer's goroutine uses it.
	waiting waitingSet
	// early says delivery reports may be kept for replies not recorded as sent yet
	// (delivery.go, keepEarly): set at Open and by every report kept, never cleared.
	early atomic.Bool

	// writes hands every write to writeLoop, which commits all that are waiting in one
	// transaction (writer.go).
	writes   chan writeRequest
	quit     chan struct{}
	loopDone chan struct{}
	closed   sync.Once
	// indexDone is closed when indexLoop, which fills the search index, has stopped.
	indexDone chan struct{}
	// ckpt is the connection that checkpoints the log (checkpoint.go); checkpointDone is
	// closed when checkpointLoop has stopped.
	ckpt           *sql.DB
	checkpointDone chan struct{}

	// stmts are the write statements prepared on the write connection, keyed by their text.
	// Preparing costs about as much as running a small insert, and the hot path runs the
	// same few statements for every message.
	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt

	// linger is how long a loaded writer waits for more writes to a group smaller than
	// lingerBelow (writer.go, gather); 0 never waits.
	linger      time.Duration
	lingerBelow int
}

// Open opens the database at path, creating the file and bringing its schema up to date.
func Open(ctx context.Context, path string) (*DB, error) {
	return open(ctx, path, checkpointEvery)
}

// open is Open with the checkpointer's interval (0: it checkpoints only when asked, a test's
// way to see what the writer leaves in the log).
func open(ctx context.Context, path string, checkpoints time.Duration) (*DB, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		// Two pools on one in-memory name would be two databases.
		return nil, fmt.Errorf("sqlite: open %q: %w: want a file path", path, errs.ErrInvalid)
	}
	w, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	last, err := lastInboundID(ctx, w)
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	wc, err := w.Conn(ctx)
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// The schema declares its foreign keys (the migrations ran with them enforced), but the
	// writer does not check them: each insert of a transcript line or a reply looked its
	// participant up once more, ~3.5 % of the server's CPU a message (docs/performance.md).
	// The deletes that relied on ON DELETE do their part themselves (EraseParticipant,
	// DeleteUser), and a test checks that nothing they leave is an orphan.
	if _, err := wc.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
		wc.Close()
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	waiting, err := loadWaiting(ctx, wc)
	if err != nil {
		wc.Close()
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	var early int
	if err := wc.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM early_deliveries)`).Scan(&early); err != nil {
		wc.Close()
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlite: open %s: early delivery reports: %w", path, err)
	}
	ckpt, err := openCheckpointer(ctx, path)
	if err != nil {
		wc.Close()
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlite: open %s for checkpoints: %w", path, err)
	}
	db := &DB{w: w, wc: wc, waiting: waiting, r: r, rq: &readCache{db: r, stmts: map[string]*sql.Stmt{}}, routes: newRouteCache(), writes: make(chan writeRequest), quit: make(chan struct{}),
		loopDone: make(chan struct{}), stmts: map[string]*sql.Stmt{}, indexDone: make(chan struct{}),
		ckpt: ckpt, checkpointDone: make(chan struct{}), linger: writerLinger, lingerBelow: writerLingerBelow}

	db.early.Store(early == 1)
	db.ids.atLeast(last)
	go db.writeLoop()
	go db.indexLoop()
	go db.checkpointLoop(checkpoints)
	return db, nil
}

// dsn builds the connection string of the readers (readOnly) or of the writer. The writer's
// transactions begin IMMEDIATE so that another process holding the file makes it wait for the
// busy timeout instead of failing half-way through a transaction.
func dsn(p string, readOnly bool) string {
	q := baseDSN()
	// Page caches: SQLite's default is 2 MiB a connection. The writer's must hold the index
	// pages its steps touch (with participants keyed by id hash, 2 MiB missed on most of them),
	// but not much more: at the end of every commit SQLite walks its cache's whole hash table,
	// and the writer commits a thousand small groups a second — with 64 MiB that walk alone
	// was 5 % of the server's CPU. 8 MiB measured best with 10,000, 100,000 and 1,000,000
	// stored (docs/performance.md). Readers share the operating system's cache.
	if readOnly {
		q.Add("_pragma", "cache_size(-16384)")
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "cache_size(-8192)")
		q.Add("_pragma", "journal_mode(WAL)")
		// The checkpoints are the checkpointer's (checkpoint.go); the writer's is a backstop.
		q.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", writerCheckpointPages))
		// The writer's own transactions begin IMMEDIATE (wtx.begin); so do the migrations'.
		q.Set("_txlock", "immediate")
	}
	return fileDSN(p, q)
}

// dsnCheckpointer is the connection string of the connection that checkpoints: it copies
// pages from the log to the file without its page cache, so it keeps a small one.
func dsnCheckpointer(p string) string {
	q := baseDSN()
	q.Add("_pragma", "cache_size(-256)")
	return fileDSN(p, q)
}

// baseDSN are the settings of every connection. synchronous(NORMAL) is safe in WAL mode (a
// power cut can lose the last commits but never corrupts the file) and keeps a commit from
// costing an fsync: only checkpoints sync.
func baseDSN() url.Values {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	// Savepoints (one per write in a group, writer.go) keep a statement journal; in memory it
	// costs no file writes.
	q.Add("_pragma", "temp_store(MEMORY)")
	return q
}

func fileDSN(p string, q url.Values) string {
	return "file:" + (&url.URL{Path: p}).EscapedPath() + "?" + q.Encode()
}

// migrate applies the embedded migrations newer than the file's user_version, each in its own
// transaction together with the version bump, so a crash leaves the schema at a known version.
func migrate(ctx context.Context, db *sql.DB) error { return migrateTo(ctx, db, math.MaxInt) }

// migrateTo is migrate stopping at schema version last: a test's way to hold a file as an
// older release left it.
func migrateTo(ctx context.Context, db *sql.DB, last int) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("list migrations: %w", err)
	}
	sort.Strings(names)
	var current int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	for _, name := range names {
		base := path.Base(name)
		num, _, _ := strings.Cut(base, "_")
		version, err := strconv.Atoi(num)
		if err != nil {
			return fmt.Errorf("migration %s: name must start with its version number", base)
		}
		if version <= current || version > last {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return fmt.Errorf("migration %s: %w", base, err)
		}
		err = inTx(ctx, db, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return err
			}
			// PRAGMA takes no parameters; version is a number parsed above.
			_, err := tx.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(version))
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", base, err)
		}
		current = version
	}
	return nil
}

// Close closes the database. Writes whose calls returned without error have committed; calls
// made after Close fail.
func (db *DB) Close() error {
	var err error
	db.closed.Do(func() {
		close(db.quit)
		<-db.loopDone
		<-db.indexDone
		<-db.checkpointDone
		db.stmtMu.Lock()
		for _, s := range db.stmts {
			err = errors.Join(err, s.Close())
		}
		db.stmtMu.Unlock()
		err = errors.Join(err, db.rq.close(), db.r.Close(), db.ckpt.Close(), db.wc.Close(), db.w.Close())
	})
	return err
}

func inTx(ctx context.Context, db *sql.DB, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// convert turns driver errors into the project's error kinds, so callers can tell a missing row
// or a duplicate key from a broken database without knowing SQLite.
func convert(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return errs.ErrNotFound
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %w", errs.ErrConflict, err)
		}
	}
	return err
}

// noRow is the answer of a statement meant to change a row: none when it changed none (the row
// is not there, a condition kept it out, a conflict did nothing), nil when it did.
func noRow(res sql.Result, none error) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return none
	}
	return nil
}

// unixNano stores the zero time as 0, because time.Time{}.UnixNano is out of range.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// nullString stores "" as NULL, for columns where NULL means "absent" to a unique index.
func nullString(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}

// noLimit turns "no limit asked" into SQLite's LIMIT -1.
func noLimit(limit int) int {
	if limit <= 0 {
		return -1
	}
	return limit
}
