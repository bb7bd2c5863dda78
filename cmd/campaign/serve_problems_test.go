package main

import (
	"bytes"
	"context"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeRefusesWithItsErrors: a start refused for a definition's error says the errors
// under "have errors", not the warnings too; those were logged as warnings, and the errors as
// errors.
func TestServeRefusesWithItsErrors(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"a.yaml": "id: a\nstart: s\nstates:\n  s:\n    say: hi\n    on:\n      - text: any\n        goto: t\n  t:\n    say: bye\n    final: true\n  lost:\n    say: never\n    final: true\n",
		"b.yaml": "id: b\nstart: s\nstates:\n  s:\n    say: hi\n    on:\n      - text: any\n        goto: nowhere\n",
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var log bytes.Buffer
	_, err := newServer(context.Background(), Config{Addr: "127.0.0.1:0", Data: t.TempDir(), Campaigns: []string{dir},
		Now: func() time.Time { return time.Date(2026, 11, 25, 21, 0, 0, 0, time.UTC) }, Rand: rand.New(rand.NewPCG(7, 7)),
		Log: slog.New(slog.NewTextHandler(&log, nil))})
	if err == nil {
		t.Fatal("started with a definition error")
	}
	if !strings.Contains(err.Error(), `goto: state "nowhere" is not defined`) || strings.Contains(err.Error(), "cannot be reached") {
		t.Errorf("refusal = %q, want the error and not the warning", err)
	}
	var warned, erred bool
	for _, line := range strings.Split(log.String(), "\n") {
		warned = warned || strings.Contains(line, "level=WARN") && strings.Contains(line, "cannot be reached")
		erred = erred || strings.Contains(line, "level=ERROR") && strings.Contains(line, "nowhere")
	}
	if !warned || !erred {
		t.Errorf("log: the warning as WARN %v, the error as ERROR %v:\n%s", warned, erred, log.String())
	}
}

// TestServeRefusesASecondServerOnOneDatabase: the embedded store is one process's (it routes
// from memory and leases no replies), so a second server on the same data folder refuses to
// start, saying why, and the first keeps running; once the first stopped, the folder is free.
func TestServeRefusesASecondServerOnOneDatabase(t *testing.T) {
	data := t.TempDir()
	first, _ := startServer(t, data)
	cfg := Config{Addr: "127.0.0.1:0", Data: data, Campaigns: []string{"../../campaigns/examples/bouncer.yaml"}}
	second, err := newServer(t.Context(), cfg)
	if err == nil {
		second.Close()
		t.Fatal("a second server started on the data folder of a running one")
	}
	for _, want := range []string{"the data folder " + data + " is in use by another campaign serve", "CAMPAIGN_MONGODB_URI"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := newServer(t.Context(), cfg)
	if err != nil {
		t.Fatalf("after the first stopped: %v", err)
	}
	again.Close()
}
