package engine_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

func raceDef(min, max int) *campaigns.Definition {
	return def("race").
		state("lobby", "Welcome aboard, team {{team}}!",
			&campaigns.Transition{Kind: campaigns.OnRound, Round: "harbour", RoundEvent: campaigns.RoundStarted, Goto: "harbour"},
			onText("", "Hold your horses, team {{team}}.")).
		state("harbour", "Round {{round}} is on.", onMedia("sent", true)).
		final("sent", "Photo received.").
		with(func(d *campaigns.Definition) {
			d.Teams = &campaigns.Teams{MinSize: min, MaxSize: max}
			d.Rounds = []*campaigns.Round{{Name: "harbour", Assignment: txt("Round one: a photo at the water."), Duration: 48 * time.Hour}}
		}).build()
}

// TestTeamFormAndJoin: on a channel without group chats a team forms with a name, is joined
// with its invite code, plays as one participant once it has teams.min members, and refuses
// members beyond teams.max.
func TestTeamFormAndJoin(t *testing.T) {
	h := newEnv(t, raceDef(2, 3))
	red, err := h.eng.FormTeam(h.ctx, "race", "test", "b1", "  Red   Rovers ")
	if err != nil {
		t.Fatalf("FormTeam: %v", err)
	}
	if red.Name != "Red Rovers" || len(red.Code) != 6 || strings.ToUpper(red.Code) != red.Code {
		t.Fatalf("team %+v: want the name tidied and a 6-character upper-case code", red)
	}
	// One member of the two teams.min asks for: the team cannot play yet.
	wantTexts(t, h.settle())
	if engine.TeamReady(raceDef(2, 3), red) {
		t.Error("a team of 1 is ready with teams.min 2")
	}

	typed := strings.ToLower(red.Code[:3]) + "-" + strings.ToLower(red.Code[3:]) + " "
	got, err := h.eng.JoinTeam(h.ctx, "race", "test", "b2", typed)
	if err != nil {
		t.Fatalf("JoinTeam(%q): %v", typed, err)
	}
	if strings.Join(got.Members, ",") != "b1,b2" || got.ID != red.ID {
		t.Fatalf("after b2 joined: %+v", got)
	}
	out := h.settleOut()
	if len(out) != 1 || out[0].Text != "Welcome aboard, team Red Rovers!" || out[0].To != red.ID || out[0].ParticipantID != red.ParticipantID() {
		t.Fatalf("greeting once teams.min is reached: %+v", out)
	}
	// The team talks as one participant, whichever member writes.
	wantTexts(t, h.text("race", red.ID, "are we there yet?"), "Hold your horses, team Red Rovers.")

	if _, err := h.eng.JoinTeam(h.ctx, "race", "test", "b3", red.Code); err != nil {
		t.Fatalf("JoinTeam(b3): %v", err)
	}
	wantTexts(t, h.settle()) // already playing: no second greeting
	_, err = h.eng.JoinTeam(h.ctx, "race", "test", "b4", red.Code)
	if !errors.Is(err, engine.ErrTeamFull) {
		t.Errorf("JoinTeam(b4) beyond teams.max 3: %v, want ErrTeamFull", err)
	}
	if got, err := h.eng.TeamOf(h.ctx, "race", "test", "b3"); err != nil || got.ID != red.ID {
		t.Errorf("TeamOf(b3) = %+v, %v", got, err)
	}
	if _, err := h.eng.TeamOf(h.ctx, "race", "test", "b4"); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("TeamOf(b4, refused) = %v, want ErrNotFound", err)
	}

	for _, tc := range []struct {
		what         string
		member, name string
		want         error
	}{
		{"NameTakenInAnyCase", "b5", "red rovers", engine.ErrTeamNameTaken},
		{"EmptyName", "b5", "   ", errs.ErrInvalid},
		{"LongName", "b5", strings.Repeat("x", engine.MaxTeamName+1), errs.ErrInvalid},
		{"ControlCharacters", "b5", "red\x07", errs.ErrInvalid},
		{"InvisibleOnly", "b5", "\u200b\u2060\ufeff", errs.ErrInvalid},
		{"BidiOverride", "b5", "\u202eSREVOR DER", errs.ErrInvalid},
		{"NameTakenWithZeroWidthSpace", "b5", "Red\u200b Rovers", errs.ErrInvalid},
		{"MemberOfAnotherTeam", "b1", "Blue", engine.ErrInTeam},
	} {
		if _, err := h.eng.FormTeam(h.ctx, "race", "test", tc.member, tc.name); !errors.Is(err, tc.want) {
			t.Errorf("%s: FormTeam(%q) = %v, want %v", tc.what, tc.name, err, tc.want)
		}
	}
	// Emoji joined with U+200D (a family, a rainbow flag) are names people pick.
	if fam, err := h.eng.FormTeam(h.ctx, "race", "test", "b6", "👨\u200d👩\u200d👧 🏳️\u200d🌈"); err != nil || fam.Name != "👨\u200d👩\u200d👧 🏳️\u200d🌈" {
		t.Errorf("an emoji name: %+v, %v", fam, err)
	}
	for _, code := range []string{"", "NOPE42", "ZZZZZZZ"} {
		if _, err := h.eng.JoinTeam(h.ctx, "race", "test", "b5", code); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("JoinTeam(%q) = %v, want ErrNotFound", code, err)
		}
	}
	if _, err := h.eng.JoinTeam(h.ctx, "race", "test", "b1", red.Code); err != nil {
		t.Errorf("a member joining their own team again: %v", err)
	}
}

