package campaigns

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// MaxFileSize is the largest definition file accepted; a campaign is a page or two of YAML,
// so anything near this is a mistake, and refusing it early keeps the parser's memory bounded.
const MaxFileSize = 1 << 20

// Severity tells an error (the definition cannot run) from a warning (it runs, but probably
// not as meant).
type Severity int

// The severities.
const (
	Error Severity = iota
	Warning
)

// Problem is one thing wrong with a definition, at a position in its file.
type Problem struct {
	File     string
	Line     int
	Col      int
	Severity Severity
	Msg      string
}

// String formats the problem as file:line:col: message, the form editors and CI understand.
func (p Problem) String() string {
	msg := p.Msg
	if p.Severity == Warning {
		msg = "warning: " + msg
	}
	return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Col, msg)
}

// Problems is the list of problems found in one or more definitions.
type Problems []Problem

// Error joins the problems one per line, so Problems can be returned as an error.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// HasErrors reports whether any problem is an error rather than a warning.
func (ps Problems) HasErrors() bool {
	for _, p := range ps {
		if p.Severity == Error {
			return true
		}
	}
	return false
}

// LoadFile reads and compiles one definition file.
func LoadFile(path string) (*Definition, Problems) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, Problems{{File: path, Line: 1, Col: 1, Msg: fmt.Sprintf("cannot read: %v", err)}}
	}
	if info.Size() > MaxFileSize {
		return nil, Problems{{File: path, Line: 1, Col: 1, Msg: fmt.Sprintf("file is %d bytes; a definition may be at most %d", info.Size(), MaxFileSize)}}
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, Problems{{File: path, Line: 1, Col: 1, Msg: fmt.Sprintf("cannot read: %v", err)}}
	}
	return Parse(path, src)
}

// LoadPaths loads every definition named by paths: a file, or a folder whose *.yaml and *.yml
// files are loaded (not recursively). Campaign ids must be unique across all of them.
func LoadPaths(paths []string) ([]*Definition, Problems) {
	var files []string
	var probs Problems
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			probs = append(probs, Problem{File: p, Line: 1, Col: 1, Msg: fmt.Sprintf("cannot read: %v", err)})
			continue
		}
		if !info.IsDir() {
			files = append(files, p)
			continue
		}
		for _, pat := range []string{"*.yaml", "*.yml"} {
			m, _ := filepath.Glob(filepath.Join(p, pat))
			files = append(files, m...)
		}
	}
	sort.Strings(files)
	var defs []*Definition
	seen := map[string]string{}
	for _, f := range files {
		def, ps := LoadFile(f)
		probs = append(probs, ps...)
		if def == nil {
			continue
		}
		if other, ok := seen[def.ID]; ok {
			probs = append(probs, Problem{File: f, Line: 1, Col: 1, Msg: fmt.Sprintf("campaign id %q is already used by %s", def.ID, other)})
			continue
		}
		seen[def.ID] = f
		defs = append(defs, def)
	}
	return defs, probs
}

// Parse compiles a definition from its source. It returns a nil Definition when there is any
// error; warnings come with a usable Definition.
func Parse(file string, src []byte) (*Definition, Problems) {
	p := &parser{file: file}
	if len(src) > MaxFileSize {
		p.errf(nil, "file is %d bytes; a definition may be at most %d", len(src), MaxFileSize)
		return nil, p.probs
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		line, msg := yamlErrorLine(err)
		p.probs = append(p.probs, Problem{File: file, Line: line, Col: 1, Msg: msg})
		return nil, p.probs
	}
	if len(doc.Content) == 0 {
		p.errf(nil, "the file is empty; a definition needs at least id, start and states")
		return nil, p.probs
	}
	sum := sha256.Sum256(src)
	def := &Definition{File: file, Source: src, Version: hex.EncodeToString(sum[:8]), States: map[string]*State{}, Languages: []string{defaultLanguage}}
	p.definition(doc.Content[0], def)
	if p.probs.HasErrors() {
		return nil, p.probs
	}
	return def, p.probs
}

var yamlLineRe = regexp.MustCompile(`line (\d+): (.*)`)

// yamlErrorLine pulls the line out of a yaml.v3 syntax error, which has no structured form.
func yamlErrorLine(err error) (int, string) {
	m := yamlLineRe.FindStringSubmatch(err.Error())
	if m == nil {
		return 1, "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")
	}
	n, _ := strconv.Atoi(m[1])
	return n, "not valid YAML: " + m[2]
}

