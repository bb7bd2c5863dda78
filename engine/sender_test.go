package engine_test

import (
	"testing"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
)

// TestRepliesGoFromTheNumberWrittenTo: a campaign that answers on any business number replies
// from the one the participant last wrote to (Inbound.To), in a step, a broadcast and an
// agent's reply, and a save cannot overwrite it.
func TestRepliesGoFromTheNumberWrittenTo(t *testing.T) {
	h := newEnv(t, dutchFirst())
	// Someone who never wrote to a named number (the web chat) gets replies with no sender.
	h.join("nieuws", "bob")
	froms := func(out []engine.Outbound) []string {
		var got []string
		for _, o := range out {
			got = append(got, o.From+" "+o.Text)
		}
		return got
	}
	wantTexts(t, froms(h.receiveOut("nieuws", "ann", engine.Inbound{Kind: engine.KindJoin, To: "pn-b"})), "pn-b Welkom!")
	if got := h.participant("nieuws", "ann").Vars[campaigns.VarSender]; got != "pn-b" {
		t.Errorf("%s = %q, want pn-b", campaigns.VarSender, got)
	}
	// A message without a business address (a timer, a verdict) keeps the number.
	wantTexts(t, froms(h.receiveOut("nieuws", "ann", engine.Inbound{Kind: engine.KindText, Text: "taal"})), "pn-b Taal?")
	// Writing to another number moves the conversation there.
	wantTexts(t, froms(h.receiveOut("nieuws", "ann", engine.Inbound{Kind: engine.KindText, Text: "nl", To: "pn-a"})), "pn-a Sorry, dat begreep ik niet.")
	if _, _, err := h.eng.BroadcastTo(h.ctx, "nieuws", engine.Audience{}, campaigns.Message{Text: bi("Nieuws", "News")}); err != nil {
		t.Fatal(err)
	}
	wantTexts(t, froms(h.settleOut()), " Nieuws", "pn-a Nieuws")
	p := h.participant("nieuws", "ann")
	if err := h.eng.AgentSay(h.ctx, p.ID, "mod", "Hallo"); err != nil {
		t.Fatal(err)
	}
	wantTexts(t, froms(h.settleOut()), "pn-a Hallo")
}
