package engine_test

import (
	"testing"
	"time"
)

// TestTeamCompleteAfterSignUpGetsTheRunningRound: a team formed during sign-up that reaches
// teams.min only after sign-up closed and the first round started (race.yaml: the round starts
// when sign-up ends) plays, is greeted and gets the round's assignment; it is no newcomer. A
// team formed after the close still cannot form, and the hard stop stops a late start too.
func TestTeamCompleteAfterSignUpGetsTheRunningRound(t *testing.T) {
	d := raceDef(2, 4)
	d.Schedule.End = t0.Add(24 * time.Hour)
	d.Schedule.HardStop = t0.Add(30 * 24 * time.Hour)
	d.Rounds[0].Starts = d.Schedule.End
	h := newEnv(t, d)
	if err := h.eng.Restore(h.ctx); err != nil {
		t.Fatal(err)
	}
	red, err := h.eng.FormTeam(h.ctx, "race", "test", "b1", "Red")
	if err != nil {
		t.Fatal(err)
	}
	wantTexts(t, h.settle())
	wantTexts(t, h.wait(25*time.Hour)) // sign-up closed, the round started: nobody playing yet
	if _, err := h.eng.JoinTeam(h.ctx, "race", "test", "b2", red.Code); err != nil {
		t.Fatal(err)
	}
	wantTexts(t, h.settle(), "Welcome aboard, team Red!", "Round harbour is on.", "Round one: a photo at the water.")
	h.wantState("race", red.ID, "harbour")
	if _, err := h.eng.FormTeam(h.ctx, "race", "test", "b3", "Blue"); err == nil {
		t.Error("a team formed after sign-up closed")
	}
}