// TestTeamMinOneStartsAtOnce: with teams.min 1 (the default) forming a team starts it.
func TestTeamMinOneStartsAtOnce(t *testing.T) {
	h := newEnv(t, raceDef(1, 0))
	if _, err := h.eng.FormTeam(h.ctx, "race", "test", "b1", "Solo"); err != nil {
		t.Fatal(err)
	}
	wantTexts(t, h.settle(), "Welcome aboard, team Solo!")
}

func TestFormTeamNeedsTeamCampaign(t *testing.T) {
	h := newEnv(t, def("solo").state("start", "Hi.").build())
	if _, err := h.eng.FormTeam(h.ctx, "solo", "test", "b1", "Red"); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("FormTeam in a campaign without teams: %v, want ErrInvalid", err)
	}
	if _, err := h.eng.JoinTeam(h.ctx, "nope", "test", "b1", "ABCDEF"); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("JoinTeam in an unknown campaign: %v, want ErrNotFound", err)
	}
}

// TestLateJoinerGetsRunningRound: a participant who begins while a round runs is brought into
// it, whether the round was started by hand or by its scheduled start (before or after its
// timer fired), and the round's own start event does not repeat it; after the round closed a
// newcomer waits.
func TestLateJoinerGetsRunningRound(t *testing.T) {
	t.Run("StartedByHand", func(t *testing.T) {
		h := newEnv(t, raceDef(1, 0))
		wantTexts(t, teamJoin(h, "early"), "Welcome aboard, team early!")
		if err := h.eng.StartRound(h.ctx, "race", "harbour"); err != nil {
			t.Fatal(err)
		}
		wantTexts(t, h.settle(), "Round harbour is on.", "Round one: a photo at the water.")
		h.wait(time.Hour)
		wantTexts(t, teamJoin(h, "late"), "Welcome aboard, team late!", "Round harbour is on.", "Round one: a photo at the water.")
		h.wantState("race", "late", "harbour")
		// Started again by a moderator: nobody hears it twice.
		if err := h.eng.StartRound(h.ctx, "race", "harbour"); err != nil {
			t.Fatal(err)
		}
		wantTexts(t, h.settle())
		// Closed: a newcomer waits in the lobby.
		if err := h.eng.CloseRound(h.ctx, "race", "harbour"); err != nil {
			t.Fatal(err)
		}
		h.settle()
		wantTexts(t, teamJoin(h, "after"), "Welcome aboard, team after!")
		h.wantState("race", "after", "lobby")
	})
	t.Run("Scheduled", func(t *testing.T) {
		d := raceDef(1, 0)
		d.Rounds[0].Starts, d.Rounds[0].Duration = t0.Add(-time.Hour), 0
		d.Rounds[0].Deadline = t0.Add(24 * time.Hour)
		h := newEnv(t, d)
		if err := h.eng.Restore(h.ctx); err != nil {
			t.Fatal(err)
		}
		// Due an hour ago, its timer not fired yet: the round runs by the definition.
		wantTexts(t, teamJoin(h, "late"), "Welcome aboard, team late!", "Round harbour is on.", "Round one: a photo at the water.")
		wantTexts(t, h.wait(0))
		h.wantState("race", "late", "harbour")
		wantTexts(t, teamJoin(h, "later"), "Welcome aboard, team later!", "Round harbour is on.", "Round one: a photo at the water.")
		h.wait(24 * time.Hour)
		wantTexts(t, teamJoin(h, "too-late"), "Welcome aboard, team too-late!")
		h.wantState("race", "too-late", "lobby")
	})
}

// teamJoin opens the chat as a group chat named from does.
func teamJoin(h *env, from string) []string {
	h.t.Helper()
	h.receive("race", from, engine.Inbound{Kind: engine.KindJoin, Name: from})
	return h.settle()
}
