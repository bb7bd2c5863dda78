package webchat_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"testing"

	"github.com/chatcampaigns/campaign/channels/webchat"
	"github.com/chatcampaigns/campaign/engine"
)

// Minimal WebM files as MediaRecorder writes them: the EBML header naming webm, then a track
// list with the codecs (an audio-only voice note, or a video with sound).
var (
	webmVoice = webm("A_OPUS")
	webmVideo = webm("V_VP8", "A_OPUS")
)

func webm(codecs ...string) []byte {
	b := []byte("\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08\x42\x82\x84webm\x42\x87\x81\x04\x42\x85\x81\x02\x18\x53\x80\x67\x01\xff\xff\xff\xff\xff\xff\xff\x16\x54\xae\x6b")
	for _, c := range codecs {
		b = append(b, 0xae, 0x86, byte(0x80|len(c)))
		b = append(b, c...)
	}
	return append(b, make([]byte, 256)...)
}

// mediaReq is an upload of data in the "media" field, with the browser's type for the file
// and the kind the page says it recorded ("" for a picked file).
func mediaReq(tb testing.TB, kind, contentType string, data []byte) *http.Request {
	tb.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if kind != "" {
		mw.WriteField("kind", kind)
	}
	hdr := textproto.MIMEHeader{}
	hdr.Set("Content-Disposition", `form-data; name="media"; filename="clip"`)
	if contentType != "" {
		hdr.Set("Content-Type", contentType)
	}
	fw, err := mw.CreatePart(hdr)
	if err != nil {
		tb.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	req := httptest.NewRequest("POST", "/play/bouncer/media", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return req
}

// TestUploadVideoAndVoice: a video or voice note is taken like a photo, its kind from what the
// page recorded or, for a picked file, from the bytes; the engine gets that kind. What the
// bytes contradict, an unknown kind and a file over its kind's limit are refused with the
// reason, and nothing reaches the engine.
func TestUploadVideoAndVoice(t *testing.T) {
	tests := []struct {
		name, kind, ctype string
		data              []byte
		status            int
		wantKind, want    string
	}{
		{"RecordedVoiceNote", "audio", "audio/webm;codecs=opus", webmVoice, 202, "audio", ""},
		{"PickedVideo", "", "video/webm", webmVideo, 202, "video", ""},
		{"PickedVoiceNote", "", "", webmVoice, 202, "audio", ""},
		{"PickedPhoto", "", "image/png", fakePNG(8), 202, "photo", ""},
		{"VideoSentAsVoiceNote", "audio", "audio/webm", webmVideo, 415, "", "That doesn't sound like a voice note."},
		{"PhotoSentAsVideo", "video", "video/mp4", fakePNG(8), 415, "", "That doesn't look like a video."},
		{"PickedScript", "", "text/x-sh", []byte("#!/bin/sh\necho hi\n"), 415, "", "That doesn't look like a photo, video or voice note."},
		// A file that lost its contents (a recording stopped at once, a cloud file not yet
		// downloaded) is said to be empty, not of the wrong type.
		{"EmptyPickedFile", "", "video/mp4", []byte{}, 400, "", "That file is empty. Choose another one, or record again."},
		{"EmptyRecording", "audio", "audio/webm", []byte{}, 400, "", "That file is empty. Choose another one, or record again."},
		{"UnknownKind", "sticker", "image/webp", fakePNG(8), 400, "", "The kind of media must be photo, video or audio."},
		{"VoiceNoteOverItsLimit", "audio", "audio/webm", append(append([]byte{}, webmVoice...), make([]byte, 2<<10)...), 413, "", "That voice note is too big. Send one of at most 2 KB."},
		{"VideoOverItsLimit", "", "video/webm", append(append([]byte{}, webmVideo...), make([]byte, 4<<10)...), 413, "", "That video is too big. Send one of at most 3 KB."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := MustHarness(t, func(c *webchat.Config) { c.MaxAudio, c.MaxVideo = 2<<10, 3<<10 })
			b := h.MustBrowser(t)
			resp := h.Do(t, withBrowser(mediaReq(t, tt.kind, tt.ctype, tt.data), b))
			if resp.StatusCode != tt.status {
				body, _ := io.ReadAll(resp.Body)
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tt.status)
			}
			got := h.eng.Received()
			if tt.status != 202 {
				if msg := errorText(t, resp); !strings.HasPrefix(msg, tt.want) {
					t.Errorf("error %q, want %q", msg, tt.want)
				}
				if len(got) != 0 {
					t.Errorf("engine received %d events", len(got))
				}
				return
			}
			if len(got) != 1 || got[0].Kind != engine.KindMedia || got[0].Media == nil || got[0].Media.Kind != tt.wantKind {
				t.Fatalf("engine received %+v, want one %s", got, tt.wantKind)
			}
			// The page plays it back from the media route, as what it is.
			req := withBrowser(httptest.NewRequest("GET", "/play/bouncer/media/"+got[0].Media.Key, nil), b)
			r := h.Do(t, req)
			if ct := r.Header.Get("Content-Type"); r.StatusCode != 200 || (tt.wantKind != "photo" && !strings.HasPrefix(ct, tt.wantKind+"/")) {
				t.Errorf("media route: %d %s", r.StatusCode, ct)
			}
		})
	}
}
