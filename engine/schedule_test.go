package engine_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
)

// TestTimesAfterLaunchKeepTheirLaunch: a schedule written as a time after launch counts from
// the campaign's first launch, across restarts and new versions of its file.
func TestTimesAfterLaunchKeepTheirLaunch(t *testing.T) {
	version := func(greeting string) *campaigns.Definition {
		d, probs := campaigns.Parse("quiz.yaml", []byte("id: quiz\nschedule: {end: 2d}\nstart: a\nstates:\n  a:\n    say: "+greeting+"\n    on:\n      - text: any\n        say: noted\n"))
		if d == nil {
			t.Fatal(probs)
		}
		d.Path = "/defs/quiz.yaml"
		return d
	}
	h := newEnv(t, version("hello"))
	if err := h.eng.Restore(h.ctx); err != nil {
		t.Fatal(err)
	}
	if d, _ := h.eng.Campaign("quiz"); !d.Schedule.End.Equal(t0.Add(48 * time.Hour)) {
		t.Fatalf("end = %v, want two days after the launch at %v", d.Schedule.End, t0)
	}
	// Three days later the file is edited and the server restarted: the launch stays (nobody
	// plays the first version, so only the campaign's record remembers it).
	h.clock.Advance(72 * time.Hour)
	h.eng = engine.New(engine.Config{Store: h.db, Campaigns: []*campaigns.Definition{version("good day")}, Now: h.clock.Now})
	h.eng.Handle("test", h.sent)
	if err := h.eng.Restore(h.ctx); err != nil {
		t.Fatal(err)
	}
	d, _ := h.eng.Campaign("quiz")
	if !d.Schedule.End.Equal(t0.Add(48 * time.Hour)) {
		t.Errorf("end after an edit = %v, want it still two days after the first launch", d.Schedule.End)
	}
	if d.States["a"].Say[0].Text.In("", "en") != "good day" {
		t.Error("the edited file is not the current version")
	}
	wantTexts(t, h.text("quiz", "bob", "hi"), fmt.Sprintf(engine.Ended, d.Schedule.Format(d.Schedule.End)))

	// And once more, with only the edited version stored.
	h.eng = engine.New(engine.Config{Store: h.db, Campaigns: []*campaigns.Definition{version("good day")}, Now: h.clock.Now})
	h.eng.Handle("test", h.sent)
	if err := h.eng.Restore(h.ctx); err != nil {
		t.Fatal(err)
	}
	if d, _ := h.eng.Campaign("quiz"); !d.Schedule.End.Equal(t0.Add(48 * time.Hour)) {
		t.Errorf("end after a second restart = %v, want it still two days after the first launch", d.Schedule.End)
	}
	wantTexts(t, h.text("quiz", "cy", "hi"), fmt.Sprintf(engine.Ended, d.Schedule.Format(d.Schedule.End)))
}
