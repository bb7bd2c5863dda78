package engine

import (
	"slices"
	"testing"
)

// TestSendTurns: a direct send and a round never send to the same participant at once, a
// round leaves the replies of a participant whose direct send is not finished (recorded), or
// finished while the round read, and the sender is woken for what a round left.
func TestSendTurns(t *testing.T) {
	out := func(p string) Outbound { return Outbound{ParticipantID: p} }
	participants := func(due []Outbound) []string {
		var ps []string
		for _, o := range due {
			ps = append(ps, o.ParticipantID)
		}
		return ps
	}
	tr := newSendTurns(2)

	// ann's direct send posts one reply; its record is on its way.
	if posted, ok := tr.begin("ann"); !ok || len(posted) != 0 {
		t.Fatalf("begin ann: %v %v, want a turn with nothing posted", posted, ok)
	}
	if _, ok := tr.begin("ann"); ok {
		t.Fatal("a second direct send to ann while the first posts")
	}
	tr.posted("ann", 7)
	if tr.end("ann") {
		t.Error("end woke the sender with nothing held")
	}
	// A round reads ann's reply (pending until recorded) and bob's: it keeps bob's only.
	tr.reads()
	kept, wake := tr.take([]Outbound{out("ann"), out("bob"), out("")})
	if got := participants(kept); !slices.Equal(got, []string{"bob", ""}) || wake {
		t.Fatalf("round kept %q (wake %v), want bob's and the stranger's", got, wake)
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
	// Recording reply 7 finishes ann's turn: the round left her, so the sender is woken.
	if !tr.recorded("ann", 7) {
		t.Error("ann's turn finished without waking the sender for what the round left")
	}
	if len(tr.direct) != 0 {
		t.Errorf("turns left: %v", tr.direct)
	}

	// A direct send that finishes while a round reads: the round may have read its reply
	// pending, now recorded sent; it leaves it and asks for another round.
	tr.begin("dan")
	tr.posted("dan", 9)
	tr.end("dan")
	tr.reads()
	tr.recorded("dan", 9)
	kept, wake = tr.take([]Outbound{out("dan"), out("eve")})
	if got := participants(kept); !slices.Equal(got, []string{"eve"}) || !wake {
		t.Fatalf("round kept %q (wake %v), want eve's and another round", got, wake)
	}
	tr.done(kept)
	// The next round takes dan again.
	tr.reads()
	if kept, _ = tr.take([]Outbound{out("dan")}); len(kept) != 1 {
		t.Errorf("the next round kept %q, want dan's", participants(kept))
	}
}
