package campaigns_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chatcampaigns/campaign/campaigns"
)

// hunt is a definition with one place and one code pool, for the problem tables below.
const hunt = `id: demo
pools:
  vouchers: {codes: [A1, B2]}
start: a
states:
  a:
    say: Where are you?
    on:
      - location: {lat: 52.3731, lng: 4.8922, radius: 200m}
        outside: Not there yet
        take: vouchers
        full: b
        goto: b
  b:
    say: bye {{code}}
    final: true
`

func TestPlacesProblems(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"LatOutOfRange", r(hunt, "lat: 52.3731", "lat: 95", 1),
			"demo.yaml:9:25: location lat 95 must be between -90 and 90"},
		{"LngOutOfRange", r(hunt, "lng: 4.8922", "lng: -190", 1),
			"demo.yaml:9:39: location lng -190 must be between -180 and 180"},
		{"RadiusWithoutUnit", r(hunt, "radius: 200m", "radius: 200", 1),
			"demo.yaml:9:55: location radius \"200\" needs a unit: write it like 200m or 1.5km"},
		{"RadiusZero", r(hunt, "radius: 200m", "radius: 0m", 1),
			"demo.yaml:9:55: location radius must be above 0"},
		{"LatNotANumber", r(hunt, "lat: 52.3731", "lat: north", 1),
			"demo.yaml:9:25: location lat must be a number, not \"north\""},
		{"MissingRadius", r(hunt, ", radius: 200m", "", 1),
			"demo.yaml:9:19: location needs lat, lng and radius: the centre and how far from it counts (like {lat: 52.37, lng: 4.89, radius: 200m})"},
		{"OutsideWithoutArea", r(hunt, "{lat: 52.3731, lng: 4.8922, radius: 200m}", "true", 1),
			"demo.yaml:10:9: outside: only a location with a centre and radius has an outside"},
		{"CapacityAndCodes", r(hunt, "{codes: [A1, B2]}", "{capacity: 2, codes: [A1, B2]}", 1),
			"demo.yaml:3:14: pool \"vouchers\" has both capacity and codes; the capacity of a code pool is its number of codes"},
		{"DuplicateInlineCode", r(hunt, "[A1, B2]", "[A1, B2, a1]", 1),
			"demo.yaml:3:30: code \"a1\" is listed twice in pool \"vouchers\""},
		{"DuplicateInlineCodeSpaced", r(hunt, "[A1, B2]", "[A1, B2, \" a1 \"]", 1),
			"demo.yaml:3:30: code \"a1\" is listed twice in pool \"vouchers\""},
		{"NoCodes", r(hunt, "[A1, B2]", "[]", 1),
			"demo.yaml:3:21: pool \"vouchers\" has no codes"},
		{"CodeWithoutCodePool", r(r(hunt, "{codes: [A1, B2]}", "{capacity: 2}", 1), "bye {{code}}", "bye {{code}}", 1),
			"demo.yaml:15:14: {{code}} is never set: no transition has issue_code: true or takes from a pool of codes"},
		{"StateFallbackLanguage", r(hunt, "    say: bye", "    fallback: {de: Wie bitte}\n    say: bye", 1),
			"demo.yaml:15:16: fallback of state \"b\": language \"de\" is not in languages (en)"},
		{"TitleOfNoChoice", r(hunt, "bye {{code}}", "bye {{code}} {{x_title}}", 1),
			"demo.yaml:15:23: {{x_title}} is never set; known variables: name, persona, code, places_left, lat, lng, distance"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, probs := campaigns.Parse("demo.yaml", []byte(tt.src))
			var got []string
			for _, p := range probs {
				got = append(got, p.String())
			}
			if !strings.Contains(strings.Join(got, "\n"), tt.want) {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), tt.want)
			}
		})
	}
}

func TestPlacesCompile(t *testing.T) {
	src := r(hunt, "    say: Where are you?\n", "    say:\n      text: Pick one\n      buttons: [{id: red, title: Red wine}]\n    fallback: Share your location, please.\n", 1)
	src = r(src, "        goto: b\n", "        goto: b\n      - choice: [red]\n        save: {var: colour}\n        goto: b\n", 1)
	src = r(src, "bye {{code}}", "bye {{code}} {{colour}} {{colour_title}} {{lat}},{{lng}} {{distance}}", 1)
	def, probs := campaigns.Parse("demo.yaml", []byte(src))
	if def == nil || len(probs) > 0 {
		t.Fatalf("want no problem, got %v", probs)
	}
	a := def.States["a"]
	if a.Fallback.In("en", "en") != "Share your location, please." {
		t.Errorf("state fallback = %v", a.Fallback)
	}
	loc := a.On[0]
	if loc.Area == nil || loc.Area.Lat != 52.3731 || loc.Area.Lng != 4.8922 || loc.Area.Radius != 200 || loc.Outside.In("en", "en") != "Not there yet" {
		t.Fatalf("location transition = %+v area %+v", loc, loc.Area)
	}
	if p := def.Pools["vouchers"]; !p.HasCodes() || strings.Join(p.Codes, ",") != "A1,B2" || p.Capacity != 2 {
		t.Errorf("pool = %+v", p)
	}
	km, _ := campaigns.Parse("demo.yaml", []byte(r(hunt, "radius: 200m", "radius: 1.5km", 1)))
	if km == nil || km.States["a"].On[0].Area.Radius != 1500 {
		t.Errorf("1.5km did not parse as 1500 m")
	}
}

