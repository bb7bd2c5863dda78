package campaigns

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "time/tzdata" // time zones must validate the same on every machine, with or without a zoneinfo database

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
	f, err := os.Open(path)
	if err != nil {
		return nil, Problems{{File: path, Line: 1, Col: 1, Msg: fmt.Sprintf("cannot read: %v", err)}}
	}
	defer f.Close()
	// Read one byte past the limit rather than trusting Stat: the file may be a pipe, or grow.
	src, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, Problems{{File: path, Line: 1, Col: 1, Msg: fmt.Sprintf("cannot read: %v", err)}}
	}
	if len(src) > MaxFileSize {
		size := int64(len(src))
		if info, err := f.Stat(); err == nil && info.Size() > size {
			size = info.Size()
		}
		return nil, Problems{{File: path, Line: 1, Col: 1, Msg: fmt.Sprintf("file is %d bytes; a definition may be at most %d", size, MaxFileSize)}}
	}
	def, probs := parse(path, src, filepath.Dir(path))
	if def != nil {
		if abs, err := filepath.Abs(path); err == nil {
			def.Path = abs
		} else {
			def.Path = filepath.Clean(path)
		}
	}
	return def, probs
}

// LoadPaths loads every definition named by paths: a file, or a folder whose *.yaml and *.yml
// files are loaded (not recursively). Campaign ids must be unique across all of them, and no
// two campaigns that answer on the same WhatsApp number may share an entry keyword.
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
		n := len(files)
		for _, pat := range []string{"*.yaml", "*.yml"} {
			m, _ := filepath.Glob(filepath.Join(p, pat))
			files = append(files, m...)
		}
		if len(files) == n {
			probs = append(probs, Problem{File: p, Line: 1, Col: 1, Msg: "no campaign definitions (*.yaml or *.yml files) in this folder"})
		}
	}
	sort.Strings(files)
	var defs []*Definition
	seen := map[string]*Definition{}
	loaded := map[string]bool{}
	for _, f := range files {
		if loaded[filepath.Clean(f)] {
			continue // named twice (a file and its folder): one campaign, not a clash with itself
		}
		loaded[filepath.Clean(f)] = true
		def, ps := LoadFile(f)
		probs = append(probs, ps...)
		if def == nil {
			continue
		}
		if other, ok := seen[def.ID]; ok {
			line, col := nodePos(def.idNode)
			probs = append(probs, Problem{File: f, Line: line, Col: col, Msg: fmt.Sprintf("campaign id %q is already used by %s", def.ID, other.pos(other.idNode))})
			continue
		}
		probs = append(probs, keywordClashes(def, defs)...)
		probs = append(probs, rejoinClashes(def, defs)...)
		seen[def.ID] = def
		defs = append(defs, def)
	}
	return defs, probs
}

// keywordClashes reports the entry keywords of def that an earlier campaign on the same number
// already answers: a stranger's first message would join both, or a random one.
func keywordClashes(def *Definition, earlier []*Definition) Problems {
	var probs Problems
	for i, k := range def.Keywords {
		for _, o := range earlier {
			if def.WhatsAppNumber != "" && o.WhatsAppNumber != "" && def.WhatsAppNumber != o.WhatsAppNumber {
				continue
			}
			if !sharesChannel(def, o) {
				continue
			}
			for j, ok := range o.Keywords {
				if normKeyword(k) != normKeyword(ok) {
					continue
				}
				var n *yaml.Node
				if i < len(def.keywordNodes) {
					n = def.keywordNodes[i]
				}
				var on *yaml.Node
				if j < len(o.keywordNodes) {
					on = o.keywordNodes[j]
				}
				line, col := nodePos(n)
				probs = append(probs, Problem{File: def.File, Line: line, Col: col,
					Msg: fmt.Sprintf("entry keyword %q is also an entry keyword of campaign %q (%s): both would answer it on the same number", k, o.ID, o.pos(on))})
			}
		}
	}
	return probs
}

