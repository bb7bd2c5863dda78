package media

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"strings"

	"golang.org/x/image/draw"
	"golang.org/x/image/webp"

	"github.com/chatcampaigns/campaign/errs"
)

const (
	// maxPixels bounds what a photo may decode to. A few kilobytes of PNG can claim a
	// 100000x100000 canvas; the header is checked against this before any pixel is allocated,
	// and 40 MP still admits every phone camera's default output.
	maxPixels = 40_000_000
	// thumbSide is the long side of a thumbnail: enough for a moderation queue tile.
	thumbSide = 320
	// thumbQuality trades a little sharpness for small, fast-loading queue pages.
	thumbQuality = 80
)

// format is one photo encoding we accept. The decoders are called directly rather than through
// image.Decode, so a package elsewhere registering BMP or TIFF cannot widen what participants
// may upload.
type format struct {
	mime         string
	ext          string
	decodeConfig func(io.Reader) (image.Config, error)
	decode       func(io.Reader) (image.Image, error)
}

// formatOf returns the format for a type net/http's sniffer (the WHATWG algorithm) reports.
func formatOf(sniffed string) (format, bool) {
	switch sniffed {
	case "image/jpeg":
		return format{"image/jpeg", "jpg", jpeg.DecodeConfig, jpeg.Decode}, true
	case "image/png":
		return format{"image/png", "png", png.DecodeConfig, png.Decode}, true
	case "image/gif":
		return format{"image/gif", "gif", gif.DecodeConfig, gif.Decode}, true
	case "image/webp":
		return format{"image/webp", "webp", webp.DecodeConfig, webp.Decode}, true
	}
	return format{}, false
}

// photo is what check learned about an upload.
type photo struct {
	format
	width, height int
	// cost is the memory decoding it will take (decodeCost).
	cost int64
}

// check decides from the bytes alone whether data is a photo we accept and is safe to decode.
// Every refusal wraps errs.ErrInvalid and says, in words a participant or moderator can act
// on, what was wrong.
func check(data []byte) (photo, error) {
	if len(data) == 0 {
		return photo{}, fmt.Errorf("media: the file is empty: %w", errs.ErrInvalid)
	}
	sniffed := http.DetectContentType(data)
	f, ok := formatOf(sniffed)
	if !ok {
		return photo{}, fmt.Errorf("media: the file is %s, not a JPEG, PNG, GIF or WebP photo: %w",
			describe(sniffed), errs.ErrInvalid)
	}
	cfg, err := f.decodeConfig(bytes.NewReader(data))
	if err != nil {
		return photo{}, fmt.Errorf("media: the %s photo is damaged (%v): %w", f.ext, err, errs.ErrInvalid)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return photo{}, fmt.Errorf("media: the %s photo has no pixels (%dx%d): %w",
			f.ext, cfg.Width, cfg.Height, errs.ErrInvalid)
	}
	// Divide rather than multiply so a hostile header cannot overflow the comparison.
	if cfg.Width > maxPixels/cfg.Height {
		return photo{}, fmt.Errorf("media: the photo is %dx%d, more than %d megapixels: %w",
			cfg.Width, cfg.Height, maxPixels/1_000_000, errs.ErrInvalid)
	}
	return photo{format: f, width: cfg.Width, height: cfg.Height, cost: decodeCost(cfg, len(data))}, nil
}

// describe names a sniffed type the way a person would, for refusal messages.
func describe(sniffed string) string {
	mt, _, _ := strings.Cut(sniffed, ";")
	switch {
	case mt == "text/html":
		return "a web page (HTML)"
	case mt == "application/pdf":
		return "a PDF document"
	case strings.HasPrefix(mt, "text/"):
		return "text"
	case strings.HasPrefix(mt, "image/"):
		return "an image of type " + mt
	case strings.HasPrefix(mt, "video/"):
		return "a video"
	case strings.HasPrefix(mt, "audio/"):
		return "a sound recording"
	default:
		return "of type " + mt
	}
}

// thumbnail decodes a checked photo and renders it as a JPEG of at most thumbSide pixels on
// the long side, on white, so transparent PNGs and GIFs do not turn black.
// orientation is the EXIF orientation (1 to 8) the stored photo keeps; the thumbnail carries
// no EXIF, so the rotation or mirroring it names is applied to its pixels.
func thumbnail(data []byte, p photo, orientation int) (thumb []byte, err error) {
	// The decoders are well fuzzed, but a bug on hostile input must cost one upload, not the
	// process that serves every campaign.
	defer func() {
		if r := recover(); r != nil {
			thumb, err = nil, fmt.Errorf("media: the %s photo could not be decoded (%v): %w", p.ext, r, errs.ErrInvalid)
		}
	}()
	src, err := p.decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("media: the %s photo is damaged (%v): %w", p.ext, err, errs.ErrInvalid)
	}
	sb := src.Bounds()
	w, h := fit(sb.Dx(), sb.Dy(), thumbSide)
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	// BiLinear still averages every source pixel when shrinking (the kernel widens with the
	// ratio) at about half the cost of CatmullRom, which matters on a 40 MP source.
	draw.BiLinear.Scale(dst, dst.Bounds(), src, sb, draw.Over, nil)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, orient(dst, orientation), &jpeg.Options{Quality: thumbQuality}); err != nil {
		return nil, fmt.Errorf("media: encode thumbnail: %w", err)
	}
	return buf.Bytes(), nil
}

// fit scales w×h down, keeping the aspect ratio, so the long side is at most side; it never
// scales up, and never rounds a side to zero.
func fit(w, h, side int) (int, int) {
	if w <= side && h <= side {
		return w, h
	}
	if w >= h {
		return side, max(1, (h*side+w/2)/w)
	}
	return max(1, (w*side+h/2)/h), side
}

// orient turns img as EXIF orientation o asks: 2 mirrors, 3 turns half round, 4 flips, 5 to 8
// also swap the axes (the camera was held sideways).
func orient(img *image.RGBA, o int) *image.RGBA {
	if o <= 1 || o > 8 {
		return img
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := range h {
		for x := range w {
			var dx, dy int
			switch o {
			case 2:
				dx, dy = w-1-x, y
			case 3:
				dx, dy = w-1-x, h-1-y
			case 4:
				dx, dy = x, h-1-y
			case 5:
				dx, dy = y, x
			case 6:
				dx, dy = h-1-y, x
			case 7:
				dx, dy = h-1-y, w-1-x
			case 8:
				dx, dy = y, w-1-x
			}
			dst.SetRGBA(dx, dy, img.RGBAAt(b.Min.X+x, b.Min.Y+y))
		}
	}
	return dst
}
