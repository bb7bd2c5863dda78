package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/chatcampaigns/campaign/errs"
)

// Claim takes leases on keys for owner until until. A key is won when nobody holds it, when
// its lease ran out by now, or when owner holds it already (the lease is renewed). It returns
// the keys won, in the order given; all are decided in one transaction.
func (db *DB) Claim(ctx context.Context, owner string, keys []string, now, until time.Time) ([]string, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	var won []string
	err := db.write(ctx, func(tx *wtx) error {
		won = won[:0]
		for _, k := range keys {
			res, err := tx.ExecContext(ctx, `
				INSERT INTO claims (key, owner, until) VALUES (?, ?, ?)
				ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, until = excluded.until
				WHERE claims.until < ? OR claims.owner = excluded.owner`,
				k, owner, unixNano(until), unixNano(now))
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 1 {
				won = append(won, k)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim %d keys: %w", len(keys), convert(err))
	}
	return won, nil
}

// Release gives up owner's leases on keys; keys owner does not hold are left alone.
func (db *DB) Release(ctx context.Context, owner string, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	args := []any{owner}
	for _, k := range keys {
		args = append(args, k)
	}
	err := db.writeOne(ctx, func(tx *wtx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM claims WHERE owner = ? AND key IN (?`+
			strings.Repeat(", ?", len(keys)-1)+`)`, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: release %d keys: %w", len(keys), convert(err))
	}
	return nil
}

// ExpireClaims deletes the leases that ran out by now and returns how many. An expired lease is
// free for anyone to take already; deleting it only keeps a holder that died from leaving its
// leases behind for ever.
func (db *DB) ExpireClaims(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := db.write(ctx, func(tx *wtx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM claims WHERE until < ?`, unixNano(now))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: expire claims: %w", convert(err))
	}
	return int(n), nil
}

// RetryOutbox leaves a pending reply pending, due again at due, with the reason of the failed
// attempt, which it closes; it counts one more attempt when none was recorded (AttemptOutbox). It returns errs.ErrNotFound for an unknown reply and
// errs.ErrConflict for one no longer pending.
func (db *DB) RetryOutbox(ctx context.Context, id int64, reason string, due, at time.Time) error {
	err := db.write(ctx, func(tx *wtx) error {
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET error = ?, due_at = ?, updated_at = ?,
			attempts = attempts + (in_flight = 0), in_flight = 0 WHERE id = ? AND status = 'pending'`,
			reason, unixNano(due), unixNano(at), id)
		return pendingUpdated(ctx, tx, id, res, err)
	})
	if err != nil {
		return fmt.Errorf("sqlite: retry outbox %d: %w", id, convert(err))
	}
	return nil
}

// TakeBack deletes every lease owner holds and counts the pending replies owner's last attempt
// left in flight, in one transaction (engine.Store).
func (db *DB) TakeBack(ctx context.Context, owner string) (claims, inFlight int, err error) {
	err = db.write(ctx, func(tx *wtx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM claims WHERE owner = ?`, owner)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		claims = int(n)
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM outbox
			WHERE status = 'pending' AND in_flight = 1 AND attempted_by = ?`, owner).Scan(&inFlight)
	})
	if err != nil {
		return 0, 0, fmt.Errorf("sqlite: take back leases of %s: %w", owner, convert(err))
	}
	return claims, inFlight, nil
}

// AttemptOutbox records an attempt at sending a pending reply before it is sent: one more
// attempt, when and by whom, in flight until its outcome is stored; a reply in flight already
// may have reached the platform and is marked maybe_twice. One statement, so it shares the
// group commit with the other writes of the moment (engine.Store).
func (db *DB) AttemptOutbox(ctx context.Context, id int64, owner string, at time.Time) error {
	err := db.writeOne(ctx, func(tx *wtx) error { return attemptOutbox(ctx, tx, id, owner, at) })
	if err != nil {
		return fmt.Errorf("sqlite: attempt outbox %d: %w", id, convert(err))
	}
	return nil
}

// attemptOutbox is AttemptOutbox's one statement (and, when it changed nothing, the read that
// says why).
func attemptOutbox(ctx context.Context, tx *wtx, id int64, owner string, at time.Time) error {
	// The right-hand sides read the row as it was: maybe_twice takes the old in_flight.
	res, err := tx.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1,
		attempted_at = ?, attempted_by = ?, maybe_twice = maybe_twice | in_flight, in_flight = 1
		WHERE id = ? AND status = 'pending'`, unixNano(at), owner, id)
	return pendingUpdated(ctx, tx, id, res, err)
}

// AttemptOutboxBatch records the attempts of several replies in one write, each as
// AttemptOutbox would, and returns one error per reply (errs.ErrConflict for one no longer
// pending, errs.ErrNotFound for an unknown one: neither is attempted). The second result is
// for the write as a whole: when it is not nil no attempt was recorded. The engine's sender
// records the first reply of each recipient of a round this way before the round's sends
// (engine.batchAttempter): one turn of the writer instead of one per recipient.
func (db *DB) AttemptOutboxBatch(ctx context.Context, ids []int64, owner string, at time.Time) ([]error, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	errsOut := make([]error, len(ids))
	err := db.write(ctx, func(tx *wtx) error {
		clear(errsOut) // a group that failed elsewhere runs this again
		for i, id := range ids {
			err := attemptOutbox(ctx, tx, id, owner, at)
			if err != nil && !ordinary(err) {
				return err
			}
			if err != nil {
				errsOut[i] = fmt.Errorf("sqlite: attempt outbox %d: %w", id, convert(err))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: attempt %d replies: %w", len(ids), convert(err))
	}
	return errsOut, nil
}

// pendingUpdated is the answer of an update of reply id guarded by status = 'pending': nil
// when it changed the row, errs.ErrConflict naming the status it has when it was no longer
// pending, errs.ErrNotFound when there is no such reply.
func pendingUpdated(ctx context.Context, tx *wtx, id int64, res sql.Result, err error) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	var status string
	if err := tx.QueryRowContext(ctx, `SELECT status FROM outbox WHERE id = ?`, id).Scan(&status); err != nil {
		return convert(err)
	}
	return fmt.Errorf("%w: reply is %s, not pending", errs.ErrConflict, status)
}
