package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/reports"
)

// Assignments is the inbox's "assigned to" (reports.Assignment) and the overview's funnel
// per round; every backend implements it.
type Assignments interface {
	Assign(ctx context.Context, a reports.Assignment) error
	Assignment(ctx context.Context, participantID string) (reports.Assignment, error)
	RoundCounts(ctx context.Context, campaign string, rounds []string) ([]reports.RoundCount, error)
}

func assignmentsOf(t *testing.T, s Store) Assignments {
	t.Helper()
	a, ok := s.(Assignments)
	if !ok {
		t.Fatalf("%T does not implement storetest.Assignments", s)
	}
	return a
}

func assignees(cs []reports.Conversation) []string {
	return texts(cs, func(c reports.Conversation) string { return c.Participant.Address + "=" + c.Assignee })
}

var assignmentTests = []test{
	{"AssignFilterAndReassign", func(t *testing.T, s Store) {
		r, a := reportsOf(t, s), assignmentsOf(t, s)
		ps := inbox(t, s) // active u2, u4, u1, u3 (u3 last)
		ctx := t.Context()
		for _, x := range []struct{ who, to string }{{"u1", "anna"}, {"u4", "anna"}, {"u2", "ben"}} {
			noErr(t, "Assign", a.Assign(ctx, reports.Assignment{ParticipantID: ps[x.who].ID, User: x.to, By: "boss", At: at(time.Hour)}))
		}
		got, err := a.Assignment(ctx, ps["u1"].ID)
		noErr(t, "Assignment", err)
		equal(t, "u1's assignment", got, reports.Assignment{ParticipantID: ps["u1"].ID, Campaign: campaign, User: "anna", By: "boss", At: at(time.Hour)})
		none, err := a.Assignment(ctx, ps["u3"].ID)
		noErr(t, "Assignment of nobody's", err)
		equal(t, "u3's assignment", none, reports.Assignment{ParticipantID: ps["u3"].ID})
		for _, tc := range []struct {
			name string
			f    reports.ConversationFilter
			want []string
		}{
			{"All", reports.ConversationFilter{}, []string{"u3=", "u1=anna", "u4=anna", "u2=ben"}},
			{"Assignee", reports.ConversationFilter{Assignee: "anna"}, []string{"u1=anna", "u4=anna"}},
			{"AssigneePaged", reports.ConversationFilter{Assignee: "anna", Limit: 1}, []string{"u1=anna"}},
			{"AssigneeAfter", reports.ConversationFilter{Assignee: "anna", Before: reports.CursorOf(ps["u1"])}, []string{"u4=anna"}},
			{"AssigneeState", reports.ConversationFilter{Assignee: "anna", Campaign: campaign, State: "door"}, []string{}},
			{"AssigneeTeam", reports.ConversationFilter{Assignee: "anna", Team: "chefs"}, []string{"u4=anna"}},
			{"AssigneeSearch", reports.ConversationFilter{Assignee: "anna", Search: "what now"}, []string{"u1=anna"}},
			{"Nobody", reports.ConversationFilter{Assignee: "carla"}, []string{}},
			{"Unassigned", reports.ConversationFilter{Unassigned: true}, []string{"u3="}},
			{"UnassignedWaiting", reports.ConversationFilter{Unassigned: true, Waiting: true}, []string{}},
		} {
			cs, err := r.Conversations(ctx, tc.f)
			noErr(t, tc.name, err)
			equal(t, tc.name, assignees(cs), tc.want)
		}
		noErr(t, "Reassign", a.Assign(ctx, reports.Assignment{ParticipantID: ps["u4"].ID, User: "ben", By: "anna", At: at(2 * time.Hour)}))
		noErr(t, "Unassign", a.Assign(ctx, reports.Assignment{ParticipantID: ps["u1"].ID, By: "anna", At: at(2 * time.Hour)}))
		noErr(t, "Unassign again", a.Assign(ctx, reports.Assignment{ParticipantID: ps["u1"].ID, By: "anna", At: at(2 * time.Hour)}))
		cs, err := r.Conversations(ctx, reports.ConversationFilter{Assignee: "ben"})
		noErr(t, "Conversations", err)
		equal(t, "ben's after the reassignment", assignees(cs), []string{"u4=ben", "u2=ben"})
		cs, err = r.Conversations(ctx, reports.ConversationFilter{Unassigned: true, Limit: 1})
		noErr(t, "Conversations", err)
		equal(t, "unassigned, a page of one", assignees(cs), []string{"u3="})
		cs, err = r.Conversations(ctx, reports.ConversationFilter{Unassigned: true, Before: reports.CursorOf(ps["u3"])})
		noErr(t, "Conversations", err)
		equal(t, "unassigned after u3", assignees(cs), []string{"u1="})
		err = a.Assign(ctx, reports.Assignment{ParticipantID: "nobody", User: "anna", By: "boss", At: at(time.Hour)})
		wantErr(t, "Assign an unknown participant", err, errs.ErrNotFound)
	}},
	{"ErasedParticipantIsUnassigned", func(t *testing.T, s Store) {
		r, a := reportsOf(t, s), assignmentsOf(t, s)
		ps := inbox(t, s)
		noErr(t, "Assign", a.Assign(t.Context(), reports.Assignment{ParticipantID: ps["u1"].ID, User: "anna", By: "boss", At: at(time.Hour)}))
		noErr(t, "MarkRead", r.MarkRead(t.Context(), "anna", ps["u1"].ID, at(3*time.Minute)))
		noErr(t, "Erase", eraser(t, s).EraseParticipant(t.Context(), ps["u1"].ID, nil))
		cs, err := r.Conversations(t.Context(), reports.ConversationFilter{Assignee: "anna"})
		noErr(t, "Conversations", err)
		equal(t, "anna's after the erase", assignees(cs), []string{})
		got, err := a.Assignment(t.Context(), ps["u1"].ID)
		noErr(t, "Assignment", err)
		equal(t, "the erased one's assignment", got.User, "")
		marks, err := r.ReadMarks(t.Context(), "anna", []string{ps["u1"].ID})
		noErr(t, "ReadMarks", err)
		equal(t, "the erased one's read marks", len(marks), 0)
	}},
	{"RoundCountsByLastRoundAndFinished", func(t *testing.T, s Store) {
		a := assignmentsOf(t, s)
		ps := map[string]engine.Participant{}
		for _, u := range []string{"u1", "u2", "u3", "u4", "u5"} {
			ps[u] = MustJoin(t, s, u)
		}
		ps["u1"] = talk(t, s, ps["u1"], "harbour", time.Minute, "photo", map[string]string{"round": "harbour"})
		ps["u2"] = talk(t, s, ps["u2"], "harbour", time.Minute, "photo", map[string]string{"round": "harbour"})
		ps["u3"] = talk(t, s, ps["u3"], "rooftop", 2*time.Minute, "video", map[string]string{"round": "rooftop"})
		ps["u4"] = talk(t, s, ps["u4"], "lobby", 2*time.Minute, "hi", nil)
		// u2 is eliminated in the harbour round: finished, their round stays.
		out := next(ps["u2"], "out", 3*time.Minute)
		out.Finished = true
		MustCommit(t, s, engine.Step{Participant: out, PrevVersion: ps["u2"].Version})
		other := inbound("join-x", "x1", "")
		other.Kind, other.Campaign = engine.KindJoin, "fridge"
		other.ParticipantID = engine.ParticipantID("fridge", "webchat", "x1")
		id := MustSaveInbound(t, s, other)
		MustCommit(t, s, engine.Step{InboundID: id, Created: true, Participant: engine.Participant{ID: other.ParticipantID,
			Campaign: "fridge", Channel: "webchat", Address: "x1", State: "door", Vars: map[string]string{"round": "harbour"},
			Version: 1, CreatedAt: t0, UpdatedAt: t0}})
		got, err := a.RoundCounts(t.Context(), campaign, []string{"rooftop", "harbour", "finale"})
		noErr(t, "RoundCounts", err)
		equal(t, "round counts", got, []reports.RoundCount{{Round: "rooftop", Playing: 1}, {Round: "harbour", Playing: 1, Out: 1}})
		none, err := a.RoundCounts(t.Context(), "quiz", []string{"harbour"})
		noErr(t, "RoundCounts of a campaign without", err)
		equal(t, "no rounds", len(none), 0)
	}},
	{"RoundCountsFollowTheRoundVariable", func(t *testing.T, s Store) {
		// The count goes with the participant's round variable as each step changes it: a
		// store that keeps the round apart from vars (for an index) must write it every step.
		a := assignmentsOf(t, s)
		rounds := []string{"rooftop", "harbour"}
		p := MustJoin(t, s, "u1")
		p = talk(t, s, p, "harbour", time.Minute, "photo", map[string]string{"round": "harbour"})
		got, err := a.RoundCounts(t.Context(), campaign, rounds)
		noErr(t, "RoundCounts in the harbour", err)
		equal(t, "in the harbour", got, []reports.RoundCount{{Round: "harbour", Playing: 1}})
		p = talk(t, s, p, "rooftop", 2*time.Minute, "video", map[string]string{"round": "rooftop"})
		got, err = a.RoundCounts(t.Context(), campaign, rounds)
		noErr(t, "RoundCounts on the rooftop", err)
		equal(t, "on the rooftop", got, []reports.RoundCount{{Round: "rooftop", Playing: 1}})
		back := next(p, "lobby", 3*time.Minute)
		delete(back.Vars, "round")
		MustCommit(t, s, engine.Step{Participant: back, PrevVersion: p.Version})
		got, err = a.RoundCounts(t.Context(), campaign, rounds)
		noErr(t, "RoundCounts without a round", err)
		equal(t, "without a round", len(got), 0)
	}},
}