type parser struct {
	file  string
	probs Problems
}

func (p *parser) report(n *yaml.Node, sev Severity, format string, args ...any) {
	line, col := 1, 1
	if n != nil {
		line, col = n.Line, n.Column
	}
	p.probs = append(p.probs, Problem{File: p.file, Line: line, Col: col, Severity: sev, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) errf(n *yaml.Node, format string, args ...any) { p.report(n, Error, format, args...) }

// field is one key of a mapping with its value node.
type field struct {
	key, val *yaml.Node
}

// mapping checks that n is a mapping with only the allowed keys and returns its fields by
// name. Unknown keys are reported with the closest allowed key as a suggestion.
func (p *parser) mapping(n *yaml.Node, what string, allowed ...string) map[string]field {
	n = p.deref(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.errf(n, "%s must be a mapping of keys to values", what)
		return nil
	}
	out := map[string]field{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !contains(allowed, k.Value) {
			msg := fmt.Sprintf("unknown key %q in %s", k.Value, what)
			if s := suggest(k.Value, allowed); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			p.errf(k, "%s", msg)
			continue
		}
		if _, dup := out[k.Value]; dup {
			p.errf(k, "key %q appears twice in %s", k.Value, what)
			continue
		}
		out[k.Value] = field{k, v}
	}
	return out
}

// deref refuses aliases: definitions are small enough to write out, and refusing them closes
// the door on alias bombs.
func (p *parser) deref(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.AliasNode {
		p.errf(n, "aliases (*name) are not allowed in a definition; write the value out")
		return nil
	}
	return n
}

func (p *parser) str(f field, what string) string {
	n := p.deref(f.val)
	if n == nil {
		return ""
	}
	if n.Kind != yaml.ScalarNode {
		p.errf(n, "%s must be a text value", what)
		return ""
	}
	return n.Value
}

func (p *parser) boolean(f field, what string) bool {
	n := p.deref(f.val)
	if n == nil {
		return false
	}
	var b bool
	if n.Kind != yaml.ScalarNode || n.Decode(&b) != nil {
		p.errf(n, "%s must be true or false", what)
	}
	return b
}

func (p *parser) duration(f field, what string) time.Duration {
	s := p.str(f, what)
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		p.errf(f.val, "%s: %q is not a duration (write it like 800ms, 2s or 1h30m)", what, s)
		return 0
	}
	return d
}

// strList accepts a single text or a list of texts.
func (p *parser) strList(f field, what string) []string {
	n := p.deref(f.val)
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return []string{n.Value}
	case yaml.SequenceNode:
		var out []string
		for _, c := range n.Content {
			c = p.deref(c)
			if c == nil {
				continue
			}
			if c.Kind != yaml.ScalarNode {
				p.errf(c, "each item of %s must be a text value", what)
				continue
			}
			out = append(out, c.Value)
		}
		return out
	}
	p.errf(n, "%s must be a text value or a list of them", what)
	return nil
}

// defaultLanguage is the language of a definition that declares none.
const defaultLanguage = "en"

var idRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

func (p *parser) definition(root *yaml.Node, def *Definition) {
	fs := p.mapping(root, "the definition", "id", "title", "persona", "start", "fallback", "states")
	if fs == nil {
		return
	}
	for _, req := range []string{"id", "start", "states"} {
		if _, ok := fs[req]; !ok {
			p.errf(root, "missing required key %q", req)
		}
	}
	if f, ok := fs["id"]; ok {
		def.ID = p.str(f, "id")
		if !idRe.MatchString(def.ID) {
			p.errf(f.val, "id %q must be lower-case letters, digits, - and _ (it appears in URLs)", def.ID)
		}
	}
	if f, ok := fs["title"]; ok {
		def.Title = p.str(f, "title")
	}
	if def.Title == "" {
		def.Title = def.ID
	}
	if f, ok := fs["fallback"]; ok {
		def.Fallback = Text{defaultLanguage: p.str(f, "fallback")}
	}
	if f, ok := fs["persona"]; ok {
		p.persona(f.val, &def.Persona)
	}
	if f, ok := fs["states"]; ok {
		p.states(f.val, def)
	}
	if f, ok := fs["start"]; ok {
		def.Start = p.str(f, "start")
		if len(def.States) > 0 && def.States[def.Start] == nil {
			p.errf(f.val, "start state %q is not defined%s", def.Start, p.didYouMean(def.Start, def.Order))
		}
	}
	if !p.probs.HasErrors() {
		p.checkGraph(def, fs)
	}
}

