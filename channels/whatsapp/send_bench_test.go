package whatsapp_test

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/channels/whatsapp"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/internal/rawhttp"
)

// BenchmarkSend measures one text reply (Send) through the channel's own HTTP client (on each
// of its paths, benchRequests) to a
// loopback Graph API that costs as little as it can (raw sockets, a canned answer), 32 at
// once as the engine's sender sends; BenchmarkMarkRead the same for read receipts with the
// typing indicator, and BenchmarkSendAndMarkRead both at once, as under load. cpu-µs/op is
// the process's CPU (user + system, getrusage) per request, the fake's share included.
func BenchmarkSend(b *testing.B) {
	benchRequests(b, func(ctx context.Context, ch *whatsapp.Channel, i int) error {
		_, err := ch.Send(ctx, benchReply)
		return err
	})
}

func BenchmarkMarkRead(b *testing.B) {
	benchRequests(b, func(ctx context.Context, ch *whatsapp.Channel, i int) error {
		return ch.MarkRead(ctx, "wamid.HBgLMzE2MTIzNDU2NzgVAgASGBQzQUI1", true)
	})
}

func BenchmarkSendAndMarkRead(b *testing.B) {
	benchRequests(b, func(ctx context.Context, ch *whatsapp.Channel, i int) error {
		if i%2 == 0 {
			return ch.MarkRead(ctx, "wamid.HBgLMzE2MTIzNDU2NzgVAgASGBQzQUI1", true)
		}
		_, err := ch.Send(ctx, benchReply)
		return err
	})
}

// benchReply is what the load campaign answers: a short text.
var benchReply = engine.Outbound{ID: 123456, Campaign: "echo", To: "31600000042",
	Text: "You said: hello 42", LastInboundAt: time.Now()}

// benchRequests runs do on each of the channel's two paths: client=fasthttp is the channel's
// own client (the default), client=nethttp what a proxy or a caller's HTTPClient gets.
func benchRequests(b *testing.B, do func(ctx context.Context, ch *whatsapp.Channel, i int) error) {
	for _, path := range []struct {
		name    string
		netHTTP bool
	}{{"fasthttp", false}, {"nethttp", true}} {
		b.Run("client="+path.name, func(b *testing.B) {
			cfg := whatsapp.Config{AccessToken: "token", AppSecret: appSecret,
				VerifyToken: verifyToken, PhoneNumberID: testNumber, RateLimit: 1e9, Burst: 1 << 20}
			if path.netHTTP {
				whatsapp.NetHTTPOnly(&cfg)
			}
			benchOn(b, cfg, do)
		})
	}
}

func benchOn(b *testing.B, cfg whatsapp.Config, do func(ctx context.Context, ch *whatsapp.Channel, i int) error) {
	cfg.APIURL = startCannedGraph(b) + "/v23.0"
	ch, err := whatsapp.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	// Warm the connections up, so that what is measured is the requests, not the dials.
	var warm sync.WaitGroup
	for i := range 64 {
		warm.Go(func() {
			if err := do(ctx, ch, i); err != nil {
				b.Error(err)
			}
		})
	}
	warm.Wait()
	b.SetParallelism(16) // 32 goroutines on the two cores
	b.ReportAllocs()
	b.ResetTimer()
	before := cpuTime()
	var n sync.Mutex
	k := 0
	b.RunParallel(func(pb *testing.PB) {
		n.Lock()
		i := k
		k++
		n.Unlock()
		for pb.Next() {
			if err := do(ctx, ch, i); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-before).Nanoseconds())/1e3/float64(b.N), "cpu-µs/op")
}

// cpuTime is the CPU this process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// startCannedGraph serves POST …/messages on loopback with the platform's answers, canned:
// a message id for a send, success for a read receipt. It returns its base URL.
func startCannedGraph(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	b.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close() // the channel's idle connections, which it would keep open
		}
		mu.Unlock()
		wg.Wait()
	})
	sent := cannedAnswer(`{"messaging_product":"whatsapp","contacts":[{"input":"+31600000042","wa_id":"31600000042"}],"messages":[{"id":"wamid.HBgLMzE2MDAwMDAwNDIVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"}]}`)
	read := cannedAnswer(`{"success":true}`)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				r := bufio.NewReader(c)
				var body []byte
				for {
					if body, err = rawhttp.ReadMessage(r, body[:0]); err != nil {
						return
					}
					answer := sent
					if bytes.Contains(body, []byte(`"status":"read"`)) {
						answer = read
					}
					if _, err := c.Write(answer); err != nil {
						return
					}
				}
			})
		}
	})
	return "http://" + ln.Addr().String()
}

func cannedAnswer(body string) []byte {
	return []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=UTF-8\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body)
}
