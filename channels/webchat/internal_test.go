package webchat

import (
	"slices"
	"testing"

	"github.com/chatcampaigns/campaign/engine"
)

func TestUnsent(t *testing.T) {
	ev := func(texts ...string) []event {
		var out []event
		for _, s := range texts {
			out = append(out, event{Text: s})
		}
		return out
	}
	texts := func(evs []event) []string {
		out := []string{}
		for _, e := range evs {
			out = append(out, e.Text)
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		published []event
		history   []string
		want      []string
	}{
		{"NothingRecordedYet", ev("a", "b"), nil, []string{"a", "b"}},
		{"AllRecorded", ev("a", "b"), []string{"x", "a", "b"}, []string{}},
		{"FirstRecorded", ev("a", "b"), []string{"x", "a"}, []string{"b"}},
		{"RepeatedTextNotYetRecorded", ev("a", "p", "p"), []string{"a", "p"}, []string{"p"}},
		{"OlderRepeatIsNotThisOne", ev("p"), []string{"p", "a"}, []string{"p"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := texts(unsent(tc.published, tc.history)); !slices.Equal(got, tc.want) {
				t.Errorf("unsent = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestHubDropsASlowPage(t *testing.T) {
	h := newHub()
	slow, _ := h.subscribe("p")
	for i := 0; i < subBuffer+1; i++ {
		h.publish("p", event{Text: "x"}) // must never block
	}
	n := 0
	for range slow.ch {
		n++
	}
	if n != subBuffer {
		t.Errorf("slow page got %d events before being cut off, want %d", n, subBuffer)
	}
	h.unsubscribe("p", slow) // after the hub dropped it: no double close
	if _, recent := h.subscribe("p"); len(recent) != recentMax {
		t.Errorf("a new page sees %d recent replies, want the last %d", len(recent), recentMax)
	}
}

// TestInHistory: a team member's message relayed while a page read the transcript is shown
// once: not again when the history has it, and not lost when it does not yet.
func TestInHistory(t *testing.T) {
	lines := []engine.Line{
		{Direction: engine.Out, Text: "Welcome aboard!"},
		{Direction: engine.In, Text: "OK"},
		{Direction: engine.In, Text: "us", MediaKey: "race/p/1.png"},
	}
	for _, tc := range []struct {
		ev   event
		want bool
	}{
		{event{Dir: "in", Text: "OK"}, true},
		{event{Dir: "in", Text: "us", Media: "/play/race/media/race/p/1.png"}, true},
		{event{Dir: "in", Text: "us"}, false},
		{event{Dir: "in", Text: "Welcome aboard!"}, false},
		{event{Dir: "in", Text: "not yet stored"}, false},
	} {
		if got := inHistory(tc.ev, lines, "race"); got != tc.want {
			t.Errorf("inHistory(%+v) = %v, want %v", tc.ev, got, tc.want)
		}
	}
}
