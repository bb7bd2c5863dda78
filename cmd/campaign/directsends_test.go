package main

import (
	"io"
	"testing"
)

// TestNoDirectSendsFlag: direct sends are on unless --no-direct-sends.
func TestNoDirectSendsFlag(t *testing.T) {
	getenv := func(string) string { return "" }
	for _, tt := range []struct {
		args []string
		want bool
	}{
		{nil, false},
		{[]string{"--no-direct-sends"}, true},
		{[]string{"--no-direct-sends=false"}, false},
	} {
		cfg, err := configFromFlags(tt.args, io.Discard, getenv)
		if err != nil || cfg.NoDirectSends != tt.want {
			t.Errorf("%q: NoDirectSends %v (%v), want %v", tt.args, cfg.NoDirectSends, err, tt.want)
		}
	}
}
