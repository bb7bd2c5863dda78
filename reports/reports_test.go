package reports_test

import (
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/reports"
)

func TestAudienceText(t *testing.T) {
	for _, tc := range []struct {
		a    engine.Audience
		want string
	}{
		{engine.Audience{}, "everyone"},
		{engine.Audience{State: "judging"}, "everyone in judging"},
		{engine.Audience{Var: "lang", Value: "nl"}, "everyone with lang = nl"},
		{engine.Audience{State: "door", Var: "city", Value: "Utrecht"}, "everyone in door with city = Utrecht"},
	} {
		if got := reports.AudienceText(tc.a); got != tc.want {
			t.Errorf("AudienceText(%+v) = %q, want %q", tc.a, got, tc.want)
		}
	}
}

// TestCursorOrder: a cursor keeps what comes after it in the list (less recently active,
// ties by id descending), which is what the stores' keyset conditions read.
func TestCursorOrder(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC)
	c := reports.CursorOf(engine.Participant{ID: "m", UpdatedAt: t0})
	for _, tc := range []struct {
		p    engine.Participant
		want bool
	}{
		{engine.Participant{ID: "z", UpdatedAt: t0.Add(-time.Second)}, true},
		{engine.Participant{ID: "a", UpdatedAt: t0.Add(time.Second)}, false},
		{engine.Participant{ID: "a", UpdatedAt: t0}, true},
		{engine.Participant{ID: "m", UpdatedAt: t0}, false},
		{engine.Participant{ID: "z", UpdatedAt: t0}, false},
	} {
		if got := c.Before(tc.p); got != tc.want {
			t.Errorf("cursor m@t0 keeps %s@%v = %v, want %v", tc.p.ID, tc.p.UpdatedAt.Sub(t0), got, tc.want)
		}
	}
	if !(reports.Cursor{}).Before(engine.Participant{ID: "x"}) {
		t.Error("the start of the list keeps everything")
	}
}

func TestFilterKeeps(t *testing.T) {
	p := engine.Participant{Campaign: "bouncer", State: "door", Vars: map[string]string{"handoff": "chefs", "name": "Ann"}}
	for _, tc := range []struct {
		f    reports.ConversationFilter
		want bool
	}{
		{reports.ConversationFilter{}, true},
		{reports.ConversationFilter{Campaign: "fridge"}, false},
		{reports.ConversationFilter{Campaign: "bouncer", State: "door"}, true},
		{reports.ConversationFilter{State: "in"}, false},
		{reports.ConversationFilter{Team: "chefs"}, true},
		{reports.ConversationFilter{Team: "support"}, false},
		{reports.ConversationFilter{Waiting: true}, true},
	} {
		if got := tc.f.Keeps(p); got != tc.want {
			t.Errorf("%+v keeps = %v, want %v", tc.f, got, tc.want)
		}
	}
	if !reports.MatchesVars(p, "ANN") || reports.MatchesVars(p, "bob") {
		t.Error("MatchesVars is not a case-insensitive substring match on values")
	}
}
