package whatsapp_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/channels/metahook"
	"github.com/chatcampaigns/campaign/channels/whatsapp"
)

// BenchmarkParseWebhook measures ParseWebhook on testdata payloads: a text message (what
// every load-test message is), a batch of messages and a delivery status.
func BenchmarkParseWebhook(b *testing.B) {
	for _, name := range []string{"text", "batch", "status_delivered"} {
		body, err := os.ReadFile(filepath.Join("testdata", name+".json"))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			now := time.Unix(1767611600, 0)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := whatsapp.ParseWebhook(body, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkValidSignature measures the webhook's signature check on the text payload.
func BenchmarkValidSignature(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("testdata", "text.json"))
	if err != nil {
		b.Fatal(err)
	}
	sig := metahook.Sign(appSecret, body)
	b.ReportAllocs()
	for b.Loop() {
		if !metahook.ValidSignature(appSecret, body, sig) {
			b.Fatal("bad signature")
		}
	}
}
