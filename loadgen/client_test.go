package loadgen

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// TestClientAfterTheServerRestarts: once the server's connections are gone, the next attempt
// after a broken one reaches the server on a new connection, however many idle connections
// the client kept (a prefill leaves up to Concurrency of them).
func TestClientAfterTheServerRestarts(t *testing.T) {
	// idle requests at once, each holding a connection until all have one: the server answers
	// only when every request has arrived.
	const idle = 16
	var arrived sync.WaitGroup
	arrived.Add(idle)
	all := make(chan struct{})
	go func() { arrived.Wait(); close(all) }()
	var filling atomic.Bool
	filling.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if filling.Load() {
			arrived.Done()
			<-all
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := newWebhookClient(ctx, srv.URL+"/webhooks/whatsapp", idle)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var sent sync.WaitGroup
	for range idle {
		sent.Go(func() {
			if status, err := c.poster().post([]byte("{}"), nil); err != nil || status != http.StatusOK {
				t.Errorf("filling the pool: %d, %v", status, err)
			}
		})
	}
	sent.Wait()
	if n := c.hc.ConnsCount(); n != idle {
		t.Fatalf("%d connections kept, want %d", n, idle)
	}
	filling.Store(false)
	srv.CloseClientConnections() // the crash: the listener stays, as a restarted server's would

	p := c.poster()
	attempts := 0
	for {
		attempts++
		status, err := p.post([]byte("{}"), nil)
		if err == nil && status == http.StatusOK {
			break
		}
		if err == nil {
			t.Fatalf("attempt %d: HTTP %d", attempts, status)
		}
		if attempts > idle {
			t.Fatalf("no answer after %d attempts", attempts)
		}
	}
	if attempts > 2 {
		t.Fatalf("%d attempts to reach the server again, want at most 2 (one on a dead connection)", attempts)
	}
}
