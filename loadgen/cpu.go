package loadgen

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// CPU is what the measured phase cost in CPU time, the server's and the tool's, from the
// phase's first webhook until its last reply arrived (the drain), so the work of every
// message answered is in it. With both on the same cores, the two together are what a
// message costs the machine; the server's alone is what the "cost per message" is.
type CPU struct {
	// Span is the wall time measured over.
	Span time.Duration
	// Server is the server's process CPU over Span (its process_cpu_seconds_total on
	// /metrics); ServerErr says why it is not known (zero Server).
	Server    time.Duration
	ServerErr string
	// Tool is this process's CPU over Span (the fake Graph API included); ToolKnown is false
	// where the platform does not say.
	Tool      time.Duration
	ToolKnown bool
	// Messages is what the CPU is divided by: the measured messages answered.
	Messages int
}

// PerMessage returns d per message, 0 without messages.
func (c CPU) PerMessage(d time.Duration) time.Duration {
	if c.Messages == 0 {
		return 0
	}
	return d / time.Duration(c.Messages)
}

// Cores returns d as cores busy on average over Span.
func (c CPU) Cores(d time.Duration) float64 {
	if c.Span <= 0 {
		return 0
	}
	return d.Seconds() / c.Span.Seconds()
}

// String is the report's line.
func (c CPU) String() string {
	if c.Messages == 0 {
		return "no message answered to divide by"
	}
	var b strings.Builder
	if c.ServerErr != "" {
		fmt.Fprintf(&b, "server not read (%s)", c.ServerErr)
	} else {
		fmt.Fprintf(&b, "server %s a message (%.2f cores)", us(c.PerMessage(c.Server)), c.Cores(c.Server))
	}
	if c.ToolKnown {
		fmt.Fprintf(&b, ", load tool %s (%.2f cores)", us(c.PerMessage(c.Tool)), c.Cores(c.Tool))
	}
	fmt.Fprintf(&b, ", over %s and %s", c.Span.Round(time.Millisecond), count(c.Messages, "reply", "replies"))
	return b.String()
}

func us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d.Nanoseconds())/1e3) }

// cpuMeter reads both processes' CPU at the start of a span and again at its end.
type cpuMeter struct {
	metrics string // the server's /metrics URL
	client  *http.Client
	start   time.Time
	server  time.Duration
	srvErr  error
	tool    time.Duration
	toolOK  bool
}

func startCPU(ctx context.Context, server string) *cpuMeter {
	m := &cpuMeter{metrics: strings.TrimSuffix(server, "/") + "/metrics", client: &http.Client{Timeout: 5 * time.Second}}
	m.server, m.srvErr = m.readServer(ctx)
	m.tool, m.toolOK = processCPU()
	m.start = time.Now()
	return m
}

// stop reads the CPU again and returns the span's (Messages is the caller's to set).
func (m *cpuMeter) stop(ctx context.Context) CPU {
	c := CPU{Span: time.Since(m.start)}
	if tool, ok := processCPU(); ok && m.toolOK {
		c.Tool, c.ToolKnown = tool-m.tool, true
	}
	server, err := m.readServer(ctx)
	switch {
	case m.srvErr != nil:
		c.ServerErr = m.srvErr.Error()
	case err != nil:
		c.ServerErr = err.Error()
	case server < m.server:
		// The counter went back: the server restarted during the span (the crash mode's
		// kill), and what the dead process used is not known.
		c.ServerErr = "the server restarted during the load"
	default:
		c.Server = server - m.server
	}
	return c
}

// readServer returns the server's process_cpu_seconds_total. /metrics answers this machine
// without a token, and the load tool runs on the server's machine (loopback only).
func (m *cpuMeter) readServer(ctx context.Context) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.metrics, nil)
	if err != nil {
		return 0, err
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("GET /metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		return 0, fmt.Errorf("GET /metrics: %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	return parseProcessCPU(resp.Body)
}

// parseProcessCPU finds process_cpu_seconds_total in the Prometheus text format.
func parseProcessCPU(r io.Reader) (time.Duration, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || name != "process_cpu_seconds_total" {
			continue
		}
		// A sample may end in a timestamp after the value.
		value, _, _ = strings.Cut(strings.TrimSpace(value), " ")
		s, err := strconv.ParseFloat(value, 64)
		if err != nil || s < 0 || math.IsInf(s, 0) || math.IsNaN(s) {
			return 0, fmt.Errorf("/metrics: process_cpu_seconds_total %q is not a number of seconds", value)
		}
		return time.Duration(s * float64(time.Second)), nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read /metrics: %w", err)
	}
	return 0, fmt.Errorf("/metrics has no process_cpu_seconds_total")
}
