package sqlite

import (
	"context"
	"time"
)

// checkpointEvery is how often the write-ahead log is copied back into the database file. At
// thousands of commits a second SQLite's own automatic checkpoint (every 1,000 pages) ran many
// times a second inside the commits, on the one writer, and waited there for the disk: about a
// tenth of the writer's time under load (docs/performance.md). Every 200 ms measured slower
// than SQLite's own schedule: the log grew long between copies, and every read searches it.
const checkpointEvery = 20 * time.Millisecond

// checkpointLoop runs passive checkpoints on their own connection, so the writer only ever
// appends to the log. A passive checkpoint copies what no reader still needs and never
// blocks the writer or the readers; the writer starts the log over once it was all copied.
func (db *DB) checkpointLoop(every time.Duration) {
	defer close(db.ckDone)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-db.quit:
			return
		case <-t.C:
		}
		// Errors (the file busy in another process's checkpoint) only postpone the copy to
		// the next tick; the log keeps every commit meanwhile.
		var busy, log, copied int
		err := db.ck.QueryRowContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &log, &copied)
		if err == nil {
			db.ckLast.Store(&checkpointResult{log: log, copied: copied})
		}
	}
}

// checkpointResult is what the last checkpoint found: frames in the log, frames copied.
type checkpointResult struct{ log, copied int }
