package media_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/media"
)

// ebml is the start of a WebM or Matroska file of docType, then a segment whose track list
// names codecs (as MediaRecorder writes them: V_VP8 for video, A_OPUS for the sound).
func ebml(docType string, codecs ...string) []byte {
	b := []byte("\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08\x42\x82")
	b = append(b, byte(0x80|len(docType)))
	b = append(b, docType...)
	b = append(b, "\x42\x87\x81\x04\x42\x85\x81\x02\x18\x53\x80\x67\x01\xff\xff\xff\xff\xff\xff\xff\x16\x54\xae\x6b"...)
	for _, c := range codecs {
		b = append(b, 0xae, 0x86, byte(0x80|len(c)))
		b = append(b, c...)
	}
	return append(b, make([]byte, 64)...)
}

var (
	webmVoice = ebml("webm", "A_OPUS")
	webmVideo = ebml("webm", "V_VP8", "A_OPUS")
	webmBare  = ebml("webm")
	mkvVideo  = ebml("matroska", "V_MPEG4/ISO/AVC")
	wavBytes  = append([]byte("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00"), make([]byte, 64)...)
)

func TestSniffKind(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"WebMVoiceNote", webmVoice, "audio"},
		{"WebMVideo", webmVideo, "video"},
		{"WebMWithoutTracks", webmBare, "video"},
		{"Matroska", mkvVideo, "video"},
		{"MP4", mp4Bytes, "video"},
		{"QuickTime", movBytes, "video"},
		{"M4A", m4aBytes, "audio"},
		{"HEICIsNoVideo", heicBytes, ""},
		{"Ogg", oggBytes, "audio"},
		{"MP3WithID3", mp3ID3, "audio"},
		{"MP3Frame", mp3Frame, "audio"},
		{"AAC", aacBytes, "audio"},
		{"AMR", amrBytes, "audio"},
		{"WAV", wavBytes, "audio"},
		{"RIFFThatIsNotWAV", append([]byte("RIFF\x24\x00\x00\x00AVI LIST"), make([]byte, 64)...), ""},
		{"JPEG", MustJPEG(t, 8, 8), "photo"},
		{"WebP", MustWebP(t), "photo"},
		{"PDF", pdfBytes, ""},
		{"Text", textBytes, ""},
		{"Empty", nil, ""},
		{"EBMLOfAnotherDocType", append([]byte{0x1a, 0x45, 0xdf, 0xa3, 0x84, 0x42, 0x82, 0x83}, "xyz"...), ""},
	}
	for _, tt := range tests {
		if got := media.SniffKind(tt.data); got != tt.want {
			t.Errorf("%s: SniffKind = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestPutMediaWebMAndWAV: browser recordings are stored as what their bytes are; a voice note
// as .weba, so its key alone tells it from a WebM video, and a recording whose tracks say
// otherwise than the kind it was sent as is refused with the reason.
func TestPutMediaWebMAndWAV(t *testing.T) {
	st := MustStore(t, MustServer(t, t.TempDir()), 0)
	ok := []struct {
		name, kind, declared string
		data                 []byte
		mime, ext            string
	}{
		{"VoiceNote", "audio", "audio/webm;codecs=opus", webmVoice, "audio/webm", ".weba"},
		{"VoiceNoteDeclaredAsVideoWebM", "audio", "video/webm", webmVoice, "audio/webm", ".weba"},
		{"Video", "video", "video/webm;codecs=vp8,opus", webmVideo, "video/webm", ".webm"},
		{"VideoWithoutTracks", "video", "", webmBare, "video/webm", ".webm"},
		{"Matroska", "video", "video/x-matroska", mkvVideo, "video/x-matroska", ".mkv"},
		{"MatroskaAudio", "audio", "", ebml("matroska", "A_VORBIS"), "audio/x-matroska", ".mka"},
		{"WAV", "audio", "audio/wav", wavBytes, "audio/wav", ".wav"},
		{"WAVAsXWav", "audio", "audio/x-wav", wavBytes, "audio/wav", ".wav"},
	}
	for _, tt := range ok {
		m, err := st.PutMedia(context.Background(), "bouncer", "p1", tt.kind, tt.declared, bytes.NewReader(tt.data))
		if err != nil {
			t.Errorf("%s: PutMedia: %v", tt.name, err)
			continue
		}
		if m.MIME != tt.mime || !strings.HasSuffix(m.Key, tt.ext) || m.Kind != tt.kind {
			t.Errorf("%s: PutMedia = %+v, want %s %s *%s", tt.name, m, tt.kind, tt.mime, tt.ext)
		}
	}
	bad := []struct {
		name, kind, declared string
		data                 []byte
		why                  string
	}{
		{"VideoSentAsVoiceNote", "audio", "audio/webm", webmVideo, "has a video track; send it as a video"},
		{"VoiceNoteSentAsVideo", "video", "video/webm", webmVoice, "has sound only; send it as a voice note"},
		{"WebMDeclaredAsMP4", "video", "video/mp4", webmVideo, "sent as video/mp4"},
		{"WAVDeclaredAsOgg", "audio", "audio/ogg", wavBytes, "sent as audio/ogg"},
		{"MatroskaVideoAsAudio", "audio", "audio/x-matroska", mkvVideo, "has a video track"},
	}
	for _, tt := range bad {
		_, err := st.PutMedia(context.Background(), "bouncer", "p1", tt.kind, tt.declared, bytes.NewReader(tt.data))
		if !errors.Is(err, errs.ErrInvalid) || !strings.Contains(err.Error(), tt.why) {
			t.Errorf("%s: PutMedia = %v, want ErrInvalid saying %q", tt.name, err, tt.why)
		}
	}
}

// FuzzSniffKind: no input makes the sniffer panic, and what it calls audio or video the store's
// own check for that kind accepts (bar the track rules, which both read the same way).
func FuzzSniffKind(f *testing.F) {
	for _, seed := range [][]byte{ebml("matroska", "A_OPUS"), webmVoice, webmVideo, webmBare, mkvVideo, wavBytes, mp4Bytes, m4aBytes, oggBytes, mp3ID3, mp3Frame, aacBytes, amrBytes, heicBytes, pdfBytes, {0x1a, 0x45, 0xdf, 0xa3}, []byte("RIFF"), {0xff}} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		kind := media.SniffKind(data)
		if kind != "audio" && kind != "video" {
			return
		}
		if _, err := media.SniffAs(kind, data); err != nil {
			t.Errorf("SniffKind = %s, but the %s check refuses it: %v", kind, kind, err)
		}
	})
}

// TestOpenRange: a range of a stored object comes back with the object's size, a range past
// the end is ErrRange, and an end past the end is cut to it.
func TestOpenRange(t *testing.T) {
	st := MustStore(t, MustServer(t, t.TempDir()), 0)
	ctx := context.Background()
	m, err := st.PutMedia(ctx, "bouncer", "p1", "video", "video/webm", bytes.NewReader(webmVideo))
	if err != nil {
		t.Fatal(err)
	}
	body, ct, size, err := st.OpenRange(ctx, m.Key, 4, 9)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(body)
	body.Close()
	if err != nil {
		t.Fatalf("read the range: %v", err)
	}
	if !bytes.Equal(got, webmVideo[4:10]) || ct != "video/webm" || size != int64(len(webmVideo)) {
		t.Errorf("OpenRange(4, 9) = %x %s %d, want %x video/webm %d", got, ct, size, webmVideo[4:10], len(webmVideo))
	}
	body, _, _, err = st.OpenRange(ctx, m.Key, int64(len(webmVideo))-2, 1<<40)
	if err != nil {
		t.Fatal(err)
	}
	got, err = io.ReadAll(body)
	body.Close()
	if err != nil {
		t.Fatalf("read the range to the end: %v", err)
	}
	if !bytes.Equal(got, webmVideo[len(webmVideo)-2:]) {
		t.Errorf("OpenRange to past the end = %x", got)
	}
	// A browser (or anyone) may ask for bytes=0-9223372036854775807: the largest end HTTP
	// can say is the object's last byte too, not an error of the store adding one to it.
	body, _, _, err = st.OpenRange(ctx, m.Key, 0, math.MaxInt64)
	if err != nil {
		t.Fatalf("OpenRange(0, MaxInt64): %v", err)
	}
	got, err = io.ReadAll(body)
	body.Close()
	if err != nil || !bytes.Equal(got, webmVideo) {
		t.Errorf("OpenRange(0, MaxInt64) = %d bytes, %v; want the whole %d", len(got), err, len(webmVideo))
	}
	if _, _, _, err := st.OpenRange(ctx, m.Key, int64(len(webmVideo)), 1<<40); !errors.Is(err, media.ErrRange) {
		t.Errorf("OpenRange past the end: %v, want ErrRange", err)
	}
	if _, _, _, err := st.OpenRange(ctx, m.Key, math.MaxInt64, math.MaxInt64); !errors.Is(err, media.ErrRange) {
		t.Errorf("OpenRange(MaxInt64, MaxInt64): %v, want ErrRange", err)
	}
	if _, _, _, err := st.OpenRange(ctx, "bouncer/p1/missing.webm", 0, 10); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("OpenRange of a missing key: %v, want ErrNotFound", err)
	}
}