// rejoinClashes warns about a rejoin word of one campaign that is an entry keyword of another
// on the same number: a message is routed by keyword before rejoin words, so who left the
// first and sends it to come back joins the second instead.
func rejoinClashes(def *Definition, earlier []*Definition) Problems {
	var probs Problems
	rejoinAt := func(d *Definition, i int) (string, string) {
		if d.rejoinNodes == nil {
			return "the default rejoin word", d.pos(d.idNode)
		}
		return "a rejoin word", d.pos(d.rejoinNodes[i])
	}
	for _, o := range earlier {
		if def.WhatsAppNumber != "" && o.WhatsAppNumber != "" && def.WhatsAppNumber != o.WhatsAppNumber || !sharesChannel(def, o) {
			continue
		}
		// def's keyword is o's way back.
		for i, k := range def.Keywords {
			for j, w := range o.Rejoin {
				if normKeyword(k) != normKeyword(w) {
					continue
				}
				what, at := rejoinAt(o, j)
				msg := fmt.Sprintf("entry keyword %q is %s of campaign %q (%s): who left %q and sends it to come back joins %q instead", k, what, o.ID, at, o.ID, def.ID)
				if o.rejoinNodes == nil {
					msg += fmt.Sprintf("; give %q a rejoin: of its own", o.ID)
				}
				var n *yaml.Node
				if i < len(def.keywordNodes) {
					n = def.keywordNodes[i]
				}
				line, col := nodePos(n)
				probs = append(probs, Problem{File: def.File, Line: line, Col: col, Severity: Warning, Msg: msg})
			}
		}
		// def's way back is o's keyword.
		for i, w := range def.Rejoin {
			for j, k := range o.Keywords {
				if normKeyword(k) != normKeyword(w) {
					continue
				}
				var on *yaml.Node
				if j < len(o.keywordNodes) {
					on = o.keywordNodes[j]
				}
				what, _ := rejoinAt(def, i)
				n := def.idNode
				if def.rejoinNodes != nil {
					n = def.rejoinNodes[i]
				}
				msg := fmt.Sprintf("rejoin word %q is an entry keyword of campaign %q (%s): who left %q and sends it to come back joins %q instead", w, o.ID, o.pos(on), def.ID, o.ID)
				if def.rejoinNodes == nil {
					msg = fmt.Sprintf("%s %q is an entry keyword of campaign %q (%s): who left %q and sends it to come back joins %q instead; give %q a rejoin: of its own",
						strings.ToUpper(what[:1])+what[1:], w, o.ID, o.pos(on), def.ID, o.ID, def.ID)
				}
				line, col := nodePos(n)
				probs = append(probs, Problem{File: def.File, Line: line, Col: col, Severity: Warning, Msg: msg})
			}
		}
	}
	return probs
}

func sharesChannel(a, b *Definition) bool {
	if len(a.Channels) == 0 || len(b.Channels) == 0 {
		return true
	}
	for _, c := range a.Channels {
		if contains(b.Channels, c) {
			return true
		}
	}
	return false
}

func normKeyword(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

func (d *Definition) pos(n *yaml.Node) string {
	line, col := nodePos(n)
	return fmt.Sprintf("%s:%d:%d", d.File, line, col)
}

func nodePos(n *yaml.Node) (int, int) {
	if n == nil || n.Line < 1 {
		return 1, 1
	}
	col := n.Column
	if col < 1 {
		col = 1
	}
	return n.Line, col
}

// Parse compiles a definition from its source. It returns a nil Definition when there is any
// error; warnings come with a usable Definition.
//
// A definition parsed from bytes comes without the files it names: a pool of codes from a file
// keeps the file's name (Pool.CodesFile) and no codes. LoadFile reads them.
func Parse(file string, src []byte) (*Definition, Problems) {
	return parse(file, src, "")
}

// parse is Parse reading the files the definition names from dir (none when dir is empty).
func parse(file string, src []byte, dir string) (*Definition, Problems) {
	p := &parser{file: file, dir: dir}
	if len(src) > MaxFileSize {
		p.errf(nil, "file is %d bytes; a definition may be at most %d", len(src), MaxFileSize)
		return nil, p.probs
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(src))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.errf(nil, "the file is empty; a definition needs at least id, start and states")
			return nil, p.probs
		}
		line, msg := yamlErrorLine(err)
		p.probs = append(p.probs, Problem{File: file, Line: line, Col: 1, Msg: msg})
		return nil, p.probs
	}
	if len(doc.Content) == 0 {
		p.errf(nil, "the file is empty; a definition needs at least id, start and states")
		return nil, p.probs
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		p.errf(&next, "a second document (after ---): a file holds one campaign")
		return nil, p.probs
	} else if !errors.Is(err, io.EOF) {
		line, msg := yamlErrorLine(err)
		p.probs = append(p.probs, Problem{File: file, Line: line, Col: 1, Msg: msg})
		return nil, p.probs
	}
	// Aliases are refused before anything else looks at the tree: definitions are small
	// enough to write out, and this closes the door on alias bombs for good. The same walk
	// refuses absurd nesting and lengths.
	if p.refuseAliases(&doc, 0); p.probs.HasErrors() {
		return nil, p.probs
	}
	sum := sha256.Sum256(src)
	def := &Definition{File: file, Source: src, Version: hex.EncodeToString(sum[:8]), States: map[string]*State{}, Languages: []string{defaultLanguage}}
	p.def = def
	p.definition(doc.Content[0])
	if p.probs.HasErrors() {
		return nil, p.probs
	}
	return def, p.probs
}

