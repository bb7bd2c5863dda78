package media

import (
	"bytes"
	"net/http"
	"strings"
)

// Recordings and clips from browsers (MediaRecorder) and phones come in a handful of
// containers, which net/http.DetectContentType mostly does not know as audio or video: WebM
// and Matroska (EBML, 1A 45 DF A3), Ogg ("OggS"), the ISO base media file (an "ftyp" box: MP4,
// M4A, 3GP, QuickTime), MP3 (an ID3 tag or an MPEG frame sync), AAC (ADTS), AMR and WAV
// ("RIFF" … "WAVE"). These functions read only the first bytes.

var (
	typeWebMVideo = fileType{"video/webm", "webm", []string{"video/webm", "video/x-matroska"}}
	// An audio-only WebM (a MediaRecorder voice note) is stored as .weba, so that its key
	// alone tells it from a video.
	typeWebMAudio = fileType{"audio/webm", "weba", []string{"audio/webm", "video/webm"}}
	typeMKV       = fileType{"video/x-matroska", "mkv", []string{"video/x-matroska", "video/webm"}}
	typeMKA       = fileType{"audio/x-matroska", "mka", []string{"audio/x-matroska", "video/x-matroska"}}
	typeWAV       = fileType{"audio/wav", "wav", []string{"audio/wav", "audio/wave", "audio/x-wav", "audio/vnd.wave"}}
)

// ebmlMagic starts every WebM and Matroska file.
var ebmlMagic = []byte{0x1A, 0x45, 0xDF, 0xA3}

// headLen is how much of a file the container checks look at: the EBML header and, in what
// MediaRecorder and muxers write, the track list come well within it.
const headLen = 64 << 10

// ebmlDocType is "webm" or "matroska" for an EBML file, "" for anything else.
func ebmlDocType(data []byte) string {
	if !bytes.HasPrefix(data, ebmlMagic) {
		return ""
	}
	head := data[:min(len(data), 64)]
	switch {
	case bytes.Contains(head, []byte("webm")):
		return "webm"
	case bytes.Contains(head, []byte("matroska")):
		return "matroska"
	}
	return ""
}

// Matroska codec ids of the tracks a file declares (TrackEntry CodecID, plain ASCII).
var (
	videoCodecs = [][]byte{[]byte("V_VP8"), []byte("V_VP9"), []byte("V_AV1"), []byte("V_MPEG4/"), []byte("V_MPEGH/"), []byte("V_THEORA")}
	audioCodecs = [][]byte{[]byte("A_OPUS"), []byte("A_VORBIS"), []byte("A_AAC"), []byte("A_MPEG/"), []byte("A_PCM/"), []byte("A_FLAC")}
)

// ebmlTracks reports which kinds of track the head of an EBML file declares.
func ebmlTracks(data []byte) (video, audio bool) {
	head := data[:min(len(data), headLen)]
	for _, c := range videoCodecs {
		video = video || bytes.Contains(head, c)
	}
	for _, c := range audioCodecs {
		audio = audio || bytes.Contains(head, c)
	}
	return video, audio
}

// sniffEBML classifies a WebM or Matroska file sent as kind (video or audio).
func sniffEBML(kind string, data []byte) (fileType, bool) {
	switch ebmlDocType(data) {
	case "webm":
		if kind == KindAudio {
			return typeWebMAudio, true
		}
		return typeWebMVideo, true
	case "matroska":
		if kind == KindAudio {
			return typeMKA, true
		}
		return typeMKV, true
	}
	return fileType{}, false
}

func isWAV(data []byte) bool {
	return len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WAVE"
}

// SniffKind says what kind of media data is from its first bytes: photo (JPEG, PNG, GIF,
// WebP), video, audio, or "" when it is none of them. A WebM or Matroska file is a video when
// it declares a video track or no track at all, audio when it declares sound only; an ISO
// media file is audio for the M4A brands and a video otherwise. A page that recorded the file
// itself says which it is; this is for files a participant picked.
func SniffKind(data []byte) string {
	if len(data) == 0 {
		return ""
	}
	if ebmlDocType(data) != "" {
		if video, audio := ebmlTracks(data); audio && !video {
			return KindAudio
		}
		return KindVideo
	}
	if brand, ok := ftypBrand(data); ok {
		if brand == "M4A " || brand == "M4B " {
			return KindAudio
		}
		if _, video := videoBrand(brand); video {
			return KindVideo
		}
		// HEIC and AVIF photos are ISO media files too; they are not taken here.
		return ""
	}
	if _, ok := sniffAudio(data); ok {
		return KindAudio
	}
	switch ct := http.DetectContentType(data); {
	case strings.HasPrefix(ct, "image/jpeg"), strings.HasPrefix(ct, "image/png"),
		strings.HasPrefix(ct, "image/gif"), strings.HasPrefix(ct, "image/webp"):
		return KindPhoto
	}
	return ""
}
