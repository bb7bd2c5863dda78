package loadgen

import (
	"strings"
	"testing"
	"time"
)

func TestParseProcessCPU(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       time.Duration
		err        string
	}{
		{"plain", "# HELP process_cpu_seconds_total x\nprocess_cpu_seconds_total 12.5\n", 12500 * time.Millisecond, ""},
		{"exponent", "process_cpu_seconds_total 1.25e+01\n", 12500 * time.Millisecond, ""},
		{"timestamp", "process_cpu_seconds_total 3 1700000000000\n", 3 * time.Second, ""},
		{"among others", "go_goroutines 40\nprocess_cpu_seconds_total_other 9\nprocess_cpu_seconds_total 0.02\nprocess_max_fds 5\n", 20 * time.Millisecond, ""},
		{"missing", "go_goroutines 40\n", 0, "no process_cpu_seconds_total"},
		{"not a number", "process_cpu_seconds_total lots\n", 0, `"lots" is not a number`},
		{"negative", "process_cpu_seconds_total -1\n", 0, "not a number of seconds"},
		{"NaN", "process_cpu_seconds_total NaN\n", 0, "not a number of seconds"},
		{"empty", "", 0, "no process_cpu_seconds_total"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseProcessCPU(strings.NewReader(tc.text))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, %v; want an error with %q", got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestCPULine(t *testing.T) {
	for _, tc := range []struct {
		name string
		cpu  CPU
		want string
	}{
		{"both", CPU{Span: 10 * time.Second, Server: 12 * time.Second, Tool: 4 * time.Second, ToolKnown: true, Messages: 40000},
			"server 300 µs a message (1.20 cores), load tool 100 µs (0.40 cores), over 10s and 40000 replies"},
		{"server unread", CPU{Span: 2 * time.Second, ServerErr: "the server restarted during the load", Tool: time.Second, ToolKnown: true, Messages: 1},
			"server not read (the server restarted during the load), load tool 1000000 µs (0.50 cores), over 2s and 1 reply"},
		{"tool unknown", CPU{Span: time.Second, Server: time.Second, Messages: 2},
			"server 500000 µs a message (1.00 cores), over 1s and 2 replies"},
		{"nothing answered", CPU{Span: time.Second, Server: time.Second}, "no message answered to divide by"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.cpu.String(); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}
