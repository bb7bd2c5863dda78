package media

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// The media kinds, as engine.Media.Kind names them.
const (
	KindPhoto    = "photo"
	KindVideo    = "video"
	KindAudio    = "audio"
	KindDocument = "document"
)

// PutMedia checks and stores one media object of the given kind for a participant, as a chat
// platform delivered it; declaredMIME is the type the platform announced (may be empty).
//
// A photo goes through Put: the same checks, limits and thumbnail. A video, audio recording
// or document is read up to its kind's limit (Config.MaxVideoBytes and so on; more fails with
// errs.ErrTooLarge, nothing stored), its type is sniffed from the bytes (MP4/3GP/QuickTime
// and WebM/Matroska video; Ogg/Opus, WebM/Opus, AAC, AMR, MP3, WAV and M4A audio; PDF, Word, Excel, PowerPoint and plain-text
// documents) and must agree with declaredMIME, else the error wraps errs.ErrInvalid and says
// why. It is stored under "<campaign>/<participant>/<sha256hex>.<ext>" with the sniffed type
// and no thumbnail, so storing the same bytes again is idempotent. Before that, MP4, QuickTime,
// 3GP and M4A files lose their metadata boxes (the recording's location among them) and MP3s
// their ID3 tags, without touching a byte of sound or picture; see stripContainer. Any other kind is refused
// with errs.ErrInvalid.
func (s *Store) PutMedia(ctx context.Context, campaign, participant, kind, declaredMIME string, r io.Reader) (engine.Media, error) {
	if kind == KindPhoto {
		return s.Put(ctx, campaign, participant, r)
	}
	limit, ok := s.maxKind[kind]
	if !ok {
		return engine.Media{}, fmt.Errorf("media: %q is not a kind of media kept here: %w", kind, errs.ErrInvalid)
	}
	if err := checkSegment("campaign", campaign); err != nil {
		return engine.Media{}, err
	}
	if err := checkSegment("participant", participant); err != nil {
		return engine.Media{}, err
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return engine.Media{}, fmt.Errorf("media: read %s: %w", kind, err)
	}
	if int64(len(data)) > limit {
		return engine.Media{}, fmt.Errorf("media: the %s is larger than %d bytes: %w", kind, limit, errs.ErrTooLarge)
	}
	f, err := sniffKind(kind, declaredMIME, data)
	if err != nil {
		return engine.Media{}, err
	}
	if data, err = stripContainer(f, data); err != nil {
		return engine.Media{}, err
	}
	sum := sha256.Sum256(data)
	m := engine.Media{
		Kind: kind,
		Key:  campaign + "/" + participant + "/" + hex.EncodeToString(sum[:]) + "." + f.ext,
		MIME: f.mime,
		Size: int64(len(data)),
	}
	if err := s.put(ctx, m.Key, m.MIME, data); err != nil {
		return engine.Media{}, err
	}
	return m, nil
}

// fileType is a sniffed encoding: its MIME type, file extension, and the types a platform may
// declare for it without lying.
type fileType struct {
	mime, ext string
	aliases   []string
}

