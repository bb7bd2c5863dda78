package campaigns

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Area is a circle on the map: a centre and a radius in metres.
type Area struct {
	Lat, Lng float64
	Radius   float64
}

// earthRadius is the mean radius of the earth in metres, the one the haversine formula uses.
const earthRadius = 6371008.8

// Distance is how far (lat, lng) is from the area's centre in metres, along the earth's
// surface (haversine: exact enough for a few hundred metres and for a country alike).
func (a Area) Distance(lat, lng float64) float64 {
	rad := math.Pi / 180
	dLat := (lat - a.Lat) * rad
	dLng := (lng - a.Lng) * rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) +
		math.Cos(a.Lat*rad)*math.Cos(lat*rad)*math.Sin(dLng/2)*math.Sin(dLng/2)
	return 2 * earthRadius * math.Asin(math.Min(1, math.Sqrt(h)))
}

// String says where the area is, as a diagram or the dashboard shows it: "within 200 m of
// 52.3731,4.8922".
func (a Area) String() string {
	r := strconv.FormatFloat(a.Radius, 'f', -1, 64) + " m"
	if a.Radius >= 1000 {
		r = strconv.FormatFloat(a.Radius/1000, 'f', -1, 64) + " km"
	}
	return "within " + r + " of " + strconv.FormatFloat(a.Lat, 'f', -1, 64) + "," + strconv.FormatFloat(a.Lng, 'f', -1, 64)
}

// Contains reports whether (lat, lng) is within the radius of the centre.
func (a Area) Contains(lat, lng float64) bool { return a.Distance(lat, lng) <= a.Radius }

// AsksLocation reports whether some transition of the campaign answers a shared location, so
// a chat page offers a way to share one.
func (d *Definition) AsksLocation() bool {
	for _, st := range d.States {
		for _, t := range st.On {
			if t.Kind == OnLocation {
				return true
			}
		}
	}
	return false
}

// MatchLocation reports whether a shared location fires t.
func (t *Transition) MatchLocation(lat, lng float64) bool {
	return t.Kind == OnLocation && (t.Area == nil || t.Area.Contains(lat, lng))
}

