package engine

import (
	"slices"
	"testing"
)

// TestSendTurns: a direct send and a round never send to the same participant at once; a
// round leaves the replies a direct send owns (posting, or posted and not recorded) or
// stopped owning while the round read, and holds a participant's other replies until their
// direct send finished, then the sender is woken for them.
func TestSendTurns(t *testing.T) {
	out := func(p string, id int64) Outbound { return Outbound{ID: id, ParticipantID: p} }
	ids := func(due []Outbound) []int64 {
		var got []int64
		for _, o := range due {
			got = append(got, o.ID)
		}
		return got
	}
	tr := newSendTurns(2)

	// ann's direct send posts reply 7; its record is on its way.
	if posted, ok := tr.begin("ann"); !ok || len(posted) != 0 {
		t.Fatalf("begin ann: %v %v, want a turn with nothing posted", posted, ok)
	}
	if _, ok := tr.begin("ann"); ok {
		t.Fatal("a second direct send to ann while the first posts")
	}
	tr.own("ann", 7)
	if tr.end("ann") {
		t.Error("end woke the sender with nothing held")
	}
	// A round reads ann's 7 (pending until recorded), ann's 8 (queued meanwhile for the
	// rounds), bob's 1 and a stranger's 2: it keeps bob's and the stranger's, leaves 7 alone
	// and holds 8 for after ann's turn.
	tr.reads()
	kept := tr.take([]Outbound{out("ann", 7), out("ann", 8), out("bob", 1), out("", 2)})
	if got := ids(kept); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("round kept %v, want bob's 1 and the stranger's 2", got)
	}
	// bob is the round's: no direct send to him until it is done.
	if _, ok := tr.begin("bob"); ok {
		t.Fatal("a direct send to bob while a round sends to him")
	}
	// ann's next message: a direct send may go, past the reply posted (listed for the store).
	posted, ok := tr.begin("ann")
	if !ok || !slices.Equal(posted, []int64{7}) {
		t.Fatalf("begin ann again: %v %v, want a turn past reply 7", posted, ok)
	}
	tr.done(kept)
	if _, ok := tr.begin("bob"); !ok {
		t.Fatal("no direct send to bob after the round")
	}
	if _, ok := tr.begin("cid"); ok {
		t.Fatal("a third direct send with two slots")
	}
	tr.end("bob")
	if tr.end("ann") {
		t.Error("ann's turn ended while reply 7 is not recorded, and woke the sender")
	}
	// Recording reply 7 finishes ann's turn: the round held her 8, so the sender is woken.
	if !tr.disown("ann", 7) {
		t.Error("ann's turn finished without waking the sender for the reply the round held")
	}
	if len(tr.direct) != 0 {
		t.Errorf("turns left: %v", tr.direct)
	}

	// dan's reply 9 is recorded while a round reads: read pending, it is left alone; dan's
	// turn is over, so his other reply goes with the round.
	tr.begin("dan")
	tr.own("dan", 9)
	tr.end("dan")
	tr.reads()
	if tr.disown("dan", 9) {
		t.Error("a turn nothing was held for woke the sender")
	}
	kept = tr.take([]Outbound{out("dan", 9), out("dan", 10), out("eve", 3)})
	if got := ids(kept); !slices.Equal(got, []int64{10, 3}) {
		t.Fatalf("round kept %v, want dan's 10 and eve's 3", got)
	}
	tr.done(kept)
	// Once read, what was left is forgotten.
	tr.reads()
	if kept = tr.take([]Outbound{out("dan", 9)}); len(kept) != 1 {
		t.Errorf("the next round kept %v, want 9", ids(kept))
	}
}
