package dashboard

import (
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/reports"
)

// FuzzParseCursor: a page position from a URL either reads back as the cursor it was written
// from or is refused as invalid; it never panics.
func FuzzParseCursor(f *testing.F) {
	for _, s := range []string{"", "1764600000000000000.p000123", "0.x", ".", "12", "-5.a.b", "9999999999999999999.x", "1.\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseCursor(s)
		if err != nil {
			return
		}
		if s == "" {
			if !c.IsZero() {
				t.Fatalf("empty position gave %+v", c)
			}
			return
		}
		again, err := parseCursor(cursorParam(c))
		if err != nil || !again.At.Equal(c.At) || again.ID != c.ID {
			t.Fatalf("%q → %+v → %q → %+v, %v", s, c, cursorParam(c), again, err)
		}
	})
}

func TestCursorRoundTrip(t *testing.T) {
	c := reports.Cursor{At: time.Date(2026, 3, 1, 20, 0, 0, 5, time.UTC), ID: "p.1"}
	got, err := parseCursor(cursorParam(c))
	if err != nil || !got.At.Equal(c.At) || got.ID != c.ID {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
}
