package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLaunchCodesFile: `campaign launch` sends a pool's codes file with its definition, so a
// server that never saw the file hands out its codes.
func TestLaunchCodesFile(t *testing.T) {
	srv, _ := startServer(t, t.TempDir())
	src, err := os.ReadFile("../../campaigns/examples/hunt.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	def := filepath.Join(dir, "hunt.yaml")
	os.WriteFile(def, src, 0o600)
	os.WriteFile(filepath.Join(dir, "hunt-codes.txt"), []byte("# prizes\nP-1\nP-2\nP-3\n"), 0o600)
	code, out, errOut := runCLI(t, "launch", def, "--server", srv.URL(), "--token", srv.adminToken)
	if code != 0 || !strings.Contains(out, `campaign "hunt" version`) {
		t.Fatalf("launch: exit %d\n%s%s", code, out, errOut)
	}
	left, total, err := srv.engine.CodesLeft(t.Context(), "hunt", "prizes")
	if err != nil || left != 3 || total != 3 {
		t.Errorf("codes on the server: %d of %d left (%v), want 3 of 3", left, total, err)
	}
}

// TestLaunchSlowServer: a server that takes longer than --timeout to store a long codes file
// (a million vouchers) goes on with the launch after the command stopped waiting; the command
// says so instead of reporting a bare deadline.
func TestLaunchSlowServer(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	t.Cleanup(func() { close(release); slow.Close() })
	dir := t.TempDir()
	def := filepath.Join(dir, "hunt.yaml")
	src, err := os.ReadFile("../../campaigns/examples/hunt.yaml")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(def, src, 0o600)
	os.WriteFile(filepath.Join(dir, "hunt-codes.txt"), []byte("P-1\n"), 0o600)
	code, out, errOut := runCLI(t, "launch", def, "--server", slow.URL, "--token", strings.Repeat("t", 20), "--timeout", "50ms")
	want := "did not answer within 50ms; it may still finish the launch: see the campaign's page on the dashboard, or launch again (codes it has are not added twice)"
	if code != 1 || !strings.Contains(errOut, want) {
		t.Errorf("launch to a slow server: exit %d\n%s%s\nwant %q", code, out, errOut, want)
	}
}

// TestLaunchCodesFileSmallUploads: the largest codes file a definition may name can be
// launched whatever the upload limits for participants' media are (they bound the web chat's
// uploads, not the admin's launch).
func TestLaunchCodesFileSmallUploads(t *testing.T) {
	srv, _ := startServer(t, t.TempDir(), func(c *Config) { c.Uploads = Uploads{Photo: 1 << 20, Video: 1 << 20, Audio: 1 << 20} })
	src, err := os.ReadFile("../../campaigns/examples/hunt.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	def := filepath.Join(dir, "hunt.yaml")
	os.WriteFile(def, src, 0o600)
	var codes strings.Builder
	for i := range 60000 {
		fmt.Fprintf(&codes, "CITY-%06d-%052d\n", i, 0) // 3.9 MB, more than a webhook may be
	}
	os.WriteFile(filepath.Join(dir, "hunt-codes.txt"), []byte(codes.String()), 0o600)
	code, out, errOut := runCLI(t, "launch", def, "--server", srv.URL(), "--token", srv.adminToken)
	if code != 0 || !strings.Contains(out, `campaign "hunt" version`) {
		t.Fatalf("launch: exit %d\n%s%s", code, out, errOut)
	}
}
