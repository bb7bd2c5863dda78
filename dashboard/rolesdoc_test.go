package dashboard_test

import (
	"flag"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/chatcampaigns/campaign/accounts"
	"github.com/chatcampaigns/campaign/dashboard"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite the role matrix in docs/dashboard.md")

const (
	matrixStart = "<!-- role matrix: written by `go test ./dashboard -run TestRoleMatrixDocumented -update-docs` -->\n"
	matrixEnd   = "<!-- end of the role matrix -->\n"
)

// roleMatrixMarkdown renders the role matrix as the docs show it: each action, who may, and
// the routes that take it.
func roleMatrixMarkdown() string {
	var b strings.Builder
	b.WriteString("| What | " + strings.Join(accounts.Roles, " | ") + " | Routes |\n")
	b.WriteString("|---|" + strings.Repeat("---|", len(accounts.Roles)) + "---|\n")
	rules := dashboard.RouteRules()
	for _, r := range accounts.Matrix() {
		b.WriteString("| " + string(r.Action) + " |")
		for _, role := range accounts.Roles {
			if slices.Contains(r.Roles, role) {
				b.WriteString(" yes |")
			} else {
				b.WriteString(" no |")
			}
		}
		var routes []string
		for _, rr := range rules {
			if rr.Action == r.Action {
				routes = append(routes, "`"+rr.Method+" "+strings.TrimPrefix(rr.Path, "/dashboard")+"`")
			}
		}
		b.WriteString(" " + strings.Join(routes, ", ") + " |\n")
	}
	return b.String()
}

// TestRoleMatrixDocumented: docs/dashboard.md shows the role matrix the code enforces.
func TestRoleMatrixDocumented(t *testing.T) {
	const path = "../docs/dashboard.md"
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	before, rest, ok := strings.Cut(string(doc), matrixStart)
	current, after, ok2 := strings.Cut(rest, matrixEnd)
	if !ok || !ok2 {
		t.Fatalf("%s has no role matrix between %q and %q", path, matrixStart, matrixEnd)
	}
	want := roleMatrixMarkdown()
	if current == want {
		return
	}
	if *updateDocs {
		if err := os.WriteFile(path, []byte(before+matrixStart+want+matrixEnd+after), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("the role matrix in %s is not the one the code enforces; run go test ./dashboard -run TestRoleMatrixDocumented -update-docs. Want:\n%s", path, want)
}
