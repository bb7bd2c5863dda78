package media_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"
)

// secret is written into every metadata block the tests build; it must never reach S3.
const secret = "SECRET-48.8584N-2.2945E"

// exifTIFF is an EXIF payload ("Exif\0\0" and a little-endian TIFF) with IFD0 holding Make
// (the secret), Orientation o and a pointer to a GPS IFD with latitude and longitude.
func exifTIFF(o uint16) []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	b.WriteString("Exif\x00\x00")
	t := new(bytes.Buffer)
	t.WriteString("II*\x00")
	binary.Write(t, le, uint32(8))
	// IFD0 at 8: 3 entries → 2+36+4 = 42 bytes, data after at 50.
	makeOff := uint32(8 + 2 + 3*12 + 4)
	gpsOff := makeOff + uint32(len(secret)+1)
	binary.Write(t, le, uint16(3))
	entry := func(tag, typ uint16, n, v uint32) {
		binary.Write(t, le, tag)
		binary.Write(t, le, typ)
		binary.Write(t, le, n)
		binary.Write(t, le, v)
	}
	entry(0x010F, 2, uint32(len(secret)+1), makeOff) // Make
	entry(0x0112, 3, 1, uint32(o))                   // Orientation
	entry(0x8825, 4, 1, gpsOff)                      // GPS IFD
	binary.Write(t, le, uint32(0))
	t.WriteString(secret + "\x00")
	// GPS IFD: LatitudeRef "N", Latitude 48/1 51/1 30/1.
	latOff := gpsOff + 2 + 2*12 + 4
	binary.Write(t, le, uint16(2))
	entry(0x0001, 2, 2, uint32('N'))
	entry(0x0002, 5, 3, latOff)
	binary.Write(t, le, uint32(0))
	for _, v := range []uint32{48, 1, 51, 1, 30, 1} {
		binary.Write(t, le, v)
	}
	b.Write(t.Bytes())
	return b.Bytes()
}

func jpegSegment(marker byte, payload []byte) []byte {
	s := []byte{0xFF, marker, 0, 0}
	binary.BigEndian.PutUint16(s[2:], uint16(len(payload)+2))
	return append(s, payload...)
}

// GPSJPEG is a JPEG as a phone writes it: EXIF with GPS and orientation o, XMP, IPTC, a
// comment, and a trailer after EOI, all holding the secret.
func GPSJPEG(tb testing.TB, w, h int, o uint16) []byte {
	tb.Helper()
	plain := MustJPEG(tb, w, h)
	var b bytes.Buffer
	b.Write(plain[:2]) // SOI
	b.Write(jpegSegment(0xE1, exifTIFF(o)))
	b.Write(jpegSegment(0xE1, []byte("http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>"+secret+"</x:xmpmeta>")))
	b.Write(jpegSegment(0xED, []byte("Photoshop 3.0\x008BIM"+secret)))
	b.Write(jpegSegment(0xFE, []byte(secret)))
	b.Write(plain[2:])
	b.WriteString("TRAILER" + secret)
	return b.Bytes()
}

