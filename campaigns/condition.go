package campaigns

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Condition is a parsed `if:` of a transition: comparisons of a variable with a number or a
// text, joined with and / or (and binds tighter than or; parentheses group).
type Condition struct {
	// Op is "and", "or", or a comparison operator (== != < <= > >=).
	Op string
	// Left and Right are the operands of and / or.
	Left, Right *Condition
	// A comparison: Var Op the literal, a number when IsNum, else Text.
	Var   string
	IsNum bool
	Num   float64
	Text  string
	// Col is the comparison's offset in the source (0-based, in bytes), for problems.
	Col int
}

// CompareOps are the comparison operators of a condition.
var CompareOps = []string{"==", "!=", "<", "<=", ">", ">="}

// ConditionError is a condition that does not parse, at an offset of its source.
type ConditionError struct {
	Offset int
	Msg    string
}

func (e *ConditionError) Error() string { return e.Msg }

// maxConditionDepth bounds nesting, so a hostile definition cannot exhaust the stack.
const maxConditionDepth = 32

// ParseCondition parses the text of an `if:`.
func ParseCondition(src string) (*Condition, error) {
	toks, err := lexCondition(src)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, &ConditionError{0, "if is empty; write a condition like points >= 3"}
	}
	cp := &condParser{src: src, toks: toks}
	c, err := cp.or(0)
	if err != nil {
		return nil, err
	}
	if cp.pos < len(toks) {
		t := toks[cp.pos]
		if t.kind == tokClose {
			return nil, &ConditionError{t.off, fmt.Sprintf("if %q has a ) without its (", src)}
		}
		return nil, &ConditionError{t.off, fmt.Sprintf("if %q: %q follows a complete comparison; join comparisons with and / or", src, t.text)}
	}
	return c, nil
}

type tokKind int

const (
	tokWord tokKind = iota
	tokNumber
	tokText
	tokOp
	tokOpen
	tokClose
)

type condTok struct {
	kind tokKind
	text string // a word, number or operator as written; a text without its quotes
	off  int
}

func lexCondition(src string) ([]condTok, error) {
	var out []condTok
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(':
			out = append(out, condTok{tokOpen, "(", i})
			i++
		case c == ')':
			out = append(out, condTok{tokClose, ")", i})
			i++
		case c == '"' || c == '\'':
			end := strings.IndexByte(src[i+1:], c)
			if end < 0 {
				return nil, &ConditionError{i, fmt.Sprintf("if %q: the text at column %d has no closing %c", src, i+1, c)}
			}
			out = append(out, condTok{tokText, src[i+1 : i+1+end], i})
			i += end + 2
		case strings.ContainsRune("=!<>&|", rune(c)):
			j := i
			for j < len(src) && strings.ContainsRune("=!<>&|", rune(src[j])) {
				j++
			}
			op := src[i:j]
			switch op {
			case "==", "!=", "<", "<=", ">", ">=":
			case "&&":
				return nil, &ConditionError{i, fmt.Sprintf("if %q: write and instead of &&", src)}
			case "||":
				return nil, &ConditionError{i, fmt.Sprintf("if %q: write or instead of ||", src)}
			case "=":
				return nil, &ConditionError{i, fmt.Sprintf("if %q: unknown operator \"=\"; to compare, write ==", src)}
			default:
				return nil, &ConditionError{i, fmt.Sprintf("if %q: unknown operator %q; use one of %s", src, op, strings.Join(CompareOps, " "))}
			}
			out = append(out, condTok{tokOp, op, i})
			i = j
		case c == '-' || c == '+' || c == '.' || c >= '0' && c <= '9':
			j := i + 1
			for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '.') {
				j++
			}
			out = append(out, condTok{tokNumber, src[i:j], i})
			i = j
		case isWordByte(c):
			j := i
			for j < len(src) && isWordByte(src[j]) {
				j++
			}
			out = append(out, condTok{tokWord, src[i:j], i})
			i = j
		default:
			return nil, &ConditionError{i, unexpectedInCondition(src, i)}
		}
	}
	return out, nil
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

type condParser struct {
	src  string
	toks []condTok
	pos  int
}

func (cp *condParser) peekWord(w string) bool {
	return cp.pos < len(cp.toks) && cp.toks[cp.pos].kind == tokWord && strings.EqualFold(cp.toks[cp.pos].text, w)
}

