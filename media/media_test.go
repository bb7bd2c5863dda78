package media_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image/jpeg"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/media"
)

func TestPutOpen(t *testing.T) {
	st := MustStore(t, MustServer(t, t.TempDir()), 0)
	ctx := context.Background()
	tests := []struct {
		name         string
		data         []byte
		mime, ext    string
		thumbW, thmH int
	}{
		{"JPEGIsShrunkToTheLongSide", MustJPEG(t, 1000, 600), "image/jpeg", "jpg", 320, 192},
		{"PNGSmallerThanAThumbnailKeepsItsSize", MustPNG(t, 200, 100), "image/png", "png", 200, 100},
		{"GIFPortrait", MustGIF(t, 300, 500), "image/gif", "gif", 192, 320},
		{"WebP", MustWebP(t), "image/webp", "webp", 320, 240},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := st.Put(ctx, "bouncer", "p1", bytes.NewReader(tt.data))
			if err != nil {
				t.Fatalf("Put: %v", err)
			}
			sum := sha256.Sum256(tt.data)
			base := "bouncer/p1/" + hex.EncodeToString(sum[:])
			want := engine.Media{Kind: "photo", Key: base + "." + tt.ext, ThumbKey: base + ".thumb.jpg", MIME: tt.mime, Size: int64(len(tt.data))}
			if m != want {
				t.Fatalf("Put = %+v, want %+v", m, want)
			}

			got, ct := mustOpen(t, st, m.Key)
			if !bytes.Equal(got, tt.data) {
				t.Errorf("Open(%s) returned %d bytes, want the %d stored", m.Key, len(got), len(tt.data))
			}
			if ct != tt.mime {
				t.Errorf("Open(%s) content type %q, want %q", m.Key, ct, tt.mime)
			}

			thumb, ct := mustOpen(t, st, m.ThumbKey)
			if ct != "image/jpeg" {
				t.Errorf("thumbnail content type %q, want image/jpeg", ct)
			}
			cfg, err := jpeg.DecodeConfig(bytes.NewReader(thumb))
			if err != nil {
				t.Fatalf("thumbnail is not a JPEG: %v", err)
			}
			if cfg.Width != tt.thumbW || cfg.Height != tt.thmH {
				t.Errorf("thumbnail is %dx%d, want %dx%d", cfg.Width, cfg.Height, tt.thumbW, tt.thmH)
			}
		})
	}
}

func TestPutRefusesWhatIsNotAPhoto(t *testing.T) {
	st := MustStore(t, MustServer(t, t.TempDir()), 0)
	png := MustPNG(t, 64, 64)
	tests := []struct {
		name   string
		data   []byte
		reason string
	}{
		{"Empty", nil, "empty"},
		{"Text", []byte("hello, this is my entry"), "text"},
		{"HTML", []byte("<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"), "HTML"},
		{"PDF", []byte("%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"), "PDF"},
		{"BMP", append([]byte("BM"), make([]byte, 64)...), "image/bmp"},
		{"TruncatedPNG", png[:len(png)/2], "damaged"},
		{"PNGSignatureOnly", png[:8], "damaged"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := st.Put(context.Background(), "bouncer", "p1", bytes.NewReader(tt.data))
			if !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("Put = %v, want an error wrapping ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("Put error %q does not say %q", err, tt.reason)
			}
			assertNothingStored(t, st, "bouncer", "p1", tt.data)
		})
	}
}

func TestPutRefusesDecompressionBombs(t *testing.T) {
	st := MustStore(t, MustServer(t, t.TempDir()), 0)
	tests := []struct {
		name string
		data []byte
	}{
		{"PNG100000x100000", pngBomb(100000, 100000)},
		{"PNGJustOver40MP", pngBomb(8000, 5001)},
		{"GIF65535x65535", gifBomb(65535, 65535)},
		{"PNGZeroWidth", pngBomb(0, 10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := st.Put(context.Background(), "bouncer", "p1", bytes.NewReader(tt.data))
			runtime.ReadMemStats(&after)
			if !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("Put = %v, want an error wrapping ErrInvalid", err)
			}
			// Decoding even the smallest of these would allocate 160 MB.
			if n := after.TotalAlloc - before.TotalAlloc; n > 4<<20 {
				t.Errorf("refusing the bomb allocated %d bytes", n)
			}
			assertNothingStored(t, st, "bouncer", "p1", tt.data)
		})
	}
}

func TestPutSizeLimit(t *testing.T) {
	const limit = 64 << 10
	st := MustStore(t, MustServer(t, t.TempDir()), limit)
	photo := MustPNG(t, 32, 32)
	padded := func(n int) []byte { // a valid PNG; decoders ignore what follows IEND
		return append(append([]byte{}, photo...), make([]byte, n-len(photo))...)
	}

	t.Run("AcceptsExactlyMaxBytes", func(t *testing.T) {
		m, err := st.Put(context.Background(), "c", "p", bytes.NewReader(padded(limit)))
		// What follows IEND is not stored (strip.go), so the object is the bare PNG.
		if err != nil || m.Size != int64(len(photo)) {
			t.Fatalf("Put(%d bytes) = %+v, %v; want it stored", limit, m, err)
		}
	})
	t.Run("RefusesMaxBytesPlusOne", func(t *testing.T) {
		data := padded(limit + 1)
		_, err := st.Put(context.Background(), "c", "p", bytes.NewReader(data))
		if !errors.Is(err, errs.ErrTooLarge) {
			t.Fatalf("Put = %v, want an error wrapping ErrTooLarge", err)
		}
		assertNothingStored(t, st, "c", "p", data)
	})
	t.Run("StopsReadingAnEndlessUpload", func(t *testing.T) {
		r := &countingReader{r: io.MultiReader(bytes.NewReader(photo), zeros{})}
		_, err := st.Put(context.Background(), "c", "p", r)
		if !errors.Is(err, errs.ErrTooLarge) {
			t.Fatalf("Put = %v, want an error wrapping ErrTooLarge", err)
		}
		if r.n > limit+1 {
			t.Errorf("Put read %d bytes of an endless upload, want at most %d", r.n, limit+1)
		}
	})
}

