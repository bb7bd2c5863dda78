package storetest

import (
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/judge"
)

// collect commits entries for a fresh participant `from` in campaign camp, the first created
// at t0+start and each next one a second later, and returns them.
func collect(t *testing.T, s Store, camp, from string, start time.Duration, ids ...string) []engine.Entry {
	t.Helper()
	in := inbound("join-"+camp+from, from, "")
	in.Campaign = camp
	in.ParticipantID = engine.ParticipantID(camp, "webchat", from)
	inID := MustSaveInbound(t, s, in)
	p := engine.Participant{ID: in.ParticipantID, Campaign: camp, Channel: "webchat", Address: from,
		State: "review", Vars: map[string]string{}, Version: 1, CreatedAt: t0, UpdatedAt: t0}
	var es []engine.Entry
	for i, id := range ids {
		es = append(es, engine.Entry{ID: id, Campaign: camp, ParticipantID: p.ID, State: "convince",
			Kind: "photo", MediaKey: "m/" + id, MIME: "image/jpeg", CreatedAt: at(start + time.Duration(i)*time.Second)})
	}
	MustCommit(t, s, engine.Step{InboundID: inID, Participant: p, Created: true, Entries: es})
	return es
}

func decision(entryID, verdict, by string) judge.Decision {
	return judge.Decision{EntryID: entryID, Verdict: verdict, By: by, Reason: "because " + by, At: at(time.Hour)}
}

func verdictEvent(e engine.Entry, verdict string) engine.Inbound {
	return engine.Inbound{Channel: "judge", PlatformID: "verdict:" + e.ID, Campaign: e.Campaign,
		ParticipantID: e.ParticipantID, Kind: engine.KindVerdict, Verdict: verdict, EntryID: e.ID, At: at(time.Hour)}
}

func entryIDs(es []judge.Entry) []string {
	return texts(es, func(e judge.Entry) string { return e.ID })
}

var judgeTests = []test{
	{"EntryMissingIsNotFound", func(t *testing.T, s Store) {
		_, err := s.Entry(t.Context(), "nope")
		wantErr(t, "Entry", err, errs.ErrNotFound)
	}},
	{"EntriesFilterNewestFirst", func(t *testing.T, s Store) {
		collect(t, s, "bouncer", "u1", 0, "b1", "b2", "b3")
		collect(t, s, "fridge", "u2", 1500*time.Millisecond, "f1")
		noErr(t, "Decide", s.Decide(t.Context(), decision("b2", judge.StatusApproved, "mod"),
			verdictEvent(engine.Entry{ID: "b2", Campaign: "bouncer"}, judge.StatusApproved)))
		for _, tc := range []struct {
			name string
			f    judge.Filter
			want []string
		}{
			{"All", judge.Filter{}, []string{"b3", "f1", "b2", "b1"}},
			{"Campaign", judge.Filter{Campaign: "bouncer"}, []string{"b3", "b2", "b1"}},
			{"Status", judge.Filter{Status: judge.StatusPending}, []string{"b3", "f1", "b1"}},
			{"CampaignAndStatus", judge.Filter{Campaign: "bouncer", Status: judge.StatusApproved}, []string{"b2"}},
			{"Limit", judge.Filter{Campaign: "bouncer", Limit: 2}, []string{"b3", "b2"}},
			{"NoMatch", judge.Filter{Campaign: "nope"}, []string{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.Entries(t.Context(), tc.f)
				noErr(t, "Entries", err)
				equal(t, "Entries", entryIDs(got), tc.want)
			})
		}
	}},
	{"DecideRecordsVerdict", func(t *testing.T, s Store) {
		e := collect(t, s, campaign, "u1", 0, "e1")[0]
		d := decision("e1", judge.StatusRejected, "moderator1")
		noErr(t, "Decide", s.Decide(t.Context(), d, verdictEvent(e, d.Verdict)))
		got, err := s.Entry(t.Context(), "e1")
		noErr(t, "Entry", err)
		equal(t, "Entry", got, judge.Entry{Entry: e, Status: judge.StatusRejected, DecidedBy: "moderator1",
			DecidedAt: at(time.Hour), Reason: "because moderator1"})
	}},
	{"DecideQueuesVerdictEvent", func(t *testing.T, s Store) {
		e := collect(t, s, campaign, "u1", 0, "e1")[0]
		ev := verdictEvent(e, judge.StatusApproved)
		noErr(t, "Decide", s.Decide(t.Context(), decision("e1", judge.StatusApproved, "m"), ev))
		got := pending(t, s)
		if len(got) != 1 || got[0].ID == 0 {
			t.Fatalf("pending = %+v, want the verdict event", got)
		}
		equal(t, "verdict event", got[0].Inbound, ev)
		_, dup, err := s.SaveInbound(t.Context(), ev)
		noErr(t, "SaveInbound", err)
		if !dup {
			t.Error("the verdict event must dedupe like any inbound event")
		}
	}},
	{"DecideTwiceConflictsAndChangesNothing", func(t *testing.T, s Store) {
		e := collect(t, s, campaign, "u1", 0, "e1")[0]
		first := decision("e1", judge.StatusApproved, "alice")
		noErr(t, "Decide", s.Decide(t.Context(), first, verdictEvent(e, first.Verdict)))
		entryBefore, err := s.Entry(t.Context(), "e1")
		noErr(t, "Entry", err)
		pendingBefore := pending(t, s)

		second := decision("e1", judge.StatusRejected, "bob")
		ev := verdictEvent(e, second.Verdict)
		ev.PlatformID = "verdict:e1:again"
		wantErr(t, "second Decide", s.Decide(t.Context(), second, ev), errs.ErrConflict)
		entryAfter, err := s.Entry(t.Context(), "e1")
		noErr(t, "Entry", err)
		equal(t, "entry after the second verdict", entryAfter, entryBefore)
		equal(t, "pending after the second verdict", pending(t, s), pendingBefore)
	}},
	{"DecideUnknownEntryIsNotFound", func(t *testing.T, s Store) {
		ev := verdictEvent(engine.Entry{ID: "ghost", Campaign: campaign, ParticipantID: "p"}, judge.StatusApproved)
		err := s.Decide(t.Context(), decision("ghost", judge.StatusApproved, "m"), ev)
		wantErr(t, "Decide", err, errs.ErrNotFound)
		equal(t, "pending", len(pending(t, s)), 0)
	}},
}
