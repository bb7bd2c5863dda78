package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// TestWriterLeavesCheckpointsToTheCheckpointer: the writer does not stop for a checkpoint
// (and its fsyncs) every thousand pages of log; the checkpointer's connection copies them
// all, with the writer's log left as it wrote it.
func TestWriterLeavesCheckpointsToTheCheckpointer(t *testing.T) {
	ctx := context.Background()
	db, err := open(ctx, filepath.Join(t.TempDir(), "campaign.db"), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// One transaction each, the pages of an index and of the table in every one: well over
	// SQLite's default of 1,000 pages of log.
	for i := range 800 {
		err := db.write(ctx, func(tx *wtx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO claims (key, owner, until) VALUES (?, 'test', 0)`, fmt.Sprint("k", i))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	logged, done, err := db.checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if logged < 1000 {
		t.Errorf("the log holds %d pages: the writer checkpointed", logged)
	}
	if done != logged {
		t.Errorf("the checkpoint copied %d of %d pages", done, logged)
	}
}
