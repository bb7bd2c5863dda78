package engine_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// TestJoinGroup: a group chat registers its team on its first member, starts at once (a group
// is there, however few of its members have spoken), greets the group once, and collects its
// members up to teams.max; two groups of one title get two names.
func TestJoinGroup(t *testing.T) {
	h := newEnv(t, raceDef(2, 3))
	team, err := h.eng.JoinGroup(h.ctx, "race", "test", "-4001", "Harbour Rats", "u1")
	if err != nil {
		t.Fatalf("JoinGroup: %v", err)
	}
	if team.ID != "-4001" || team.Name != "Harbour Rats" || len(team.Members) != 1 {
		t.Fatalf("team %+v", team)
	}
	out := h.settleOut()
	if len(out) != 1 || out[0].To != "-4001" || out[0].Text != "Welcome aboard, team Harbour Rats!" {
		t.Fatalf("greeting %+v, want one to the group", out)
	}
	for _, m := range []string{"u1", "u2", "u3"} {
		if _, err := h.eng.JoinGroup(h.ctx, "race", "test", "-4001", "Harbour Rats", m); err != nil {
			t.Fatalf("JoinGroup(%s): %v", m, err)
		}
	}
	wantTexts(t, h.settle()) // no second greeting
	got, err := h.eng.TeamOf(h.ctx, "race", "test", "u3")
	if err != nil || strings.Join(got.Members, ",") != "u1,u2,u3" || got.ID != "-4001" {
		t.Fatalf("TeamOf(u3) = %+v, %v", got, err)
	}
	if _, err := h.eng.JoinGroup(h.ctx, "race", "test", "-4001", "Harbour Rats", "u4"); !errors.Is(err, engine.ErrTeamFull) {
		t.Errorf("a 4th member with teams.max 3: %v, want ErrTeamFull", err)
	}
	// The group talks as one participant, whoever writes.
	wantTexts(t, h.text("race", "-4001", "are we there yet?"), "Hold your horses, team Harbour Rats.")

	other, err := h.eng.JoinGroup(h.ctx, "race", "test", "-4002", "harbour rats", "u5")
	if err != nil || other.Name != "harbour rats 2" {
		t.Fatalf("a second group of the same title: %+v, %v", other, err)
	}
	if _, err := h.eng.JoinGroup(h.ctx, "race", "test", "-4002", "harbour rats", "u1"); !errors.Is(err, engine.ErrInTeam) {
		t.Errorf("a member of another team: %v, want ErrInTeam", err)
	}
}

func TestJoinGroupOfACampaignWithoutTeams(t *testing.T) {
	d := def("quiz").state("start", "Hello!").build()
	h := newEnv(t, d)
	if _, err := h.eng.JoinGroup(h.ctx, "quiz", "test", "-4001", "Friends", "u1"); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("JoinGroup = %v, want errs.ErrInvalid (no teams)", err)
	}
	if _, err := h.eng.JoinGroup(h.ctx, "nope", "test", "-4001", "Friends", "u1"); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("JoinGroup of an unknown campaign = %v, want errs.ErrNotFound", err)
	}
}

// TestRouteStart: a deep link's payload names a campaign by id or by entry keyword, even for
// someone who plays another campaign; anything else is routed like a message.
func TestRouteStart(t *testing.T) {
	race := raceDef(1, 4)
	race.Keywords = []string{"ESCAPE"}
	quiz := def("quiz").state("start", "Hello!").with(func(d *campaigns.Definition) { d.Keywords = []string{"QUIZ"} }).build()
	h := newEnv(t, race, quiz)
	h.join("quiz", "p1")
	for payload, want := range map[string]string{"race": "race", "RACE": "race", "escape": "race", "quiz": "quiz", "QUIZ": "quiz"} {
		got, ok, err := h.eng.RouteStart(h.ctx, "test", "p1", payload)
		if err != nil || !ok || got != want {
			t.Errorf("RouteStart(%q) = %q, %v, %v; want %q", payload, got, ok, err, want)
		}
	}
	// Not a campaign: the player's own campaign, as Route says.
	if got, ok, _ := h.eng.RouteStart(h.ctx, "test", "p1", "hello"); !ok || got != "quiz" {
		t.Errorf("RouteStart(hello) = %q, %v; want quiz", got, ok)
	}
	if _, ok, _ := h.eng.RouteStart(h.ctx, "test", "stranger", "hello"); ok {
		t.Error("RouteStart(hello) for a stranger found a campaign among two with keywords")
	}
}

func TestRouteStartSkipsDrafts(t *testing.T) {
	race := raceDef(1, 4)
	h := newEnv(t, race)
	if err := h.eng.SetStatus(h.ctx, "race", engine.StatusDraft); err != nil {
		t.Fatal(err)
	}
	if got, ok, _ := h.eng.RouteStart(h.ctx, "test", "p1", "race"); ok {
		t.Errorf("RouteStart(race) chose %q, a draft", got)
	}
}