// TestGPSJPEGFixture keeps testdata/gps.jpg (used by the channel tests in other packages) the
// photo GPSJPEG builds; run with -update-fixture after changing it.
func TestGPSJPEGFixture(t *testing.T) {
	want := GPSJPEG(t, 64, 48, 6)
	path := filepath.Join("testdata", "gps.jpg")
	if os.Getenv("UPDATE_FIXTURE") != "" {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(got, []byte(secret)) {
		t.Fatalf("%s holds no secret to strip", path)
	}
	if _, err := jpeg.Decode(bytes.NewReader(got)); err != nil {
		t.Fatalf("%s does not decode: %v", path, err)
	}
}

func pngChunk(typ string, data []byte) []byte {
	c := make([]byte, 8, 12+len(data))
	binary.BigEndian.PutUint32(c, uint32(len(data)))
	copy(c[4:], typ)
	c = append(c, data...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
}

// GPSPNG is a PNG with text, XMP (iTXt) and eXIf chunks before its image data.
func GPSPNG(tb testing.TB) []byte {
	plain := MustPNG(tb, 40, 30)
	ihdrEnd := 8 + 12 + 13
	var b bytes.Buffer
	b.Write(plain[:ihdrEnd])
	b.Write(pngChunk("tEXt", []byte("Comment\x00"+secret)))
	b.Write(pngChunk("iTXt", []byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00"+secret)))
	b.Write(pngChunk("eXIf", exifTIFF(1)[6:]))
	b.Write(plain[ihdrEnd:])
	return b.Bytes()
}

// GPSWebP is the test WebP made extended (VP8X) with EXIF and XMP chunks.
func GPSWebP(tb testing.TB) []byte {
	plain := MustWebP(tb)
	chunk := func(typ string, data []byte) []byte {
		c := append([]byte(typ), 0, 0, 0, 0)
		binary.LittleEndian.PutUint32(c[4:], uint32(len(data)))
		c = append(c, data...)
		if len(data)%2 == 1 {
			c = append(c, 0)
		}
		return c
	}
	vp8x := []byte{0x08 | 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	w, h := 400-1, 300-1
	vp8x[4], vp8x[5], vp8x[6] = byte(w), byte(w>>8), byte(w>>16)
	vp8x[7], vp8x[8], vp8x[9] = byte(h), byte(h>>8), byte(h>>16)
	body := []byte("WEBP")
	body = append(body, chunk("VP8X", vp8x)...)
	body = append(body, plain[12:]...)
	body = append(body, chunk("EXIF", exifTIFF(1)[6:])...)
	body = append(body, chunk("XMP ", []byte("<x:xmpmeta>"+secret+"</x:xmpmeta>"))...)
	out := append([]byte("RIFF"), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(out[4:], uint32(len(body)))
	return append(out, body...)
}

// GPSGIF is a GIF with a comment and an XMP application extension.
func GPSGIF(tb testing.TB) []byte {
	plain := MustGIF(tb, 20, 10)
	// The encoder writes the header, screen descriptor and global table; insert after them.
	at := 13
	if plain[10]&0x80 != 0 {
		at += 3 << (plain[10]&7 + 1)
	}
	var b bytes.Buffer
	b.Write(plain[:at])
	b.Write([]byte{0x21, 0xFE, byte(len(secret))})
	b.WriteString(secret)
	b.WriteByte(0)
	b.Write([]byte{0x21, 0xFF, 11})
	b.WriteString("XMP DataXMP")
	b.WriteByte(byte(len(secret)))
	b.WriteString(secret)
	b.WriteByte(0)
	b.Write(plain[at:])
	return b.Bytes()
}

// TestPutStripsMetadata: every photo format is stored without its metadata, decodes, and a
// rotated JPEG keeps its orientation (as the only EXIF field) and gets an upright thumbnail.
func TestPutStripsMetadata(t *testing.T) {
	st := MustStore(t, MustServer(t, t.TempDir()), 0)
	tests := []struct {
		name string
		data []byte
	}{
		{"JPEG", GPSJPEG(t, 64, 48, 6)},
		{"JPEGFixture", mustRead(t, filepath.Join("testdata", "gps.jpg"))},
		{"PNG", GPSPNG(t)},
		{"WebP", GPSWebP(t)},
		{"GIF", GPSGIF(t)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !bytes.Contains(tt.data, []byte(secret)) {
				t.Fatal("the test photo holds no secret")
			}
			m, err := st.Put(context.Background(), "c", "p", bytes.NewReader(tt.data))
			if err != nil {
				t.Fatalf("Put: %v", err)
			}
			for _, key := range []string{m.Key, m.ThumbKey} {
				got, _ := mustOpen(t, st, key)
				for _, leak := range []string{secret, "xmpmeta", "Photoshop", "XMP", "GPS"} {
					if bytes.Contains(got, []byte(leak)) {
						t.Errorf("%s still holds %q", key, leak)
					}
				}
				if bytes.Contains(got, []byte{0x25, 0x88}) {
					t.Errorf("%s still holds a GPS IFD pointer", key)
				}
			}
		})
	}

	t.Run("JPEGOrientation", func(t *testing.T) {
		m, err := st.Put(context.Background(), "c", "p", bytes.NewReader(GPSJPEG(t, 64, 48, 6)))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := mustOpen(t, st, m.Key)
		want := append([]byte("Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00"), 0, 0, 0, 0)
		if !bytes.Contains(got, want) {
			t.Errorf("stored JPEG has no one-field EXIF with orientation 6")
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(got))
		if err != nil || cfg.Width != 64 || cfg.Height != 48 {
			t.Errorf("stored JPEG = %+v, %v; want the 64x48 frame untouched", cfg, err)
		}
		thumb, _ := mustOpen(t, st, m.ThumbKey)
		tc, err := jpeg.DecodeConfig(bytes.NewReader(thumb))
		if err != nil || tc.Width != 48 || tc.Height != 64 {
			t.Errorf("thumbnail = %dx%d, %v; want 48x64 (turned upright)", tc.Width, tc.Height, err)
		}
		// The compressed picture is the same bytes: nothing was re-encoded.
		plain := MustJPEG(t, 64, 48)
		sos := bytes.Index(plain, []byte{0xFF, 0xDA})
		if !bytes.Contains(got, plain[sos:]) {
			t.Error("the image data changed; the JPEG was re-encoded")
		}
	})
}

// TestPutMediaStripsLocation: an MP4 or QuickTime file loses its udta/meta boxes (©xyz and
// the ISO 6709 location key) in place, keeping its size and every other byte.
func TestPutMediaStripsLocation(t *testing.T) {
	st := MustStore(t, MustServer(t, t.TempDir()), 0)
	box := func(typ string, payload ...[]byte) []byte {
		p := bytes.Join(payload, nil)
		b := binary.BigEndian.AppendUint32(nil, uint32(8+len(p)))
		return append(append(b, typ...), p...)
	}
	xyz := box("\xa9xyz", []byte("\x00\x13\x15\xc7+48.8584+002.2945/"))
	keys := box("meta", box("keys", []byte("com.apple.quicktime.location.ISO6709"+secret)))
	mdat := box("mdat", bytes.Repeat([]byte{0xAB}, 32))
	file := bytes.Join([][]byte{
		box("ftyp", []byte("qt  \x00\x00\x02\x00qt  ")),
		box("moov", box("mvhd", make([]byte, 20)), box("trak", box("tkhd", make([]byte, 8)), box("udta", xyz)), box("udta", xyz), keys),
		mdat,
	}, nil)
	m, err := st.PutMedia(context.Background(), "c", "p", "video", "video/quicktime", bytes.NewReader(file))
	if err != nil {
		t.Fatalf("PutMedia: %v", err)
	}
	got, _ := mustOpen(t, st, m.Key)
	if len(got) != len(file) {
		t.Fatalf("stored %d bytes, want %d (boxes blanked in place)", len(got), len(file))
	}
	for _, leak := range []string{secret, "+48.8584", "\xa9xyz", "udta", "ISO6709"} {
		if bytes.Contains(got, []byte(leak)) {
			t.Errorf("stored video still holds %q", leak)
		}
	}
	if !bytes.HasSuffix(got, mdat) || !bytes.Contains(got, []byte("mvhd")) {
		t.Error("the video data or its header changed")
	}
}

func mustRead(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestKeysAndDelete: a participant's objects are listed by their prefix, no one else's, and
// deleting them (twice) leaves the others.
func TestKeysAndDelete(t *testing.T) {
	st := MustStore(t, MustServer(t, t.TempDir()), 0)
	ctx := context.Background()
	a, err := st.Put(ctx, "c", "ann", bytes.NewReader(MustPNG(t, 8, 8)))
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.Put(ctx, "c", "annie", bytes.NewReader(MustPNG(t, 9, 9)))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := st.Keys(ctx, "c", "ann")
	if err != nil || len(keys) != 2 || keys[0] != a.Key && keys[1] != a.Key {
		t.Fatalf("Keys = %v, %v; want %s and its thumbnail", keys, err, a.Key)
	}
	for range 2 {
		if n, err := st.Delete(ctx, keys); err != nil || n != 2 {
			t.Fatalf("Delete = %d, %v", n, err)
		}
	}
	if left, _ := st.Keys(ctx, "c", "ann"); len(left) != 0 {
		t.Errorf("left after delete: %v", left)
	}
	if all, _ := st.CampaignKeys(ctx, "c"); len(all) != 2 || (all[0] != b.Key && all[1] != b.Key) {
		t.Errorf("campaign keys = %v, want annie's two", all)
	}
	if _, err := st.Keys(ctx, "", "ann"); err == nil {
		t.Error("Keys with no campaign listed something")
	}
}
