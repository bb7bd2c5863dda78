package dashboard

import (
	"fmt"
	"mime"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/errs"
)

// serveMedia streams an entry's thumbnail or full media. The object key always comes from
// the stored entry, never from the URL, so a logged-in user can read only entries' media and
// not any object in the bucket.
func (d *Dashboard) serveMedia(thumb bool) fiber.Handler {
	what := "media"
	if thumb {
		what = "thumbnail"
	}
	return func(c *fiber.Ctx) error {
		ctx := c.UserContext()
		id := c.Params("id")
		e, err := d.judge.Entry(ctx, id)
		if err != nil {
			return fmt.Errorf("dashboard: %s of entry %s: %w", what, id, err)
		}
		key := e.MediaKey
		if thumb {
			key = thumbKey(e)
		}
		if key == "" {
			return fmt.Errorf("dashboard: %s of entry %s: %w: entry has none", what, id, errs.ErrNotFound)
		}
		body, ct, err := d.media.Open(ctx, key)
		if err != nil {
			return fmt.Errorf("dashboard: %s of entry %s: %w", what, id, err)
		}
		ct, inline := safeType(ct)
		c.Set(fiber.HeaderContentType, ct)
		c.Set(fiber.HeaderCacheControl, "private")
		if !inline {
			c.Set(fiber.HeaderContentDisposition, "attachment")
		}
		// fasthttp closes body once it has been sent.
		return c.SendStream(body)
	}
}

// safeType returns the content type to serve participant media with, and whether it may be
// shown inline. Participants choose what they upload, so only image, video and audio types
// are shown in the browser; anything else (HTML, SVG with scripts in it) is served as a
// download, so it can never run as a page on the dashboard's origin.
func safeType(ct string) (string, bool) {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "application/octet-stream", false
	}
	switch {
	case mt == "image/svg+xml":
		return "application/octet-stream", false
	case strings.HasPrefix(mt, "image/"), strings.HasPrefix(mt, "video/"), strings.HasPrefix(mt, "audio/"):
		return mt, true
	default:
		return "application/octet-stream", false
	}
}
