package mongo

import (
	"context"

	"github.com/chatcampaigns/campaign/engine"
)

// CommitAndCrash commits s up to the participant's swap and stops there, leaving the step's
// effects unwritten as a process that died at that moment would.
func (db *DB) CommitAndCrash(ctx context.Context, s engine.Step) error {
	return db.commit(ctx, s, false)
}

// Name is the database's name, for a second handle on it.
func (db *DB) Name() string { return db.db.Name() }

// NextIDs reserves n consecutive ids and returns the first (DB.next).
func (db *DB) NextIDs(ctx context.Context, n int) (int64, error) { return db.next(ctx, n) }
