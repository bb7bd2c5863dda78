package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/chatcampaigns/campaign/engine"
)

// EraseParticipant deletes everything stored of a participant in one transaction: their row,
// transcript, entries with their scores, panel seats and recusals, replies, timers,
// notifications, raw inbound events, team membership and group requests. Codes and places
// they took stay taken, now held by the tombstone (or by nobody), so nobody else receives
// them. When tombstone is not nil it is written in the participant's place, with their
// join order, so a ranking keeps its places. It fails with errs.ErrNotFound for an unknown id.
func (db *DB) EraseParticipant(ctx context.Context, id string, tombstone *engine.Participant) error {
	var gone engine.Participant
	err := db.write(ctx, func(tx *wtx) error {
		var (
			seq   *int64
			rowid int64
		)
		if err := tx.QueryRowContext(ctx, `SELECT campaign, channel, address, seq, rowid FROM participants WHERE id = ?`, id).
			Scan(&gone.Campaign, &gone.Channel, &gone.Address, &seq, &rowid); err != nil {
			return err
		}
		gone.ID = id
		holder := any(nil)
		if tombstone != nil {
			holder = tombstone.ID
		}
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`DELETE FROM scores WHERE entry_id IN (SELECT id FROM entries WHERE participant_id = ?)`, []any{id}},
			{`DELETE FROM panel_seats WHERE entry_id IN (SELECT id FROM entries WHERE participant_id = ?)`, []any{id}},
			{`DELETE FROM panel_recusals WHERE entry_id IN (SELECT id FROM entries WHERE participant_id = ?)`, []any{id}},
			{`DELETE FROM claims WHERE key = ? OR key IN (SELECT 'entry:' || id FROM entries WHERE participant_id = ?)`, []any{"participant:" + id, id}},
			{`DELETE FROM inbound WHERE participant_id = ?`, []any{id}},
			{`DELETE FROM broadcast_recipients WHERE participant_id = ?`, []any{id}},
			{`DELETE FROM team_members WHERE campaign = ? AND channel = ? AND member = ?`, []any{gone.Campaign, gone.Channel, gone.Address}},
			{`DELETE FROM group_requests WHERE campaign = ? AND channel = ? AND captain = ?`, []any{gone.Campaign, gone.Channel, gone.Address}},
			{`UPDATE pool_codes SET participant_id = ? WHERE participant_id = ?`, []any{holder, id}},
			// What the schema's ON DELETE clauses say, done here: the writer does not enforce
			// foreign keys (Open). The transcript and the replies are found by the
			// participant's seq, which their indexes hold (a cascade scanned both tables),
			// and those without one (a store's rows from before migration 0006 filled it,
			// all of a participant's if they have no seq) by id among the rows without a
			// seq, which the same indexes hold first; codes are set to NULL, then given to
			// the tombstone.
			{`DELETE FROM lines WHERE participant_seq = ?`, []any{seq}},
			{`DELETE FROM outbox WHERE participant_seq = ?`, []any{seq}},
			{`DELETE FROM lines WHERE participant_seq IS NULL AND participant_id = ?`, []any{id}},
			{`DELETE FROM outbox WHERE participant_seq IS NULL AND participant_id = ?`, []any{id}},
			{`DELETE FROM entries WHERE participant_id = ?`, []any{id}},
			{`DELETE FROM timers WHERE participant_id = ?`, []any{id}},
			{`DELETE FROM notifications WHERE participant_id = ?`, []any{id}},
			{`DELETE FROM read_marks WHERE participant_id = ?`, []any{id}},
			{`DELETE FROM assignments WHERE participant_id = ?`, []any{id}},
			{`CREATE TEMP TABLE IF NOT EXISTS erase_codes (campaign TEXT, code TEXT)`, nil},
			{`DELETE FROM erase_codes`, nil},
			{`INSERT INTO erase_codes SELECT campaign, code FROM codes WHERE participant_id = ?`, []any{id}},
			{`UPDATE codes SET participant_id = NULL WHERE participant_id = ?`, []any{id}},
			{`DELETE FROM participants WHERE id = ?`, []any{id}},
		} {
			if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
				return fmt.Errorf("%.40s: %w", q.sql, err)
			}
		}
		if tombstone == nil {
			return nil
		}
		// The tombstone takes the participant's rowid and seq, which order the lists rankings
		// are made from, so a tie keeps its order.
		t := *tombstone
		vars, err := json.Marshal(t.Vars)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO participants (rowid, id, campaign, channel, address, state, vars, handoff, round, version,
				def_version, entered, finished, last_inbound_at, last_reply_due, created_at, updated_at, seq)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, 0, 0, ?, ?, ?)`,
			rowid, t.ID, t.Campaign, t.Channel, t.Address, t.State, string(vars), t.Vars["handoff"], t.Vars["round"], t.Version, t.DefVersion,
			t.Finished, unixNano(t.CreatedAt), unixNano(t.UpdatedAt), seq); err != nil {
			return fmt.Errorf("write tombstone: %w", err)
		}
		_, err = tx.ExecContext(ctx, `UPDATE codes SET participant_id = ?
			WHERE (campaign, code) IN (SELECT campaign, code FROM erase_codes)`, t.ID)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: erase participant %s: %w", id, convert(err))
	}
	db.routes.forget(gone)
	return nil
}
