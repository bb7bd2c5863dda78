package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chatcampaigns/campaign/audit"
)

// TestAuditRefusesChangesFromOutside: the trail is append-only in the file too: an UPDATE or
// DELETE written by hand (sqlite3 on the data folder) is refused by the schema's triggers.
func TestAuditRefusesChangesFromOutside(t *testing.T) {
	path := filepath.Join(t.TempDir(), "campaign.db")
	db := MustOpen(t, path)
	if _, err := db.AppendAudit(t.Context(), audit.Event{At: t0, Actor: "ann", Action: audit.Verdict, Detail: "approved"}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, q := range []string{`UPDATE audit SET detail = 'rejected'`, `DELETE FROM audit`} {
		_, err := raw.Exec(q)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want the append-only refusal", q, err)
		}
	}
	var detail string
	if err := raw.QueryRow(`SELECT detail FROM audit`).Scan(&detail); err != nil || detail != "approved" {
		t.Fatalf("after the attempts: detail %q, %v", detail, err)
	}
}
