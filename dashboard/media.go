package dashboard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"path"
	"strconv"
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
		return d.sendObject(c, key, fmt.Sprintf("%s of entry %s", what, id))
	}
}

// RangeMedia is what a media store offers to serve part of an object; *media.Store has it. With
// it, videos and recordings are served with Range support (a browser seeks in a video by
// asking for the part it jumps to); without it they are served whole.
type RangeMedia interface {
	// OpenRange returns bytes start to end (inclusive; an end past the object is its last
	// byte), the type and the object's total size; errors wrap errs.ErrNotFound, or
	// errs.ErrInvalid for a start past the end (media.ErrRange).
	OpenRange(ctx context.Context, key string, start, end int64) (body io.ReadCloser, contentType string, size int64, err error)
}

// sendObject streams a stored object with the type it may be shown as; what names it in errors.
func (d *Dashboard) sendObject(c *fiber.Ctx, key, what string) error {
	ctx := c.UserContext()
	if rm, ok := d.media.(RangeMedia); ok {
		if start, end, ok := parseRange(c.Get(fiber.HeaderRange)); ok {
			body, ct, size, err := rm.OpenRange(ctx, key, start, end)
			if errors.Is(err, errs.ErrInvalid) {
				return c.SendStatus(fiber.StatusRequestedRangeNotSatisfiable)
			}
			if err != nil {
				return fmt.Errorf("dashboard: %s: %w", what, err)
			}
			end = min(end, size-1)
			d.mediaHeaders(c, ct)
			c.Set(fiber.HeaderAcceptRanges, "bytes")
			c.Set(fiber.HeaderContentRange, fmt.Sprintf("bytes %d-%d/%d", start, end, size))
			c.Status(fiber.StatusPartialContent)
			return c.SendStream(body, int(end-start+1))
		}
	}
	body, ct, err := d.media.Open(ctx, key)
	if err != nil {
		return fmt.Errorf("dashboard: %s: %w", what, err)
	}
	d.mediaHeaders(c, ct)
	if _, ok := d.media.(RangeMedia); ok {
		c.Set(fiber.HeaderAcceptRanges, "bytes")
	}
	// fasthttp closes body once it has been sent.
	return c.SendStream(body)
}

func (d *Dashboard) mediaHeaders(c *fiber.Ctx, ct string) {
	ct, inline := safeType(ct)
	c.Set(fiber.HeaderContentType, ct)
	c.Set(fiber.HeaderCacheControl, "private")
	if !inline {
		c.Set(fiber.HeaderContentDisposition, "attachment")
	}
}

// parseRange reads a single "bytes=START-END" or "bytes=START-" range; anything else (several
// ranges, a suffix range) is not taken, and the whole object is sent, which HTTP allows.
func parseRange(h string) (start, end int64, ok bool) {
	spec, found := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, 0, false
	}
	a, b, found := strings.Cut(spec, "-")
	if !found || a == "" {
		return 0, 0, false
	}
	start, err := strconv.ParseInt(a, 10, 64)
	if err != nil || start < 0 {
		return 0, 0, false
	}
	end = math.MaxInt64 >> 1
	if b != "" {
		if end, err = strconv.ParseInt(b, 10, 64); err != nil || end < start {
			return 0, 0, false
		}
	}
	return start, end, true
}

// mediaShow says how a stored object is shown, from the extension the media store gave its key
// (the sniffed type's): image, video, audio or file.
func mediaShow(key string) string {
	ext := strings.ToLower(path.Ext(key))
	switch ext {
	case ".jpg", ".jpeg", ".png", ".gif", ".webp":
		return "image"
	case ".mp4", ".webm", ".mov", ".3gp", ".mkv":
		return "video"
	case ".weba", ".ogg", ".opus", ".mp3", ".m4a", ".aac", ".amr", ".wav", ".mka":
		return "audio"
	}
	return "file"
}

// lineMedia streams the media of one line of a participant's transcript; as for entries, the
// key comes from the stored line, never from the URL.
func (d *Dashboard) lineMedia(c *fiber.Ctx) error {
	if _, err := d.findCampaign(c.UserContext(), c.Params("id")); err != nil {
		return err
	}
	pid, line := c.Params("pid"), c.Params("line")
	lines, err := d.conversations.Transcript(c.UserContext(), pid)
	if err != nil {
		return fmt.Errorf("dashboard: transcript of %s: %w", pid, err)
	}
	for _, l := range lines {
		if strconv.FormatInt(l.ID, 10) == line && l.MediaKey != "" {
			return d.sendObject(c, l.MediaKey, "media of line "+line+" of "+pid)
		}
	}
	return fmt.Errorf("dashboard: line %s of %s: %w: no such line with media", line, pid, errs.ErrNotFound)
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
