package campaigns_test

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/chatcampaigns/campaign/campaigns"
)

// docSnippet is one ```yaml block of a document, with the line its first YAML line is on.
type docSnippet struct {
	line int
	src  string
}

func yamlSnippets(t *testing.T, path string) []docSnippet {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		out []docSnippet
		cur *docSnippet
		n   int
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case cur == nil && (strings.TrimSpace(line) == "```yaml" || strings.TrimSpace(line) == "```yml"):
			cur = &docSnippet{line: n + 1}
		case cur != nil && strings.TrimSpace(line) == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.src += line + "\n"
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		t.Fatalf("%s:%d: a ```yaml block is never closed", path, cur.line)
	}
	return out
}

// TestDocSnippetsValidate checks every YAML example of the docs: a reader copies
// them into a file, so none may give a validation error. A snippet with an id is a whole
// definition and is checked as written; any other is a part (some top-level keys, states, a
// say, transitions) and is put into the smallest campaign around it, with a final state for
// every goto it names that it does not define, and the templates and pools it refers to.
// Warnings are allowed in a part, which on its own often declares what nothing else uses, but
// not in a whole definition.
func TestDocSnippetsValidate(t *testing.T) {
	for doc, least := range docsWithSnippets(t) {
		snippets := yamlSnippets(t, doc)
		if len(snippets) < least {
			t.Fatalf("found %d yaml snippets in %s, want at least %d; the extraction is broken", len(snippets), doc, least)
		}
		for _, s := range snippets {
			src, err := wrapSnippet(s.src)
			if err != nil {
				t.Errorf("%s:%d: %v\n%s", doc, s.line, err, s.src)
				continue
			}
			// The lines of the problems are those of the text as checked, shown below them.
			// A whole definition is what a reader copies to start from: not even a warning.
			_, probs := campaigns.Parse("snippet", src)
			if probs.HasErrors() || len(probs) > 0 && whole(s.src) {
				t.Errorf("%s:%d: the example does not validate:\n%s\nas checked:\n%s", doc, s.line, probs.Error(), src)
			}
		}
	}
}

// docsWithSnippets lists every document a reader may copy YAML from (the README and all of
// docs/), each with the fewest yaml blocks it is known to have, so a broken extraction fails.
func docsWithSnippets(t *testing.T) map[string]int {
	t.Helper()
	docs := map[string]int{"../README.md": 0}
	files, err := filepath.Glob("../docs/*.md")
	if err != nil || len(files) == 0 {
		t.Fatalf("no docs found: %v", err)
	}
	for _, f := range files {
		docs[f] = 0
	}
	docs["../docs/definitions.md"] = 15
	docs["../docs/whatsapp.md"] = 1
	return docs
}

