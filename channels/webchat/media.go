package webchat

import (
	"context"
	"errors"
	"io"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/errs"
)

// handleMedia serves a participant's own photos, videos and voice notes to them, and nothing else: a key outside
// "<campaign>/<participant>/" is answered exactly like a missing one.
func (c *Channel) handleMedia(ctx *fiber.Ctx) error {
	def, ok := c.campaign(ctx)
	if !ok {
		return ctx.SendStatus(fiber.StatusNotFound)
	}
	browser, err := c.browserID(ctx, false)
	if err != nil || browser == "" {
		return ctx.SendStatus(fiber.StatusNotFound)
	}
	key, err := url.PathUnescape(ctx.Params("*"))
	if err != nil {
		return ctx.SendStatus(fiber.StatusNotFound)
	}
	key = strings.Clone(key)
	p, err := c.partyOf(ctx.UserContext(), def, browser)
	if err != nil || p.pid == "" {
		return ctx.SendStatus(fiber.StatusNotFound)
	}
	// A team's photos are the team's: every member may see them.
	prefix := def.ID + "/" + p.pid + "/"
	if !strings.HasPrefix(key, prefix) || len(key) == len(prefix) || path.Clean(key) != key {
		return ctx.SendStatus(fiber.StatusNotFound)
	}
	// The body is written after the handler returns, so the context lives until it is
	// closed, not until the handler ends.
	octx, cancel := context.WithTimeout(context.Background(), mediaTimeout)
	body, contentType, err := c.media.Open(octx, key)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		cancel()
		return ctx.SendStatus(fiber.StatusNotFound)
	case err != nil:
		cancel()
		c.log.Error("webchat: open media", "key", key, "err", err)
		return ctx.SendStatus(fiber.StatusInternalServerError)
	}
	if !playable(contentType) {
		// Only raster photos, videos and recordings are stored here; anything else is
		// downloaded, never rendered.
		contentType = "application/octet-stream"
	}
	ctx.Set(fiber.HeaderContentType, contentType)
	ctx.Set(fiber.HeaderCacheControl, "private, max-age=3600")
	ctx.Set("X-Content-Type-Options", "nosniff")
	ctx.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	// fasthttp closes the body once it is written, also when the client is gone.
	return ctx.SendStream(cancelOnClose{ReadCloser: body, cancel: cancel})
}

// playable reports whether a stored type may be shown in the page: a raster image, a video or
// a recording, never SVG (which can hold script).
func playable(contentType string) bool {
	ct := strings.ToLower(contentType)
	return (strings.HasPrefix(ct, "image/") || strings.HasPrefix(ct, "video/") || strings.HasPrefix(ct, "audio/")) &&
		!strings.Contains(ct, "svg")
}

// mediaTimeout bounds how long one photo may take to reach the browser.
const mediaTimeout = 2 * time.Minute

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	defer c.cancel()
	return c.ReadCloser.Close()
}