// maxDepth and maxItems bound the nesting and the length of any one list or mapping; no real
// definition comes near them, and they keep every check below cheap on hostile input.
const (
	maxDepth = 64
	maxItems = 1000
)

func (p *parser) refuseAliases(n *yaml.Node, depth int) {
	if n == nil {
		return
	}
	if n.Kind == yaml.AliasNode {
		p.errf(n, "aliases (*name) are not allowed in a definition; write the value out")
		return
	}
	if depth > maxDepth {
		p.errf(n, "nested more than %d levels deep; a definition never needs that", maxDepth)
		return
	}
	if items := len(n.Content); (n.Kind == yaml.SequenceNode && items > maxItems) || (n.Kind == yaml.MappingNode && items > 2*maxItems) {
		if n.Kind == yaml.MappingNode {
			items /= 2
		}
		p.errf(n, "%d items in one list or mapping; a definition never needs more than %d", items, maxItems)
		return
	}
	for _, c := range n.Content {
		if p.refuseAliases(c, depth+1); len(p.probs) > 0 {
			return // one is enough to say it, and an alias bomb has millions
		}
	}
}

var yamlLineRe = regexp.MustCompile(`line (\d+): (.*)`)

// yamlErrorLine pulls the line out of a yaml.v3 syntax error, which has no structured form.
func yamlErrorLine(err error) (int, string) {
	m := yamlLineRe.FindStringSubmatch(err.Error())
	if m == nil {
		return 1, "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")
	}
	n, _ := strconv.Atoi(m[1])
	if n < 1 {
		n = 1
	}
	return n, "not valid YAML: " + m[2]
}

// parser collects problems while it compiles; every check reports and carries on, so one run
// shows the marketer every mistake at once.
type parser struct {
	file  string
	dir   string // where the files a definition names are read from; empty: not read
	probs Problems
	def   *Definition

	// Collected during the parse and checked once everything is known.
	vars      []varUse              // every {{variable}} used, where
	saved     map[string]bool       // variables set by save actions
	tmplUsed  map[string]bool       // template keys messages refer to
	poolUsed  map[string]bool       // pools taken from
	roundUsed map[string]bool       // rounds named by round triggers
	codes     bool                  // some transition issues a code
	codePool  bool                  // some transition takes from a pool of codes
	located   bool                  // some transition answers a location
	areas     bool                  // some location transition has a centre and radius
	topGiven  bool                  // ranking has a top:, valid or not (an error says which)
	badLangs  bool                  // a language of languages is no code (reported): texts' languages are not checked
	keyOf     map[string]*yaml.Node // "pool NAME", "template NAME": where declared
	nums      numberUses            // add:, set: and if: (numbers.go)
	// unsure is set when part of a state could not be read (an error says so): the checks
	// that need the whole graph would only guess, and stay quiet.
	unsure bool
	// unsureButtons is set when some buttons could not be read: only checkChoices guesses then.
	unsureButtons bool
	// buttonNodes are where messages offer buttons (groups.go).
	buttonNodes []*yaml.Node
}

// varUse is one {{variable}} in a text, or one template parameter.
type varUse struct {
	node *yaml.Node
	name string
	// fallback says the use gives a text for when the variable is empty ({{name|there}}).
	fallback bool
}

