package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/judge"
	"github.com/chatcampaigns/campaign/reports"
)

const dayNanos = int64(24 * time.Hour)

// likePattern is a LIKE pattern for text containing s, with LIKE's own characters escaped.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// Conversations lists conversations matching f, most recently active first, one page (f's
// limit) after f.Before. Each filter reads one index in its order, so a page costs the same
// with a thousand participants or a million.
func (db *DB) Conversations(ctx context.Context, f reports.ConversationFilter) ([]reports.Conversation, error) {
	var (
		where []string
		args  []any
	)
	index := "" // every campaign: everyCampaign
	switch {
	case f.Assignee != "":
		// A user's assignments, each looked up by its key, then sorted: as many rows as the
		// user has conversations assigned, whatever the table holds.
		index = "sqlite_autoindex_participants_1"
	case f.Team != "" || f.Waiting:
		index = "participants_handoff"
	case f.State != "":
		index = "participants_campaign_state"
	case f.Campaign != "":
		index = "participants_campaign_recent"
	}
	if f.Assignee != "" {
		where = append(where, "id IN (SELECT participant_id FROM assignments INDEXED BY assignments_user WHERE username = ?)")
		args = append(args, f.Assignee)
	}
	if f.Team != "" || f.Waiting {
		where = append(where, `handoff != ''`)
		if f.Team != "" {
			where = append(where, `handoff = ?`)
			args = append(args, f.Team)
		}
	}
	if f.Campaign != "" || f.State != "" {
		where = append(where, "campaign = ?")
		args = append(args, f.Campaign)
	}
	if f.State != "" {
		where = append(where, "state = ?")
		args = append(args, f.State)
	}
	if f.Unassigned {
		where = append(where, "NOT EXISTS (SELECT 1 FROM assignments a WHERE a.participant_id = participants.id)")
	}
	var after []any
	if !f.Before.IsZero() {
		at := unixNano(f.Before.At)
		// The first term is the index range; an OR alone would make SQLite read the index
		// from the newest row down to the cursor.
		where = append(where, "updated_at <= ?", "(updated_at < ? OR id < ?)")
		after = []any{at, at, f.Before.ID}
	}
	limit := f.PageSize()
	if f.Search != "" {
		limit = reports.SearchWindow
	}
	var q string
	if index != "" {
		q = `SELECT ` + participantColumns + `, seq FROM participants INDEXED BY ` + index
		if len(where) > 0 {
			q += ` WHERE ` + strings.Join(where, " AND ")
		}
		q += ` ORDER BY updated_at DESC, id DESC LIMIT ?`
		args = append(append(args, after...), limit)
	} else {
		var err error
		if q, args, err = db.everyCampaign(ctx, where, append(args, after...), limit); err != nil {
			return nil, fmt.Errorf("sqlite: conversations: %w", err)
		}
		if q == "" {
			return nil, nil
		}
	}
	if f.Search != "" {
		// The newest SearchWindow candidates, then the search over their variables and lines:
		// the participants the search index found lines of, else their transcripts read.
		pat := likePattern(f.Search)
		inLines := `EXISTS (SELECT 1 FROM lines l WHERE l.participant_seq = p.seq AND l.text LIKE ? ESCAPE '\')`
		linesArg := pat
		seqs, indexed, err := db.searchSeqs(ctx, f.Search)
		if err != nil {
			return nil, fmt.Errorf("sqlite: conversations: %w", err)
		}
		if indexed {
			inLines, linesArg = `p.seq IN (SELECT value FROM json_each(?))`, seqs
		}
		q = `SELECT * FROM (` + q + `) AS p
			WHERE EXISTS (SELECT 1 FROM json_each(p.vars) v WHERE v.value LIKE ? ESCAPE '\')
			OR ` + inLines + `
			ORDER BY updated_at DESC, id DESC LIMIT ?`
		args = append(args, pat, linesArg, f.PageSize())
	}
	rows, err := db.rq.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: conversations: %w", convert(err))
	}
	var (
		out  []reports.Conversation
		seqs []int64
	)
	for rows.Next() {
		var seq int64
		p, err := scanParticipant(scanExtra{rows, &seq})
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlite: conversations: %w", convert(err))
		}
		out = append(out, reports.Conversation{Participant: p})
		seqs = append(seqs, seq)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: conversations: %w", convert(err))
	}
	ids := make([]string, len(out))
	for i, c := range out {
		ids[i] = c.Participant.ID
	}
	who, err := db.assignees(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("sqlite: conversations: %w", err)
	}
	for i := range out {
		out[i].Assignee = who[out[i].Participant.ID]
	}
	for i, seq := range seqs {
		var (
			l  engine.Line
			at int64
		)
		err := db.rq.QueryRowContext(ctx, `SELECT id, text, media_key, at FROM lines
			WHERE participant_seq = ? AND direction = 'in' ORDER BY id DESC LIMIT 1`, seq).Scan(&l.ID, &l.Text, &l.MediaKey, &at)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			continue
		case err != nil:
			return nil, fmt.Errorf("sqlite: conversations: last line: %w", convert(err))
		}
		l.ParticipantID, l.Direction, l.At = out[i].Participant.ID, engine.In, fromUnixNano(at)
		out[i].Last = l
	}
	return out, nil
}

