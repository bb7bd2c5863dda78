package sqlite

import (
	"slices"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/reports"
)

// TestSearchIndexFindsWhatTheTranscriptsDo: a search finds the same conversations whether it
// reads the transcripts (the lines not indexed yet, a text too short or too common for the
// index) or the search index, the lines written after the index was filled included.
func TestSearchIndexFindsWhatTheTranscriptsDo(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	t0 := time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC)
	say := func(id string, d time.Duration, vars map[string]string, texts ...string) {
		t.Helper()
		at := t0.Add(d)
		s := engine.Step{Created: true, Participant: engine.Participant{ID: id, Campaign: "bouncer", Channel: "webchat",
			Address: id, State: "door", Vars: vars, Version: 1, CreatedAt: at, UpdatedAt: at}}
		for _, x := range texts {
			s.Lines = append(s.Lines, engine.Line{ParticipantID: id, Direction: engine.In, Text: x, At: at})
		}
		if err := db.Commit(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	say("p1", time.Minute, map[string]string{"name": "Ann"}, "Let me IN please", "thanks")
	say("p2", 2*time.Minute, map[string]string{}, "my fridge is Empty")
	say("p3", 3*time.Minute, map[string]string{}, `50% off? ÉCOLE "quoted"`)
	cases := []struct {
		text string
		want []string
	}{
		{"fridge", []string{"p2"}},
		{"let me in", []string{"p1"}},
		{"50%", []string{"p3"}},
		{`"quoted"`, []string{"p3"}},
		{"ann", []string{"p1"}},
		{"zz", nil},
		{"ÉCOLE", []string{"p3"}},
		{"école", nil}, // LIKE folds ASCII only; the index more, and its finds are checked
		{"late line", []string{"p4"}},
	}
	check := func(when string) {
		t.Helper()
		for _, tc := range cases {
			cs, err := db.Conversations(ctx, reports.ConversationFilter{Search: tc.text})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range cs {
				got = append(got, c.Participant.ID)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s: search %q = %q, want %q", when, tc.text, got, tc.want)
			}
		}
	}
	say("p4", -time.Hour, map[string]string{}, "a late line")
	defer func(b, m int) { searchBacklog, searchMatches = b, m }(searchBacklog, searchMatches)
	searchBacklog = -1
	check("reading the transcripts")
	searchBacklog = 20000
	if err := db.IndexLines(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := db.searchSeqs(ctx, "fridge"); err != nil || !ok {
		t.Fatalf("after IndexLines the index does not answer: ok %v, err %v", ok, err)
	}
	say("p5", -2*time.Hour, map[string]string{}, "not indexed yet")
	cases = append(cases, struct {
		text string
		want []string
	}{"indexed yet", []string{"p5"}})
	check("from the index and the lines after it")
	searchMatches = 0
	check("a text too common for the index")
}

// TestSearchIndexForgetsErasedLines: erasing a participant takes their words out of the
// search index too.
func TestSearchIndexForgetsErasedLines(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	at := time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC)
	err := db.Commit(ctx, engine.Step{Created: true, Participant: engine.Participant{ID: "p1", Campaign: "bouncer", Channel: "webchat",
		Address: "p1", State: "door", Vars: map[string]string{}, Version: 1, CreatedAt: at, UpdatedAt: at},
		Lines: []engine.Line{{ParticipantID: "p1", Direction: engine.In, Text: "my secret address", At: at}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.IndexLines(ctx); err != nil {
		t.Fatal(err)
	}
	indexed := func() int {
		var n int
		if err := db.rq.QueryRowContext(ctx, `SELECT count(*) FROM lines_search WHERE lines_search MATCH '"secret"'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := indexed(); n != 1 {
		t.Fatalf("%d lines indexed, want 1", n)
	}
	if err := db.EraseParticipant(ctx, "p1", nil); err != nil {
		t.Fatal(err)
	}
	if n := indexed(); n != 0 {
		t.Errorf("after the erase the index still holds %d of their lines", n)
	}
}
