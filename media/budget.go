package media

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/chatcampaigns/campaign/errs"
)

// Defaults for the decode memory limits.
const (
	// DefaultMaxDecodeBytes admits every 8-bit photo under the pixel cap (40 MP × 4 B/px) and
	// refuses what only a 16-bit or otherwise padded picture of that size would cost.
	DefaultMaxDecodeBytes = 192 << 20
	// DefaultDecodeMemory is what all decodes at once may hold: two of the largest photos, or
	// dozens of ordinary phone pictures.
	DefaultDecodeMemory = 2 * DefaultMaxDecodeBytes
	// DefaultDecodeWait is how long an upload waits for room in the shared budget before it is
	// refused with "try again".
	DefaultDecodeWait = 30 * time.Second
)

// decodeBudget bounds the memory photo decoding may take: one decode at a time may not need
// more than per bytes, and all decodes together not more than the semaphore's size. The
// pixel cap alone let a 300 KB 16-bit PNG of 6324×6324 decode to 320 MB, six at once to
// 2 GB; the bytes a decoder will allocate depend on the colour model as much as the size.
type decodeBudget struct {
	per, total int64
	wait       time.Duration
	sem        *semaphore.Weighted
}

func newDecodeBudget(per, total int64, wait time.Duration) *decodeBudget {
	per = orDefault(per, DefaultMaxDecodeBytes)
	total = orDefault(total, DefaultDecodeMemory)
	if per > total {
		per = total // a decode larger than the whole budget would wait forever
	}
	if wait <= 0 {
		wait = DefaultDecodeWait
	}
	return &decodeBudget{per: per, total: total, wait: wait, sem: semaphore.NewWeighted(total)}
}

// bytesPerPixel is what the standard decoders allocate per pixel for a colour model, the
// worst case where a format has several layouts (JPEG's 4:4:4 YCbCr).
func bytesPerPixel(m color.Model) int64 {
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.YCbCrModel:
		return 3
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel, color.NYCbCrAModel:
		return 4
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	return 8 // unknown: assume the widest standard layout
}

// decodeCost is the memory decoding p will take: its pixels in the decoder's layout plus the
// encoded bytes, which stay in memory while it runs.
func decodeCost(cfg image.Config, encoded int) int64 {
	return int64(cfg.Width)*int64(cfg.Height)*bytesPerPixel(cfg.ColorModel) + int64(encoded)
}

// acquire reserves the memory to decode p, or says why not: too much for one decode
// (errs.ErrTooLarge, with the figures) or no room in the shared budget within the wait.
// The caller calls the returned release when the decoded image is no longer referenced.
func (b *decodeBudget) acquire(ctx context.Context, p photo) (release func(), err error) {
	if p.cost > b.per {
		return nil, fmt.Errorf("media: the %dx%d %s photo would need %d MB of memory to open, more than the %d MB allowed (send a smaller or 8-bit version): %w",
			p.width, p.height, p.ext, mb(p.cost), mb(b.per), errs.ErrTooLarge)
	}
	wctx, cancel := context.WithTimeout(ctx, b.wait)
	defer cancel()
	if err := b.sem.Acquire(wctx, p.cost); err != nil {
		return nil, fmt.Errorf("media: the server is busy opening other photos, try again in a moment: %w", err)
	}
	return func() { b.sem.Release(p.cost) }, nil
}

func mb(n int64) int64 { return (n + 1<<20 - 1) >> 20 }
