package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// maxReadStmts bounds the read statement cache; query texts are built from constants and a few
// list lengths, so a real workload stays far below it, and past it queries run unprepared.
const maxReadStmts = 256

// readCache runs queries on the read pool through statements prepared once. Parsing the SQL
// was a tenth of the server's CPU under load (docs/performance.md): the webhook's routing
// lookup and the worker's participant load run the same few texts thousands of times a second.
// database/sql prepares a cached statement again on each pooled connection the first time it
// is used there.
type readCache struct {
	db    *sql.DB
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
	// observe, when set (by a test, while nothing else reads), is told every query run and its
	// arguments: the plans test explains each query a dashboard page reads.
	observe func(query string, args []any)
}

func (c *readCache) stmt(ctx context.Context, query string) *sql.Stmt {
	c.mu.Lock()
	st, ok := c.stmts[query]
	full := len(c.stmts) >= maxReadStmts
	c.mu.Unlock()
	if ok || full {
		return st
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		// Let the unprepared query report the error where it is used.
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.stmts[query]; ok {
		st.Close()
		return old
	}
	c.stmts[query] = st
	return st
}

// QueryContext is sql.DB.QueryContext through the cache.
func (c *readCache) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if c.observe != nil {
		c.observe(query, args)
	}
	if st := c.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return c.db.QueryContext(ctx, query, args...)
}

// QueryRowContext is sql.DB.QueryRowContext through the cache.
func (c *readCache) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if c.observe != nil {
		c.observe(query, args)
	}
	if st := c.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return c.db.QueryRowContext(ctx, query, args...)
}

func (c *readCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var first error
	for q, st := range c.stmts {
		if err := st.Close(); err != nil && first == nil {
			first = err
		}
		delete(c.stmts, q)
	}
	return first
}
