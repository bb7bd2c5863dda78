package media_test

import (
	"errors"
	"testing"

	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/media"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name       string
		data       []byte
		mime       string // empty: refused with ErrInvalid
		w, h       int
		withThumbs bool
	}{
		{"JPEG", MustJPEG(t, 30, 20), "image/jpeg", 30, 20, true},
		{"PNG", MustPNG(t, 30, 20), "image/png", 30, 20, true},
		{"GIF", MustGIF(t, 30, 20), "image/gif", 30, 20, true},
		{"WebP", MustWebP(t), "image/webp", 400, 300, true},
		{"Exactly40Megapixels", pngBomb(8000, 5000), "image/png", 8000, 5000, false},
		{"OneRowOver40Megapixels", pngBomb(8000, 5001), "", 0, 0, false},
		{"HeaderOverflowingInt32", pngBomb(1<<31-1, 1<<31-1), "", 0, 0, false},
		{"JPEGMagicAlone", []byte{0xff, 0xd8, 0xff}, "", 0, 0, true},
		{"RIFFButNotWebP", []byte("RIFF\x04\x00\x00\x00WAVEfmt "), "", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mime, w, h, err := media.Check(tt.data, tt.withThumbs)
			if tt.mime == "" {
				if !errors.Is(err, errs.ErrInvalid) {
					t.Fatalf("Check = %s %dx%d, %v; want an error wrapping ErrInvalid", mime, w, h, err)
				}
				return
			}
			if err != nil || mime != tt.mime || w != tt.w || h != tt.h {
				t.Fatalf("Check = %s %dx%d, %v; want %s %dx%d", mime, w, h, err, tt.mime, tt.w, tt.h)
			}
		})
	}
}

func TestFit(t *testing.T) {
	tests := []struct{ w, h, side, wantW, wantH int }{
		{320, 320, 320, 320, 320},
		{100, 50, 320, 100, 50},
		{640, 480, 320, 320, 240},
		{480, 640, 320, 240, 320},
		{10000, 1, 320, 320, 1},
		{1, 10000, 320, 1, 320},
		{321, 320, 320, 320, 319},
	}
	for _, tt := range tests {
		if w, h := media.Fit(tt.w, tt.h, tt.side); w != tt.wantW || h != tt.wantH {
			t.Errorf("Fit(%d, %d, %d) = %d, %d; want %d, %d", tt.w, tt.h, tt.side, w, h, tt.wantW, tt.wantH)
		}
	}
}

// FuzzCheck feeds arbitrary bytes through the check and, for what it accepts, the thumbnail
// decoder: neither may panic, anything accepted must be an allowed type within the pixel
// limit, and every refusal must be ErrInvalid.
func FuzzCheck(f *testing.F) {
	for _, seed := range [][]byte{
		nil,
		[]byte("hello"),
		[]byte("<html>"),
		[]byte("%PDF-1.4"),
		MustJPEG(f, 9, 7),
		MustPNG(f, 9, 7),
		MustGIF(f, 9, 7),
		MustWebP(f),
		pngBomb(100000, 100000),
		gifBomb(65535, 65535),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		mime, w, h, err := media.Check(data, true)
		if err != nil {
			if !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("refusal %v does not wrap ErrInvalid", err)
			}
			return
		}
		switch mime {
		case "image/jpeg", "image/png", "image/gif", "image/webp":
		default:
			t.Fatalf("accepted type %q", mime)
		}
		if w <= 0 || h <= 0 || int64(w)*int64(h) > 40_000_000 {
			t.Fatalf("accepted a %dx%d photo", w, h)
		}
	})
}