// scanExtra scans a participant row followed by more columns.
type scanExtra struct {
	rows  *sql.Rows
	extra *int64
}

func (s scanExtra) Scan(dest ...any) error { return s.rows.Scan(append(dest, s.extra)...) }

// MarkRead records that user has read participantID's conversation up to seen (the time of
// their latest message); an older mark than the stored one changes nothing.
func (db *DB) MarkRead(ctx context.Context, user, participantID string, seen time.Time) error {
	err := db.write(ctx, func(tx *wtx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO read_marks (username, participant_id, seen_at)
			SELECT ?, id, ? FROM participants WHERE id = ?
			ON CONFLICT (username, participant_id) DO UPDATE SET seen_at = max(seen_at, excluded.seen_at)`,
			user, unixNano(seen), participantID)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: mark %s read by %s: %w", participantID, user, convert(err))
	}
	return nil
}

// ReadMarks returns user's read marks on the conversations ids (none for unread ones).
func (db *DB) ReadMarks(ctx context.Context, user string, ids []string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	if len(ids) == 0 {
		return out, nil
	}
	args := []any{user}
	for _, id := range ids {
		args = append(args, id)
	}
	rows, err := db.rq.QueryContext(ctx, `SELECT participant_id, seen_at FROM read_marks
		WHERE username = ? AND participant_id IN (`+strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read marks of %s: %w", user, convert(err))
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id string
			at int64
		)
		if err := rows.Scan(&id, &at); err != nil {
			return nil, fmt.Errorf("sqlite: read marks of %s: %w", user, convert(err))
		}
		out[id] = fromUnixNano(at)
	}
	return out, convert(rows.Err())
}

// SaveBroadcast records a broadcast in the history; saving one id twice keeps the first.
func (db *DB) SaveBroadcast(ctx context.Context, b reports.Broadcast) error {
	err := db.write(ctx, func(tx *wtx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO broadcasts (id, campaign, text, state, var, value, template, by, queued, at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			b.ID, b.Campaign, b.Text, b.Audience.State, b.Audience.Var, b.Audience.Value, b.Template, b.By, b.Queued, unixNano(b.At))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: save broadcast %s: %w", b.ID, convert(err))
	}
	return nil
}

const broadcastColumns = `id, campaign, text, state, var, value, template, by, queued, at`

func scanBroadcast(row interface{ Scan(...any) error }) (reports.Broadcast, error) {
	var (
		b  reports.Broadcast
		at int64
	)
	err := row.Scan(&b.ID, &b.Campaign, &b.Text, &b.Audience.State, &b.Audience.Var, &b.Audience.Value, &b.Template, &b.By, &b.Queued, &at)
	b.At = fromUnixNano(at)
	return b, err
}

// Broadcasts lists a campaign's broadcasts, newest first.
func (db *DB) Broadcasts(ctx context.Context, campaign string, limit int) ([]reports.Broadcast, error) {
	rows, err := db.rq.QueryContext(ctx, `SELECT `+broadcastColumns+` FROM broadcasts WHERE campaign = ?
		ORDER BY at DESC, id DESC LIMIT ?`, campaign, noLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("sqlite: broadcasts of %s: %w", campaign, convert(err))
	}
	defer rows.Close()
	var out []reports.Broadcast
	for rows.Next() {
		b, err := scanBroadcast(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: broadcasts of %s: %w", campaign, convert(err))
		}
		out = append(out, b)
	}
	return out, convert(rows.Err())
}

// Broadcast returns one broadcast of the history, or an error wrapping errs.ErrNotFound.
func (db *DB) Broadcast(ctx context.Context, id string) (reports.Broadcast, error) {
	b, err := scanBroadcast(db.rq.QueryRowContext(ctx, `SELECT `+broadcastColumns+` FROM broadcasts WHERE id = ?`, id))
	if err != nil {
		return reports.Broadcast{}, fmt.Errorf("sqlite: broadcast %s: %w", id, convert(err))
	}
	return b, nil
}

// BroadcastRecipients lists a broadcast's replies in the order they were queued, the page
// after the reply with id after.
func (db *DB) BroadcastRecipients(ctx context.Context, id string, after int64, limit int) ([]engine.Outbound, error) {
	out, err := db.outbox(ctx, `WHERE o.broadcast_id = ? AND o.id > ? ORDER BY o.id LIMIT ?`, id, after, noLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("sqlite: recipients of broadcast %s: %w", id, err)
	}
	return out, nil
}

// deliveryStatus is how far a reply got, as DeliveryCounts says it.
const deliveryStatus = `CASE WHEN status = 'sent' AND delivery != '' THEN delivery ELSE status END`

// DeliveryByChannel counts a campaign's replies by channel and how far they got, so the
// monitor can say per channel what its platform reports.
func (db *DB) DeliveryByChannel(ctx context.Context, campaign string) (map[string]map[string]int, error) {
	rows, err := db.rq.QueryContext(ctx, `SELECT channel, `+deliveryStatus+`, count(*)
		FROM outbox INDEXED BY outbox_campaign_day WHERE campaign = ? GROUP BY 1, 2`, campaign)
	if err != nil {
		return nil, fmt.Errorf("sqlite: delivery by channel of %s: %w", campaign, convert(err))
	}
	defer rows.Close()
	out := map[string]map[string]int{}
	for rows.Next() {
		var (
			ch, st string
			n      int
		)
		if err := rows.Scan(&ch, &st, &n); err != nil {
			return nil, fmt.Errorf("sqlite: delivery by channel of %s: %w", campaign, convert(err))
		}
		if out[ch] == nil {
			out[ch] = map[string]int{}
		}
		out[ch][st] = n
	}
	return out, convert(rows.Err())
}

// outboxStatuses and deliveryReports are every value the outbox's status and delivery
// columns take (UpdateDelivery stores only ranked reports).
var (
	outboxStatuses  = []string{engine.StatusPending, engine.StatusSent, engine.StatusFailed, engine.StatusCancelled}
	deliveryReports = []string{"", "sent", "failed", "delivered", "read", "played"}
)

// DeliveryDays counts a campaign's replies due from since until until (no end when zero) by
// UTC day and how far they got.
// Each count is one range of the index on (campaign, status, delivery, due_at): a GROUP BY
// day would sort every reply of the days shown.
func (db *DB) DeliveryDays(ctx context.Context, campaign string, since, until time.Time) ([]reports.DayCount, error) {
	var out []reports.DayCount
	end := int64(math.MaxInt64)
	if !until.IsZero() {
		end = unixNano(until)
	}
	for _, st := range outboxStatuses {
		for _, dl := range deliveryReports {
			shown := st
			if st == engine.StatusSent && dl != "" {
				shown = dl
			}
			// The newest reply of this kind bounds the days to count.
			var newest sql.NullInt64
			err := db.rq.QueryRowContext(ctx, `SELECT max(due_at) FROM outbox INDEXED BY outbox_campaign_day
				WHERE campaign = ? AND status = ? AND delivery = ?`, campaign, st, dl).Scan(&newest)
			if err != nil {
				return nil, fmt.Errorf("sqlite: delivery days of %s: %w", campaign, convert(err))
			}
			if !newest.Valid || newest.Int64 < unixNano(since) {
				continue
			}
			for day := unixNano(since) / dayNanos; day <= min(newest.Int64, end-1)/dayNanos; day++ {
				from, to := max(day*dayNanos, unixNano(since)), min((day+1)*dayNanos, end)
				var n int
				err := db.rq.QueryRowContext(ctx, `SELECT count(*) FROM outbox INDEXED BY outbox_campaign_day
					WHERE campaign = ? AND status = ? AND delivery = ? AND due_at >= ? AND due_at < ?`,
					campaign, st, dl, from, to).Scan(&n)
				if err != nil {
					return nil, fmt.Errorf("sqlite: delivery days of %s: %w", campaign, convert(err))
				}
				if n > 0 {
					out = append(out, reports.DayCount{Day: time.Unix(0, day*dayNanos).UTC(), Key: shown, N: n})
				}
			}
		}
	}
	return mergeDays(out), nil
}

// mergeDays adds up the counts of one day and key, ordered by day and key.
func mergeDays(in []reports.DayCount) []reports.DayCount {
	slices.SortFunc(in, func(a, b reports.DayCount) int {
		if c := a.Day.Compare(b.Day); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	var out []reports.DayCount
	for _, dc := range in {
		if n := len(out); n > 0 && out[n-1].Day.Equal(dc.Day) && out[n-1].Key == dc.Key {
			out[n-1].N += dc.N
			continue
		}
		out = append(out, dc)
	}
	return out
}

// EntryDays counts a campaign's entries received and decided from since until until (no end
// when zero) by UTC day, with
// the mean wait of the decided ones.
func (db *DB) EntryDays(ctx context.Context, campaign string, since, until time.Time) ([]reports.EntryDay, error) {
	end := int64(math.MaxInt64)
	if !until.IsZero() {
		end = unixNano(until)
	}
	byDay := map[int64]*reports.EntryDay{}
	var order []int64
	get := func(day int64) *reports.EntryDay {
		if d := byDay[day]; d != nil {
			return d
		}
		d := &reports.EntryDay{Day: time.Unix(0, day*dayNanos).UTC()}
		byDay[day] = d
		order = append(order, day)
		return d
	}
	rows, err := db.rq.QueryContext(ctx, `SELECT created_at / ?, count(*) FROM entries INDEXED BY entries_campaign_recent
		WHERE campaign = ? AND created_at >= ? AND created_at < ? GROUP BY 1`, dayNanos, campaign, unixNano(since), end)
	if err != nil {
		return nil, fmt.Errorf("sqlite: entry days of %s: %w", campaign, convert(err))
	}
	for rows.Next() {
		var day int64
		var n int
		if err := rows.Scan(&day, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlite: entry days of %s: %w", campaign, convert(err))
		}
		get(day).Received = n
	}
	rows.Close()
	rows, err = db.rq.QueryContext(ctx, `SELECT decided_at / ?, count(*), avg(decided_at - created_at) FROM entries INDEXED BY entries_decided
		WHERE campaign = ? AND decided_at >= ? AND decided_at < ? AND decided_at > 0 GROUP BY 1`, dayNanos, campaign, unixNano(since), end)
	if err != nil {
		return nil, fmt.Errorf("sqlite: entry days of %s: %w", campaign, convert(err))
	}
	defer rows.Close()
	for rows.Next() {
		var (
			day  int64
			n    int
			wait float64
		)
		if err := rows.Scan(&day, &n, &wait); err != nil {
			return nil, fmt.Errorf("sqlite: entry days of %s: %w", campaign, convert(err))
		}
		d := get(day)
		d.Decided, d.Wait = n, time.Duration(wait)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: entry days of %s: %w", campaign, convert(err))
	}
	out := make([]reports.EntryDay, 0, len(order))
	slices.Sort(order)
	for _, day := range order {
		out = append(out, *byDay[day])
	}
	return out, nil
}

// exportPage is how many rows an export reads at a time: the export streams page after page,
// so neither the store nor the server holds a whole table.
const exportPage = 500

// EachParticipant calls fn with each participant of campaign in the order they joined.
func (db *DB) EachParticipant(ctx context.Context, campaign string, fn func(engine.Participant) error) error {
	var after int64 = -1
	for {
		rows, err := db.rq.QueryContext(ctx, `SELECT `+participantColumns+`, seq FROM participants
			WHERE campaign = ? AND seq > ? ORDER BY seq LIMIT ?`, campaign, after, exportPage)
		if err != nil {
			return fmt.Errorf("sqlite: export participants of %s: %w", campaign, convert(err))
		}
		var page []engine.Participant
		for rows.Next() {
			p, err := scanParticipant(scanExtra{rows, &after})
			if err != nil {
				rows.Close()
				return fmt.Errorf("sqlite: export participants of %s: %w", campaign, convert(err))
			}
			page = append(page, p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlite: export participants of %s: %w", campaign, convert(err))
		}
		for _, p := range page {
			if err := fn(p); err != nil {
				return err
			}
		}
		if len(page) < exportPage {
			return nil
		}
	}
}

// EachEntry calls fn with each entry of campaign, oldest first.
func (db *DB) EachEntry(ctx context.Context, campaign string, fn func(judge.Entry) error) error {
	var (
		afterAt  int64 = -1
		afterRow int64
	)
	for {
		rows, err := db.rq.QueryContext(ctx, `SELECT `+entryColumns+`, rowid FROM entries INDEXED BY entries_campaign_recent
			WHERE campaign = ? AND created_at >= ? AND (created_at > ? OR rowid > ?) ORDER BY created_at, rowid LIMIT ?`,
			campaign, afterAt, afterAt, afterRow, exportPage)
		if err != nil {
			return fmt.Errorf("sqlite: export entries of %s: %w", campaign, convert(err))
		}
		var page []judge.Entry
		for rows.Next() {
			e, err := scanEntry(scanExtra{rows, &afterRow})
			if err != nil {
				rows.Close()
				return fmt.Errorf("sqlite: export entries of %s: %w", campaign, convert(err))
			}
			afterAt = unixNano(e.CreatedAt)
			page = append(page, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlite: export entries of %s: %w", campaign, convert(err))
		}
		for _, e := range page {
			if err := fn(e); err != nil {
				return err
			}
		}
		if len(page) < exportPage {
			return nil
		}
	}
}

// EachScore calls fn with each score given in campaign, by entry, judge and criterion.
func (db *DB) EachScore(ctx context.Context, campaign string, fn func(reports.ScoreRow) error) error {
	var last reports.ScoreRow
	for {
		rows, err := db.rq.QueryContext(ctx, `SELECT entry_id, judge, criterion, score, at FROM scores
			WHERE campaign = ? AND (entry_id, judge, criterion) > (?, ?, ?) ORDER BY entry_id, judge, criterion LIMIT ?`,
			campaign, last.EntryID, last.Judge, last.Criterion, exportPage)
		if err != nil {
			return fmt.Errorf("sqlite: export scores of %s: %w", campaign, convert(err))
		}
		var page []reports.ScoreRow
		for rows.Next() {
			var (
				r  reports.ScoreRow
				at int64
			)
			if err := rows.Scan(&r.EntryID, &r.Judge, &r.Criterion, &r.Score, &at); err != nil {
				rows.Close()
				return fmt.Errorf("sqlite: export scores of %s: %w", campaign, convert(err))
			}
			r.At = fromUnixNano(at)
			page = append(page, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlite: export scores of %s: %w", campaign, convert(err))
		}
		for _, r := range page {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(page) < exportPage {
			return nil
		}
		last = page[len(page)-1]
	}
}

// ParticipantEntries lists a participant's entries, oldest first.
func (db *DB) ParticipantEntries(ctx context.Context, participantID string) ([]judge.Entry, error) {
	rows, err := db.rq.QueryContext(ctx, `SELECT `+entryColumns+` FROM entries WHERE participant_id = ?
		ORDER BY created_at, rowid`, participantID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: entries of %s: %w", participantID, convert(err))
	}
	defer rows.Close()
	var out []judge.Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: entries of %s: %w", participantID, convert(err))
		}
		out = append(out, e)
	}
	return out, convert(rows.Err())
}
