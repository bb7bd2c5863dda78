package webchat_test

import (
	"strings"
	"testing"

	"github.com/chatcampaigns/campaign/engine"
)

// TestLocation: the page shares the browser's location as a KindLocation event; anything
// that is not a place on earth is refused with the reason.
func TestLocation(t *testing.T) {
	t.Run("Shared", func(t *testing.T) {
		h := MustHarness(t)
		b := h.MustBrowser(t)
		resp := h.Do(t, withBrowser(jsonReq("/play/bouncer/location", `{"id":"loc-00000001","lat":52.3731,"lng":4.8922}`), b))
		if resp.StatusCode != 202 {
			t.Fatalf("status %d: %s", resp.StatusCode, errorText(t, resp))
		}
		got := h.eng.Received()
		if len(got) != 1 {
			t.Fatalf("received %+v", got)
		}
		in := got[0]
		if in.Kind != engine.KindLocation || in.Location == nil || in.Location.Latitude != 52.3731 || in.Location.Longitude != 4.8922 ||
			in.ParticipantID != pid(b) || in.PlatformID != "loc-00000001" {
			t.Errorf("received %+v (location %+v), want the Dam", in, in.Location)
		}
	})
	for _, tc := range []struct{ name, body, reason string }{
		{"LatOutOfRange", `{"id":"loc-00000002","lat":91,"lng":4.89}`, "That is not a place on earth"},
		{"LngOutOfRange", `{"id":"loc-00000003","lat":52.37,"lng":-181}`, "That is not a place on earth"},
		{"Missing", `{"id":"loc-00000004","lat":52.37}`, "That location could not be read."},
		{"NotNumbers", `{"id":"loc-00000005","lat":"north","lng":4.89}`, "That location could not be read."},
		{"BadClientID", `{"id":"x","lat":52.37,"lng":4.89}`, "The message id must be 8 to 64 characters long."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := MustHarness(t)
			b := h.MustBrowser(t)
			resp := h.Do(t, withBrowser(jsonReq("/play/bouncer/location", tc.body), b))
			if resp.StatusCode != 400 {
				t.Fatalf("status %d, want 400", resp.StatusCode)
			}
			if got := errorText(t, resp); !strings.HasPrefix(got, tc.reason) {
				t.Errorf("reason %q, want %q", got, tc.reason)
			}
			if n := len(h.eng.Received()); n != 0 {
				t.Errorf("engine received %d events", n)
			}
		})
	}
}

// TestLocationInHistory: a page shown again shows a shared location as the pin it was.
func TestLocationInHistory(t *testing.T) {
	h := MustHarness(t)
	base := h.MustServe(t)
	b := h.MustBrowser(t)
	h.eng.SetTranscript(pid(b), []engine.Line{
		{ID: 1, Direction: engine.Out, Text: "Share your location."},
		{ID: 2, Direction: engine.In, Text: "[location 52.373100,4.892200]"},
	})
	hist := MustStream(t, base, b).UntilReady(t)
	if len(hist) != 2 || hist[1].Text != "📍 52.37310, 4.89220" {
		t.Fatalf("history %+v, want the location as a pin", hist)
	}
}