var (
	typeMP4       = fileType{"video/mp4", "mp4", []string{"video/mp4", "video/3gpp", "video/quicktime", "video/mpeg4"}}
	type3GP       = fileType{"video/3gpp", "3gp", []string{"video/3gpp", "video/3gpp2", "video/mp4"}}
	typeQuickTime = fileType{"video/quicktime", "mov", []string{"video/quicktime", "video/mp4"}}
	typeOgg       = fileType{"audio/ogg", "ogg", []string{"audio/ogg", "audio/opus", "application/ogg"}}
	typeAMR       = fileType{"audio/amr", "amr", []string{"audio/amr", "audio/amr-wb", "audio/3gpp"}}
	typeAAC       = fileType{"audio/aac", "aac", []string{"audio/aac", "audio/aacp", "audio/x-aac", "audio/mp4"}}
	typeMP3       = fileType{"audio/mpeg", "mp3", []string{"audio/mpeg", "audio/mp3", "audio/mpeg3"}}
	typeM4A       = fileType{"audio/mp4", "m4a", []string{"audio/mp4", "audio/m4a", "audio/x-m4a", "audio/aac", "video/mp4", "audio/3gpp"}}
	typePDF       = fileType{"application/pdf", "pdf", []string{"application/pdf"}}
	typeDOCX      = fileType{"application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx", nil}
	typeXLSX      = fileType{"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx", nil}
	typePPTX      = fileType{"application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx", nil}
	typeDOC       = fileType{"application/msword", "doc", nil}
	typeXLS       = fileType{"application/vnd.ms-excel", "xls", nil}
	typePPT       = fileType{"application/vnd.ms-powerpoint", "ppt", nil}
	typeText      = fileType{"text/plain", "txt", []string{"text/plain"}}
	typeCSV       = fileType{"text/csv", "csv", []string{"text/csv"}}
)

// sniffKind decides from data what a video, audio recording or document really is, and
// whether that agrees with what was declared.
func sniffKind(kind, declared string, data []byte) (fileType, error) {
	if len(data) == 0 {
		return fileType{}, fmt.Errorf("media: the %s is empty: %w", kind, errs.ErrInvalid)
	}
	decl := ""
	if declared != "" {
		mt, _, err := mime.ParseMediaType(declared)
		if base, params, _ := strings.Cut(declared, ";"); err != nil && strings.HasPrefix(strings.TrimSpace(params), "codecs=") {
			// Browsers write "video/webm;codecs=vp8,opus" (MediaRecorder's type), whose
			// comma RFC 2045 would have quoted: the type before it is what counts.
			mt, _, err = mime.ParseMediaType(base)
		}
		if err != nil {
			return fileType{}, fmt.Errorf("media: declared type %q is not a MIME type: %w", declared, errs.ErrInvalid)
		}
		decl = mt
	}
	var (
		f  fileType
		ok bool
	)
	switch kind {
	case KindVideo:
		f, ok = sniffVideo(data)
	case KindAudio:
		f, ok = sniffAudio(data)
	case KindDocument:
		f, ok = sniffDocument(data, decl)
	}
	if !ok {
		return fileType{}, fmt.Errorf("media: the file is %s, not a %s we accept: %w",
			describe(http.DetectContentType(data)), kind, errs.ErrInvalid)
	}
	// A WebM says which tracks it has: a voice note with pictures, or a video without them,
	// is not what it was sent as. (A file that names no track passes on its container.)
	if ebmlDocType(data) != "" {
		switch video, audio := ebmlTracks(data); {
		case kind == KindAudio && video:
			return fileType{}, fmt.Errorf("media: the recording has a video track; send it as a video: %w", errs.ErrInvalid)
		case kind == KindVideo && audio && !video:
			return fileType{}, fmt.Errorf("media: the recording has sound only; send it as a voice note: %w", errs.ErrInvalid)
		}
	}
	// A generic declaration says nothing false; anything specific must fit the bytes.
	if decl == "" || decl == "application/octet-stream" || decl == f.mime {
		return f, nil
	}
	for _, a := range f.aliases {
		if decl == a {
			return f, nil
		}
	}
	return fileType{}, fmt.Errorf("media: the file is %s but was sent as %s: %w", f.mime, decl, errs.ErrInvalid)
}

// ftypBrand returns the major brand of an ISO base media file (MP4 and relatives).
func ftypBrand(data []byte) (string, bool) {
	if len(data) < 12 || string(data[4:8]) != "ftyp" {
		return "", false
	}
	return string(data[8:12]), true
}

// videoBrand classifies an ISO media brand as video (and which), or not.
func videoBrand(brand string) (fileType, bool) {
	switch {
	case strings.HasPrefix(brand, "3g"):
		return type3GP, true
	case brand == "qt  ":
		return typeQuickTime, true
	case strings.HasPrefix(brand, "iso"), strings.HasPrefix(brand, "mp4"), brand == "avc1",
		brand == "M4V ", brand == "M4VH", brand == "M4VP", brand == "mmp4", brand == "MSNV",
		brand == "dash", brand == "f4v ", brand == "kddi", brand == "XAVC":
		return typeMP4, true
	}
	return fileType{}, false
}

