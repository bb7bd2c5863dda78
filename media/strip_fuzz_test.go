package media

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzStripPhoto: on any input the strippers return or refuse, never panic; what they return
// strips to itself (nothing left to remove) and keeps no EXIF but a bare orientation.
func FuzzStripPhoto(f *testing.F) {
	for _, name := range []string{"gps.jpg", "photo-400x300.webp"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x00IEND\xaeB`\x82"))
	f.Add([]byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, ext := range []string{"jpg", "png", "webp", "gif"} {
			out, o, err := stripPhoto(ext, data)
			if err != nil {
				continue
			}
			again, o2, err := stripPhoto(ext, out)
			if err != nil || !bytes.Equal(again, out) || o2 != o {
				t.Fatalf("%s: stripping the stripped output gave %d bytes (orientation %d), %v; want the same %d bytes (orientation %d)",
					ext, len(again), o2, err, len(out), o)
			}
			if ext == "jpg" && bytes.Count(out, []byte("Exif\x00\x00")) > 1 {
				t.Fatalf("jpg: more than one EXIF block survived")
			}
		}
		if out, err := stripISO(data); err == nil && len(out) != len(data) {
			t.Fatalf("iso: %d bytes became %d", len(data), len(out))
		}
		stripID3(data)
	})
}