func (cp *condParser) or(depth int) (*Condition, error) {
	left, err := cp.and(depth)
	if err != nil {
		return nil, err
	}
	for cp.peekWord("or") {
		cp.pos++
		right, err := cp.and(depth)
		if err != nil {
			return nil, err
		}
		left = &Condition{Op: "or", Left: left, Right: right, Col: left.Col}
	}
	return left, nil
}

func (cp *condParser) and(depth int) (*Condition, error) {
	left, err := cp.primary(depth)
	if err != nil {
		return nil, err
	}
	for cp.peekWord("and") {
		cp.pos++
		right, err := cp.primary(depth)
		if err != nil {
			return nil, err
		}
		left = &Condition{Op: "and", Left: left, Right: right, Col: left.Col}
	}
	return left, nil
}

func (cp *condParser) end() int { return len(cp.src) }

func (cp *condParser) primary(depth int) (*Condition, error) {
	if cp.pos >= len(cp.toks) {
		return nil, &ConditionError{cp.end(), fmt.Sprintf("if %q ends where a comparison like points >= 3 should follow", cp.src)}
	}
	t := cp.toks[cp.pos]
	if t.kind == tokOpen {
		if depth >= maxConditionDepth {
			return nil, &ConditionError{t.off, fmt.Sprintf("if %q nests parentheses more than %d deep", cp.src, maxConditionDepth)}
		}
		cp.pos++
		c, err := cp.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if cp.pos >= len(cp.toks) || cp.toks[cp.pos].kind != tokClose {
			return nil, &ConditionError{t.off, fmt.Sprintf("if %q: the ( at column %d is never closed", cp.src, t.off+1)}
		}
		cp.pos++
		return c, nil
	}
	if t.kind != tokWord || !varNameRe.MatchString(t.text) {
		return nil, &ConditionError{t.off, fmt.Sprintf("if %q: a comparison starts with a variable name (lower-case letters, digits and _), not %q", cp.src, t.text)}
	}
	c := &Condition{Var: t.text, Col: t.off}
	cp.pos++
	if cp.pos >= len(cp.toks) {
		return nil, &ConditionError{cp.end(), fmt.Sprintf("if %q: %s needs an operator and a value, like %s >= 3", cp.src, c.Var, c.Var)}
	}
	op := cp.toks[cp.pos]
	if op.kind != tokOp {
		return nil, &ConditionError{op.off, fmt.Sprintf("if %q: unknown operator %q; use one of %s", cp.src, op.text, strings.Join(CompareOps, " "))}
	}
	c.Op = op.text
	cp.pos++
	if cp.pos >= len(cp.toks) {
		return nil, &ConditionError{cp.end(), fmt.Sprintf("if %q: %s needs a number or a text after it", cp.src, c.Op)}
	}
	v := cp.toks[cp.pos]
	switch v.kind {
	case tokNumber:
		x, err := strconv.ParseFloat(v.text, 64)
		if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
			return nil, &ConditionError{v.off, fmt.Sprintf("if %q: %q is not a number", cp.src, v.text)}
		}
		c.IsNum, c.Num = true, x
	case tokText:
		c.Text = v.text
	case tokWord:
		c.Text = v.text
	default:
		return nil, &ConditionError{v.off, fmt.Sprintf("if %q: %s needs a number or a text after it, not %q", cp.src, c.Op, v.text)}
	}
	cp.pos++
	return c, nil
}

// String writes the condition back in its canonical form.
func (c *Condition) String() string {
	switch c.Op {
	case "and", "or":
		l, r := c.Left.String(), c.Right.String()
		if c.Op == "and" {
			if c.Left.Op == "or" {
				l = "(" + l + ")"
			}
			if c.Right.Op == "or" {
				r = "(" + r + ")"
			}
		}
		return l + " " + c.Op + " " + r
	}
	if c.IsNum {
		return fmt.Sprintf("%s %s %s", c.Var, c.Op, FormatNumber(c.Num))
	}
	// A text never holds both quotes: it was written between one of them.
	q := `"`
	if strings.Contains(c.Text, `"`) {
		q = "'"
	}
	return fmt.Sprintf("%s %s %s%s%s", c.Var, c.Op, q, c.Text, q)
}

// comparisons lists the condition's comparisons, left to right.
func (c *Condition) comparisons() []*Condition {
	if c == nil {
		return nil
	}
	if c.Op == "and" || c.Op == "or" {
		return append(c.Left.comparisons(), c.Right.comparisons()...)
	}
	return []*Condition{c}
}

