package metahook

import (
	"bytes"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Reader reads the JSON bodies Meta sends (webhooks, Graph API answers) into a channel's
// structs without encoding/json's reflection, which was most of a webhook's parse. It is
// exact or it gives up: anything it does not handle the way encoding/json.Unmarshal would
// (a syntax error, a value of the wrong type, a key that is not exactly a field's name but
// matches one case-insensitively, a field given twice, a key with escapes or non-ASCII, deep
// nesting, data after the value) sets Failed, and the caller decodes the body again with
// encoding/json, which then decides, errors included. So a Reader never accepts what
// encoding/json refuses, and what it accepts it decodes to the same values; each channel's
// fuzz test compares the two on every input.
//
// The usual loop over an object, once a caller has checked Failed at the end:
//
//	for more := r.Object(); more; more = r.Next() {
//		switch r.Key() { case "id": v.ID = r.String() ... default: r.Skip(fields) }
//	}
//
// Once failed, every method is a no-op returning zero values, so a caller's loops end.
type Reader struct {
	data []byte
	pos  int
	key  []byte
	// depth counts the objects and arrays open, against maxDepth.
	depth  int
	failed bool
}

// maxDepth is the deepest nesting a Reader follows; past it, encoding/json decides (its own
// limit is 10,000).
const maxDepth = 512

// NewReader reads data.
func NewReader(data []byte) Reader { return Reader{data: data} }

// Failed reports that the body holds something the Reader does not handle as
// encoding/json would: the caller must decode it with encoding/json instead.
func (r *Reader) Failed() bool { return r.failed }

// Fail gives up on the body; a caller's decoder calls it for a value it does not take (a
// string where it wants a number it reads itself, say).
func (r *Reader) Fail() { r.failed = true }

// End checks that only whitespace follows the value read, and reports whether the whole body
// was read exactly.
func (r *Reader) End() bool {
	r.ws()
	if r.pos != len(r.data) {
		r.failed = true
	}
	return !r.failed
}

func (r *Reader) ws() {
	for r.pos < len(r.data) {
		switch r.data[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

// peek returns the next byte after whitespace, or 0 at the end.
func (r *Reader) peek() byte {
	if r.failed {
		return 0
	}
	r.ws()
	if r.pos >= len(r.data) {
		return 0
	}
	return r.data[r.pos]
}

// Null consumes a null and reports whether there was one. encoding/json leaves a field given
// null as it was (a pointer or slice nil), which for a field seen once is its zero value.
func (r *Reader) Null() bool {
	if r.peek() != 'n' {
		return false
	}
	r.literal("null")
	return !r.failed
}

func (r *Reader) literal(lit string) {
	if len(r.data)-r.pos < len(lit) || string(r.data[r.pos:r.pos+len(lit)]) != lit {
		r.failed = true
		return
	}
	r.pos += len(lit)
}

// Object starts an object (or a null, which reads as an empty object) and reports whether it
// has a first member, whose key Key returns; the value comes next.
func (r *Reader) Object() bool { return r.open('{', '}') && r.member() }

// Next ends a member and reports whether another follows (its key in Key).
func (r *Reader) Next() bool {
	switch r.peek() {
	case ',':
		r.pos++
		r.ws()
		return r.member()
	case '}':
		r.pos++
		r.depth--
		return false
	}
	r.failed = true
	return false
}

// member reads a key and its colon.
func (r *Reader) member() bool {
	if r.pos >= len(r.data) || r.data[r.pos] != '"' {
		r.failed = true
		return false
	}
	start := r.pos + 1
	i := start
	for ; i < len(r.data); i++ {
		c := r.data[i]
		if c == '"' {
			break
		}
		// Escapes and non-ASCII keys are left to encoding/json, which unquotes keys and folds
		// Unicode case (the Kelvin sign matches a k).
		if c < 0x20 || c == '\\' || c >= utf8.RuneSelf {
			r.failed = true
			return false
		}
	}
	if i >= len(r.data) {
		r.failed = true
		return false
	}
	r.key = r.data[start:i]
	r.pos = i + 1
	if r.peek() != ':' {
		r.failed = true
		return false
	}
	r.pos++
	return true
}

// Key is the current member's key, valid until the next member is read.
func (r *Reader) Key() []byte { return r.key }

// Array starts an array (or a null, which reads as empty) and reports whether it has a first
// element, which comes next.
func (r *Reader) Array() bool { return r.open('[', ']') }

// open starts a container opened by start and closed by end (or a null, which reads as an
// empty one) and reports whether it holds anything.
func (r *Reader) open(start, end byte) bool {
	switch r.peek() {
	case 'n':
		r.literal("null")
		return false
	case start:
	default:
		r.failed = true
		return false
	}
	r.pos++
	if r.depth++; r.depth > maxDepth {
		r.failed = true
		return false
	}
	if r.peek() == end {
		r.pos++
		r.depth--
		return false
	}
	return true
}

// NextElem ends an element and reports whether another follows.
func (r *Reader) NextElem() bool {
	switch r.peek() {
	case ',':
		r.pos++
		return true
	case ']':
		r.pos++
		r.depth--
		return false
	}
	r.failed = true
	return false
}

// Skip skips the value of a member whose key is not a field of fields (the names of the
// struct's fields, as their tags give them). A key that equals one of them but for ASCII case
// fails: encoding/json would decode it into that field.
func (r *Reader) Skip(fields []string) {
	for _, f := range fields {
		if bytes.EqualFold(r.key, []byte(f)) {
			r.failed = true
			return
		}
	}
	r.skip()
}

// Dup fails when bit is set in seen and sets it: a field given twice is left to
// encoding/json, which merges the second value into the first.
func (r *Reader) Dup(seen *uint64, bit uint) {
	if *seen&(1<<bit) != 0 {
		r.failed = true
	}
	*seen |= 1 << bit
}

// skip skips one value of any kind, checking its syntax.
func (r *Reader) skip() {
	switch c := r.peek(); {
	case c == '{':
		for more := r.Object(); more; more = r.Next() {
			r.skip()
		}
	case c == '[':
		for more := r.Array(); more; more = r.NextElem() {
			r.skip()
		}
	case c == '"':
		r.stringBytes()
	case c == 't':
		r.literal("true")
	case c == 'f':
		r.literal("false")
	case c == 'n':
		r.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		r.number()
	default:
		r.failed = true
	}
}

// Raw returns the bytes of the next value, as json.RawMessage holds them (a null as "null").
// They are the body's own bytes, valid as long as the body is.
func (r *Reader) Raw() []byte {
	if r.peek() == 0 {
		r.failed = true
		return nil
	}
	start := r.pos
	r.skip()
	if r.failed {
		return nil
	}
	return r.data[start:r.pos]
}

// number reads a number's literal (JSON's grammar) and returns it.
func (r *Reader) number() []byte {
	if r.peek() == 0 {
		r.failed = true
		return nil
	}
	d := r.data
	start, i := r.pos, r.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		r.failed = true
		return nil
	}
	if i < len(d) && d[i] == '.' {
		i++
		j := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		if i == j {
			r.failed = true
			return nil
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		j := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		if i == j {
			r.failed = true
			return nil
		}
	}
	r.pos = i
	return d[start:i]
}

// numberLit reads a number's literal, nil for a null or when it is no number (r fails then).
func (r *Reader) numberLit() []byte {
	if r.Null() {
		return nil
	}
	if c := r.peek(); c != '-' && (c < '0' || c > '9') {
		r.failed = true
		return nil
	}
	lit := r.number()
	if r.failed {
		return nil
	}
	return lit
}

// Int reads a number into an int as encoding/json does (an integer literal in range; a null
// is 0). A string, a fraction or an exponent fails.
func (r *Reader) Int() int {
	lit := r.numberLit()
	if lit == nil {
		return 0
	}
	n, err := strconv.ParseInt(string(lit), 10, strconv.IntSize)
	if err != nil {
		r.failed = true
		return 0
	}
	return int(n)
}

// Float reads a number into a float64 as encoding/json does (a null is 0).
func (r *Reader) Float() float64 {
	lit := r.numberLit()
	if lit == nil {
		return 0
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil {
		r.failed = true
		return 0
	}
	return f
}

// Bool reads true or false (a null is false).
func (r *Reader) Bool() bool {
	switch r.peek() {
	case 't':
		r.literal("true")
		return !r.failed
	case 'f':
		r.literal("false")
	case 'n':
		r.literal("null")
	default:
		r.failed = true
	}
	return false
}

// String reads a string as encoding/json does (escapes decoded, invalid UTF-8 and lone
// surrogates as U+FFFD; a null is ""). The string is a copy: it outlives the body.
func (r *Reader) String() string {
	b := r.StringBytes()
	if len(b) == 0 {
		return ""
	}
	return string(b)
}

// StringBytes is String without the copy: the bytes are valid until the next read (an
// unescaped string is the body's own bytes). A caller compares them with the values it
// expects, to keep its own constant instead of allocating.
func (r *Reader) StringBytes() []byte {
	if r.Null() {
		return nil
	}
	if r.peek() != '"' {
		r.failed = true
		return nil
	}
	return r.stringBytes()
}

// stringBytes reads the string that starts at pos.
func (r *Reader) stringBytes() []byte {
	d := r.data
	start := r.pos + 1
	i := start
	for i < len(d) {
		c := d[i]
		switch {
		case c == '"':
			r.pos = i + 1
			return d[start:i]
		case c == '\\':
			return r.unquote(start, i)
		case c < 0x20:
			r.failed = true
			return nil
		case c < utf8.RuneSelf:
			i++
		default:
			rr, size := utf8.DecodeRune(d[i:])
			if rr == utf8.RuneError && size == 1 {
				return r.unquote(start, i)
			}
			i += size
		}
	}
	r.failed = true
	return nil
}

// unquote decodes the string that starts at start, plain up to i, as encoding/json's
// unquoteBytes does, with the scanner's checks: the escapes JSON has, \u with four hex digits.
func (r *Reader) unquote(start, i int) []byte {
	d := r.data
	b := make([]byte, 0, i-start+64)
	b = append(b, d[start:i]...)
	for i < len(d) {
		c := d[i]
		switch {
		case c == '"':
			r.pos = i + 1
			return b
		case c < 0x20:
			r.failed = true
			return nil
		case c == '\\':
			i++
			if i >= len(d) {
				r.failed = true
				return nil
			}
			switch d[i] {
			case '"', '\\', '/':
				b = append(b, d[i])
				i++
			case 'b':
				b = append(b, '\b')
				i++
			case 'f':
				b = append(b, '\f')
				i++
			case 'n':
				b = append(b, '\n')
				i++
			case 'r':
				b = append(b, '\r')
				i++
			case 't':
				b = append(b, '\t')
				i++
			case 'u':
				rr := hex4(d[i+1:])
				if rr < 0 {
					r.failed = true
					return nil
				}
				i += 5
				if utf16.IsSurrogate(rr) {
					if len(d)-i >= 6 && d[i] == '\\' && d[i+1] == 'u' {
						if rr1 := hex4(d[i+2:]); rr1 >= 0 {
							if dec := utf16.DecodeRune(rr, rr1); dec != unicode.ReplacementChar {
								i += 6
								b = utf8.AppendRune(b, dec)
								break
							}
						}
					}
					rr = unicode.ReplacementChar
				}
				b = utf8.AppendRune(b, rr)
			default:
				r.failed = true
				return nil
			}
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			rr, size := utf8.DecodeRune(d[i:])
			i += size
			b = utf8.AppendRune(b, rr)
		}
	}
	r.failed = true
	return nil
}

// hex4 reads four hex digits, or returns -1.
func hex4(s []byte) rune {
	if len(s) < 4 {
		return -1
	}
	var r rune
	for _, c := range s[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}
