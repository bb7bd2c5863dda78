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
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	if err := migrateTo(ctx, old, 24); err != nil {
		t.Fatal(err)
	}
	for i, vars := range []string{`{"handoff":"chefs","name":"Ann"}`, `{"name":"Bob"}`, `{"handoff":""}`} {
		_, err := old.ExecContext(ctx, `INSERT INTO participants (id, campaign, channel, address, state, vars,
			version, def_version, created_at, updated_at, seq) VALUES (?, 'c', 'webchat', ?, 'start', ?, 1, '1', 1, ?, ?)`,
			fmt.Sprint("p", i), fmt.Sprint(i), vars, i+1, i+1)
		if err != nil {
			t.Fatal(err)
		}
	}
	old.Close()
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.Conversations(ctx, reports.ConversationFilter{Waiting: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Participant.ID != "p0" {
		t.Fatalf("waiting after the migration: %+v, want p0 alone", got)
	}
}
