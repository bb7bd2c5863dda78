package main

import (
	"context"
	"net"
	"regexp"
	"testing"
	"time"
)

var servingOn = regexp.MustCompile(`Serving on http://(\S+)`)

// TestServeExitsZeroOnSignal: Ctrl-C (the context main cancels on SIGINT or SIGTERM) shuts the
// server down and `campaign serve` exits 0, also while a browser holds a connection it opened
// ahead of time and has sent nothing on yet (browsers do; the shutdown waited for it until its
// deadline and exited 1, so `make run` ended with make's "Error 1").
func TestServeExitsZeroOnSignal(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &lockedWriter{}
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(),
			"--campaigns", "../../campaigns/examples/bouncer.yaml"}, out, out, func(string) string { return "" })
	}()
	var addr string
	for deadline := time.Now().Add(20 * time.Second); addr == ""; {
		if m := servingOn.FindStringSubmatch(out.String()); m != nil {
			addr = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("server did not start:\n%s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	time.Sleep(50 * time.Millisecond) // let the server accept it

	cancel()
	select {
	case c := <-code:
		if c != 0 {
			t.Errorf("exit code %d after the signal, want 0:\n%s", c, out.String())
		}
	case <-time.After(8 * time.Second):
		t.Fatalf("still shutting down 8 s after the signal:\n%s", out.String())
	}
}

// TestFailedFirstStartCreatesNoAdmin: a first start that fails (a short admin token, a port in
// use) creates no admin, so the start that succeeds creates it and shows its password. Before,
// the failed start had created "admin" with a password nobody ever saw.
func TestFailedFirstStartCreatesNoAdmin(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	data := t.TempDir()
	for _, bad := range []func(*Config){
		func(c *Config) { c.AdminToken = "short" },
		func(c *Config) { c.Addr = busy.Addr().String() },
	} {
		cfg := Config{Addr: "127.0.0.1:0", Data: data, Campaigns: []string{"../../campaigns/examples/bouncer.yaml"}}
		bad(&cfg)
		if srv, err := newServer(context.Background(), cfg); err == nil {
			srv.Close()
			t.Fatal("a bad configuration started")
		}
	}
	srv, _ := startServer(t, data)
	if srv.adminPassword == "" {
		t.Error("the first start that succeeded showed no admin password")
	}
}
