package sqlite

import (
	"reflect"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/engine"
)

// TestPackedRoundTrip checks that a packed participant unpacks as a read of its row would
// give it back: every field, times in UTC without a monotonic reading, zero times zero, and
// a Vars map (empty rather than nil) that is the caller's own.
func TestPackedRoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 4, 20, 1, 2, 345678901, time.FixedZone("CET", 3600))
	tests := []struct {
		name string
		p    engine.Participant
	}{
		{"empty", engine.Participant{}},
		{"all fields", engine.Participant{
			ID: "a1b2c3", Campaign: "bouncer", Channel: "whatsapp", Address: "31612345678",
			State: "door", Vars: map[string]string{"name": "Sven", "": "empty key", "score": ""},
			Version: 1<<40 + 7, DefVersion: "eca91d71f88b5645", Entered: 12, Finished: true,
			LastInboundAt: at, LastReplyDue: at.Add(time.Second), CreatedAt: at.Add(-time.Hour),
			UpdatedAt: time.Now(), // with a monotonic reading, which the table drops
		}},
		{"negative and long", engine.Participant{
			ID: "x", State: string(make([]byte, 300)), Vars: map[string]string{"😀": "ünïcode"},
			Version: -1, Entered: -200, CreatedAt: time.Unix(0, -5),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.p
			for _, tm := range []*time.Time{&want.LastInboundAt, &want.LastReplyDue, &want.CreatedAt, &want.UpdatedAt} {
				*tm = fromUnixNano(unixNano(*tm))
			}
			if want.Vars == nil {
				want.Vars = map[string]string{}
			}
			p := pack(tt.p)
			got := p.unpack()
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("unpacked\n%+v\nwant\n%+v", got, want)
			}
			if p.id() != want.ID || p.version() != want.Version || p.updatedAt() != unixNano(want.UpdatedAt) {
				t.Fatalf("id %q version %d updated %d, want %q %d %d", p.id(), p.version(), p.updatedAt(),
					want.ID, want.Version, unixNano(want.UpdatedAt))
			}
			got.Vars["mine"] = "changed"
			if again := p.unpack(); again.Vars["mine"] != "" {
				t.Fatal("a caller's change to Vars reached the packed participant")
			}
		})
	}
}

// BenchmarkRouteCacheGC reports how long a full garbage collection takes with 100,000
// participants kept: the marking the server's webhooks wait behind under load.
func BenchmarkRouteCacheGC(b *testing.B) {
	c := newRouteCache()
	now := time.Now()
	for i := range 100_000 {
		id, address := "p"+strconv.Itoa(i), "316"+strconv.Itoa(i)
		_, _, ticket := c.get("whatsapp", address)
		c.put("whatsapp", address, []engine.Participant{{
			ID: id, Campaign: "echo", Channel: "whatsapp", Address: address, State: "chatting",
			Vars:    map[string]string{"name": "Sven", "last": "hello there " + id},
			Version: 3, DefVersion: "eca91d71f88b5645", LastInboundAt: now, CreatedAt: now, UpdatedAt: now,
		}}, ticket)
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for range b.N {
		runtime.GC()
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc)/1e6, "heap-MB")
	runtime.KeepAlive(c)
}
