package storetest

import (
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

func newTeam(id, name, code, member string) engine.Team {
	return engine.Team{ID: id, Campaign: campaign, Channel: "webchat", Name: name, Code: code,
		Members: []string{member}, CreatedAt: t0}
}

var teamTests = []test{
	{"CreateJoinAndFind", func(t *testing.T, s Store) {
		ctx := t.Context()
		red := newTeam("team-red", "Red Rovers", "ABC234", "b1")
		noErr(t, "CreateTeam", s.CreateTeam(ctx, red))
		got, err := s.TeamOf(ctx, campaign, "webchat", "b1")
		noErr(t, "TeamOf(b1)", err)
		equal(t, "TeamOf(b1)", got, red)

		got, err = s.JoinTeam(ctx, campaign, "webchat", "ABC234", "b2", 3)
		noErr(t, "JoinTeam(b2)", err)
		red.Members = []string{"b1", "b2"}
		equal(t, "JoinTeam(b2)", got, red)
		// Joining again is no change, even at the limit.
		got, err = s.JoinTeam(ctx, campaign, "webchat", "ABC234", "b2", 2)
		noErr(t, "JoinTeam(b2) again", err)
		equal(t, "JoinTeam(b2) again", got, red)
		got, err = s.TeamOf(ctx, campaign, "webchat", "b2")
		noErr(t, "TeamOf(b2)", err)
		equal(t, "TeamOf(b2)", got, red)

		_, err = s.TeamOf(ctx, campaign, "webchat", "b3")
		wantErr(t, "TeamOf(stranger)", err, errs.ErrNotFound)
		_, err = s.TeamOf(ctx, "other", "webchat", "b1")
		wantErr(t, "TeamOf(b1) in another campaign", err, errs.ErrNotFound)
		_, err = s.JoinTeam(ctx, campaign, "webchat", "ZZZ999", "b3", 0)
		wantErr(t, "JoinTeam(unknown code)", err, errs.ErrNotFound)
		_, err = s.JoinTeam(ctx, "other", "webchat", "ABC234", "b3", 0)
		wantErr(t, "JoinTeam(code of another campaign)", err, errs.ErrNotFound)
	}},
	{"MaxMembers", func(t *testing.T, s Store) {
		ctx := t.Context()
		noErr(t, "CreateTeam", s.CreateTeam(ctx, newTeam("team-red", "red", "ABC234", "b1")))
		_, err := s.JoinTeam(ctx, campaign, "webchat", "ABC234", "b2", 2)
		noErr(t, "JoinTeam(b2)", err)
		_, err = s.JoinTeam(ctx, campaign, "webchat", "ABC234", "b3", 2)
		wantErr(t, "JoinTeam(b3) beyond max", err, engine.ErrTeamFull)
		_, err = s.TeamOf(ctx, campaign, "webchat", "b3")
		wantErr(t, "TeamOf(refused b3)", err, errs.ErrNotFound)
		// The refused member may still form or join another team.
		noErr(t, "CreateTeam(b3)", s.CreateTeam(ctx, newTeam("team-blue", "blue", "DEF567", "b3")))
		got, err := s.JoinTeam(ctx, campaign, "webchat", "ABC234", "b4", 0)
		noErr(t, "JoinTeam(b4) without max", err)
		equal(t, "members", got.Members, []string{"b1", "b2", "b4"})
	}},
	{"OneTeamPerMember", func(t *testing.T, s Store) {
		ctx := t.Context()
		noErr(t, "CreateTeam(red)", s.CreateTeam(ctx, newTeam("team-red", "red", "ABC234", "b1")))
		err := s.CreateTeam(ctx, newTeam("team-blue", "blue", "DEF567", "b1"))
		wantErr(t, "CreateTeam(blue) by a member of red", err, engine.ErrInTeam)
		noErr(t, "CreateTeam(blue)", s.CreateTeam(ctx, newTeam("team-blue", "blue", "DEF567", "b2")))
		_, err = s.JoinTeam(ctx, campaign, "webchat", "DEF567", "b1", 0)
		wantErr(t, "JoinTeam(blue) by a member of red", err, engine.ErrInTeam)
		got, err := s.TeamOf(ctx, campaign, "webchat", "b1")
		noErr(t, "TeamOf(b1)", err)
		equal(t, "team of b1", got.Name, "red")
		// Another campaign is another race.
		other := newTeam("team-x", "red", "ABC234", "b1")
		other.Campaign = "other"
		noErr(t, "CreateTeam in another campaign", s.CreateTeam(ctx, other))
	}},
	{"UniqueNamesAndCodes", func(t *testing.T, s Store) {
		ctx := t.Context()
		noErr(t, "CreateTeam(red)", s.CreateTeam(ctx, newTeam("team-red", "Red", "ABC234", "b1")))
		err := s.CreateTeam(ctx, newTeam("team-red2", "RED", "DEF567", "b2"))
		wantErr(t, "CreateTeam(RED)", err, engine.ErrTeamNameTaken)
		wantErr(t, "CreateTeam(RED) kind", err, errs.ErrConflict)
		err = s.CreateTeam(ctx, newTeam("team-blue", "blue", "ABC234", "b2"))
		wantErr(t, "CreateTeam(same code)", err, engine.ErrTeamCodeTaken)
		// Nothing of the refused teams stayed: b2 is in no team and may form one.
		_, err = s.TeamOf(ctx, campaign, "webchat", "b2")
		wantErr(t, "TeamOf(b2)", err, errs.ErrNotFound)
		noErr(t, "CreateTeam(blue)", s.CreateTeam(ctx, newTeam("team-blue", "blue", "DEF567", "b2")))
	}},
	{"RoundMarks", func(t *testing.T, s Store) {
		ctx := t.Context()
		marks, err := s.RoundMarks(ctx, campaign)
		noErr(t, "RoundMarks(none)", err)
		if len(marks) != 0 {
			t.Fatalf("RoundMarks of a fresh store: %v", marks)
		}
		start := engine.RoundMark{Campaign: campaign, Round: "harbour", Event: campaigns.RoundStarted, At: at(time.Hour)}
		noErr(t, "MarkRound", s.MarkRound(ctx, start))
		closed := engine.RoundMark{Campaign: campaign, Round: "harbour", Event: campaigns.RoundDeadline, At: at(2 * time.Hour)}
		noErr(t, "MarkRound", s.MarkRound(ctx, closed))
		// Started again later: one mark, the later time; an earlier repeat changes nothing.
		again := start
		again.At = at(3 * time.Hour)
		noErr(t, "MarkRound(again)", s.MarkRound(ctx, again))
		noErr(t, "MarkRound(earlier)", s.MarkRound(ctx, start))
		noErr(t, "MarkRound(other campaign)", s.MarkRound(ctx, engine.RoundMark{Campaign: "other", Round: "x", Event: campaigns.RoundStarted, At: t0}))
		marks, err = s.RoundMarks(ctx, campaign)
		noErr(t, "RoundMarks", err)
		equal(t, "RoundMarks", marks, []engine.RoundMark{closed, again})
	}},
}
