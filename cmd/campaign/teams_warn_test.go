package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/accounts"
	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/channels/whatsapp/graphtest"
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
	if _, err := accounts.AddUser(context.Background(), db, "amy", "a-long-password", accounts.RoleModerator, "appointments"); err != nil {
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

// TestServeWarnsSharedNumber: with WhatsApp on, campaign serve warns at start about two
// campaigns that could both answer a stranger on one number (here the fridge, without
// keywords, takes every first message on the number the news is joined on by keyword), with
// the positions of both; validate says the same.
func TestServeWarnsSharedNumber(t *testing.T) {
	graph := graphtest.New(t)
	var buf bytes.Buffer
	files := []string{"../../campaigns/examples/fridge.yaml", "../../campaigns/examples/news.yaml"}
	startServer(t, t.TempDir(), func(c *Config) {
		c.Campaigns = files
		c.WhatsApp = WhatsAppConfig{APIURL: graph.APIURL, AccessToken: graphtest.Token, AppSecret: waSecret,
			VerifyToken: "verify-me", PhoneNumberID: waNumber}
		c.Log = slog.New(slog.NewTextHandler(&buf, nil))
	})
	want := `../../campaigns/examples/news.yaml:14:8: warning: campaign \"news\" and campaign \"fridge\" (../../campaigns/examples/fridge.yaml:5:5) answer on one WhatsApp number and \"fridge\" has no entry keywords`
	if !strings.Contains(buf.String(), want) {
		t.Errorf("serve's log does not warn\n  %s\nlog:\n%s", want, buf.String())
	}
	var out, errOut bytes.Buffer
	validateCmd(files, &out, &errOut, time.Now)
	if !strings.Contains(out.String(), strings.ReplaceAll(want, `\"`, `"`)) {
		t.Errorf("validate does not warn:\n%s", out.String())
	}
	// Without WhatsApp no stranger comes by number: serve says nothing of it.
	buf.Reset()
	startServer(t, t.TempDir(), func(c *Config) {
		c.Campaigns = files
		c.Log = slog.New(slog.NewTextHandler(&buf, nil))
	})
	if strings.Contains(buf.String(), "WhatsApp number") {
		t.Errorf("serve without WhatsApp warns about numbers:\n%s", buf.String())
	}
}
