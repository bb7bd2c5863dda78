package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"

	"github.com/chatcampaigns/campaign/loadgen"
)

// blockProfileRate samples on average one blocking event per 10 µs spent blocked, and
// mutexProfileFraction one contended lock in 10: enough to rank the waits of a load run at a
// cost that did not show in its throughput.
const (
	blockProfileRate     = 10_000
	mutexProfileFraction = 10
)

// servePprof serves Go's profiler on addr, on its own listener so the profiles never share a
// port (or a middleware chain) with the app. Only loopback addresses are accepted, and a
// request relayed by a proxy needs the metrics token: a profile shows memory contents and the
// endpoints cost CPU.
func servePprof(addr string, e Exposure) (stop func(), err error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("--pprof %q: %w", addr, err)
	}
	if !loadgen.Loopback(host) {
		return nil, fmt.Errorf("--pprof %q: want a loopback address such as 127.0.0.1:6060", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: e.guardHTTP(mux)}
	// The block and mutex profiles (/debug/pprof/block, /debug/pprof/mutex) are empty unless
	// sampling is on: they are how to see where the server waits rather than computes
	// (docs/performance.md). Sampling costs a little on every contended lock and blocking
	// channel operation, so it is on only while the profiler is served.
	runtime.SetBlockProfileRate(blockProfileRate)
	runtime.SetMutexProfileFraction(mutexProfileFraction)
	go srv.Serve(ln)
	return func() {
		srv.Close()
		runtime.SetBlockProfileRate(0)
		runtime.SetMutexProfileFraction(0)
	}, nil
}
