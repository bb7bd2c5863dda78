package media_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/media"
)

// Minimal files: the first bytes each format is recognised by, plus some payload.
var (
	mp4Bytes  = append([]byte("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2\x00\x00\x00\x08free"), make([]byte, 64)...)
	threeGP   = append([]byte("\x00\x00\x00\x14ftyp3gp4\x00\x00\x00\x00isom"), make([]byte, 64)...)
	movBytes  = append([]byte("\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  "), make([]byte, 64)...)
	m4aBytes  = append([]byte("\x00\x00\x00\x1cftypM4A \x00\x00\x00\x00M4A isommp42"), make([]byte, 64)...)
	heicBytes = append([]byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), make([]byte, 64)...)
	oggBytes  = append([]byte("OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00OpusHead"), make([]byte, 64)...)
	amrBytes  = append([]byte("#!AMR\n"), make([]byte, 64)...)
	aacBytes  = append([]byte{0xFF, 0xF1, 0x50, 0x80, 0x02, 0x1F, 0xFC}, make([]byte, 64)...)
	mp3ID3    = append([]byte("ID3\x03\x00\x00\x00\x00\x00\x00"), make([]byte, 64)...)
	mp3Frame  = append([]byte{0xFF, 0xFB, 0x90, 0x64}, make([]byte, 64)...)
	pdfBytes  = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n")
	oleBytes  = append([]byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"), make([]byte, 504)...)
	textBytes = []byte("name,score\nAmira,10\n")
)

// mustZip builds a zip holding the named (empty) parts, as an Office file does.
func mustZip(tb testing.TB, names ...string) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			tb.Fatal(err)
		}
		_, _ = w.Write([]byte("<xml/>"))
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func TestPutMediaStoresWhatTheBytesAre(t *testing.T) {
	st := MustStore(t, MustServer(t, t.TempDir()), 0)
	const (
		docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
		xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
		pptx = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
	)
	tests := []struct {
		name, kind, declared string
		data                 []byte
		mime, ext            string
	}{
		{"MP4Video", "video", "video/mp4", mp4Bytes, "video/mp4", "mp4"},
		{"3GPVideo", "video", "video/3gpp", threeGP, "video/3gpp", "3gp"},
		{"QuickTimeVideo", "video", "video/quicktime", movBytes, "video/quicktime", "mov"},
		{"VideoWithoutDeclaredType", "video", "", mp4Bytes, "video/mp4", "mp4"},
		{"OpusVoiceNote", "audio", "audio/ogg; codecs=opus", oggBytes, "audio/ogg", "ogg"},
		{"AMR", "audio", "audio/amr", amrBytes, "audio/amr", "amr"},
		{"AAC", "audio", "audio/aac", aacBytes, "audio/aac", "aac"},
		{"MP3WithID3", "audio", "audio/mpeg", mp3ID3, "audio/mpeg", "mp3"},
		{"MP3Frame", "audio", "audio/mpeg", mp3Frame, "audio/mpeg", "mp3"},
		{"M4A", "audio", "audio/mp4", m4aBytes, "audio/mp4", "m4a"},
		{"MP4ContainerSentAsAudio", "audio", "audio/mp4", mp4Bytes, "audio/mp4", "m4a"},
		{"PDF", "document", "application/pdf", pdfBytes, "application/pdf", "pdf"},
		{"PDFDeclaredGenerically", "document", "application/octet-stream", pdfBytes, "application/pdf", "pdf"},
		{"Word", "document", docx, mustZip(t, "[Content_Types].xml", "word/document.xml"), docx, "docx"},
		{"Excel", "document", xlsx, mustZip(t, "[Content_Types].xml", "xl/workbook.xml"), xlsx, "xlsx"},
		{"PowerPoint", "document", pptx, mustZip(t, "[Content_Types].xml", "ppt/presentation.xml"), pptx, "pptx"},
		{"LegacyWord", "document", "application/msword", oleBytes, "application/msword", "doc"},
		{"LegacyExcel", "document", "application/vnd.ms-excel", oleBytes, "application/vnd.ms-excel", "xls"},
		{"PlainText", "document", "text/plain", textBytes, "text/plain", "txt"},
		{"CSV", "document", "text/csv", textBytes, "text/csv", "csv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := st.PutMedia(context.Background(), "bouncer", "p1", tt.kind, tt.declared, bytes.NewReader(tt.data))
			if err != nil {
				t.Fatalf("PutMedia: %v", err)
			}
			stored := tt.data
			if bytes.HasPrefix(stored, []byte("ID3")) {
				stored = stored[10:] // the empty ID3 tag is metadata, stripped
			}
			sum := sha256.Sum256(stored)
			want := engine.Media{Kind: tt.kind, Key: "bouncer/p1/" + hex.EncodeToString(sum[:]) + "." + tt.ext, MIME: tt.mime, Size: int64(len(stored))}
			if m != want {
				t.Fatalf("PutMedia = %+v, want %+v", m, want)
			}
			got, ct := mustOpen(t, st, m.Key)
			if !bytes.Equal(got, stored) || ct != tt.mime {
				t.Errorf("Open(%s) = %d bytes of %s, want the %d stored of %s", m.Key, len(got), ct, len(stored), tt.mime)
			}
		})
	}
}

