package media_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/chatcampaigns/campaign/media"
	"github.com/chatcampaigns/campaign/media/s3server"
)

// MustServer starts an embedded S3 server on dir and stops it when the test ends.
func MustServer(tb testing.TB, dir string) *s3server.Server {
	tb.Helper()
	srv, err := s3server.Start(dir)
	if err != nil {
		tb.Fatalf("start s3 server: %v", err)
	}
	tb.Cleanup(func() {
		if err := srv.Close(); err != nil {
			tb.Errorf("close s3 server: %v", err)
		}
	})
	return srv
}

// MustStore opens a media store on srv, creating the bucket, with the given upload limit (0:
// the default).
func MustStore(tb testing.TB, srv *s3server.Server, maxBytes int64) *media.Store {
	tb.Helper()
	st, err := media.New(context.Background(), media.Config{
		Bucket:       "media",
		Endpoint:     srv.URL,
		AccessKey:    srv.AccessKey,
		SecretKey:    srv.SecretKey,
		MaxBytes:     maxBytes,
		CreateBucket: true,
	})
	if err != nil {
		tb.Fatalf("media.New: %v", err)
	}
	return st
}

// gradient is a deterministic picture with enough detail that encoders do real work.
func gradient(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8((x + y) % 256), 255})
		}
	}
	return img
}

func MustJPEG(tb testing.TB, w, h int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, gradient(w, h), &jpeg.Options{Quality: 75}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func MustPNG(tb testing.TB, w, h int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, gradient(w, h)); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func MustGIF(tb testing.TB, w, h int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := gif.Encode(&buf, gradient(w, h), nil); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// MustWebP reads testdata/photo-400x300.webp, made with `cwebp -q 30` from a 400x300
// gradient: the standard library has no WebP encoder.
func MustWebP(tb testing.TB) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "photo-400x300.webp"))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// pngBomb is a well-formed PNG header claiming w×h pixels with no pixel data: a few dozen
// bytes that would make a naive decoder allocate w*h*4 bytes.
func pngBomb(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	chunk := func(typ string, data []byte) {
		_ = binary.Write(&b, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		b.WriteString(typ)
		b.Write(data)
		_ = binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	chunk("IEND", nil)
	return b.Bytes()
}

// gifBomb is a GIF screen descriptor claiming w×h pixels.
func gifBomb(w, h uint16) []byte {
	b := []byte("GIF89a")
	b = binary.LittleEndian.AppendUint16(b, w)
	b = binary.LittleEndian.AppendUint16(b, h)
	return append(b, 0, 0, 0, ';')
}
