package engine_test

import (
	"errors"
	"testing"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
)

// TestBroadcastListedBeforeOptOutIsHeld: a broadcast queued from a list read before its
// participant opted out is recorded as not sent, never sent.
func TestBroadcastListedBeforeOptOutIsHeld(t *testing.T) {
	h := newEnv(t, news())
	h.text("news", "ann", "NRCQ ON")
	p := h.participant("news", "ann")
	wantTexts(t, h.text("news", "ann", "STOP"), engine.DefaultOptOut)
	// What Broadcast queues for a participant it listed a moment before.
	row := engine.Outbound{ParticipantID: p.ID, Campaign: "news", Channel: "test", To: "ann",
		Text: "Big news", DueAt: h.clock.Now(), Status: engine.StatusPending, BroadcastID: "b1"}
	if err := h.db.Enqueue(h.ctx, []engine.Outbound{row}); err != nil {
		t.Fatal(err)
	}
	wantTexts(t, h.settle())
	r, err := h.eng.BroadcastReport(h.ctx, "b1")
	if err != nil || r.Cancelled != 1 || r.Sent != 0 {
		t.Errorf("report = %+v, %v; want the one reply cancelled", r, err)
	}
	all, _ := h.db.Outbox(h.ctx, p.ID)
	if last := all[len(all)-1]; last.Status != engine.StatusCancelled || last.Error != engine.NotSentOptedOut {
		t.Errorf("broadcast row = %s %q, want cancelled %q", last.Status, last.Error, engine.NotSentOptedOut)
	}
}

// TestAgentReplyToOptedOutIsRecordedNotSent: the agent's reply is kept in the transcript as not
// sent, and AgentSay says why.
func TestAgentReplyToOptedOutIsRecordedNotSent(t *testing.T) {
	h := newEnv(t, news())
	h.text("news", "ann", "NRCQ ON")
	h.text("news", "ann", "STOP")
	p := h.participant("news", "ann")
	if err := h.eng.AgentSay(h.ctx, p.ID, "mod", "Are you there?"); !errors.Is(err, engine.ErrOptedOut) {
		t.Fatalf("AgentSay = %v, want ErrOptedOut", err)
	}
	wantTexts(t, h.settle())
	lines, _ := h.eng.Transcript(h.ctx, p.ID)
	if got := lines[len(lines)-1].Text; got != "[not sent: participant opted out] Are you there?" {
		t.Errorf("last transcript line = %q", got)
	}
}

// TestEventsAfterTheEnd: a verdict, a round or a timer for a participant who finished moves
// nobody and says nothing, even when their state has a transition for it (the engine's own
// check, for verdicts given before the run ended and arriving after).
func TestEventsAfterTheEnd(t *testing.T) {
	d := def("c").
		state("wait", "Waiting.",
			&campaigns.Transition{Kind: campaigns.OnText, Keywords: []string{"done"}, Say: says("Bye."), End: true},
			&campaigns.Transition{Kind: campaigns.OnVerdict, Verdict: campaigns.VerdictWinner, Goto: "won"}).
		final("won", "You won!").build()
	h := newEnv(t, d)
	h.join("c", "ann")
	wantTexts(t, h.text("c", "ann", "done"), "Bye.")
	p := h.participant("c", "ann")
	if _, _, err := h.db.SaveInbound(h.ctx, engine.Inbound{Channel: "judge", PlatformID: "v1", Campaign: "c",
		ParticipantID: p.ID, Kind: engine.KindVerdict, Verdict: campaigns.VerdictWinner, At: h.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	wantTexts(t, h.settle())
	h.wantState("c", "ann", "wait")
	wantTexts(t, h.text("c", "ann", "done"), engine.DefaultFinished)
}

// TestOptedOutWhenClosed: a participant who opted out hears nothing from a campaign that
// closed either (its "not running" answer goes to everyone else), and what they wrote is kept.
func TestOptedOutWhenClosed(t *testing.T) {
	h := newEnv(t, news())
	h.text("news", "ann", "NRCQ ON")
	h.text("news", "ann", "STOP")
	if err := h.eng.SetStatus(h.ctx, "news", engine.StatusClosed); err != nil {
		t.Fatal(err)
	}
	wantTexts(t, h.text("news", "ann", "hello?"))
	lines, _ := h.eng.Transcript(h.ctx, h.participant("news", "ann").ID)
	if got := lines[len(lines)-1].Text; got != "hello?" {
		t.Errorf("last transcript line = %q, want what ann wrote", got)
	}
}
