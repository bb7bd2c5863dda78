package engine_test

import (
	"slices"
	"testing"

	"github.com/chatcampaigns/campaign/campaigns"
)

// TestVerdictsFollowTheState: the verdicts offered for a participant are those their current
// state's verdict: transitions take, whose condition holds, each once, in file order; none
// once their run ended.
func TestVerdictsFollowTheState(t *testing.T) {
	vip, err := campaigns.ParseCondition("vip == 'yes'")
	if err != nil {
		t.Fatal(err)
	}
	verdict := func(v, to string) *campaigns.Transition {
		return &campaigns.Transition{Kind: campaigns.OnVerdict, Verdict: v, Goto: to}
	}
	crown := verdict(campaigns.VerdictWinner, "done")
	crown.If = vip
	d := def("contest").
		state("welcome", "Hi.", &campaigns.Transition{Kind: campaigns.OnText, AnyText: true, Goto: "judging"}).
		state("judging", "Wait.", verdict(campaigns.VerdictShortlisted, "short"), verdict(campaigns.VerdictRejected, "welcome"),
			verdict(campaigns.VerdictShortlisted, "done"), crown).
		state("short", "On the list.", verdict(campaigns.VerdictWinner, "done")).
		final("done", "Bye.").build()
	h := newEnv(t, d)
	h.join("contest", "ann")
	got := func() []string {
		t.Helper()
		vs, err := h.eng.Verdicts(h.ctx, h.participant("contest", "ann").ID)
		if err != nil {
			t.Fatal(err)
		}
		return vs
	}
	if vs := got(); len(vs) != 0 {
		t.Errorf("in welcome: %v, want none", vs)
	}
	h.text("contest", "ann", "hello")
	if vs, want := got(), []string{campaigns.VerdictShortlisted, campaigns.VerdictRejected}; !slices.Equal(vs, want) {
		t.Errorf("in judging: %v, want %v (winner only if vip)", vs, want)
	}
	h.text("contest", "ann", "STOP")
	if vs := got(); len(vs) != 0 {
		t.Errorf("opted out: %v, want none", vs)
	}
}