// TestDocVariablesExist: a {{variable}} the docs write outside a yaml block (in prose, a
// table, a shell line) is one the language has: listed in the table of variables of
// docs/definitions.md, or used by a yaml block of the same document (which validates, so it
// is set there). A reader who copies `{{first_name}}` from a sentence must not meet an error.
func TestDocVariablesExist(t *testing.T) {
	defs, err := os.ReadFile("../docs/definitions.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(defs), "### Variables")
	if !ok {
		t.Fatal(`docs/definitions.md has no "### Variables" section`)
	}
	table, _, _ = strings.Cut(table, "\n## ")
	listed := map[string]bool{"variable": true} // "Texts may use {{variable}}"
	// A row's first cell may name several: `{{lat}}`, `{{lng}}`.
	cellVar := regexp.MustCompile("`\\{\\{([a-z_]+)\\}\\}`")
	for _, line := range strings.Split(table, "\n") {
		if cells := strings.Split(line, "|"); len(cells) > 2 && cells[0] == "" {
			for _, m := range cellVar.FindAllStringSubmatch(cells[1], -1) {
				listed[m[1]] = true
			}
		}
	}
	if len(listed) < 6 {
		t.Fatalf("found %d variables in the table; the extraction is broken", len(listed))
	}
	varRe := regexp.MustCompile(`\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}`)
	for doc := range docsWithSnippets(t) {
		src, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		inSnippets := map[string]bool{}
		for _, sn := range yamlSnippets(t, doc) {
			for _, m := range varRe.FindAllStringSubmatch(sn.src, -1) {
				inSnippets[m[1]] = true
			}
		}
		inYAML := false
		for i, line := range strings.Split(string(src), "\n") {
			switch strings.TrimSpace(line) {
			case "```yaml", "```yml":
				inYAML = true
				continue
			case "```":
				inYAML = false
				continue
			}
			if inYAML {
				continue
			}
			for _, m := range varRe.FindAllStringSubmatch(line, -1) {
				if !listed[m[1]] && !inSnippets[m[1]] {
					t.Errorf("%s:%d: {{%s}} is no variable of the language (not in the table of docs/definitions.md \"Variables\", nor in a yaml example of the page)", doc, i+1, m[1])
				}
			}
		}
	}
}

// whole reports whether a snippet is a whole definition (it has an id).
func whole(src string) bool {
	var doc yaml.Node
	if yaml.Unmarshal([]byte(src), &doc) != nil || len(doc.Content) == 0 {
		return false
	}
	return doc.Content[0].Kind == yaml.MappingNode && mapGet(doc.Content[0], "id") != nil
}

func wrapSnippet(src string) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		return nil, fmt.Errorf("not YAML: %w", err)
	}
	root := doc.Content[0]
	if root.Kind == yaml.MappingNode && mapGet(root, "id") != nil {
		return []byte(src), nil
	}
	top := map[string]any{}
	states := map[string]any{}
	start := ""
	var generic any
	if err := root.Decode(&generic); err != nil {
		return nil, err
	}
	switch g := generic.(type) {
	case []any: // transitions
		states["s"] = map[string]any{"on": g}
		start = "s"
	case map[string]any:
		for k, v := range g {
			switch k {
			case "states":
				for name, st := range v.(map[string]any) {
					states[name] = st
				}
				start = mapKeys(root, "states")[0]
			case "say":
				states["s"] = map[string]any{"say": v, "on": []any{map[string]any{"text": "any"}}}
				start = "s"
			case "on":
				states["s"] = map[string]any{"on": v}
				start = "s"
			default:
				top[k] = v
			}
		}
	default:
		return nil, fmt.Errorf("a snippet must be a mapping or a list, not %T", generic)
	}
	if start == "" {
		start = "s"
		states["s"] = map[string]any{"say": "Hello.", "on": []any{map[string]any{"text": "any"}}}
	}
	// What the part refers to and does not declare.
	refs := map[string][]string{}
	collectRefs(generic, refs)
	for _, name := range refs["goto"] {
		if _, ok := states[name]; !ok {
			states[name] = map[string]any{"say": "Stub.", "final": true}
		}
	}
	for _, name := range refs["full"] {
		if _, ok := states[name]; !ok {
			states[name] = map[string]any{"say": "Stub.", "final": true}
		}
	}
	if len(refs["template"]) > 0 {
		tm, _ := top["templates"].(map[string]any)
		if tm == nil {
			tm = map[string]any{}
		}
		for _, name := range refs["template"] {
			if _, ok := tm[name]; !ok {
				tm[name] = map[string]any{"name": name}
			}
		}
		top["templates"] = tm
	}
	if len(refs["take"]) > 0 && top["pools"] == nil {
		pools := map[string]any{}
		for _, name := range refs["take"] {
			pools[name] = map[string]any{"capacity": 1}
		}
		top["pools"] = pools
	}
	top["id"] = "snippet"
	top["start"] = start
	top["states"] = states
	return yaml.Marshal(top)
}

func collectRefs(v any, refs map[string][]string) {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			switch k {
			case "goto", "full", "template", "take":
				if s, ok := v[k].(string); ok {
					refs[k] = append(refs[k], s)
				}
			}
			collectRefs(v[k], refs)
		}
	case []any:
		for _, x := range v {
			collectRefs(x, refs)
		}
	}
}

func mapGet(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// mapKeys lists the keys of the mapping under key, in the order written.
func mapKeys(n *yaml.Node, key string) []string {
	m := mapGet(n, key)
	var keys []string
	for i := 0; m != nil && i+1 < len(m.Content); i += 2 {
		keys = append(keys, m.Content[i].Value)
	}
	return keys
}

// TestEveryMessageIsDocumented: docs/definitions.md lists every message validate can give.
// Each p.errf and p.warnf format of the package must appear there, at least its longest
// literal part (the docs write "…" where the format has a verb).
func TestEveryMessageIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/definitions.md")
	if err != nil {
		t.Fatal(err)
	}
	// A bar inside a table cell is written \| in Markdown.
	doc = []byte(strings.ReplaceAll(string(doc), `\|`, "|"))
	files, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	verb := regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]`)
	n := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(node ast.Node) bool {
			call, ok := node.(*ast.CallExpr)
			if !ok || len(call.Args) < 2 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "errf" && sel.Sel.Name != "warnf" {
				return true
			}
			lit, ok := call.Args[1].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			format, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatal(err)
			}
			n++
			longest := ""
			for _, part := range verb.Split(format, -1) {
				if part = strings.TrimSpace(part); len(part) > len(longest) {
					longest = part
				}
			}
			if len(longest) >= 10 && !strings.Contains(string(doc), longest) {
				t.Errorf("%s: message %q is not in docs/definitions.md (looked for %q)", fset.Position(call.Pos()), format, longest)
			}
			return true
		})
	}
	if n < 100 {
		t.Fatalf("found %d messages; the search is broken", n)
	}
}