func (p *parser) report(n *yaml.Node, sev Severity, format string, args ...any) {
	line, col := nodePos(n)
	p.probs = append(p.probs, Problem{File: p.file, Line: line, Col: col, Severity: sev, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) errf(n *yaml.Node, format string, args ...any) { p.report(n, Error, format, args...) }

func (p *parser) warnf(n *yaml.Node, format string, args ...any) {
	p.report(n, Warning, format, args...)
}

// field is one key of a mapping with its value node.
type field struct {
	key, val *yaml.Node
}

// mapping checks that n is a mapping with only the allowed keys and returns its fields by
// name. Unknown keys are reported with the closest allowed key as a suggestion.
func (p *parser) mapping(n *yaml.Node, what string, allowed ...string) map[string]field {
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
		if k.Kind != yaml.ScalarNode {
			p.errf(k, "a key in %s must be a plain word", what)
			continue
		}
		if !contains(allowed, k.Value) {
			p.errf(k, "unknown key %q in %s%s", k.Value, what, didYouMean(k.Value, allowed))
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

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null" && n.Style == 0
}

// str reads a scalar; an empty value is reported as missing.
func (p *parser) str(f field, what string) string {
	n := f.val
	if n == nil {
		return ""
	}
	if n.Kind != yaml.ScalarNode {
		p.errf(n, "%s must be a single value, not a list or mapping", what)
		return ""
	}
	if isNull(n) || strings.TrimSpace(n.Value) == "" {
		p.errf(n, "%s is empty", what)
		return ""
	}
	return n.Value
}

// name reads an identifier: a state, pool, round or template name.
func (p *parser) name(f field, what string) string {
	s := p.str(f, what)
	if s != "" && !idRe.MatchString(s) {
		p.errf(f.val, "%s %q must be lower-case letters, digits, - and _", what, s)
		return ""
	}
	return s
}

func (p *parser) boolean(f field, what string) bool {
	n := f.val
	if n == nil {
		return false
	}
	var b bool
	if n.Kind != yaml.ScalarNode || n.Decode(&b) != nil {
		p.errf(n, "%s must be true or false", what)
	}
	return b
}

// yes reads a key that is only ever written as `key: true`.
func (p *parser) yes(f field, what string) {
	if !p.boolean(f, what) && f.val.Kind == yaml.ScalarNode && !isNull(f.val) {
		p.errf(f.val, "%s: write %s: true, or leave the key out", what, what)
	}
}

func (p *parser) integer(f field, what string, lo int) int {
	s := p.str(f, what)
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo {
		p.errf(f.val, "%s must be a whole number of at least %d, not %q", what, lo, s)
		return 0
	}
	return n
}

func (p *parser) number(f field, what string) (float64, bool) {
	s := p.str(f, what)
	if s == "" {
		return 0, false
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || x != x || x > 1e15 || x < -1e15 {
		p.errf(f.val, "%s must be a number, not %q", what, s)
		return 0, false
	}
	return x, true
}

var daysRe = regexp.MustCompile(`^(\d{1,4})d(.*)$`)

// ParseDuration is time.ParseDuration with days (2d, 1d12h): campaigns think in days, and
// rehearsal scripts wait in the same units.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var days time.Duration
	if m := daysRe.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		days = time.Duration(n) * 24 * time.Hour
		if m[2] == "" {
			return days, nil
		}
		s = m[2]
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d < 0 {
		return 0, errors.New("negative")
	}
	return days + d, nil
}

func (p *parser) duration(f field, what string) time.Duration {
	s := p.str(f, what)
	if s == "" {
		return 0
	}
	d, err := ParseDuration(s)
	if err != nil {
		p.errf(f.val, "%s: %q is not a duration (write it like 800ms, 2s, 1h30m or 2d)", what, s)
		return 0
	}
	return d
}

var sizeRe = regexp.MustCompile(`^(?i)(\d{1,10}(?:\.\d{1,3})?)\s*(b|kb|mb|gb)?$`)

// ErrSize is what ParseSize says of a text that is no size.
var ErrSize = errors.New("not a size (write it like 500KB, 16MB or 1GB)")

// ParseSize reads a byte count written like 16MB; units are binary (1MB = 1,048,576 bytes),
// as the platforms' own limits are. Definitions and the server's flags write sizes alike.
func ParseSize(s string) (float64, error) {
	m := sizeRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("%q is %w", s, ErrSize)
	}
	x, _ := strconv.ParseFloat(m[1], 64)
	switch strings.ToLower(m[2]) {
	case "kb":
		x *= 1 << 10
	case "mb":
		x *= 1 << 20
	case "gb":
		x *= 1 << 30
	}
	return x, nil
}

// size reads a byte count written like 16MB.
func (p *parser) size(f field, what string) int64 {
	s := p.str(f, what)
	if s == "" {
		return 0
	}
	x, err := ParseSize(s)
	if err != nil {
		p.errf(f.val, "%s: %v", what, err)
		return 0
	}
	if x < 1 || x > 1<<40 {
		p.errf(f.val, "%s: %q is not a sensible size", what, s)
		return 0
	}
	return int64(x)
}

// dateLayouts are the ways a date may be written, most specific last.
var dateLayouts = []string{"2006-01-02", "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05", time.RFC3339}

// strList accepts a single value or a list of them.
func (p *parser) strList(f field, what string) ([]string, []*yaml.Node) {
	n := f.val
	if n == nil {
		return nil, nil
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if s := p.str(f, what); s != "" {
			return []string{s}, []*yaml.Node{n}
		}
		return nil, nil
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			p.errf(n, "%s is an empty list", what)
		}
		var out []string
		var nodes []*yaml.Node
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				p.errf(c, "each item of %s must be a single value", what)
				continue
			}
			if s := p.str(field{val: c}, "an item of "+what); s != "" {
				out = append(out, s)
				nodes = append(nodes, c)
			}
		}
		return out, nodes
	}
	p.errf(n, "%s must be a value or a list of values", what)
	return nil, nil
}

