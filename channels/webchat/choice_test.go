package webchat_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chatcampaigns/campaign/engine"
)

func TestChoice(t *testing.T) {
	t.Run("TapIsAChoice", func(t *testing.T) {
		h := MustHarness(t)
		b := h.MustBrowser(t)
		resp := h.Do(t, withBrowser(jsonReq("/play/bouncer/choices", `{"id":"tap-00000001","choice":"rules","title":"Contest rules"}`), b))
		if resp.StatusCode != 202 {
			t.Fatalf("status %d: %s", resp.StatusCode, errorText(t, resp))
		}
		got := h.eng.Received()
		if len(got) != 1 {
			t.Fatalf("received %+v", got)
		}
		in := got[0]
		if in.Kind != engine.KindChoice || in.Choice != "rules" || in.Text != "Contest rules" || in.ParticipantID != pid(b) || in.PlatformID != "tap-00000001" {
			t.Errorf("received %+v, want the choice rules titled Contest rules", in)
		}
		again := h.Do(t, withBrowser(jsonReq("/play/bouncer/choices", `{"id":"tap-00000001","choice":"rules","title":"Contest rules"}`), b))
		if again.StatusCode != 202 || len(h.eng.Received()) != 1 {
			t.Errorf("a retried tap: status %d, received %d", again.StatusCode, len(h.eng.Received()))
		}
	})
	for _, tc := range []struct{ name, body, reason string }{
		{"NoChoice", `{"id":"tap-00000002","title":"Rules"}`, "Tap one of the buttons to choose."},
		{"BadChoiceID", `{"id":"tap-00000003","choice":"Rules!","title":"Rules"}`, "That is not a choice this chat offers"},
		{"ChoiceIDWithOperator", `{"id":"tap-00000004","choice":{"$ne":""}}`, "That choice could not be read."},
		{"TitleTooLong", fmt.Sprintf(`{"id":"tap-00000005","choice":"rules","title":%q}`, strings.Repeat("x", 101)), "That choice's title is too long. Keep it under 100 characters."},
		{"BadClientID", `{"id":"x","choice":"rules"}`, "The message id must be 8 to 64 characters long."},
		{"NotJSON", `choice=`, "That choice could not be read."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := MustHarness(t)
			b := h.MustBrowser(t)
			resp := h.Do(t, withBrowser(jsonReq("/play/bouncer/choices", tc.body), b))
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
	t.Run("UnknownCampaign", func(t *testing.T) {
		h := MustHarness(t)
		if resp := h.Do(t, jsonReq("/play/nope/choices", `{"choice":"rules"}`)); resp.StatusCode != 404 {
			t.Errorf("status %d, want 404", resp.StatusCode)
		}
	})
}

func TestRepliesCarryButtons(t *testing.T) {
	h := MustHarness(t)
	base := h.MustServe(t)
	b := h.MustBrowser(t)
	s := MustStream(t, base, b)
	s.UntilReady(t)
	h.channel.Send(context.Background(), engine.Outbound{ID: 3, ParticipantID: pid(b), Text: "Tap below for the rules.",
		Buttons: []engine.Button{{ID: "rules", Title: "Contest rules"}, {ID: "enter", Title: "Take part"}}})
	ev := s.Next(t)
	if len(ev.Buttons) != 2 || ev.Buttons[0].ID != "rules" || ev.Buttons[0].Title != "Contest rules" || ev.Buttons[1].ID != "enter" {
		t.Errorf("event %+v, want the two buttons", ev)
	}
}

// TestHistoryOffersTheCurrentButtons: the transcript keeps no buttons, so a page shown again
// gets the buttons of the participant's state under the last reply.
func TestHistoryOffersTheCurrentButtons(t *testing.T) {
	h := MustHarness(t)
	base := h.MustServe(t)
	b := h.MustBrowser(t)
	h.eng.SetTranscript(pid(b), []engine.Line{
		{ID: 1, Direction: engine.Out, Text: "Hi."},
		{ID: 2, Direction: engine.Out, Text: "Tap below for the rules."},
		{ID: 3, Direction: engine.In, Text: "hm"},
	})
	h.eng.mu.Lock()
	h.eng.offered[pid(b)] = []engine.Button{{ID: "rules", Title: "Contest rules"}}
	h.eng.mu.Unlock()
	hist := MustStream(t, base, b).UntilReady(t)
	if len(hist) != 3 || len(hist[0].Buttons) != 0 || len(hist[2].Buttons) != 0 {
		t.Fatalf("history %+v, want buttons on the last reply only", hist)
	}
	if bs := hist[1].Buttons; len(bs) != 1 || bs[0].ID != "rules" || bs[0].Title != "Contest rules" {
		t.Errorf("last reply's buttons %+v", bs)
	}
}
