package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Checkpoints copy the pages committed to the write-ahead log back into the database file.
// SQLite runs one by itself in the connection that commits, once the log holds
// wal_autocheckpoint pages (1,000 by default), and with synchronous(NORMAL) a checkpoint is
// where the only fsyncs are: two of them, one of the log and one of the file. On the one
// writer that every write of the server waits for, that meant stopping the message path
// every few hundred messages for the disk (docs/performance.md, "What each statement
// costs"). So a connection of its own checkpoints every checkpointEvery, alongside the
// writer (a PASSIVE checkpoint waits for no one and nobody waits for it), and the writer's
// own runs only every writerCheckpointPages. Under a steady load the writer's is still the one
// that lets the log start over (SQLite restarts it when a write begins after a checkpoint that
// copied everything, and only the writer knows nothing was committed meanwhile), but it finds
// most of the log copied already and syncs a tenth as often.
const (
	// checkpointEvery is often enough that the writer's checkpoint finds little left to copy,
	// and seldom enough that a checkpoint copies many changes of the same pages once.
	checkpointEvery = 200 * time.Millisecond
	// writerCheckpointPages is the writer's wal_autocheckpoint: about 40 MiB of log, a second
	// or more of messages at the closed loop's rate (7,000–14,000 pages a second, depending on
	// how the participants are spread over the tables).
	writerCheckpointPages = 10000
)

// openCheckpointer opens the connection that checkpoints.
func openCheckpointer(ctx context.Context, path string) (*sql.DB, error) {
	c, err := sql.Open("sqlite", dsnCheckpointer(path))
	if err != nil {
		return nil, err
	}
	c.SetMaxOpenConns(1)
	c.SetMaxIdleConns(1)
	c.SetConnMaxLifetime(0)
	c.SetConnMaxIdleTime(0)
	if err := c.PingContext(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// checkpointLoop checkpoints every interval until the database closes (with interval 0
// only at the close).
func (db *DB) checkpointLoop(interval time.Duration) {
	defer close(db.checkpointDone)
	var tick <-chan time.Time
	if interval > 0 {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-db.quit:
			return
		case <-tick:
			// A failed checkpoint (the disk full, the file busy) leaves the pages in the log,
			// where every reader finds them; the next tick or the writer's backstop tries
			// again.
			_, _, _ = db.checkpoint(context.Background())
		}
	}
}

// checkpoint copies what the write-ahead log holds into the database file, as far as the
// readers of the moment let it, without waiting for the writer or making it wait. It returns
// how many pages the log holds and how many of them are in the file now.
func (db *DB) checkpoint(ctx context.Context) (logged, done int, err error) {
	var busy int
	if err := db.ckpt.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logged, &done); err != nil {
		return 0, 0, fmt.Errorf("sqlite: checkpoint: %w", err)
	}
	return logged, done, nil
}
