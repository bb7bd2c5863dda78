package webchat

import (
	"slices"
	"testing"
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
