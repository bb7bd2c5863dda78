package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
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

// TestCommitGroupOneStatementFailure: a single-statement write that fails sends the group round
// again with savepoints, so the writes before and after it still commit, once.
func TestCommitGroupOneStatementFailure(t *testing.T) {
	ctx := t.Context()
	db := openTest(t)
	insert := func(key string) func(tx *wtx) error {
		return func(tx *wtx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO claims (key, owner, until) VALUES (?, 'o', 1)`, key)
			return err
		}
	}
	keys := []string{"a", "a", "b", "c"}
	group := make([]writeRequest, len(keys))
	for i, k := range keys {
		group[i] = writeRequest{ctx: ctx, fn: insert(k), oneStatement: k != "c", done: make(chan error, 1)}
	}
	runGroup(t, db, group)
	for i, k := range keys {
		err := <-group[i].done
		if (i == 1) != (err != nil) {
			t.Errorf("write %d (%s): %v", i, k, err)
		}
	}
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM claims`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("%d rows, want 3 (a, b, c once each)", n)
	}
}
