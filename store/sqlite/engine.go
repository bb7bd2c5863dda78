package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// mediaJSON fixes the stored field names, so renaming a Go field does not orphan stored rows.
type mediaJSON struct {
	Kind     string `json:"kind"`
	Key      string `json:"key"`
	ThumbKey string `json:"thumb_key,omitempty"`
	MIME     string `json:"mime,omitempty"`
	Size     int64  `json:"size,omitempty"`
}

func encodeMedia(m *engine.Media) (sql.NullString, error) {
	if m == nil {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(mediaJSON{Kind: m.Kind, Key: m.Key, ThumbKey: m.ThumbKey, MIME: m.MIME, Size: m.Size})
	if err != nil {
		return sql.NullString{}, err
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

func decodeMedia(s sql.NullString) (*engine.Media, error) {
	if !s.Valid {
		return nil, nil
	}
	var m mediaJSON
	if err := json.Unmarshal([]byte(s.String), &m); err != nil {
		return nil, fmt.Errorf("decode media: %w", err)
	}
	return &engine.Media{Kind: m.Kind, Key: m.Key, ThumbKey: m.ThumbKey, MIME: m.MIME, Size: m.Size}, nil
}

// extraJSON holds the kind-specific fields of an event, with fixed stored names.
type extraJSON struct {
	Choice     string        `json:"choice,omitempty"`
	Location   *locationJSON `json:"location,omitempty"`
	ReplyTo    string        `json:"reply_to,omitempty"`
	Timer      string        `json:"timer,omitempty"`
	Seq        int64         `json:"seq,omitempty"`
	Round      string        `json:"round,omitempty"`
	RoundEvent string        `json:"round_event,omitempty"`
	Agent      string        `json:"agent,omitempty"`
	Locale     string        `json:"locale,omitempty"`
	To         string        `json:"to,omitempty"`
}

type locationJSON struct {
	Lat     float64 `json:"lat"`
	Lng     float64 `json:"lng"`
	Name    string  `json:"name,omitempty"`
	Address string  `json:"address,omitempty"`
}

func encodeExtra(in engine.Inbound) (sql.NullString, error) {
	x := extraJSON{Choice: in.Choice, ReplyTo: in.ReplyTo, Timer: in.Timer, Seq: in.Seq,
		Round: in.Round, RoundEvent: in.RoundEvent, Agent: in.Agent, Locale: in.Locale, To: in.To}
	if l := in.Location; l != nil {
		x.Location = &locationJSON{Lat: l.Latitude, Lng: l.Longitude, Name: l.Name, Address: l.Address}
	}
	if x == (extraJSON{}) {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(x)
	if err != nil {
		return sql.NullString{}, err
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

func decodeExtra(s sql.NullString, in *engine.Inbound) error {
	if !s.Valid {
		return nil
	}
	var x extraJSON
	if err := json.Unmarshal([]byte(s.String), &x); err != nil {
		return fmt.Errorf("decode extra: %w", err)
	}
	in.Choice, in.ReplyTo, in.Timer, in.Seq = x.Choice, x.ReplyTo, x.Timer, x.Seq
	in.Round, in.RoundEvent, in.Agent, in.Locale = x.Round, x.RoundEvent, x.Agent, x.Locale
	in.To = x.To
	if l := x.Location; l != nil {
		in.Location = &engine.Location{Latitude: l.Lat, Longitude: l.Lng, Name: l.Name, Address: l.Address}
	}
	return nil
}

// insertInbound stores an event unless its (channel, platform_id) is taken, under the next
// id of the sequence (inboundIDs). On a duplicate it returns the id of the event stored first.
func insertInbound(ctx context.Context, tx *wtx, in engine.Inbound) (id int64, duplicate bool, err error) {
	for range 3 {
		id, duplicate, err = insertInboundAs(ctx, tx, tx.db.ids.take(1), in, false)
		if !idTaken(err) {
			return id, duplicate, err
		}
		// Another handle on the file took ids of this one's sequence (a second process):
		// go on past what the file holds. The failed insert left nothing behind.
		last, lerr := lastInboundID(ctx, tx)
		if lerr != nil {
			return 0, false, errors.Join(err, lerr)
		}
		tx.db.ids.atLeast(last)
	}
	return id, duplicate, err
}

// insertInboundAs stores an event under id, processed (its step written in the same
// transaction, ReceiveApplied) or not, unless its (channel, platform_id) is taken. On a
// duplicate it returns the id of the event stored first.
func insertInboundAs(ctx context.Context, tx *wtx, id int64, in engine.Inbound, processed bool) (int64, bool, error) {
	media, err := encodeMedia(in.Media)
	if err != nil {
		return 0, false, err
	}
	extra, err := encodeExtra(in)
	if err != nil {
		return 0, false, err
	}
	// The id is given, not RETURNed: a RETURNING clause would make SQLite build a temporary
	// table for the one row on every webhook.
	res, err := tx.ExecContext(ctx, `
		INSERT INTO inbound (id, channel, platform_id, campaign, sender, name, participant_id, kind,
			text, media, verdict, entry_id, at, extra, processed)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (channel, platform_id) DO NOTHING`,
		id, in.Channel, nullString(in.PlatformID), in.Campaign, in.From, in.Name, in.ParticipantID,
		string(in.Kind), in.Text, media, in.Verdict, in.EntryID, unixNano(in.At), extra, processed)
	if err != nil {
		return 0, false, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return 0, false, err
	} else if n == 1 {
		if !processed {
			tx.mayWait(in.ParticipantID)
		}
		return id, false, nil
	}
	err = tx.QueryRowContext(ctx,
		`SELECT id FROM inbound WHERE channel = ? AND platform_id = ?`,
		in.Channel, in.PlatformID,
	).Scan(&id)
	return id, true, err
}

// SaveInbound stores an event durably. A second event with the same Channel and PlatformID
// stores nothing and reports duplicate=true with the first event's id. An event without a
// PlatformID cannot be recognised again and is never a duplicate.
//
// Concurrent calls share one transaction with whatever else is being written (writer.go):
// webhooks arriving together wait for one commit instead of queueing for one each.
func (db *DB) SaveInbound(ctx context.Context, in engine.Inbound) (id int64, duplicate bool, err error) {
	err = db.writeOne(ctx, func(tx *wtx) error {
		id, duplicate, err = insertInbound(ctx, tx, in)
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("sqlite: save inbound %s/%s: %w", in.Channel, in.PlatformID, convert(err))
	}
	return id, duplicate, nil
}

// PendingInbound returns up to limit unprocessed events in the order they were stored (all of
// them when limit <= 0).
func (db *DB) PendingInbound(ctx context.Context, limit int) ([]engine.StoredInbound, error) {
	return db.PendingInboundExcept(ctx, nil, limit)
}

// PendingInboundExcept is PendingInbound without the events of the except campaigns.
func (db *DB) PendingInboundExcept(ctx context.Context, except []string, limit int) ([]engine.StoredInbound, error) {
	q := `SELECT id, channel, platform_id, campaign, sender, name, participant_id, kind, text,
			media, verdict, entry_id, at, extra
		FROM inbound WHERE processed = 0`
	var args []any
	if len(except) > 0 {
		q += ` AND campaign NOT IN (?` + strings.Repeat(", ?", len(except)-1) + `)`
		for _, c := range except {
			args = append(args, c)
		}
	}
	args = append(args, noLimit(limit))
	rows, err := db.rq.QueryContext(ctx, q+` ORDER BY id LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: pending inbound: %w", convert(err))
	}
	defer rows.Close()
	var out []engine.StoredInbound
	for rows.Next() {
		var (
			s          engine.StoredInbound
			platformID sql.NullString
			kind       string
			media      sql.NullString
			extra      sql.NullString
			at         int64
		)
		err := rows.Scan(&s.ID, &s.Channel, &platformID, &s.Campaign, &s.From, &s.Name,
			&s.ParticipantID, &kind, &s.Text, &media, &s.Verdict, &s.EntryID, &at, &extra)
		if err != nil {
			return nil, fmt.Errorf("sqlite: pending inbound: %w", convert(err))
		}
		s.PlatformID = platformID.String
		s.Kind = engine.Kind(kind)
		s.At = fromUnixNano(at)
		if s.Media, err = decodeMedia(media); err != nil {
			return nil, fmt.Errorf("sqlite: pending inbound %d: %w", s.ID, err)
		}
		if err := decodeExtra(extra, &s.Inbound); err != nil {
			return nil, fmt.Errorf("sqlite: pending inbound %d: %w", s.ID, err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: pending inbound: %w", convert(err))
	}
	return out, nil
}

// markProcessed consumes an event once. A second consumer (a replay, another worker) finds it
// processed and gets errs.ErrConflict, so an event never has its effects twice.
func markProcessed(ctx context.Context, tx *wtx, id int64, reason string) error {
	res, err := tx.ExecContext(ctx,
		`UPDATE inbound SET processed = 1, skip_reason = ? WHERE id = ? AND processed = 0`, reason, id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	var one int
	if err := tx.QueryRowContext(ctx, `SELECT 1 FROM inbound WHERE id = ?`, id).Scan(&one); err != nil {
		return fmt.Errorf("inbound %d: %w", id, convert(err))
	}
	return fmt.Errorf("inbound %d: %w", id, engine.ErrProcessed)
}

// SkipInbound marks an event processed without other effects, recording why. It returns
// errs.ErrNotFound for an unknown event and engine.ErrProcessed (an errs.ErrConflict) for one
// already processed.
func (db *DB) SkipInbound(ctx context.Context, id int64, reason string) error {
	err := db.write(ctx, func(tx *wtx) error {
		return markProcessed(ctx, tx, id, reason)
	})
	if err != nil {
		return fmt.Errorf("sqlite: skip inbound %d: %w", id, convert(err))
	}
	return nil
}

// Participant returns a participant, or an error wrapping errs.ErrNotFound. Vars is never nil,
// so the engine can set variables on what it loaded.
func (db *DB) Participant(ctx context.Context, id string) (engine.Participant, error) {
	p, ok, ticket := db.routes.participant(id)
	if ok {
		return p, nil
	}
	p, err := scanParticipant(db.rq.QueryRowContext(ctx, `SELECT `+participantColumns+`
		FROM participants WHERE id = ?`, id))
	if err != nil {
		db.routes.dropParticipant(id, ticket)
		return engine.Participant{}, fmt.Errorf("sqlite: participant %s: %w", id, convert(err))
	}
	db.routes.putParticipant(p, ticket)
	return p, nil
}

const participantColumns = `id, campaign, channel, address, state, vars, version, def_version,
	entered, finished, last_inbound_at, last_reply_due, created_at, updated_at`

func scanParticipant(row interface{ Scan(...any) error }) (engine.Participant, error) {
	var (
		p                          engine.Participant
		vars                       string
		created, updatedAt, lastIn int64
		lastDue                    int64
	)
	err := row.Scan(&p.ID, &p.Campaign, &p.Channel, &p.Address, &p.State, &vars, &p.Version,
		&p.DefVersion, &p.Entered, &p.Finished, &lastIn, &lastDue, &created, &updatedAt)
	if err != nil {
		return engine.Participant{}, err
	}
	if err := json.Unmarshal([]byte(vars), &p.Vars); err != nil {
		return engine.Participant{}, fmt.Errorf("decode vars: %w", err)
	}
	if p.Vars == nil {
		p.Vars = map[string]string{}
	}
	p.CreatedAt = fromUnixNano(created)
	p.UpdatedAt = fromUnixNano(updatedAt)
	p.LastInboundAt = fromUnixNano(lastIn)
	p.LastReplyDue = fromUnixNano(lastDue)
	return p, nil
}

// Commit writes a step in one transaction: the participant (inserted when s.Created, otherwise
// updated only if its stored version is still s.PrevVersion), transcript lines, pending
// entries, outbox rows and codes, and marks s.InboundID processed (a step with InboundID 0
// consumes no event). Any failure leaves nothing written. Errors wrap errs.ErrConflict for a
// stale version, an existing participant on create or an event already processed, and
// engine.ErrCodeTaken for a code issued before in the campaign.
func (db *DB) Commit(ctx context.Context, s engine.Step) error {
	err := db.write(ctx, func(tx *wtx) error { return commitStep(ctx, tx, s) })
	if err != nil {
		err = convert(err)
		db.refused(s, err)
		return fmt.Errorf("sqlite: commit step for %s: %w", s.Participant.ID, err)
	}
	if s.Participant.ID != "" {
		db.routes.committed([]engine.Participant{s.Participant})
	}
	return nil
}

// CommitBatch writes several steps in one transaction, each as Commit would, and returns one
// error per step (nil for a step written). A step that fails is rolled back to its savepoint
// alone, so the others still commit; the engine retries the failed ones one by one. The
// second result is for the transaction as a whole: when it is not nil nothing was written.
// One transaction for many steps is what makes the worker fast: a commit costs far more than
// the statements of a step.
func (db *DB) CommitBatch(ctx context.Context, steps []engine.Step) ([]error, error) {
	errsOut := make([]error, len(steps))
	err := db.write(ctx, func(tx *wtx) error {
		clear(errsOut) // a group that failed elsewhere runs this again
		for i, s := range steps {
			if len(s.Codes) == 0 && len(s.Places) == 0 && len(s.Claims) == 0 {
				// Only beginStep can fail in the ordinary course, and then it wrote nothing.
				// An error later leaves part of the step written: the whole batch is rolled
				// back (the engine then commits its steps one by one).
				err := beginStep(ctx, tx, s)
				if err != nil && !ordinary(err) {
					return err
				}
				if err != nil {
					errsOut[i] = fmt.Errorf("sqlite: commit step for %s: %w", s.Participant.ID, convert(err))
					continue
				}
				if err := finishStep(ctx, tx, s); err != nil {
					return fmt.Errorf("step for %s: %w", s.Participant.ID, err)
				}
				continue
			}
			if _, err := tx.ExecContext(ctx, `SAVEPOINT step`); err != nil {
				return err
			}
			if err := commitStep(ctx, tx, s); err != nil {
				errsOut[i] = fmt.Errorf("sqlite: commit step for %s: %w", s.Participant.ID, convert(err))
				if _, err := tx.ExecContext(ctx, `ROLLBACK TO step`); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `RELEASE step`); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: commit %d steps: %w", len(steps), convert(err))
	}
	written := make([]engine.Participant, 0, len(steps))
	for i, s := range steps {
		if errsOut[i] != nil {
			db.refused(s, errsOut[i])
		} else if s.Participant.ID != "" {
			written = append(written, s.Participant)
		}
	}
	db.routes.committed(written)
	return errsOut, nil
}

// refused lets the next read of a participant whose step met a conflict (a stale version, a
// participant created meanwhile) go to the table: the engine retries it with what it reads.
func (db *DB) refused(s engine.Step, err error) {
	if s.Participant.ID != "" && errors.Is(err, errs.ErrConflict) {
		db.routes.forget(s.Participant)
	}
}

// commitStep writes one step inside tx.
func commitStep(ctx context.Context, tx *wtx, s engine.Step) error {
	if err := beginStep(ctx, tx, s); err != nil {
		return err
	}
	return finishStep(ctx, tx, s)
}

// beginStep makes the checks a step can fail in the ordinary course, consuming the event and
// writing the participant under its version. When it returns an error nothing of the step is
// written, which lets CommitBatch commit most steps without a savepoint each (two statements
// of a step's six or so).
func beginStep(ctx context.Context, tx *wtx, s engine.Step) error {
	if s.Participant.ID == "" && (s.Created || len(s.Lines) > 0 || len(s.Entries) > 0 || len(s.Codes) > 0 ||
		len(s.Places) > 0 || len(s.Claims) > 0 || len(s.Timers) > 0 || len(s.Notifications) > 0) {
		return fmt.Errorf("%w: a step without a participant may only queue replies", errs.ErrInvalid)
	}
	if s.InboundID != 0 {
		if err := markProcessed(ctx, tx, s.InboundID, ""); err != nil {
			return err
		}
	}
	p := s.Participant
	if p.ID == "" {
		return nil
	}
	err := writeParticipant(ctx, tx, s)
	if err != nil && s.InboundID != 0 {
		// Give the event back. It was unprocessed a statement ago, and an unprocessed event
		// always has an empty skip reason.
		if _, uerr := tx.ExecContext(ctx, `UPDATE inbound SET processed = 0, skip_reason = '' WHERE id = ?`,
			s.InboundID); uerr != nil {
			return &brokenTx{fmt.Errorf("%w; giving event %d back: %w", err, s.InboundID, uerr)}
		}
		tx.mayWait(p.ID)
	}
	return err
}

// ordinary reports whether err is one a write meets in the normal course (a stale version, an
// event or reply dealt with already, an unknown row, a refused step), found by a check that
// wrote nothing, after which the transaction goes on. Anything else, a statement that failed
// in SQLite, may have rolled back the whole transaction, and the caller must stop using it.
func ordinary(err error) bool {
	var b *brokenTx
	if errors.As(err, &b) {
		return false
	}
	err = convert(err)
	return errors.Is(err, errs.ErrConflict) || errors.Is(err, errs.ErrNotFound) || errors.Is(err, errs.ErrInvalid)
}

// brokenTx is an error after which the transaction holds part of a step: only rolling back
// more than the step undoes it.
type brokenTx struct{ err error }

func (b *brokenTx) Error() string { return b.err.Error() }
func (b *brokenTx) Unwrap() error { return b.err }

func writeParticipant(ctx context.Context, tx *wtx, s engine.Step) error {
	p := s.Participant
	vars := p.Vars
	if vars == nil {
		vars = map[string]string{}
	}
	varsJSON, err := json.Marshal(vars)
	if err != nil {
		return fmt.Errorf("encode vars: %w", err)
	}
	// handoff and round are vars.handoff and vars.round in columns of their own, so the index
	// of the conversations waiting for a human and that of the funnel per round have plain
	// keys and conditions instead of parsing vars on every step.
	var res sql.Result
	if s.Created {
		res, err = tx.ExecContext(ctx, `
			INSERT INTO participants (id, campaign, channel, address, state, vars, handoff, round, version,
				def_version, entered, finished, last_inbound_at, last_reply_due, created_at, updated_at, seq)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
				(SELECT COALESCE(MAX(seq), 0) + 1 FROM participants))
			ON CONFLICT (id) DO NOTHING`,
			p.ID, p.Campaign, p.Channel, p.Address, p.State, string(varsJSON), vars["handoff"], vars["round"], p.Version,
			p.DefVersion, p.Entered, p.Finished, unixNano(p.LastInboundAt), unixNano(p.LastReplyDue),
			unixNano(p.CreatedAt), unixNano(p.UpdatedAt))
	} else {
		// The campaign, channel and address make up the id and never change; left out of SET,
		// SQLite has no reason to touch the address index (a step took 73 us with them in,
		// 69 us without, with 100,000 participants stored). def_version and finished change
		// seldom (a participant finishing, or moved to a new version of their campaign), and
		// SQLite rewrites the entry of every index holding a column of the SET, changed or not:
		// participants_def_version holds both. So the update first leaves them out, on the
		// condition that the row holds the values already; only if it does not (or the version
		// is stale) does the full update run.
		res, err = tx.ExecContext(ctx, `
			UPDATE participants SET state = ?, vars = ?, handoff = ?, round = ?,
				version = ?, entered = ?, last_inbound_at = ?, last_reply_due = ?, updated_at = ?
			WHERE id = ? AND version = ? AND def_version = ? AND finished = ?`,
			p.State, string(varsJSON), vars["handoff"], vars["round"], p.Version,
			p.Entered, unixNano(p.LastInboundAt), unixNano(p.LastReplyDue), unixNano(p.UpdatedAt),
			p.ID, s.PrevVersion, p.DefVersion, p.Finished)
		if err == nil {
			if n, aerr := res.RowsAffected(); aerr != nil {
				return aerr
			} else if n == 1 {
				return nil
			}
			res, err = tx.ExecContext(ctx, `
				UPDATE participants SET state = ?, vars = ?, handoff = ?, round = ?,
					version = ?, def_version = ?, entered = ?, finished = ?, last_inbound_at = ?,
					last_reply_due = ?, updated_at = ?
				WHERE id = ? AND version = ?`,
				p.State, string(varsJSON), vars["handoff"], vars["round"], p.Version,
				p.DefVersion, p.Entered, p.Finished, unixNano(p.LastInboundAt),
				unixNano(p.LastReplyDue), unixNano(p.UpdatedAt), p.ID, s.PrevVersion)
		}
	}
	if err != nil {
		return fmt.Errorf("write participant: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 && s.Created {
		return fmt.Errorf("%w: participant exists", errs.ErrConflict)
	} else if n == 0 {
		return fmt.Errorf("%w: participant is not at version %d", errs.ErrConflict, s.PrevVersion)
	}
	return nil
}

// finishStep writes the rest of a step begun by beginStep. Only codes and places can fail in
// the ordinary course (ErrCodeTaken, ErrPoolFull, ErrCodeClaimed); any error leaves part of the step written.
func finishStep(ctx context.Context, tx *wtx, s engine.Step) error {
	_, err := finishStepAs(ctx, tx, s, nil)
	return err
}

// finishStepAs is finishStep that, when first is not nil, records the attempt of the step's
// first reply with its insert and returns the ids of the step's replies, in order.
func finishStepAs(ctx context.Context, tx *wtx, s engine.Step, first *attemptAs) ([]int64, error) {
	p := s.Participant
	if p.ID == "" {
		return nil, finishStranger(ctx, tx, s)
	}
	var ids []int64
	for _, l := range s.Lines {
		if err := insertLine(ctx, tx, p.ID, l); err != nil {
			return nil, err
		}
	}
	for _, e := range s.Entries {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO entries (id, campaign, participant_id, state, kind, media_key, thumb_key,
				mime, caption, location, created_at, status)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')`,
			e.ID, e.Campaign, p.ID, e.State, e.Kind, e.MediaKey, e.ThumbKey, e.MIME,
			e.Caption, e.Location, unixNano(e.CreatedAt))
		if err != nil {
			return nil, fmt.Errorf("insert entry %s: %w", e.ID, err)
		}
	}
	if s.CancelOutbox {
		_, err := tx.ExecContext(ctx, `
			UPDATE outbox SET status = 'cancelled', error = ?, updated_at = ?
			WHERE participant_seq = (SELECT seq FROM participants WHERE id = ?) AND status = 'pending'`,
			engine.NotSentOptedOut, unixNano(p.UpdatedAt), p.ID)
		if err != nil {
			return nil, fmt.Errorf("cancel outbox: %w", err)
		}
	}
	for i, o := range s.Outbox {
		o.ParticipantID = p.ID
		var att *attemptAs
		if i == 0 {
			att = first
		}
		id, err := insertOutboundAs(ctx, tx, o, att)
		if err != nil {
			return nil, err
		}
		if first != nil {
			ids = append(ids, id)
		}
	}
	for _, pl := range s.Places {
		if err := takePlace(ctx, tx, pl); err != nil {
			return nil, err
		}
	}
	for _, c := range s.Claims {
		if err := claimCode(ctx, tx, p.ID, unixNano(p.UpdatedAt), c); err != nil {
			return nil, err
		}
	}
	if s.CancelTimers {
		if _, err := tx.ExecContext(ctx, `DELETE FROM timers WHERE participant_id = ?`, p.ID); err != nil {
			return nil, fmt.Errorf("cancel timers: %w", err)
		}
	}
	for _, tm := range s.Timers {
		tm.ParticipantID = p.ID
		if err := insertTimer(ctx, tx, tm); err != nil {
			return nil, err
		}
	}
	for _, n := range s.Notifications {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO notifications (campaign, participant_id, text, at) VALUES (?, ?, ?, ?)`,
			n.Campaign, p.ID, n.Text, unixNano(n.At))
		if err != nil {
			return nil, fmt.Errorf("insert notification: %w", err)
		}
	}
	for _, code := range s.Codes {
		res, err := tx.ExecContext(ctx, `
			INSERT INTO codes (campaign, code, participant_id, issued_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (campaign, code) DO NOTHING`,
			p.Campaign, code, p.ID, unixNano(p.UpdatedAt))
		if err != nil {
			return nil, fmt.Errorf("insert code: %w", err)
		}
		if err := noRow(res, fmt.Errorf("code %s: %w", code, engine.ErrCodeTaken)); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// finishStranger writes the rest of a step that has no participant: replies to a stranger (the
// event was consumed by beginStep).
func finishStranger(ctx context.Context, tx *wtx, s engine.Step) error {
	for _, o := range s.Outbox {
		o.ParticipantID = ""
		if err := insertOutbound(ctx, tx, o); err != nil {
			return err
		}
	}
	return nil
}

// outboxJSON fixes the stored shape of buttons and templates.
type buttonJSON struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

type templateJSON struct {
	Name     string   `json:"name"`
	Language string   `json:"language,omitempty"`
	Params   []string `json:"params,omitempty"`
}

func insertOutbound(ctx context.Context, tx *wtx, o engine.Outbound) error {
	_, err := insertOutboundAs(ctx, tx, o, nil)
	return err
}

// attemptAs is the attempt of a reply recorded with its insert, as attemptOutbox would
// record it right after: ReceiveApplied's direct send (engine.ReceivedStep.SendAs).
type attemptAs struct {
	owner string
	at    time.Time
}

// insertOutboundAs inserts o, attempted by att when att is not nil, and returns its id.
func insertOutboundAs(ctx context.Context, tx *wtx, o engine.Outbound, att *attemptAs) (int64, error) {
	status := o.Status
	if status == "" {
		status = engine.StatusPending
	}
	var buttons, tmpl sql.NullString
	if len(o.Buttons) > 0 {
		bs := make([]buttonJSON, len(o.Buttons))
		for i, b := range o.Buttons {
			bs[i] = buttonJSON{ID: b.ID, Title: b.Title}
		}
		b, err := json.Marshal(bs)
		if err != nil {
			return 0, fmt.Errorf("encode buttons: %w", err)
		}
		buttons = sql.NullString{String: string(b), Valid: true}
	}
	if t := o.Template; t != nil {
		b, err := json.Marshal(templateJSON{Name: t.Name, Language: t.Language, Params: t.Params})
		if err != nil {
			return 0, fmt.Errorf("encode template: %w", err)
		}
		tmpl = sql.NullString{String: string(b), Valid: true}
	}
	attempts, attemptedAt, attemptedBy, inFlight := o.Attempts, int64(0), "", 0
	if att != nil {
		// As attemptOutbox on the row just inserted: one more attempt, in flight.
		attempts, attemptedAt, attemptedBy, inFlight = o.Attempts+1, unixNano(att.at), att.owner, 1
	}
	res, err := tx.ExecContext(ctx, `
		INSERT INTO outbox (participant_id, participant_seq, campaign, channel, recipient, text,
			buttons, media_url, template, broadcast_id, due_at, status, platform_id, error, attempts,
			attempted_at, attempted_by, in_flight, sender, agent)
		VALUES (?, (SELECT seq FROM participants WHERE id = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		nullString(o.ParticipantID), nullString(o.ParticipantID), o.Campaign, o.Channel, o.To, o.Text, buttons, o.MediaURL,
		tmpl, nullString(o.BroadcastID), unixNano(o.DueAt), status, o.PlatformID, o.Error, attempts,
		attemptedAt, attemptedBy, inFlight, o.From, o.Agent)
	if err != nil {
		return 0, fmt.Errorf("insert outbox row: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("insert outbox row: %w", err)
	}
	return id, nil
}

// takePlace takes one place from a pool, or fails with engine.ErrPoolFull; the condition and
// the increment are one statement, so concurrent commits cannot both take the last place.
func takePlace(ctx context.Context, tx *wtx, pl engine.Place) error {
	_, err := tx.ExecContext(ctx, `
		INSERT INTO pools (campaign, pool, taken) VALUES (?, ?, 0) ON CONFLICT DO NOTHING`,
		pl.Campaign, pl.Pool)
	if err != nil {
		return fmt.Errorf("pool %s: %w", pl.Pool, err)
	}
	res, err := tx.ExecContext(ctx, `
		UPDATE pools SET taken = taken + 1 WHERE campaign = ? AND pool = ? AND taken < ?`,
		pl.Campaign, pl.Pool, pl.Capacity)
	if err != nil {
		return fmt.Errorf("pool %s: %w", pl.Pool, err)
	}
	return noRow(res, fmt.Errorf("pool %s: %w", pl.Pool, engine.ErrPoolFull))
}

func insertTimer(ctx context.Context, tx *wtx, t engine.Timer) error {
	_, err := tx.ExecContext(ctx, `
		INSERT INTO timers (key, campaign, participant_id, transition, seq, round, round_event, due_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (key) DO NOTHING`,
		t.Key, t.Campaign, nullString(t.ParticipantID), t.Transition, t.Seq, t.Round, t.RoundEvent,
		unixNano(t.DueAt))
	if err != nil {
		return fmt.Errorf("insert timer %s: %w", t.Key, err)
	}
	return nil
}

func insertLine(ctx context.Context, tx *wtx, participantID string, l engine.Line) error {
	_, err := tx.ExecContext(ctx, `
		INSERT INTO lines (participant_id, participant_seq, direction, text, media_key, at)
		VALUES (?, (SELECT seq FROM participants WHERE id = ?), ?, ?, ?, ?)`,
		participantID, participantID, string(l.Direction), l.Text, l.MediaKey, unixNano(l.At))
	if err != nil {
		return fmt.Errorf("insert transcript line: %w", err)
	}
	return nil
}

// insertLineOf is insertLine for a caller that has the participant's seq already.
func insertLineOf(ctx context.Context, tx *wtx, participantID string, seq int64, l engine.Line) error {
	_, err := tx.ExecContext(ctx, `
		INSERT INTO lines (participant_id, participant_seq, direction, text, media_key, at)
		VALUES (?, ?, ?, ?, ?, ?)`,
		participantID, seq, string(l.Direction), l.Text, l.MediaKey, unixNano(l.At))
	if err != nil {
		return fmt.Errorf("insert transcript line: %w", err)
	}
	return nil
}

// DueOutbox returns up to limit pending replies due at or before now, in the order they were
// queued (all of them when limit <= 0), leaving out those queued after a reply to the same
// participant that waits to be tried again: they go out after it (engine.Store). A reply in
// flight waits for nothing (its due time has passed), so outbox_retried leaves it out.
func (db *DB) DueOutbox(ctx context.Context, now time.Time, limit int) ([]engine.Outbound, error) {
	// On the write connection (readOnWriter): the replies due are the rows the writer just
	// wrote, with their participants' rows, all in its cache and none in a reader's.
	var out []engine.Outbound
	err := db.readOnWriter(ctx, func(t *wtx) error {
		var err error
		out, err = outboxFrom(ctx, t, `WHERE o.status = 'pending' AND o.due_at <= ?
			AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.participant_seq = o.participant_seq
				AND e.status = 'pending' AND e.attempts > 0 AND e.in_flight = 0 AND e.id < o.id AND e.due_at > ?)
			ORDER BY o.id LIMIT ?`,
			unixNano(now), unixNano(now), noLimit(limit))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: due outbox: %w", err)
	}
	return out, nil
}

// Outbox returns every reply queued for a participant, whatever its status, in queue order.
func (db *DB) Outbox(ctx context.Context, participantID string) ([]engine.Outbound, error) {
	out, err := db.outbox(ctx, `WHERE o.participant_seq = (SELECT seq FROM participants WHERE id = ?)
		ORDER BY o.id`, participantID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: outbox of %s: %w", participantID, err)
	}
	return out, nil
}

func (db *DB) outbox(ctx context.Context, where string, args ...any) ([]engine.Outbound, error) {
	return outboxFrom(ctx, db.rq, where, args...)
}

func outboxFrom(ctx context.Context, q querier, where string, args ...any) ([]engine.Outbound, error) {
	rows, err := q.QueryContext(ctx, `
		SELECT o.id, o.participant_id, o.campaign, o.channel, o.recipient, o.text, o.buttons,
			o.media_url, o.template, o.broadcast_id, o.due_at, o.status, o.platform_id, o.error,
			o.attempts, COALESCE(p.last_inbound_at, 0), COALESCE(p.state, ''), o.delivery, o.delivery_code,
			o.delivery_error, o.delivery_at, o.attempted_at, o.attempted_by, o.in_flight, o.maybe_twice, o.sender, o.agent
		FROM outbox o LEFT JOIN participants p ON p.id = o.participant_id `+where, args...)
	if err != nil {
		return nil, convert(err)
	}
	defer rows.Close()
	var out []engine.Outbound
	for rows.Next() {
		var (
			o              engine.Outbound
			pid, broadcast sql.NullString
			buttons, tmpl  sql.NullString
			due, lastIn    int64
			deliveredAt    int64
			attemptedAt    int64
			state          string
		)
		err := rows.Scan(&o.ID, &pid, &o.Campaign, &o.Channel, &o.To, &o.Text, &buttons,
			&o.MediaURL, &tmpl, &broadcast, &due, &o.Status, &o.PlatformID, &o.Error, &o.Attempts, &lastIn, &state,
			&o.Delivery.Status, &o.Delivery.ErrorCode, &o.Delivery.ErrorTitle, &deliveredAt,
			&attemptedAt, &o.AttemptedBy, &o.InFlight, &o.MaybeTwice, &o.From, &o.Agent)
		if err != nil {
			return nil, convert(err)
		}
		o.ParticipantID, o.BroadcastID = pid.String, broadcast.String
		o.DueAt = fromUnixNano(due)
		o.LastInboundAt = fromUnixNano(lastIn)
		o.OptedOut = state == engine.StateOptedOut
		o.Delivery.At = fromUnixNano(deliveredAt)
		o.AttemptedAt = fromUnixNano(attemptedAt)
		if buttons.Valid {
			var bs []buttonJSON
			if err := json.Unmarshal([]byte(buttons.String), &bs); err != nil {
				return nil, fmt.Errorf("outbox %d: decode buttons: %w", o.ID, err)
			}
			for _, b := range bs {
				o.Buttons = append(o.Buttons, engine.Button{ID: b.ID, Title: b.Title})
			}
		}
		if tmpl.Valid {
			var t templateJSON
			if err := json.Unmarshal([]byte(tmpl.String), &t); err != nil {
				return nil, fmt.Errorf("outbox %d: decode template: %w", o.ID, err)
			}
			o.Template = &engine.TemplateCall{Name: t.Name, Language: t.Language, Params: t.Params}
		}
		out = append(out, o)
	}
	return out, convert(rows.Err())
}

// finishOutbound moves a reply out of pending, closing the attempt in flight, or counting one
// when none was recorded (AttemptOutbox). A reply already sent cannot be marked again
// (errs.ErrConflict): its transcript line exists and must not be doubled.
func finishOutbound(ctx context.Context, tx *wtx, id int64, set string, args ...any) error {
	args = append(args, id)
	// No RETURNING: SQLite would build a temporary table for the one row on every reply, and
	// only a sent reply needs anything of it (markSent's line copies it by id, a row the
	// update just brought into the cache).
	res, err := tx.ExecContext(ctx,
		`UPDATE outbox SET `+set+`, attempts = attempts + (in_flight = 0), in_flight = 0
		WHERE id = ? AND status <> 'sent'`, args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	var one int
	if err := tx.QueryRowContext(ctx, `SELECT 1 FROM outbox WHERE id = ?`, id).Scan(&one); err != nil {
		return convert(err)
	}
	return fmt.Errorf("%w: already sent", errs.ErrConflict)
}

// MarkSent records a delivered reply and appends it to the participant's transcript in the
// same transaction, so the transcript shows exactly what went out. It returns errs.ErrNotFound
// for an unknown reply and errs.ErrConflict for one already marked sent.
func (db *DB) MarkSent(ctx context.Context, id int64, platformID string, at time.Time) error {
	err := db.write(ctx, func(tx *wtx) error { return markSent(ctx, tx, id, platformID, at) })
	if err != nil {
		return fmt.Errorf("sqlite: mark outbox %d sent: %w", id, convert(err))
	}
	return nil
}

func markSent(ctx context.Context, tx *wtx, id int64, platformID string, at time.Time) error {
	err := finishOutbound(ctx, tx, id,
		`status = 'sent', platform_id = ?, error = '', sent_at = ?, updated_at = ?`,
		platformID, unixNano(at), unixNano(at))
	if err != nil {
		return err
	}
	// The line copies the row in the statement that inserts it, so it holds exactly the text
	// that went out, and nothing of the row comes back into Go: reading it back (a query and
	// its scan) cost the writer as much as the insert. A reply to a stranger (no participant)
	// has no transcript to go in, and inserts nothing.
	_, err = tx.ExecContext(ctx, `
		INSERT INTO lines (participant_id, participant_seq, direction, text, media_key, at)
		SELECT o.participant_id, COALESCE(o.participant_seq, (SELECT seq FROM participants p WHERE p.id = o.participant_id)),
			'`+string(engine.Out)+`', o.text, '', ?
		FROM outbox o WHERE o.id = ? AND o.participant_id IS NOT NULL`, unixNano(at), id)
	if err != nil {
		// The reply is marked sent already: only rolling back more than this reply undoes it.
		return &brokenTx{fmt.Errorf("insert transcript line: %w", err)}
	}
	if err := applyEarly(ctx, tx, id, platformID); err != nil {
		return &brokenTx{err}
	}
	return nil
}

// MarkSentBatch records several delivered replies in one transaction, each as MarkSent would,
// and returns one error per reply (nil for a reply recorded). The second result is for the
// transaction as a whole: when it is not nil nothing was recorded.
func (db *DB) MarkSentBatch(ctx context.Context, sent []engine.Sent) ([]error, error) {
	errsOut := make([]error, len(sent))
	err := db.writeBulk(ctx, func(tx *wtx) error {
		clear(errsOut) // a group that failed elsewhere runs this again
		for i, s := range sent {
			// markSent fails in the ordinary course (unknown, already sent) before it writes;
			// any other failure may leave a reply half recorded, and the whole batch is rolled
			// back.
			err := markSent(ctx, tx, s.ID, s.PlatformID, s.At)
			if err != nil && !ordinary(err) {
				return err
			}
			if err != nil {
				errsOut[i] = fmt.Errorf("sqlite: mark outbox %d sent: %w", s.ID, convert(err))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: mark %d replies sent: %w", len(sent), convert(err))
	}
	return errsOut, nil
}

// MarkFailed records a reply that could not be delivered. It returns errs.ErrNotFound for an
// unknown reply and errs.ErrConflict for one already sent.
func (db *DB) MarkFailed(ctx context.Context, id int64, reason string, at time.Time) error {
	err := db.write(ctx, func(tx *wtx) error {
		return finishOutbound(ctx, tx, id, `status = 'failed', error = ?, updated_at = ?`,
			reason, unixNano(at))
	})
	if err != nil {
		return fmt.Errorf("sqlite: mark outbox %d failed: %w", id, convert(err))
	}
	return nil
}

// MarkCancelled records a reply that will not be sent (its participant opted out). It returns
// errs.ErrNotFound for an unknown reply and errs.ErrConflict for one already sent.
func (db *DB) MarkCancelled(ctx context.Context, id int64, reason string, at time.Time) error {
	err := db.write(ctx, func(tx *wtx) error {
		return finishOutbound(ctx, tx, id, `status = 'cancelled', error = ?, updated_at = ?`,
			reason, unixNano(at))
	})
	if err != nil {
		return fmt.Errorf("sqlite: mark outbox %d cancelled: %w", id, convert(err))
	}
	return nil
}

// Transcript returns a participant's lines in the order they were written; an unknown
// participant has an empty transcript.
func (db *DB) Transcript(ctx context.Context, participantID string) ([]engine.Line, error) {
	rows, err := db.rq.QueryContext(ctx, `
		SELECT id, participant_id, direction, text, media_key, at
		FROM lines WHERE participant_seq = (SELECT seq FROM participants WHERE id = ?)
		ORDER BY id`, participantID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: transcript of %s: %w", participantID, convert(err))
	}
	defer rows.Close()
	var out []engine.Line
	for rows.Next() {
		var (
			l   engine.Line
			dir string
			at  int64
		)
		if err := rows.Scan(&l.ID, &l.ParticipantID, &dir, &l.Text, &l.MediaKey, &at); err != nil {
			return nil, fmt.Errorf("sqlite: transcript of %s: %w", participantID, convert(err))
		}
		l.Direction = engine.Direction(dir)
		l.At = fromUnixNano(at)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: transcript of %s: %w", participantID, convert(err))
	}
	return out, nil
}
