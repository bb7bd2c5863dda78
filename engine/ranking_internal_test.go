package engine

import (
	"testing"

	"github.com/chatcampaigns/campaign/campaigns"
)

// TestRankBoardPending: a standing a batch put on the board is undone when its step is not
// written, and replaced by the commit, even one of the same version.
func TestRankBoardPending(t *testing.T) {
	def := &campaigns.Definition{ID: "quiz", Ranking: &campaigns.Ranking{By: "points"}}
	bs := &rankBoards{}
	ann := Participant{ID: "ann", Campaign: "quiz", State: "wait", Version: 3, Vars: map[string]string{"points": "5"}}
	undo := bs.pending(def, ann)
	if e := bs.m["quiz"].entries["ann"]; !e.ranked || e.value != 5 || !e.pending {
		t.Fatalf("pending standing %+v", e)
	}
	undo()
	if _, ok := bs.m["quiz"].entries["ann"]; ok {
		t.Fatal("undone standing still on the board")
	}

	bs.m["quiz"].entries["ann"] = rankEntry{ranked: true, value: 2, version: 2}
	undo = bs.pending(def, ann)
	undo()
	if e := bs.m["quiz"].entries["ann"]; e.value != 2 || e.pending {
		t.Fatalf("undo left %+v, want the standing before", e)
	}

	bs.pending(def, ann)
	ann.Vars = map[string]string{"points": "6"} // computed again after a conflict: same version
	bs.committed(ann)
	if e := bs.m["quiz"].entries["ann"]; e.value != 6 || e.pending {
		t.Fatalf("after the commit %+v, want 6 committed", e)
	}
	undo() // a late undo of an older pending changes nothing
	if e := bs.m["quiz"].entries["ann"]; e.value != 6 {
		t.Fatalf("late undo left %+v", e)
	}
}