func (p *parser) persona(n *yaml.Node, out *Persona) {
	fs := p.mapping(n, "persona", "name", "delay")
	if f, ok := fs["name"]; ok {
		out.Name = p.str(f, "persona name")
	}
	if f, ok := fs["delay"]; ok {
		ds := p.mapping(f.val, "persona delay", "min", "per_char", "max")
		if g, ok := ds["min"]; ok {
			out.DelayMin = p.duration(g, "delay min")
		}
		if g, ok := ds["per_char"]; ok {
			out.DelayPerChar = p.duration(g, "delay per_char")
		}
		if g, ok := ds["max"]; ok {
			out.DelayMax = p.duration(g, "delay max")
			if out.DelayMax < out.DelayMin {
				p.errf(g.val, "delay max (%s) is shorter than delay min (%s)", out.DelayMax, out.DelayMin)
			}
		}
	}
}

func (p *parser) states(n *yaml.Node, def *Definition) {
	n = p.deref(n)
	if n == nil {
		return
	}
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		p.errf(n, "states must be a mapping of state names to states, with at least one state")
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !idRe.MatchString(k.Value) {
			p.errf(k, "state name %q must be lower-case letters, digits, - and _", k.Value)
			continue
		}
		if def.States[k.Value] != nil {
			p.errf(k, "state %q is defined twice", k.Value)
			continue
		}
		st := &State{Name: k.Value}
		def.States[k.Value] = st
		def.Order = append(def.Order, k.Value)
		p.stateBody(v, st)
	}
	// Goto targets can only be checked once every state is known.
	for _, name := range def.Order {
		for _, t := range def.States[name].On {
			if t.Goto != "" && def.States[t.Goto] == nil {
				p.errf(t.gotoNode, "goto: state %q is not defined%s", t.Goto, p.didYouMean(t.Goto, def.Order))
			}
		}
	}
}

var transitionKeys = []string{"text", "regex", "media", "verdict", "collect", "issue_code", "say", "goto"}

func (p *parser) stateBody(n *yaml.Node, st *State) {
	what := fmt.Sprintf("state %q", st.Name)
	fs := p.mapping(n, what, "say", "final", "on")
	st.node = n
	if f, ok := fs["say"]; ok {
		st.Say = []Message{{Text: Text{defaultLanguage: p.str(f, "say")}}}
		st.node = f.val
	}
	if f, ok := fs["final"]; ok {
		st.Final = p.boolean(f, "final")
	}
	f, ok := fs["on"]
	if !ok {
		if !st.Final && fs != nil {
			p.errf(n, "state %q has no transitions (on:) and is not final: a participant would be stuck there", st.Name)
		}
		return
	}
	if st.Final {
		p.errf(f.key, "state %q is final, so it cannot have transitions", st.Name)
		return
	}
	list := p.deref(f.val)
	if list == nil {
		return
	}
	if list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
		p.errf(list, "on: must be a list of transitions")
		return
	}
	for i, item := range list.Content {
		t := p.transition(item, fmt.Sprintf("%s transition %d", what, i+1))
		t.Name = fmt.Sprintf("%s.%d", st.Name, i+1)
		st.On = append(st.On, t)
	}
}

