package loadgen_test

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

	"github.com/chatcampaigns/campaign/internal/rawhttp"
	"github.com/chatcampaigns/campaign/loadgen"
)

// BenchmarkToolPerMessage measures the load tool's CPU per message: Run sends signed webhooks
// to a peer that plays the server as cheaply as it can (raw sockets, no HTTP library: it
// answers each webhook 200 and posts a read receipt and a reply to the tool's fake Graph API,
// shaped as the WhatsApp channel sends them), and the tool receives, decodes and matches
// both and judges the run. cpu-µs/msg is the process's CPU (user + system, from getrusage)
// over the messages: the tool's share plus the peer's, which is the same for every build of
// the tool. The closed loop runs 64 senders; the open loop 64 webhooks in flight, unpaced.
func BenchmarkToolPerMessage(b *testing.B) {
	for _, mode := range []struct {
		name string
		cfg  loadgen.Config
	}{
		{"closed", loadgen.Config{Senders: 64, Participants: 64}},
		{"open", loadgen.Config{Rate: 0, Concurrency: 64, Participants: 1000}},
	} {
		b.Run(mode.name, func(b *testing.B) {
			g, err := loadgen.StartGraph("127.0.0.1:0", loadgen.DefaultToken)
			if err != nil {
				b.Fatal(err)
			}
			defer g.Close()
			peer := startPeer(b, g)
			cfg := mode.cfg
			cfg.Server, cfg.Graph, cfg.Drain, cfg.RunID = peer, g, 10*time.Second, time.Now().UnixNano()
			// The open loop needs a message count; the closed loop stops at it.
			cfg.Messages = max(b.N, 1)
			b.ReportAllocs()
			b.ResetTimer()
			before := cpuTime()
			rep, err := loadgen.Run(context.Background(), cfg)
			cpu := cpuTime() - before
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			if !rep.OK() || rep.Sent != cfg.Messages {
				b.Fatalf("not OK: sent %d of %d, verdict %+v, errors %v", rep.Sent, cfg.Messages, rep.Verdict, rep.Errors)
			}
			b.ReportMetric(float64(cpu.Microseconds())/float64(rep.Sent), "cpu-µs/msg")
		})
	}
}

// cpuTime is the CPU this process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// startPeer serves the webhooks on loopback and returns its URL. Each webhook connection has
// a Graph API connection of its own, on which the read receipt and then the reply of each of
// its webhooks go once the webhook is answered.
func startPeer(b *testing.B, g *loadgen.Graph) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	graphAddr := g.APIURL[len("http://"):]
	graphAddr = graphAddr[:bytes.IndexByte([]byte(graphAddr), '/')]
	var wg sync.WaitGroup
	b.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { servePeer(b, c, graphAddr) })
		}
	})
	return "http://" + ln.Addr().String()
}

func servePeer(b *testing.B, c net.Conn, graphAddr string) {
	defer c.Close()
	gc, err := net.Dial("tcp", graphAddr)
	if err != nil {
		b.Error(err)
		return
	}
	defer gc.Close()
	in, gin := bufio.NewReader(c), bufio.NewReader(gc)
	var body, req []byte
	ok := []byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
	for {
		var err error
		if body, err = rawhttp.ReadMessage(in, body[:0]); err != nil {
			return
		}
		from, id := field(body, `"from":"`), field(body, `"id":"wamid`)
		if _, err := c.Write(ok); err != nil {
			return
		}
		read := append(append([]byte(`{"message_id":"wamid`), id...),
			`","messaging_product":"whatsapp","status":"read","typing_indicator":{"type":"text"}}`...)
		reply := append(append([]byte(`{"biz_opaque_callback_data":"123456","messaging_product":"whatsapp","recipient_type":"individual","text":{"body":"ok","preview_url":false},"to":"+`),
			from...), `","type":"text"}`...)
		for _, p := range [][]byte{read, reply} {
			req = append(req[:0], "POST /v23.0/"+loadgen.DefaultNumber+"/messages HTTP/1.1\r\nHost: "+graphAddr+
				"\r\nUser-Agent: Go-http-client/1.1\r\nContent-Length: "+strconv.Itoa(len(p))+
				"\r\nAuthorization: Bearer "+loadgen.DefaultToken+"\r\nContent-Type: application/json\r\nAccept-Encoding: gzip\r\n\r\n"...)
			req = append(req, p...)
			if _, err := gc.Write(req); err != nil {
				b.Error(err)
				return
			}
			if _, err := rawhttp.ReadMessage(gin, nil); err != nil {
				b.Error(err)
				return
			}
		}
	}
}

// field returns what follows prefix in body up to the next quote.
func field(body []byte, prefix string) []byte {
	i := bytes.Index(body, []byte(prefix))
	if i < 0 {
		return nil
	}
	rest := body[i+len(prefix):]
	return rest[:bytes.IndexByte(rest, '"')]
}
