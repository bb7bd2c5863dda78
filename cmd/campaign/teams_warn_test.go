package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/dashboard"
	"github.com/chatcampaigns/campaign/store/sqlite"
)

// TestWarnEmptyTeams: at start the server warns, with the file:line:col of the handoff, about
// every team a campaign hands off to that no user is in: nobody would see that queue.
func TestWarnEmptyTeams(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "desk.yaml")
	src := `id: desk
start: menu
states:
  menu:
    say: Billing or appointments?
    on:
      - text: billing
        goto: billing
      - text: appointments
        goto: appointments
  billing:
    handoff: billing
    on:
      - handback: true
        goto: menu
  appointments:
    handoff: appointments
    on:
      - handback: true
        goto: menu
`
	if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	def, probs := campaigns.LoadFile(file)
	if probs.HasErrors() {
		t.Fatal(probs)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "campaign.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := dashboard.AddUser(context.Background(), db, "amy", "a-long-password", dashboard.RoleModerator, "appointments"); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	warnEmptyTeams(context.Background(), db, []*campaigns.Definition{def}, slog.New(slog.NewTextHandler(&buf, nil)))
	out := buf.String()
	if strings.Count(out, "level=WARN") != 1 || !strings.Contains(out, `team=billing`) ||
		!strings.Contains(out, file+":12:14") || !strings.Contains(out, "campaign user add --name NAME --team billing") {
		t.Errorf("warnings:\n%s", out)
	}
}