func (p *parser) transition(n *yaml.Node, what string) *Transition {
	t := &Transition{}
	fs := p.mapping(n, what, transitionKeys...)
	if fs == nil {
		return t
	}
	var triggers []string
	for _, k := range []string{"text", "regex", "media", "verdict"} {
		if _, ok := fs[k]; ok {
			triggers = append(triggers, k)
		}
	}
	switch len(triggers) {
	case 0:
		p.errf(n, "%s needs a trigger: one of text, regex, media or verdict", what)
	case 1:
	default:
		p.errf(fs[triggers[1]].key, "%s has two triggers (%s and %s); use one transition for each", what, triggers[0], triggers[1])
	}
	if f, ok := fs["text"]; ok {
		t.Kind = OnText
		words := p.strList(f, "text")
		if len(words) == 1 && words[0] == "any" {
			t.AnyText = true
		} else {
			t.Keywords = words
		}
	}
	if f, ok := fs["regex"]; ok {
		t.Kind = OnText
		src := p.str(f, "regex")
		re, err := regexp.Compile(src)
		if err != nil {
			p.errf(f.val, "regex %q does not compile: %v", src, err)
		}
		t.Pattern = re
	}
	if f, ok := fs["media"]; ok {
		t.Kind = OnMedia
		for _, k := range p.strList(f, "media") {
			if k == "any" {
				t.Media = nil
				break
			}
			if !contains(MediaKinds, k) {
				p.errf(f.val, "unknown media kind %q; use one of %s%s", k, strings.Join(MediaKinds, ", "), p.didYouMean(k, MediaKinds))
				continue
			}
			t.Media = append(t.Media, k)
		}
	}
	if f, ok := fs["verdict"]; ok {
		t.Kind = OnVerdict
		t.Verdict = p.str(f, "verdict")
		verdicts := []string{VerdictApproved, VerdictRejected}
		if !contains(verdicts, t.Verdict) {
			p.errf(f.val, "unknown verdict %q; use approved or rejected%s", t.Verdict, p.didYouMean(t.Verdict, verdicts))
		}
	}
	if f, ok := fs["collect"]; ok {
		t.Collect = p.boolean(f, "collect")
		if t.Collect && t.Kind != OnMedia {
			p.errf(f.key, "collect: only a media transition has something to collect as an entry")
		}
	}
	if f, ok := fs["issue_code"]; ok {
		t.IssueCode = p.boolean(f, "issue_code")
	}
	if f, ok := fs["say"]; ok {
		t.Say = []Message{{Text: Text{defaultLanguage: p.str(f, "say")}}}
	}
	if f, ok := fs["goto"]; ok {
		t.Goto = p.str(f, "goto")
		t.gotoNode = f.val
	}
	return t
}

// checkGraph reports what only the whole state graph shows: states no participant can reach,
// and messages that use a variable nothing sets.
func (p *parser) checkGraph(def *Definition, fs map[string]field) {
	reached := map[string]bool{def.Start: true}
	queue := []string{def.Start}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, t := range def.States[s].On {
			if t.Goto == "" {
				continue
			}
			if !reached[t.Goto] {
				reached[t.Goto] = true
				queue = append(queue, t.Goto)
			}
		}
	}
	statesNode := fs["states"].val
	for i := 0; i+1 < len(statesNode.Content); i += 2 {
		name := statesNode.Content[i].Value
		if !reached[name] {
			p.report(statesNode.Content[i], Warning, "state %q cannot be reached from the start state %q", name, def.Start)
		}
	}
	issues := false
	for _, s := range def.States {
		for _, t := range s.On {
			issues = issues || t.IssueCode
		}
	}
	for _, name := range def.Order {
		st := def.States[name]
		var says []string
		for _, m := range st.Say {
			says = append(says, m.Text[defaultLanguage])
		}
		for _, v := range templateVars(strings.Join(says, " ")) {
			if v == "code" && !issues {
				p.errf(st.node, "state %q says {{code}}, but no transition has issue_code: true", name)
			} else if !contains(knownVars, v) {
				p.errf(st.node, "state %q uses {{%s}}, which is never set (known: %s)", name, v, strings.Join(knownVars, ", "))
			}
		}
	}
}

var knownVars = []string{"name", "code", "persona"}

var varRe = regexp.MustCompile(`\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}`)

func templateVars(s string) []string {
	var out []string
	for _, m := range varRe.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

// Render fills {{name}}-style variables from vars; unknown variables render empty, because a
// participant should never see template syntax.
func Render(s string, vars map[string]string) string {
	return varRe.ReplaceAllStringFunc(s, func(m string) string {
		return vars[varRe.FindStringSubmatch(m)[1]]
	})
}

func (p *parser) didYouMean(got string, options []string) string {
	if s := suggest(got, options); s != "" {
		return fmt.Sprintf("; did you mean %q?", s)
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// suggest returns the option closest to got by edit distance, if it is close enough to be a
// likely typo.
func suggest(got string, options []string) string {
	best, bestD := "", len(got)/2+2
	for _, o := range options {
		if d := editDistance(got, o); d < bestD {
			best, bestD = o, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
