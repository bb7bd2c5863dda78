package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// The inbox search (reports.ConversationFilter.Search) keeps the conversations among the
// SearchWindow most recently active whose participant wrote, or was sent, a line containing
// the text. Reading those conversations' transcripts line by line cost a tenth of a second
// and more with a million lines stored; the trigram index lines_search (migration 0024) finds
// the lines containing a text at once. The index is filled here, off the message path: every
// indexEvery the lines written since are added, indexChunk to a write, so a message's commit
// never waits for more than one chunk. A search reads the lines not indexed yet directly.
const (
	indexEvery = 2 * time.Second
	indexChunk = 200
)

// Bounds of the indexed search. A text found in more than searchMatches lines is common, and
// the window's transcripts are read instead: the newest conversations then fill a page after
// a few lines. More than searchBacklog lines not indexed yet (just after an upgrade, the
// index being built) are read the same way.
var (
	searchMatches = 5000
	searchBacklog = 20000
)

// indexLoop adds new lines to the search index until the database closes.
func (db *DB) indexLoop() {
	defer close(db.indexDone)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-db.quit
		cancel()
	}()
	t := time.NewTicker(indexEvery)
	defer t.Stop()
	for {
		// An error (the database closing, a full disk) is tried again on the next tick: the
		// search reads the lines not indexed directly meanwhile.
		_ = db.IndexLines(ctx)
		select {
		case <-db.quit:
			return
		case <-t.C:
		}
	}
}

// IndexLines adds every line not in the search index yet to it, a chunk to a write. The store
// does so by itself every few seconds; the page benchmark calls it to measure the searches
// of a store whose lines are all indexed.
func (db *DB) IndexLines(ctx context.Context) error {
	for {
		n, err := db.indexLines(ctx, indexChunk)
		if err != nil || n < indexChunk {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// indexLines adds up to n lines after the last indexed one; it returns how many.
func (db *DB) indexLines(ctx context.Context, n int) (int, error) {
	var added int
	err := db.writeBulk(ctx, func(tx *wtx) error {
		added = 0
		var from int64
		if err := tx.QueryRowContext(ctx, `SELECT indexed FROM lines_search_state`).Scan(&from); err != nil {
			return err
		}
		var to sql.NullInt64
		var count int
		err := tx.QueryRowContext(ctx, `SELECT max(id), count(*) FROM (SELECT id FROM lines WHERE id > ? ORDER BY id LIMIT ?)`, from, n).Scan(&to, &count)
		if err != nil || !to.Valid {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO lines_search (rowid, text) SELECT id, text FROM lines WHERE id > ? AND id <= ?`, from, to.Int64); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE lines_search_state SET indexed = ?`, to.Int64); err != nil {
			return err
		}
		added = count
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: index lines for the search: %w", convert(err))
	}
	return added, nil
}

// searchSeqs returns the participants (by seq) with a line containing text, as a JSON array
// for json_each, from the search index and the lines not indexed yet. ok is false when the
// index cannot answer: a text shorter than a trigram, a common text, or too many lines not
// indexed; the caller reads the transcripts instead.
func (db *DB) searchSeqs(ctx context.Context, text string) (seqs string, ok bool, err error) {
	if utf8.RuneCountInString(text) < 3 {
		return "", false, nil
	}
	var indexed int64
	var newest sql.NullInt64
	if err := db.rq.QueryRowContext(ctx, `SELECT (SELECT indexed FROM lines_search_state), (SELECT max(id) FROM lines)`).Scan(&indexed, &newest); err != nil {
		return "", false, fmt.Errorf("sqlite: search: %w", convert(err))
	}
	if newest.Int64-indexed > int64(searchBacklog) {
		return "", false, nil
	}
	phrase := `"` + strings.ReplaceAll(text, `"`, `""`) + `"`
	// In the index's own order: read newest first, FTS5 walked its lists backwards at three
	// times the cost, and the order does not matter to a set of lines.
	rows, err := db.rq.QueryContext(ctx, `SELECT rowid FROM lines_search WHERE lines_search MATCH ? LIMIT ?`, phrase, searchMatches+1)
	if err != nil {
		return "", false, fmt.Errorf("sqlite: search: %w", convert(err))
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return "", false, fmt.Errorf("sqlite: search: %w", convert(err))
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return "", false, fmt.Errorf("sqlite: search: %w", convert(err))
	}
	if len(ids) > searchMatches {
		return "", false, nil
	}
	idList, err := json.Marshal(ids)
	if err != nil {
		return "", false, fmt.Errorf("sqlite: search: %w", err)
	}
	// The index folds case beyond ASCII, LIKE does not: each line found is checked with the
	// same LIKE the transcripts are read with, so both ways find the same.
	pat := likePattern(text)
	// The lines found, each by its key (CROSS JOIN keeps that order: with an IN, an OR or a
	// UNION of both queries SQLite read every line), and the lines after the index.
	found := []int64{}
	seen := map[int64]bool{}
	for _, q := range []struct {
		sql string
		arg any
	}{
		{`SELECT l.participant_seq FROM json_each(?) AS j CROSS JOIN lines AS l ON l.id = j.value WHERE l.text LIKE ? ESCAPE '\'`, string(idList)},
		{`SELECT participant_seq FROM lines WHERE id > ? AND text LIKE ? ESCAPE '\'`, indexed},
	} {
		rows, err := db.rq.QueryContext(ctx, q.sql, q.arg, pat)
		if err != nil {
			return "", false, fmt.Errorf("sqlite: search: %w", convert(err))
		}
		for rows.Next() {
			var seq int64
			if err := rows.Scan(&seq); err != nil {
				rows.Close()
				return "", false, fmt.Errorf("sqlite: search: %w", convert(err))
			}
			if !seen[seq] {
				seen[seq] = true
				found = append(found, seq)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return "", false, fmt.Errorf("sqlite: search: %w", convert(err))
		}
	}
	b, err := json.Marshal(found)
	if err != nil {
		return "", false, fmt.Errorf("sqlite: search: %w", err)
	}
	return string(b), true, nil
}
