package audit_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/audit"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/store/sqlite"
)

var t0 = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)

func mustLog(t *testing.T) (*audit.Log, *sqlite.DB) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &audit.Log{Store: db, Now: func() time.Time { return t0 }}, db
}

func TestRecordChecksAndStamps(t *testing.T) {
	l, db := mustLog(t)
	for _, bad := range []audit.Event{
		{Action: audit.Verdict},
		{Actor: "ann"},
		{Actor: "ann", Action: audit.Verdict, Detail: strings.Repeat("x", 2001)},
	} {
		if err := l.Record(t.Context(), bad); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("Record(%+v) = %v, want ErrInvalid", bad, err)
		}
	}
	at := t0.Add(-time.Hour).In(time.FixedZone("CET", 3600))
	if err := l.Record(t.Context(), audit.Event{Actor: "ann", Action: audit.Verdict}); err != nil {
		t.Fatal(err)
	}
	if err := l.Record(t.Context(), audit.Event{Actor: "ann", Action: audit.Score, At: at}); err != nil {
		t.Fatal(err)
	}
	es, err := db.AuditEvents(t.Context(), audit.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || !es[0].At.Equal(t0) || !es[1].At.Equal(at) || es[1].At.Location() != time.UTC {
		t.Fatalf("events = %+v: want the clock's time, and a given time kept, in UTC", es)
	}
	if err := audit.Record(t.Context(), nil, audit.Event{}); err != nil {
		t.Errorf("Record on no recorder: %v", err)
	}
}

// TestWriteCSV: the export has a header, one row per event in order, page by page, and
// a cell that a spreadsheet would run as a formula is written as text.
func TestWriteCSV(t *testing.T) {
	l, db := mustLog(t)
	details := []string{"approved", "=HYPERLINK(\"http://evil\")", "+1", "-2", "@me", "a, \"quoted\"\nline"}
	for _, d := range details {
		if err := l.Record(t.Context(), audit.Event{Actor: "ann", Action: audit.Verdict, Campaign: "bouncer", Detail: d}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Record(t.Context(), audit.Event{Actor: "cli", Action: audit.UserAdd, Subject: "bob"}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := audit.WriteCSV(t.Context(), &buf, db, audit.Query{Campaign: "bouncer", Limit: 4}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != strings.Join(audit.CSVHeader, ",") {
		t.Errorf("header = %v", rows[0])
	}
	want := []string{"approved", "'=HYPERLINK(\"http://evil\")", "'+1", "'-2", "'@me", "a, \"quoted\"\nline"}
	if len(rows) != len(want)+1 {
		t.Fatalf("%d rows, want %d (the other campaign's event left out, pages joined)", len(rows), len(want)+1)
	}
	for i, w := range want {
		if rows[i+1][8] != w || rows[i+1][1] != "2026-05-01T09:00:00Z" {
			t.Errorf("row %d = %v, want detail %q at the clock's time", i+1, rows[i+1], w)
		}
	}
}