var radiusRe = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)\s*(m|km)$`)

// area reads a location trigger's centre and radius.
func (p *parser) area(f field) *Area {
	fs := p.mapping(f.val, "location", "lat", "lng", "radius")
	if fs == nil {
		return nil
	}
	a := &Area{}
	ok := true
	// The keys that are there are checked even when one is missing: all in one run.
	for _, k := range []string{"lat", "lng", "radius"} {
		if _, there := fs[k]; !there {
			p.errf(f.val, "location needs lat, lng and radius: the centre and how far from it counts (like {lat: 52.37, lng: 4.89, radius: 200m})")
			ok = false
			break
		}
	}
	for _, c := range []struct {
		key   string
		limit float64
		out   *float64
	}{{"lat", 90, &a.Lat}, {"lng", 180, &a.Lng}} {
		g, there := fs[c.key]
		if !there {
			continue
		}
		s := p.str(g, "location "+c.key)
		if s == "" {
			ok = false
			continue
		}
		x, err := strconv.ParseFloat(s, 64)
		switch {
		case err != nil || math.IsNaN(x):
			p.errf(g.val, "location %s must be a number, not %q", c.key, s)
			ok = false
		case x < -c.limit || x > c.limit:
			p.errf(g.val, "location %s %s must be between %g and %g", c.key, s, -c.limit, c.limit)
			ok = false
		default:
			*c.out = x
		}
	}
	if g, there := fs["radius"]; !there {
		ok = false
	} else if s := p.str(g, "location radius"); s != "" {
		m := radiusRe.FindStringSubmatch(strings.ToLower(strings.TrimSpace(s)))
		if m == nil {
			p.errf(g.val, "location radius %q needs a unit: write it like 200m or 1.5km", s)
			ok = false
		} else {
			x, _ := strconv.ParseFloat(m[1], 64)
			if m[2] == "km" {
				x *= 1000
			}
			if x <= 0 {
				p.errf(g.val, "location radius must be above 0")
				ok = false
			}
			a.Radius = x
		}
	} else {
		ok = false
	}
	if !ok {
		return nil
	}
	return a
}

// codes reads a pool's codes: a list in the definition, or the name of a file of them.
func (p *parser) poolCodes(pool *Pool, g field) {
	pool.node = g.val
	if g.val.Kind == yaml.ScalarNode {
		pool.CodesFile = p.str(g, fmt.Sprintf("pool %q codes", pool.Name))
		if pool.CodesFile != "" && p.dir != "" {
			p.readCodes(pool)
		}
		return
	}
	if g.val.Kind != yaml.SequenceNode {
		p.errf(g.val, "pool %q codes must be a list of codes, or the name of a file with one code a line", pool.Name)
		return
	}
	pool.Codes = []string{}
	seen := map[string]bool{}
	for _, n := range g.val.Content {
		code := trimCode(p.str(field{val: n}, fmt.Sprintf("a code of pool %q", pool.Name)))
		if code == "" {
			continue
		}
		if k := strings.ToLower(code); seen[k] {
			p.errf(n, "code %q is listed twice in pool %q", code, pool.Name)
			continue
		} else {
			seen[k] = true
		}
		pool.Codes = append(pool.Codes, code)
	}
	if len(pool.Codes) == 0 && len(g.val.Content) == 0 {
		p.errf(g.val, "pool %q has no codes", pool.Name)
	}
}

// ParseCodes reads a file of codes: one code a line; blank lines and lines starting with # are
// skipped, and the spaces around a code. A code listed twice (case does not count) is a
// problem at its line, named after file. A file saved on Windows reads as any other: its
// byte order mark and CRLF line ends are no part of a code. A file that is not UTF-8 text (a
// spreadsheet saved as "Unicode text" is UTF-16) is refused at its first such line rather
// than stored as codes nobody can type.
func ParseCodes(file string, src []byte) ([]string, Problems) {
	codes := []string{}
	var probs Problems
	if bytes.HasPrefix(src, []byte{0xFF, 0xFE}) || bytes.HasPrefix(src, []byte{0xFE, 0xFF}) {
		return codes, Problems{{File: file, Line: 1, Col: 1,
			Msg: "the codes file is not UTF-8 text (it looks like UTF-16): save it as UTF-8"}}
	}
	first := map[string]int{}
	no := 0
	for line := range strings.Lines(string(src)) {
		no++
		if !utf8.ValidString(line) || strings.ContainsRune(line, 0) {
			return codes, append(probs, Problem{File: file, Line: no, Col: 1,
				Msg: "this line is not UTF-8 text: save the codes file as UTF-8"})
		}
		code := trimCode(line)
		if code == "" || strings.HasPrefix(code, "#") {
			continue
		}
		k := strings.ToLower(code)
		if at, ok := first[k]; ok {
			probs = append(probs, Problem{File: file, Line: no, Col: 1,
				Msg: fmt.Sprintf("code %q is listed twice (first on line %d)", code, at)})
			continue
		}
		first[k] = no
		codes = append(codes, code)
	}
	return codes, probs
}

// trimCode is a code without the spaces around it, nor a byte order mark (which a file saved
// on Windows starts with, and files joined together hold in the middle).
func trimCode(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return r == '\ufeff' || unicode.IsSpace(r) })
}

// SetCodes gives a pool of codes whose file did not come with its definition (a launch sends
// the file beside it) its codes.
func (p *Pool) SetCodes(codes []string) {
	p.Codes = codes
	p.Capacity = len(codes)
}

// MaxCodesFileSize bounds a file of codes: a million codes of a dozen characters.
const MaxCodesFileSize = 16 << 20

// readLimited reads the file at path, of at most limit bytes. It reads one byte past the
// limit rather than trusting Stat: a device or a pipe (codes: /dev/zero) has no size, and
// would otherwise be read until memory runs out.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && info.Size() > limit {
		return nil, fmt.Errorf("it is %d bytes, more than %d", info.Size(), limit)
	}
	src, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(src)) > limit {
		return nil, fmt.Errorf("it is more than %d bytes", limit)
	}
	return src, nil
}

// readCodes reads the pool's codes file: one code a line, blank lines and # comments skipped.
// Codes are compared without case, as a participant reading one aloud would.
func (p *parser) readCodes(pool *Pool) {
	path := pool.CodesFile
	if !filepath.IsAbs(path) {
		path = filepath.Join(p.dir, path)
	}
	src, err := readLimited(path, MaxCodesFileSize)
	if err != nil {
		p.errf(pool.node, "pool %q: codes file %q cannot be read: %v", pool.Name, pool.CodesFile, err)
		return
	}
	codes, probs := ParseCodes(path, src)
	p.probs = append(p.probs, probs...)
	pool.Codes = codes
	if len(pool.Codes) == 0 {
		p.errf(pool.node, "pool %q has no codes: %s lists none", pool.Name, pool.CodesFile)
	}
}
