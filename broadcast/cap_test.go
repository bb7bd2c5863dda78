package broadcast_test

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/broadcast"
)

func TestParseFrequencyCap(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want broadcast.FrequencyCap
		bad  bool
	}{
		{in: "2/168h", want: broadcast.FrequencyCap{N: 2, Per: 168 * time.Hour}},
		{in: "1/7d", want: broadcast.FrequencyCap{N: 1, Per: 7 * 24 * time.Hour}},
		{in: " 5 / 2d12h ", want: broadcast.FrequencyCap{N: 5, Per: 60 * time.Hour}},
		{in: "off"}, {in: ""},
		{in: "0/1h", bad: true}, {in: "2/30m", bad: true}, {in: "2", bad: true}, {in: "/168h", bad: true},
		{in: "2/400d", bad: true}, {in: "1001/1h", bad: true}, {in: "two/1h", bad: true},
	} {
		got, err := broadcast.ParseFrequencyCap(tc.in)
		if tc.bad {
			if !errors.Is(err, broadcast.ErrFrequencyCap) {
				t.Errorf("%q: err = %v, want ErrFrequencyCap", tc.in, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
		if again, err := broadcast.ParseFrequencyCap(got.String()); err != nil || again != got {
			t.Errorf("%q: String %q reads back as %+v, %v", tc.in, got.String(), again, err)
		}
	}
}

// FuzzParseFrequencyCap: any text is a cap or ErrFrequencyCap, and a cap reads back the same.
func FuzzParseFrequencyCap(f *testing.F) {
	seeds, err := os.ReadFile("testdata/caps.txt")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range strings.Split(string(seeds), "\n") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := broadcast.ParseFrequencyCap(s)
		if err != nil {
			if !errors.Is(err, broadcast.ErrFrequencyCap) {
				t.Fatalf("%q: %v is not ErrFrequencyCap", s, err)
			}
			return
		}
		if c.IsZero() {
			return
		}
		if c.N < 1 || c.Per < time.Hour {
			t.Fatalf("%q: %+v", s, c)
		}
		if again, err := broadcast.ParseFrequencyCap(c.String()); err != nil || again != c {
			t.Fatalf("%q: %+v writes as %q, reads back %+v, %v", s, c, c.String(), again, err)
		}
	})
}