// defaultLanguage is the language of a definition that declares none.
const defaultLanguage = "en"

var idRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// IsName reports whether s is a plain name as the language writes ids, states and hand-off
// teams: lower-case letters, digits, - and _, at most 63. `campaign user add --team` checks
// team names with it, so a team a state hands off to can always be given users.
func IsName(s string) bool { return idRe.MatchString(s) }

// varRe matches a {{variable}} in a text, with what to say when it is empty after a bar:
// {{name|there}}.
var varRe = regexp.MustCompile(`\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:\|([^{}|]*))?\}\}`)

// Render fills {{name}}-style variables from vars; unknown variables render empty, because a
// participant should never see template syntax. A variable that is empty renders the text
// after its bar, if it has one: {{name|there}} is "there" for someone whose channel gave no
// name (the web chat never does).
func Render(s string, vars map[string]string) string {
	return varRe.ReplaceAllStringFunc(s, func(m string) string {
		sub := varRe.FindStringSubmatch(m)
		if v := vars[sub[1]]; v != "" {
			return v
		}
		return strings.TrimSpace(sub[2])
	})
}

// Suggest returns the option got is a likely typo of (the rule of "did you mean" in
// validation messages), or "".
func Suggest(got string, options []string) string { return suggest(got, options) }

func didYouMean(got string, options []string) string {
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

// suggest returns the option closest to got, when it is close enough to be a likely typo:
// at most one edit per three characters of the longer of the two (one for short names), a
// swap of two neighbours counting as one edit, and never a rewrite of the whole option. A
// far name gets no suggestion: "did you mean "pools"?" for "colour" helps nobody.
func suggest(got string, options []string) string {
	if len(got) > 64 {
		return ""
	}
	g := []rune(strings.ToLower(got))
	best, bestD := "", -1
	for _, o := range options {
		r := []rune(strings.ToLower(o))
		d := editDistance(g, r)
		if d == 0 && got != o {
			d = 1 // a difference of case only: still worth saying
		}
		longer := max(len(g), len(r))
		if d > max(1, (longer+1)/3) || d >= longer {
			continue
		}
		if bestD < 0 || d < bestD {
			best, bestD = o, d
		}
	}
	return best
}

// editDistance counts the insertions, deletions, substitutions and swaps of two neighbours
// that turn a into b (the optimal string alignment distance).
func editDistance(a, b []rune) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// SharedNumbers warns about pairs of campaigns on WhatsApp that could both answer the same
// stranger on one number. The engine routes a stranger's message by entry keyword first, then
// to the one campaign without keywords on the number: one that names the number (its
// phone_number_id) before those that answer on any number. So two such catch-alls of one rank
// on a number leave a stranger unanswered, and a catch-all beside a campaign with keywords
// takes every other first message (a mistyped keyword too) and keeps its players, whose
// keywords of the other campaign then reach it. (Two sharing a keyword is an error of
// LoadPaths.) Each warning is at the later of the two, naming where the earlier one is.
// `campaign validate` and, with WhatsApp on, `campaign serve` give them.
func SharedNumbers(defs []*Definition) Problems {
	var wa []*Definition
	numbers := []string{""} // "": a number no campaign names
	for _, d := range defs {
		if !d.RunsOn("whatsapp") {
			continue
		}
		wa = append(wa, d)
		if d.WhatsAppNumber != "" && !contains(numbers, d.WhatsAppNumber) {
			numbers = append(numbers, d.WhatsAppNumber)
		}
	}
	index := map[*Definition]int{}
	for i, d := range wa {
		index[d] = i
	}
	type pair struct{ later, earlier *Definition }
	var pairs []pair
	add := func(a, b *Definition) {
		if index[a] < index[b] {
			a, b = b, a
		}
		for _, p := range pairs {
			if p == (pair{a, b}) {
				return
			}
		}
		pairs = append(pairs, pair{a, b})
	}
	for _, n := range numbers {
		var serving, own, any []*Definition
		for _, d := range wa {
			if d.WhatsAppNumber != "" && d.WhatsAppNumber != n {
				continue
			}
			serving = append(serving, d)
			switch {
			case len(d.Keywords) > 0:
			case d.WhatsAppNumber == n && n != "":
				own = append(own, d)
			default:
				any = append(any, d)
			}
		}
		catchAll := any
		if len(own) > 0 {
			catchAll = own
		}
		for i, a := range catchAll {
			for _, b := range catchAll[:i] {
				add(a, b)
			}
		}
		if len(catchAll) != 1 {
			continue
		}
		for _, d := range serving {
			if len(d.Keywords) > 0 {
				add(d, catchAll[0])
			}
		}
	}
	sort.SliceStable(pairs, func(i, j int) bool {
		a, b := pairs[i], pairs[j]
		return index[a.later] < index[b.later] || index[a.later] == index[b.later] && index[a.earlier] < index[b.earlier]
	})
	var probs Problems
	for _, p := range pairs {
		def, o := p.later, p.earlier
		var msg string
		var at *yaml.Node
		switch {
		case len(def.Keywords) == 0 && len(o.Keywords) == 0:
			at = def.idNode
			msg = fmt.Sprintf("campaign %q and campaign %q (%s) answer on one WhatsApp number without entry keywords, so a stranger's first message there joins neither: give one of them keywords, or each its own whatsapp phone_number_id",
				def.ID, o.ID, o.pos(o.idNode))
		case len(def.Keywords) == 0:
			at = def.idNode
			msg = fmt.Sprintf("campaign %q (%s) and campaign %q answer on one WhatsApp number and %q has no entry keywords: %s",
				o.ID, o.pos(firstNode(o.keywordNodes)), def.ID, def.ID, keywordless(o, def))
		default:
			at = firstNode(def.keywordNodes)
			msg = fmt.Sprintf("campaign %q and campaign %q (%s) answer on one WhatsApp number and %q has no entry keywords: %s",
				def.ID, o.ID, o.pos(o.idNode), o.ID, keywordless(def, o))
		}
		line, col := nodePos(at)
		probs = append(probs, Problem{File: def.File, Line: line, Col: col, Severity: Warning, Msg: msg})
	}
	return probs
}

// keywordless says what a campaign without keywords (none) does to one with them (kw) on
// the same number.
func keywordless(kw, none *Definition) string {
	return fmt.Sprintf("a stranger's first message that is not a keyword of %q (a typo too) joins %q, and while they play %q their %q goes to %q; give %q keywords, or each its own whatsapp phone_number_id",
		kw.ID, none.ID, none.ID, kw.Keywords[0], none.ID, none.ID)
}

func firstNode(ns []*yaml.Node) *yaml.Node {
	if len(ns) == 0 {
		return nil
	}
	return ns[0]
}
