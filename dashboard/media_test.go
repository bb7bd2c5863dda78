package dashboard_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/chatcampaigns/campaign/dashboard"
)

// mediaPID is a participant whose transcript holds a voice note, a video and a photo.
const mediaPID = "media-sender"

// TestEntriesPlayVideoAndVoice: a video or voice note entry has no thumbnail; the queue plays
// it in place, from the entry's media route, served with its type.
func TestEntriesPlayVideoAndVoice(t *testing.T) {
	h := newHarness(t)
	h.MustUser("mod1", dashboard.RoleModerator)
	h.MustLogin("mod1")
	video := h.MustEntryOf("bouncer", "convince", "my moves", "video", "video/webm", "webm")
	voice := h.MustEntryOf("bouncer", "convince", "", "audio", "audio/webm", "weba")
	doc := MustDoc(t, h.Get("/dashboard/entries"))
	for _, tc := range []struct{ id, sel, ct string }{
		{video.ID, "video[controls]", "video/webm"},
		{voice.ID, "audio[controls]", "audio/webm"},
	} {
		entry := doc.Find(`.entry[data-id="` + tc.id + `"]`)
		src, ok := entry.Find(tc.sel).Attr("src")
		if !ok || src != "/dashboard/entries/"+tc.id+"/media" {
			t.Errorf("entry %s: no %s playing its media (src %q)", tc.id, tc.sel, src)
			continue
		}
		if entry.Find("a.media").Length() != 1 {
			t.Errorf("entry %s: no link to open it (the o key follows it)", tc.id)
		}
		resp := h.Get(src)
		wantStatus(t, resp, http.StatusOK)
		if ct := resp.Header.Get("Content-Type"); ct != tc.ct {
			t.Errorf("%s: Content-Type %q, want %q", src, ct, tc.ct)
		}
		if ar := resp.Header.Get("Accept-Ranges"); ar != "bytes" {
			t.Errorf("%s: Accept-Ranges %q, want bytes", src, ar)
		}
	}
}

// TestMediaRange: a browser seeking in a video asks for part of it and gets 206 with that
// part; a range past the end is 416; what is not one simple range gets the whole object.
func TestMediaRange(t *testing.T) {
	h := newHarness(t)
	h.MustUser("mod1", dashboard.RoleModerator)
	h.MustLogin("mod1")
	e := h.MustEntryOf("bouncer", "convince", "", "video", "video/mp4", "mp4")
	whole := "full-" + e.ID
	src := "/dashboard/entries/" + e.ID + "/media"
	get := func(rng string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, src, nil)
		req.Header.Set("Range", rng)
		return h.Do(req)
	}
	tests := []struct {
		rng, body, contentRange string
		status                  int
	}{
		{"bytes=0-3", "full", "bytes 0-3/" + itoa(len(whole)), http.StatusPartialContent},
		{"bytes=5-", whole[5:], "bytes 5-" + itoa(len(whole)-1) + "/" + itoa(len(whole)), http.StatusPartialContent},
		{"bytes=2-1000", whole[2:], "bytes 2-" + itoa(len(whole)-1) + "/" + itoa(len(whole)), http.StatusPartialContent},
		{"bytes=1000-", "", "", http.StatusRequestedRangeNotSatisfiable},
		{"bytes=0-1,4-5", whole, "", http.StatusOK},
		{"bytes=-3", whole, "", http.StatusOK},
		{"pages=1", whole, "", http.StatusOK},
	}
	for _, tt := range tests {
		resp := get(tt.rng)
		if resp.StatusCode != tt.status {
			t.Errorf("Range %s: status %d, want %d", tt.rng, resp.StatusCode, tt.status)
			continue
		}
		if tt.status == http.StatusRequestedRangeNotSatisfiable {
			continue
		}
		if body := MustBody(t, resp); body != tt.body {
			t.Errorf("Range %s: body %q, want %q", tt.rng, body, tt.body)
		}
		if cr := resp.Header.Get("Content-Range"); cr != tt.contentRange {
			t.Errorf("Range %s: Content-Range %q, want %q", tt.rng, cr, tt.contentRange)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "video/mp4" {
			t.Errorf("Range %s: Content-Type %q", tt.rng, ct)
		}
	}
}

// TestConversationPlaysMedia: the conversation view shows each line's photo, video or voice
// note, played from the line's own media route (the key comes from the stored line).
func TestConversationPlaysMedia(t *testing.T) {
	h := newHarness(t)
	h.MustUser("admin1", dashboard.RoleAdmin)
	h.MustLogin("admin1")
	h.media.Put("bouncer/"+mediaPID+"/a.weba", "audio/webm", []byte("voice"))
	h.media.Put("bouncer/"+mediaPID+"/b.webm", "video/webm", []byte("video"))
	h.media.Put("bouncer/"+mediaPID+"/c.jpg", "image/jpeg", []byte("photo"))
	base := "/dashboard/campaigns/bouncer/participants/" + mediaPID
	doc := MustDoc(t, h.Get(base))
	for _, tc := range []struct{ sel, line, ct, body string }{
		{".line audio[controls]", "7", "audio/webm", "voice"},
		{".line video[controls]", "8", "video/webm", "video"},
		{".line img.line-photo", "9", "image/jpeg", "photo"},
	} {
		src, ok := doc.Find(tc.sel).Attr("src")
		if want := base + "/lines/" + tc.line + "/media"; !ok || src != want {
			t.Errorf("%s: src %q, want %q", tc.sel, src, want)
			continue
		}
		resp := h.Get(src)
		wantStatus(t, resp, http.StatusOK)
		if ct := resp.Header.Get("Content-Type"); ct != tc.ct {
			t.Errorf("%s: Content-Type %q, want %q", src, ct, tc.ct)
		}
		if body := MustBody(t, resp); body != tc.body {
			t.Errorf("%s: body %q", src, body)
		}
	}
	if text := doc.Find(".line.in .text").Eq(1).Text(); text != "me dancing" {
		t.Errorf("the video's caption is %q", text)
	}
	// A line without media, or one that does not exist, has nothing to serve.
	wantStatus(t, h.Get(base+"/lines/10/media"), http.StatusNotFound)
	wantStatus(t, h.Get(base+"/lines/99/media"), http.StatusNotFound)
}

func itoa(n int) string { return strconv.Itoa(n) }