func TestPutIsIdempotent(t *testing.T) {
	st := MustStore(t, MustServer(t, t.TempDir()), 0)
	ctx := context.Background()
	data := MustJPEG(t, 50, 40)
	first, err := st.Put(ctx, "race", "team-7", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	second, err := st.Put(ctx, "race", "team-7", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if first != second {
		t.Fatalf("second Put = %+v, want %+v", second, first)
	}
	if got, _ := mustOpen(t, st, second.Key); !bytes.Equal(got, data) {
		t.Fatal("stored bytes changed after the second Put")
	}
	other, err := st.Put(ctx, "race", "team-8", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if other.Key == first.Key {
		t.Fatalf("two participants share key %s", other.Key)
	}
}

func TestPutRefusesNamesThatEscapeTheirFolder(t *testing.T) {
	st := MustStore(t, MustServer(t, t.TempDir()), 0)
	data := MustPNG(t, 8, 8)
	tests := []struct{ name, campaign, participant string }{
		{"EmptyCampaign", "", "p"},
		{"EmptyParticipant", "c", ""},
		{"DotDotCampaign", "..", "p"},
		{"DotParticipant", "c", "."},
		{"SlashInCampaign", "a/b", "p"},
		{"TraversalInParticipant", "c", "../../etc"},
		{"Backslash", "c", `..\x`},
		{"HiddenName", "c", ".git"},
		{"NUL", "c", "p\x00"},
		{"TooLong", strings.Repeat("a", 129), "p"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := st.Put(context.Background(), tt.campaign, tt.participant, bytes.NewReader(data))
			if !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("Put(%q, %q) = %v, want an error wrapping ErrInvalid", tt.campaign, tt.participant, err)
			}
		})
	}
}

func TestOpen(t *testing.T) {
	st := MustStore(t, MustServer(t, t.TempDir()), 0)
	tests := []struct {
		name string
		key  string
		want error
	}{
		{"MissingKeyIsNotFound", "bouncer/p1/" + strings.Repeat("0", 64) + ".jpg", errs.ErrNotFound},
		{"MissingThumbnailIsNotFound", "bouncer/p1/abc.thumb.jpg", errs.ErrNotFound},
		{"TraversalIsInvalid", "../metadata/x", errs.ErrInvalid},
		{"EmptyIsInvalid", "", errs.ErrInvalid},
		{"LeadingSlashIsInvalid", "/bouncer/p1/x.jpg", errs.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, _, err := st.Open(context.Background(), tt.key)
			if body != nil {
				body.Close()
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open(%q) = %v, want an error wrapping %v", tt.key, err, tt.want)
			}
		})
	}
}

func TestDataSurvivesServerRestart(t *testing.T) {
	dir := t.TempDir()
	data := MustPNG(t, 400, 400)

	first := MustServer(t, dir)
	m, err := MustStore(t, first, 0).Put(context.Background(), "fridge", "p9", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	st := MustStore(t, MustServer(t, dir), 0)
	got, ct := mustOpen(t, st, m.Key)
	if !bytes.Equal(got, data) || ct != "image/png" {
		t.Fatalf("after restart Open(%s) = %d bytes %q, want %d bytes image/png", m.Key, len(got), ct, len(data))
	}
	if _, ct := mustOpen(t, st, m.ThumbKey); ct != "image/jpeg" {
		t.Fatalf("after restart the thumbnail has content type %q", ct)
	}
}

func TestNewNeedsABucket(t *testing.T) {
	_, err := media.New(context.Background(), media.Config{Endpoint: "http://127.0.0.1:1"})
	if !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("New without bucket = %v, want ErrInvalid", err)
	}
}

func mustOpen(tb testing.TB, st *media.Store, key string) ([]byte, string) {
	tb.Helper()
	body, ct, err := st.Open(context.Background(), key)
	if err != nil {
		tb.Fatalf("Open(%s): %v", key, err)
	}
	defer body.Close()
	b, err := io.ReadAll(body)
	if err != nil {
		tb.Fatalf("read %s: %v", key, err)
	}
	return b, ct
}

// assertNothingStored checks that none of the keys Put could have made for data exist.
func assertNothingStored(tb testing.TB, st *media.Store, campaign, participant string, data []byte) {
	tb.Helper()
	sum := sha256.Sum256(data)
	base := campaign + "/" + participant + "/" + hex.EncodeToString(sum[:])
	for _, ext := range []string{"jpg", "png", "gif", "webp", "thumb.jpg"} {
		body, _, err := st.Open(context.Background(), base+"."+ext)
		if err == nil {
			body.Close()
			tb.Errorf("%s.%s was stored", base, ext)
		} else if !errors.Is(err, errs.ErrNotFound) {
			tb.Errorf("Open(%s.%s) = %v, want ErrNotFound", base, ext, err)
		}
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