func sniffVideo(data []byte) (fileType, bool) {
	if f, ok := sniffEBML(KindVideo, data); ok {
		return f, true
	}
	brand, ok := ftypBrand(data)
	if !ok {
		return fileType{}, false
	}
	return videoBrand(brand)
}

func sniffAudio(data []byte) (fileType, bool) {
	if brand, ok := ftypBrand(data); ok {
		// An MP4 container sent as audio is audio, whatever brand the recorder wrote.
		if _, video := videoBrand(brand); video || brand == "M4A " || brand == "M4B " {
			return typeM4A, true
		}
		return fileType{}, false
	}
	if f, ok := sniffEBML(KindAudio, data); ok {
		return f, true
	}
	switch {
	case isWAV(data):
		return typeWAV, true
	case bytes.HasPrefix(data, []byte("OggS")):
		return typeOgg, true
	case bytes.HasPrefix(data, []byte("#!AMR")):
		return typeAMR, true
	case bytes.HasPrefix(data, []byte("ID3")):
		return typeMP3, true
	case len(data) >= 2 && data[0] == 0xFF && data[1]&0xF6 == 0xF0:
		// ADTS: a 12-bit sync word and layer 00.
		return typeAAC, true
	case len(data) >= 2 && data[0] == 0xFF && data[1]&0xE0 == 0xE0 && data[1]&0x06 != 0:
		// An MPEG audio frame: an 11-bit sync word and a layer other than 00.
		return typeMP3, true
	}
	return fileType{}, false
}

// oleMagic starts every legacy (OLE compound file) Office document.
var oleMagic = []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1")

func sniffDocument(data []byte, declared string) (fileType, bool) {
	switch {
	case bytes.HasPrefix(data, []byte("%PDF-")):
		return typePDF, true
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return sniffOOXML(data)
	case bytes.HasPrefix(data, oleMagic):
		// The compound file does not say which application wrote it without parsing its
		// directory; the declared type decides among the three, and nothing else passes.
		for _, f := range []fileType{typeDOC, typeXLS, typePPT} {
			if declared == f.mime {
				return f, true
			}
		}
		return fileType{}, false
	}
	if strings.HasPrefix(http.DetectContentType(data), "text/plain") && utf8.Valid(data) {
		if declared == typeCSV.mime {
			return typeCSV, true
		}
		return typeText, true
	}
	return fileType{}, false
}

// sniffOOXML tells Word, Excel and PowerPoint files apart by their part names. Only the zip
// directory is read; nothing is decompressed, so a zip bomb costs nothing here.
func sniffOOXML(data []byte) (fileType, bool) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fileType{}, false
	}
	for _, f := range zr.File {
		switch {
		case strings.HasPrefix(f.Name, "word/"):
			return typeDOCX, true
		case strings.HasPrefix(f.Name, "xl/"):
			return typeXLSX, true
		case strings.HasPrefix(f.Name, "ppt/"):
			return typePPTX, true
		}
	}
	return fileType{}, false
}

// stripContainer removes what a video or audio container says about where, when and on what
// it was recorded. ISO media files (everything a phone records as MP4, MOV, 3GP or M4A) and
// MP3 are rewritten. WebM, Ogg, WAV, AMR and AAC recordings are kept as they are: browsers'
// and WhatsApp's recorders write no location into them, and their tag blocks hold codec
// names. Documents are the participant's own files and are kept byte for byte.
func stripContainer(f fileType, data []byte) ([]byte, error) {
	switch f.ext {
	case typeMP4.ext, type3GP.ext, typeQuickTime.ext, typeM4A.ext:
		return stripISO(data)
	case typeMP3.ext:
		return stripID3(data), nil
	}
	return data, nil
}