// Eval tells whether the condition holds for a participant whose variables get reads (ok false:
// not set). Against a number, a variable not set counts as 0 and one holding no number is
// unequal to every number and neither smaller nor larger; texts compare case-insensitively.
func (c *Condition) Eval(get func(name string) (string, bool)) bool {
	switch c.Op {
	case "and":
		return c.Left.Eval(get) && c.Right.Eval(get)
	case "or":
		return c.Left.Eval(get) || c.Right.Eval(get)
	}
	v, set := get(c.Var)
	if !c.IsNum {
		eq := strings.EqualFold(strings.TrimSpace(v), strings.TrimSpace(c.Text))
		switch c.Op {
		case "==":
			return eq
		case "!=":
			return !eq
		}
		return false // refused by validation: ordering compares numbers
	}
	x := 0.0
	if set && strings.TrimSpace(v) != "" {
		var ok bool
		if x, ok = ParseNumber(v); !ok {
			return c.Op == "!="
		}
	}
	switch c.Op {
	case "==":
		return x == c.Num
	case "!=":
		return x != c.Num
	case "<":
		return x < c.Num
	case "<=":
		return x <= c.Num
	case ">":
		return x > c.Num
	case ">=":
		return x >= c.Num
	}
	return false
}

// numberRe is a number as people write one: digits, a decimal point, an exponent. strconv
// reads more (NaN, Infinity, 0x1p4, 1_000), which a variable holding a typed text must not
// turn into a number.
var numberRe = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// ParseNumber reads a variable's value as a number: only as people write one, and finite.
func ParseNumber(value string) (float64, bool) {
	value = strings.TrimSpace(value)
	if !numberRe.MatchString(value) {
		return 0, false
	}
	x, err := strconv.ParseFloat(value, 64)
	if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
		return 0, false
	}
	return x, true
}

// FormatNumber writes a number variable's value as Participant.Vars keeps it: a decimal string,
// whole numbers without ".0", rounded to nine decimals so 0.1 + 0.2 reads 0.3.
func FormatNumber(x float64) string {
	x = math.Round(x*1e9) / 1e9
	if x == 0 {
		x = 0 // no "-0"
	}
	return strconv.FormatFloat(x, 'f', -1, 64)
}

// AddNumber adds d to a variable's value; a value not set or holding no number counts as 0.
func AddNumber(value string, d float64) string {
	x, ok := ParseNumber(value)
	if !ok {
		x = 0
	}
	return FormatNumber(x + d)
}

// typographic are characters a word processor or a phone's keyboard puts where a condition
// wants plain ones, and what to write instead.
var typographic = map[rune]string{'≥': ">=", '≤': "<=", '≠': "!=", '＝': "=="}

// unexpectedInCondition explains the character at byte offset i of src, which no token starts
// with: a typographic operator or quote, a decimal comma, or anything else.
func unexpectedInCondition(src string, i int) string {
	r, _ := utf8.DecodeRuneInString(src[i:])
	switch {
	case typographic[r] != "":
		return fmt.Sprintf("if %q: write %s instead of %c", src, typographic[r], r)
	case strings.ContainsRune("“”„‘’‚«»", r):
		text := strings.TrimFunc(src[i:], func(q rune) bool { return strings.ContainsRune("“”„‘’‚«» ", q) })
		if end := strings.IndexAny(text, "“”„‘’‚«»"); end >= 0 {
			text = text[:end]
		}
		return fmt.Sprintf("if %q: quote a text with straight quotes, like %q, not “ and ”", src, text)
	case r == ',' && i > 0 && src[i-1] >= '0' && src[i-1] <= '9' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
		return fmt.Sprintf("if %q: write a decimal number with a point, like %s.%s", src, leadingDigits(src[:i]), trailingDigits(src[i+1:]))
	}
	return fmt.Sprintf("if %q: unexpected %q at column %d; quote a text like \"red\"", src, string(r), utf8.RuneCountInString(src[:i])+1)
}

func leadingDigits(s string) string {
	j := len(s)
	for j > 0 && s[j-1] >= '0' && s[j-1] <= '9' {
		j--
	}
	return s[j:]
}

func trailingDigits(s string) string {
	j := 0
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	return s[:j]
}
