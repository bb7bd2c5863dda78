package whatsapp_test

import (
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/chatcampaigns/campaign/channels/whatsapp"
	"github.com/chatcampaigns/campaign/channels/whatsapp/graphtest"
)

// BenchmarkWebhookImmutable measures what Fiber's Immutable setting (every string and byte
// slice a handler reads is a copy, not a view of the reused request buffer) costs one signed
// webhook through the channel's handler, without the network and the store: the part of the
// path it changes. `campaign serve` runs with Immutable on (docs/performance.md).
func BenchmarkWebhookImmutable(b *testing.B) {
	body := graphtest.TextWebhook(testNumber, "31612345678", "Ann", "wamid.bench", "Let me in, I know the DJ")
	sig := graphtest.Sign(appSecret, body)
	for _, immutable := range []bool{false, true} {
		name := "mutable"
		if immutable {
			name = "immutable"
		}
		b.Run(name, func(b *testing.B) {
			r := newRig(b, func(c *whatsapp.Config) { c.Typing = false })
			app := fiber.New(fiber.Config{BodyLimit: 8 << 20, Immutable: immutable})
			r.ch.Mount(app)
			h := app.Handler()
			var req fasthttp.Request
			req.Header.SetMethod(fasthttp.MethodPost)
			req.SetRequestURI(whatsapp.WebhookPath)
			req.Header.SetContentType("application/json")
			req.Header.Set(whatsapp.SignatureHeader, sig)
			req.SetBody(body)
			var ctx fasthttp.RequestCtx
			b.ReportAllocs()
			for b.Loop() {
				ctx.Init(&req, nil, nil)
				h(&ctx)
				if ctx.Response.StatusCode() != fiber.StatusOK {
					b.Fatalf("status %d", ctx.Response.StatusCode())
				}
			}
		})
	}
}
