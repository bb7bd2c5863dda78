package store_test

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestStoresDoNotImportTheWebFramework keeps persistence free of HTTP: a store, or the accounts
// package it stores, that pulled in Fiber (say, for a type of the dashboard's) would drag the
// web framework into every tool that only reads the database.
func TestStoresDoNotImportTheWebFramework(t *testing.T) {
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(gobin, "list", "-deps", "-test", "./...", "../accounts").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, banned := range []string{"github.com/gofiber/", "github.com/valyala/fasthttp", "github.com/chatcampaigns/campaign/dashboard"} {
			if strings.HasPrefix(pkg, banned) {
				t.Errorf("the stores depend on %s", pkg)
			}
		}
	}
}
