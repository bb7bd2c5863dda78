package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/draw"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/judge"
	"github.com/chatcampaigns/campaign/store/sqlite"
)

// mustApprovedEntries stores participants of campaign with entries and approves some: each
// of ids gets an approved entry, the first one two.
func mustApprovedEntries(t *testing.T, data, campaign string, ids ...string) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(data, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	at := time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)
	n := 0
	add := func(pid string, approve bool) {
		n++
		e := engine.Entry{ID: fmt.Sprintf("%s-%d", pid, n), Campaign: campaign, ParticipantID: pid, State: "entered", Kind: "photo", CreatedAt: at}
		step := engine.Step{Entries: []engine.Entry{e}, Participant: engine.Participant{ID: pid, Campaign: campaign, Channel: "webchat",
			Address: pid, State: "entered", Vars: map[string]string{}, Version: int64(n), CreatedAt: at, UpdatedAt: at}}
		if p, err := db.Participant(ctx, pid); err == nil {
			step.Participant, step.PrevVersion = p, p.Version
			step.Participant.Version++
		} else {
			step.Created = true
		}
		if err := db.Commit(ctx, step); err != nil {
			t.Fatal(err)
		}
		if approve {
			if err := db.Decide(ctx, judge.Decision{EntryID: e.ID, Verdict: judge.StatusApproved, By: "ann", At: at},
				engine.Inbound{Channel: "judge", PlatformID: "verdict:" + e.ID, Campaign: campaign, ParticipantID: pid,
					Kind: engine.KindVerdict, Verdict: judge.StatusApproved, EntryID: e.ID, At: at}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i, id := range ids {
		add(id, true)
		if i == 0 {
			add(id, true)
		}
	}
	add("pending-only", false)
}

// TestDrawCommands: commit, close and show on the data folder; verify on the published file
// alone, which fails once the file is tampered with; every step is in the audit trail.
func TestDrawCommands(t *testing.T) {
	data := t.TempDir()
	mustApprovedEntries(t, data, "photocontest", "p-carol", "p-ann", "p-bob", "p-dave")
	commitFile, resultFile := filepath.Join(t.TempDir(), "commit.json"), filepath.Join(t.TempDir(), "result.json")

	code, out, errOut := runCLI(t, "draw", "commit", "--campaign", "photocontest", "--name", "kits", "--winners", "2", "--out", commitFile, "--data", data)
	if code != 0 {
		t.Fatalf("commit: %d %s %s", code, out, errOut)
	}
	want := []string{"p-ann", "p-bob", "p-carol", "p-dave"}
	for _, s := range []string{"2 winners among 4 participants", "eligible_sha256  " + draw.ListHash(want), draw.AlgorithmV1} {
		if !strings.Contains(out, s) {
			t.Errorf("commit printed %q, want %q", out, s)
		}
	}
	if code, out, _ := runCLI(t, "draw", "verify", commitFile); code != 1 || strings.Contains(out, "verifies") {
		t.Errorf("verify of a commitment: %d %s, want 1", code, out)
	}
	if code, _, errOut := runCLI(t, "draw", "commit", "--campaign", "photocontest", "--name", "kits", "--winners", "1", "--data", data); code != 1 || !strings.Contains(errOut, "already") {
		t.Errorf("second commit of one name: %d %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "draw", "commit", "--campaign", "bouncer", "--name", "kits", "--winners", "1", "--data", data); code != 1 || !strings.Contains(errOut, "nobody in campaign bouncer") {
		t.Errorf("commit with nobody eligible: %d %s", code, errOut)
	}

	if code, out, errOut := runCLI(t, "draw", "close", "--campaign", "photocontest", "--name", "kits", "--out", resultFile, "--data", data); code != 0 || !strings.Contains(out, "winner 2") {
		t.Fatalf("close: %d %s %s", code, out, errOut)
	}
	if code, _, errOut := runCLI(t, "draw", "close", "--campaign", "photocontest", "--name", "kits", "--data", data); code != 1 || !strings.Contains(errOut, "closed already") {
		t.Errorf("second close: %d %s", code, errOut)
	}
	code, out, errOut = runCLI(t, "draw", "verify", resultFile)
	if code != 0 || !strings.Contains(out, "verifies") {
		t.Fatalf("verify: %d %s %s", code, out, errOut)
	}
	if code, out, _ := runCLI(t, "draw", "show", "--campaign", "photocontest", "--data", data); code != 0 || !strings.Contains(out, "kits") {
		t.Errorf("show: %d %s", code, out)
	}

	// Tampering: another seed, a list with someone taken out.
	b, _ := os.ReadFile(resultFile)
	var p map[string]any
	json.Unmarshal(b, &p)
	p["seed"] = strings.Repeat("ab", 32)
	tampered := filepath.Join(t.TempDir(), "tampered.json")
	b, _ = json.Marshal(p)
	os.WriteFile(tampered, b, 0o644)
	if code, out, errOut := runCLI(t, "draw", "verify", tampered); code != 1 || !strings.Contains(out, "FAIL the seed hashes to seed_sha256") || !strings.Contains(errOut, "does not verify") {
		t.Errorf("tampered seed: %d\n%s%s", code, out, errOut)
	}
	list := filepath.Join(t.TempDir(), "list.txt")
	os.WriteFile(list, []byte(draw.ListText(want[1:])), 0o644)
	if code, out, _ := runCLI(t, "draw", "verify", resultFile, "--list", list); code != 1 || !strings.Contains(out, "FAIL the eligible list hashes") {
		t.Errorf("shorter list: %d\n%s", code, out)
	}
	os.WriteFile(list, []byte(draw.ListText(want)), 0o644)
	if code, out, _ := runCLI(t, "draw", "verify", resultFile, "--list", list); code != 0 {
		t.Errorf("the published list: %d\n%s", code, out)
	}

	// The trail has the draw, by the command line.
	code, out, errOut = runCLI(t, "audit", "export", "--campaign", "photocontest", "--data", data)
	if code != 0 {
		t.Fatalf("audit export: %d %s", code, errOut)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows[1:] {
		got = append(got, r[2]+" "+r[3]+" "+r[7])
	}
	if w := []string{"cli draw.commit kits", "cli draw.close kits", "cli export audit"}; strings.Join(got, "|") != strings.Join(w, "|") {
		t.Errorf("trail = %q, want %q", got, w)
	}
}

// TestVerifyGoldenDraw: the known vector of package draw verifies from the command line, with
// no data folder anywhere.
func TestVerifyGoldenDraw(t *testing.T) {
	golden, err := filepath.Abs(filepath.Join("..", "..", "draw", "testdata", "v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	if code, out, errOut := runCLI(t, "draw", "verify", golden); code != 0 || !strings.Contains(out, "frank, niaj, erin") {
		t.Fatalf("verify golden: %d %s %s", code, out, errOut)
	}
	if _, err := os.Stat("data"); err == nil {
		t.Error("verify made a data folder")
	}
}
