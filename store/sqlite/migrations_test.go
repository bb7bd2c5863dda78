package sqlite

import (
	"database/sql"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chatcampaigns/campaign/reports"
)

// TestMigrationNumbersUnique: migrate skips a file whose number it has reached, so two files
// with one number (two branches each adding "the next" migration) would leave one unapplied
// without a word.
func TestMigrationNumbersUnique(t *testing.T) {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, name := range names {
		num, _, _ := strings.Cut(strings.TrimPrefix(name, "migrations/"), "_")
		if other, ok := seen[num]; ok {
			t.Errorf("migrations %s and %s share the number %s: renumber one", other, name, num)
		}
		seen[num] = name
	}
}

// TestHandoffColumnFilledFromVars: a file from before migration 0025 kept the hand-off team
// only in vars; after it, the conversations waiting for a human are found by the column.
func TestHandoffColumnFilledFromVars(t *testing.T) {
	ctx := t.Context()
	db := migratedFrom(t, 24, func(old *sql.DB) {
		for i, vars := range []string{`{"handoff":"chefs","name":"Ann"}`, `{"name":"Bob"}`, `{"handoff":""}`} {
			_, err := old.ExecContext(ctx, `INSERT INTO participants (id, campaign, channel, address, state, vars,
			version, def_version, created_at, updated_at, seq) VALUES (?, 'c', 'webchat', ?, 'start', ?, 1, '1', 1, ?, ?)`,
				fmt.Sprint("p", i), fmt.Sprint(i), vars, i+1, i+1)
			if err != nil {
				t.Fatal(err)
			}
		}
	})
	got, err := db.Conversations(ctx, reports.ConversationFilter{Waiting: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Participant.ID != "p0" {
		t.Fatalf("waiting after the migration: %+v, want p0 alone", got)
	}
}

// TestRoundColumnFilledFromVars: a file from before migration 0026 kept the race's round only
// in vars; after it, the funnel per round counts the round column.
func TestRoundColumnFilledFromVars(t *testing.T) {
	ctx := t.Context()
	db := migratedFrom(t, 25, func(old *sql.DB) {
		for i, p := range []struct {
			vars     string
			finished int
		}{{`{"round":"harbour","name":"Ann"}`, 0}, {`{"round":"harbour"}`, 1}, {`{"round":"rooftop"}`, 0}, {`{"name":"Bob"}`, 0}, {`{"round":""}`, 1}} {
			_, err := old.ExecContext(ctx, `INSERT INTO participants (id, campaign, channel, address, state, vars,
			version, def_version, finished, created_at, updated_at, seq) VALUES (?, 'c', 'webchat', ?, 'start', ?, 1, '1', ?, 1, ?, ?)`,
				fmt.Sprint("p", i), fmt.Sprint(i), p.vars, p.finished, i+1, i+1)
			if err != nil {
				t.Fatal(err)
			}
		}
	})
	got, err := db.RoundCounts(ctx, "c", []string{"rooftop", "harbour"})
	if err != nil {
		t.Fatal(err)
	}
	want := []reports.RoundCount{{Round: "rooftop", Playing: 1}, {Round: "harbour", Playing: 1, Out: 1}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("round counts after the migration: %+v, want %+v", got, want)
	}
}

// TestParticipantIndexesReadNoVars: every step rewrites the participant's row, and an index on
// participants whose key or condition is an expression over vars makes SQLite parse the JSON
// of the old and the new row each time (0025, 0026): what an index needs of vars is a column
// of its own, written with the participant.
func TestParticipantIndexesReadNoVars(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "indexes.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.r.QueryContext(t.Context(), `SELECT name, sql FROM sqlite_master
		WHERE type = 'index' AND tbl_name = 'participants' AND sql IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var name, q string
		if err := rows.Scan(&name, &q); err != nil {
			t.Fatal(err)
		}
		n++
		if strings.Contains(q, "vars") {
			t.Errorf("index %s reads vars: %s", name, oneLine(q))
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no index on participants seen")
	}
}

// migratedFrom makes a file at schema version, lets fill write to it as a server of that
// version would have, and opens it, which runs the migrations after version.
func migratedFrom(t *testing.T, version int, fill func(old *sql.DB)) *DB {
	t.Helper()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	if err := migrateTo(ctx, old, version); err != nil {
		t.Fatal(err)
	}
	fill(old)
	old.Close()
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestUndeliveredAfterMigration: a file from before migration 0028 lists, after it, the same
// undelivered replies (failed, cancelled, reported failed), newest first, from the partial
// index that replaced outbox_campaign; sent and pending ones are not in it.
func TestUndeliveredAfterMigration(t *testing.T) {
	ctx := t.Context()
	db := migratedFrom(t, 27, func(old *sql.DB) {
		for i, r := range []struct{ status, delivery string }{
			{"sent", "delivered"}, {"failed", ""}, {"pending", ""}, {"sent", "failed"}, {"cancelled", ""}, {"sent", ""},
		} {
			_, err := old.ExecContext(ctx, `INSERT INTO outbox (campaign, channel, recipient, text, due_at, status, delivery)
				VALUES ('c', 'webchat', 'ann', ?, 1, ?, ?)`, fmt.Sprint("r", i), r.status, r.delivery)
			if err != nil {
				t.Fatal(err)
			}
		}
	})
	got, err := db.Undelivered(ctx, "c", 10)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, o := range got {
		texts = append(texts, o.Text)
	}
	if want := "[r4 r3 r1]"; fmt.Sprint(texts) != want {
		t.Fatalf("undelivered after the migration: %v, want %s", texts, want)
	}
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = 'outbox_campaign'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("outbox_campaign still there (%d, %v)", n, err)
	}
}