func TestAreaDistance(t *testing.T) {
	dam := campaigns.Area{Lat: 52.3731, Lng: 4.8922, Radius: 200}
	tests := []struct {
		name     string
		lat, lng float64
		want     float64 // metres, within 1%
		inside   bool
	}{
		{"Centre", 52.3731, 4.8922, 0, true},
		{"CentraalStation", 52.3791, 4.9003, 860, false},
		{"100mNorth", 52.3731 + 100/111195.0, 4.8922, 100, true},
		{"Utrecht", 52.0907, 5.1214, 35300, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := dam.Distance(tt.lat, tt.lng)
			if math.Abs(got-tt.want) > tt.want*0.01+1 {
				t.Errorf("distance = %.0f m, want about %.0f m", got, tt.want)
			}
			if dam.Contains(tt.lat, tt.lng) != tt.inside {
				t.Errorf("inside = %v, want %v", !tt.inside, tt.inside)
			}
		})
	}
}

func TestCodesFile(t *testing.T) {
	def := r(hunt, "{codes: [A1, B2]}", "{codes: codes.txt}", 1)
	tests := []struct {
		name, codes string
		want        string // a problem, or the codes loaded (comma-separated)
	}{
		{"Loaded", "# partner codes\nA1\n\n  B2  \n# done\nC3\n", "A1,B2,C3"},
		{"Duplicate", "A1\nB2\n\na1\n", "codes.txt:4:1: code \"a1\" is listed twice (first on line 1)"},
		{"Empty", "# nothing yet\n\n", "demo.yaml:3:21: pool \"vouchers\" has no codes: codes.txt lists none"},
		// Saved by Excel or Notepad on Windows: a byte order mark and CRLF line ends are no part
		// of any code.
		{"WindowsFile", "\ufeffA1\r\nB2 \r\n\r\nC3\r\n", "A1,B2,C3"},
		{"ByteOrderMarkDuplicate", "\ufeffA1\r\nB2\r\na1\r\n", "codes.txt:3:1: code \"a1\" is listed twice (first on line 1)"},
		{"UTF16", "\xff\xfeA\x001\x00\r\x00\n\x00", "codes.txt:1:1: the codes file is not UTF-8 text (it looks like UTF-16): save it as UTF-8"},
		{"NotText", "A1\nB\x002\n", "codes.txt:2:1: this line is not UTF-8 text: save the codes file as UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"demo.yaml": def, "codes.txt": tt.codes})
			d, probs := campaigns.LoadFile(filepath.Join(dir, "demo.yaml"))
			got := strings.ReplaceAll(probs.Error(), dir+string(filepath.Separator), "")
			if d != nil {
				got = strings.Join(d.Pools["vouchers"].Codes, ",")
				if d.Pools["vouchers"].Capacity != len(d.Pools["vouchers"].Codes) {
					t.Errorf("capacity %d for %d codes", d.Pools["vouchers"].Capacity, len(d.Pools["vouchers"].Codes))
				}
			}
			if !strings.Contains(got, tt.want) || d != nil && got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("Missing", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{"demo.yaml": def})
		_, probs := campaigns.LoadFile(filepath.Join(dir, "demo.yaml"))
		if want := "demo.yaml:3:21: pool \"vouchers\": codes file \"codes.txt\" cannot be read"; !strings.Contains(probs.Error(), want) {
			t.Errorf("got %v, want %q", probs, want)
		}
	})
	t.Run("Endless", func(t *testing.T) {
		// A device or a pipe has no size to check beforehand: reading stops at the limit.
		if _, err := os.Stat("/dev/zero"); err != nil {
			t.Skip("no /dev/zero here")
		}
		dir := writeFiles(t, map[string]string{"demo.yaml": r(def, "codes.txt", "/dev/zero", 1)})
		_, probs := campaigns.LoadFile(filepath.Join(dir, "demo.yaml"))
		if want := fmt.Sprintf("demo.yaml:3:21: pool \"vouchers\": codes file \"/dev/zero\" cannot be read: it is more than %d bytes", campaigns.MaxCodesFileSize); !strings.Contains(probs.Error(), want) {
			t.Errorf("got %v, want %q", probs, want)
		}
	})
	t.Run("AsBytes", func(t *testing.T) {
		// A definition sent as bytes (a launch) comes without its files: the pool names the
		// file, and the engine finds the codes in the store.
		d, probs := campaigns.Parse("demo.yaml", []byte(def))
		if d == nil || len(probs) > 0 {
			t.Fatalf("got %v", probs)
		}
		if p := d.Pools["vouchers"]; !p.HasCodes() || p.CodesFile != "codes.txt" || p.Codes != nil {
			t.Errorf("pool = %+v", p)
		}
	})
}

// TestPlacesShadowing: two places in one state are two answers; a place after location: true
// never fires.
func TestPlacesShadowing(t *testing.T) {
	two := r(hunt, "        goto: b\n", "        goto: b\n      - location: {lat: 52.3752, lng: 4.8840, radius: 100m}\n        goto: b\n", 1)
	if _, probs := campaigns.Parse("demo.yaml", []byte(two)); len(probs) > 0 {
		t.Errorf("two places in a state: %v", probs)
	}
	same := r(hunt, "        goto: b\n", "        goto: b\n      - location: {lat: 52.3731, lng: 4.8922, radius: 0.2km}\n        goto: b\n", 1)
	_, probs := campaigns.Parse("demo.yaml", []byte(same))
	if want := `demo.yaml:14:9: warning: never fires: transition 1 of state "a" already answers a location within 200 m of 52.3731,4.8922`; probs.Error() != want {
		t.Errorf("the same place twice: got %v, want %s", probs, want)
	}
	after := r(hunt, "      - location: {", "      - location: true\n        goto: b\n      - location: {", 1)
	_, probs = campaigns.Parse("demo.yaml", []byte(after))
	if want := `demo.yaml:11:9: warning: never fires: transition 1 of state "a" already answers any location`; probs.Error() != want {
		t.Errorf("a place after any location: got %v, want %s", probs, want)
	}
}
