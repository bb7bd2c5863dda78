package engine_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/store/sqlite"
)

// bySender keeps the texts sent to each recipient, in the order they were sent.
type bySender struct {
	mu   sync.Mutex
	sent map[string][]string
}

func (s *bySender) Send(_ context.Context, out engine.Outbound) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent[out.To] = append(s.sent[out.To], out.Text)
	return fmt.Sprintf("w%d", out.ID), nil
}

// TestBatchedProcessingKeepsOrder applies interleaved messages of many participants (batched
// commits on SQLite, concurrent sends) and checks that each participant got exactly one reply
// per message, in the order the messages were stored.
func TestBatchedProcessingKeepsOrder(t *testing.T) {
	answer := onText("", "you said {{answer}}")
	answer.Save = &campaigns.Save{Var: "answer", As: "text"}
	d := def("order").state("chat", "Hi!", answer).build()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "order.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c := &clock{now: t0}
	eng := engine.New(engine.Config{Store: db, Campaigns: []*campaigns.Definition{d}, Now: c.Now,
		Rand: rand.New(rand.NewPCG(1, 2)), SendConcurrency: 4})
	sender := &bySender{sent: map[string][]string{}}
	eng.Handle("test", sender)
	const participants, messages = 150, 6
	for m := range messages {
		for p := range participants {
			in := engine.Inbound{Campaign: "order", Channel: "test", From: fmt.Sprint("p", p),
				PlatformID: fmt.Sprint("m", p, "-", m), Kind: engine.KindText, Text: fmt.Sprint("m", m)}
			if _, err := eng.Receive(t.Context(), in); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, work := range []func(context.Context) (int, error){eng.ProcessPending, eng.SendDue} {
		for {
			n, err := work(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
	}
	want := []string{"Hi!"}
	for m := 1; m < messages; m++ {
		want = append(want, fmt.Sprint("you said m", m))
	}
	for p := range participants {
		if got := sender.sent[fmt.Sprint("p", p)]; !slices.Equal(got, want) {
			t.Fatalf("replies to p%d = %q, want %q", p, got, want)
		}
	}
}