func TestPutMediaPhotoGoesThroughThePhotoChecks(t *testing.T) {
	st := MustStore(t, MustServer(t, t.TempDir()), 0)
	ctx := context.Background()
	m, err := st.PutMedia(ctx, "bouncer", "p1", "photo", "image/jpeg", bytes.NewReader(MustJPEG(t, 640, 480)))
	if err != nil {
		t.Fatalf("PutMedia photo: %v", err)
	}
	if m.Kind != "photo" || m.ThumbKey == "" || m.MIME != "image/jpeg" {
		t.Errorf("PutMedia photo = %+v, want a photo with a thumbnail", m)
	}
	if _, err := st.PutMedia(ctx, "bouncer", "p1", "photo", "image/jpeg", bytes.NewReader(pdfBytes)); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("PutMedia of a PDF as a photo = %v, want ErrInvalid", err)
	}
}

func TestPutMediaRefuses(t *testing.T) {
	st := MustStore(t, MustServer(t, t.TempDir()), 0)
	tests := []struct {
		name, kind, declared string
		data                 []byte
		why                  string
	}{
		{"PDFAsVideo", "video", "video/mp4", pdfBytes, "PDF"},
		{"HEICImageAsVideo", "video", "video/mp4", heicBytes, "not a video"},
		{"MP3DeclaredAsOgg", "audio", "audio/ogg", mp3ID3, "sent as audio/ogg"},
		{"VideoDeclaredAsAudioType", "video", "audio/mpeg", mp4Bytes, "sent as audio/mpeg"},
		{"HTMLAsDocument", "document", "text/html", []byte("<html><script>alert(1)</script></html>"), "web page"},
		{"ZipThatIsNoOfficeFile", "document", "application/zip", mustZip(t, "evil.exe"), "not a document"},
		{"OLEWithoutOfficeType", "document", "application/x-msi", oleBytes, "not a document"},
		{"WordDeclaredAsPDF", "document", "application/pdf", mustZip(t, "word/document.xml"), "sent as application/pdf"},
		{"Empty", "audio", "audio/ogg", nil, "empty"},
		{"UnparsableDeclaredType", "audio", "audio/ogg;;;=", oggBytes, "not a MIME type"},
		{"Sticker", "sticker", "image/webp", MustWebP(t), "not a kind"},
		{"UnknownKind", "hologram", "", oggBytes, "not a kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := st.PutMedia(context.Background(), "bouncer", "p1", tt.kind, tt.declared, bytes.NewReader(tt.data))
			if !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("PutMedia = %+v, %v; want an error wrapping ErrInvalid", m, err)
			}
			if !strings.Contains(err.Error(), tt.why) {
				t.Errorf("error %q does not say %q", err, tt.why)
			}
		})
	}
}

func TestPutMediaSizeLimit(t *testing.T) {
	srv := MustServer(t, t.TempDir())
	st, err := media.New(context.Background(), media.Config{
		Bucket: "media", Endpoint: srv.URL, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, CreateBucket: true,
		MaxVideoBytes: 1000, MaxAudioBytes: 1000, MaxDocumentBytes: 1000,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"video", "audio", "document"} {
		t.Run(kind, func(t *testing.T) {
			big := append(append([]byte{}, mp4Bytes...), make([]byte, 2000)...)
			cr := &countingReader{r: bytes.NewReader(big)}
			_, err := st.PutMedia(context.Background(), "bouncer", "p1", kind, "", cr)
			if !errors.Is(err, errs.ErrTooLarge) {
				t.Fatalf("PutMedia of %d bytes = %v, want ErrTooLarge", len(big), err)
			}
			if cr.n > 1001 {
				t.Errorf("read %d bytes of an oversize upload; want at most limit+1", cr.n)
			}
		})
	}
	t.Run("ExactlyTheLimit", func(t *testing.T) {
		exact := append(append([]byte{}, pdfBytes...), make([]byte, 1000-len(pdfBytes))...)
		if _, err := st.PutMedia(context.Background(), "bouncer", "p1", "document", "application/pdf", bytes.NewReader(exact)); err != nil {
			t.Errorf("PutMedia of exactly the limit: %v", err)
		}
	})
}

func TestPutMediaRefusesNamesThatEscapeTheirFolder(t *testing.T) {
	st := MustStore(t, MustServer(t, t.TempDir()), 0)
	for _, c := range [][2]string{{"..", "p1"}, {"bouncer", "../x"}, {"", "p1"}, {"bouncer", "a/b"}} {
		if _, err := st.PutMedia(context.Background(), c[0], c[1], "audio", "", bytes.NewReader(oggBytes)); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("PutMedia(%q, %q) = %v, want ErrInvalid", c[0], c[1], err)
		}
	}
}
