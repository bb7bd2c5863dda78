package storetest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/judge"
	"github.com/chatcampaigns/campaign/reports"
)

// Reports is what the dashboard's inbox, campaign overview, broadcast history, delivery
// monitor and exports read (package reports); every backend implements it.
type Reports interface {
	Conversations(ctx context.Context, f reports.ConversationFilter) ([]reports.Conversation, error)
	MarkRead(ctx context.Context, user, participantID string, seen time.Time) error
	ReadMarks(ctx context.Context, user string, ids []string) (map[string]time.Time, error)
	SaveBroadcast(ctx context.Context, b reports.Broadcast) error
	Broadcasts(ctx context.Context, campaign string, limit int) ([]reports.Broadcast, error)
	Broadcast(ctx context.Context, id string) (reports.Broadcast, error)
	BroadcastRecipients(ctx context.Context, id string, after int64, limit int) ([]engine.Outbound, error)
	DeliveryByChannel(ctx context.Context, campaign string) (map[string]map[string]int, error)
	DeliveryDays(ctx context.Context, campaign string, since, until time.Time) ([]reports.DayCount, error)
	EntryDays(ctx context.Context, campaign string, since, until time.Time) ([]reports.EntryDay, error)
	EachParticipant(ctx context.Context, campaign string, fn func(engine.Participant) error) error
	EachEntry(ctx context.Context, campaign string, fn func(judge.Entry) error) error
	EachScore(ctx context.Context, campaign string, fn func(reports.ScoreRow) error) error
	// ParticipantEntries lists a participant's entries, oldest first.
	ParticipantEntries(ctx context.Context, participantID string) ([]judge.Entry, error)
}

func reportsOf(t *testing.T, s Store) Reports {
	t.Helper()
	r, ok := s.(Reports)
	if !ok {
		t.Fatalf("%T does not implement storetest.Reports", s)
	}
	return r
}

// talk commits a step of p's that moves them to state at t0+d with vars set, and stores the
// participant's message as a transcript line.
func talk(t *testing.T, s Store, p engine.Participant, state string, d time.Duration, text string, vars map[string]string) engine.Participant {
	t.Helper()
	id := MustSaveInbound(t, s, inbound("m-"+p.Address+"-"+itoa(int64(d)), p.Address, text))
	n := next(p, state, d)
	for k, v := range vars {
		n.Vars[k] = v
	}
	n.LastInboundAt = at(d)
	MustCommit(t, s, engine.Step{InboundID: id, Participant: n, PrevVersion: p.Version,
		Lines: []engine.Line{{ParticipantID: p.ID, Direction: engine.In, Text: text, At: at(d)}}})
	return n
}

func conversationIDs(cs []reports.Conversation) []string {
	return texts(cs, func(c reports.Conversation) string { return c.Participant.Address })
}

// inbox joins four participants: u1..u4, active in the order u2, u4, u1, u3 (u3 last).
func inbox(t *testing.T, s Store) map[string]engine.Participant {
	ps := map[string]engine.Participant{}
	for _, u := range []string{"u1", "u2", "u3", "u4"} {
		ps[u] = MustJoin(t, s, u)
	}
	ps["u2"] = talk(t, s, ps["u2"], "door", time.Minute, "hello there", nil)
	ps["u4"] = talk(t, s, ps["u4"], "review", 2*time.Minute, "a photo of my FRIDGE", map[string]string{"handoff": "chefs"})
	ps["u1"] = talk(t, s, ps["u1"], "review", 3*time.Minute, "what now", map[string]string{"handoff": "support", "city": "Utrecht"})
	ps["u3"] = talk(t, s, ps["u3"], "door", 4*time.Minute, "let me in", nil)
	return ps
}

var reportTests = []test{
	{"ConversationsMostRecentFirstByPage", func(t *testing.T, s Store) {
		r := reportsOf(t, s)
		inbox(t, s)
		first, err := r.Conversations(t.Context(), reports.ConversationFilter{Limit: 3})
		noErr(t, "Conversations", err)
		equal(t, "first page", conversationIDs(first), []string{"u3", "u1", "u4"})
		equal(t, "last line", first[0].Last.Text, "let me in")
		rest, err := r.Conversations(t.Context(), reports.ConversationFilter{Limit: 3, Before: reports.CursorOf(first[2].Participant)})
		noErr(t, "Conversations", err)
		equal(t, "second page", conversationIDs(rest), []string{"u2"})
	}},
	{"ConversationsFilters", func(t *testing.T, s Store) {
		r := reportsOf(t, s)
		inbox(t, s)
		other := inbound("join-x", "x1", "")
		other.Kind, other.Campaign = engine.KindJoin, "fridge"
		other.ParticipantID = engine.ParticipantID("fridge", "webchat", "x1")
		id := MustSaveInbound(t, s, other)
		MustCommit(t, s, engine.Step{InboundID: id, Created: true, Participant: engine.Participant{ID: other.ParticipantID,
			Campaign: "fridge", Channel: "webchat", Address: "x1", State: "door", Vars: map[string]string{"handoff": "chefs"},
			Version: 1, CreatedAt: at(time.Hour), UpdatedAt: at(time.Hour)}})
		for _, tc := range []struct {
			name string
			f    reports.ConversationFilter
			want []string
		}{
			{"All", reports.ConversationFilter{}, []string{"x1", "u3", "u1", "u4", "u2"}},
			{"Campaign", reports.ConversationFilter{Campaign: campaign}, []string{"u3", "u1", "u4", "u2"}},
			{"State", reports.ConversationFilter{Campaign: campaign, State: "review"}, []string{"u1", "u4"}},
			{"Waiting", reports.ConversationFilter{Waiting: true}, []string{"x1", "u1", "u4"}},
			{"WaitingInCampaign", reports.ConversationFilter{Waiting: true, Campaign: campaign}, []string{"u1", "u4"}},
			{"Team", reports.ConversationFilter{Team: "chefs"}, []string{"x1", "u4"}},
			{"SearchText", reports.ConversationFilter{Search: "fridge"}, []string{"u4"}},
			{"SearchVariable", reports.ConversationFilter{Search: "utrecht"}, []string{"u1"}},
			{"SearchName", reports.ConversationFilter{Search: "name of u2"}, []string{"u2"}},
			{"SearchLikeCharacters", reports.ConversationFilter{Search: "%"}, []string{}},
			{"SearchPaged", reports.ConversationFilter{Search: "name of", Limit: 2}, []string{"u3", "u1"}},
		} {
			got, err := r.Conversations(t.Context(), tc.f)
			noErr(t, tc.name, err)
			equal(t, tc.name, conversationIDs(got), tc.want)
		}
	}},
	{"ConversationsOfEveryCampaignInOneOrder", func(t *testing.T, s Store) {
		// Three campaigns, activity interleaved between them and two ties on the time (the
		// id decides, descending): every page of every campaign's list, and of each one's,
		// is the one order a sort of all of them gives.
		r := reportsOf(t, s)
		type who struct {
			campaign, from string
			d              time.Duration
		}
		people := []who{{"bouncer", "a", 5}, {"fridge", "b", 3}, {"quiz", "c", 5}, {"bouncer", "d", 1},
			{"fridge", "e", 4}, {"quiz", "f", 2}, {"fridge", "g", 5}, {"bouncer", "h", 0}}
		var all []engine.Participant
		for _, w := range people {
			in := inbound("join-"+w.campaign+w.from, w.from, "")
			in.Kind, in.Campaign = engine.KindJoin, w.campaign
			in.ParticipantID = engine.ParticipantID(w.campaign, "webchat", w.from)
			p := engine.Participant{ID: in.ParticipantID, Campaign: w.campaign, Channel: "webchat", Address: w.from,
				State: "door", Vars: map[string]string{}, Version: 1, CreatedAt: t0, UpdatedAt: at(w.d * time.Minute)}
			MustCommit(t, s, engine.Step{InboundID: MustSaveInbound(t, s, in), Participant: p, Created: true})
			all = append(all, p)
		}
		slices.SortFunc(all, func(a, b engine.Participant) int {
			if c := b.UpdatedAt.Compare(a.UpdatedAt); c != 0 {
				return c
			}
			return strings.Compare(b.ID, a.ID)
		})
		for _, c := range []string{"", "fridge"} {
			var want, got []string
			for _, p := range all {
				if c == "" || p.Campaign == c {
					want = append(want, p.ID)
				}
			}
			f := reports.ConversationFilter{Campaign: c, Limit: 3}
			for range len(all) {
				page, err := r.Conversations(t.Context(), f)
				noErr(t, "Conversations", err)
				for _, cv := range page {
					got = append(got, cv.Participant.ID)
				}
				if len(page) < f.Limit {
					break
				}
				f.Before = reports.CursorOf(page[len(page)-1].Participant)
			}
			equal(t, "campaign "+c+" page by page", got, want)
		}
	}},
	{"ConversationsHandedBackLeaveTheQueue", func(t *testing.T, s Store) {
		r := reportsOf(t, s)
		ps := inbox(t, s)
		back := next(ps["u1"], "door", 5*time.Minute)
		delete(back.Vars, "handoff")
		MustCommit(t, s, engine.Step{InboundID: MustSaveInbound(t, s, inbound("m-u1-back", "u1", "thanks")),
			Participant: back, PrevVersion: ps["u1"].Version})
		moved := next(ps["u4"], "door", 6*time.Minute)
		moved.Vars["handoff"] = "support"
		MustCommit(t, s, engine.Step{InboundID: MustSaveInbound(t, s, inbound("m-u4-moved", "u4", "hello?")),
			Participant: moved, PrevVersion: ps["u4"].Version})
		for _, tc := range []struct {
			name string
			f    reports.ConversationFilter
			want []string
		}{
			{"Waiting", reports.ConversationFilter{Waiting: true}, []string{"u4"}},
			{"OldTeam", reports.ConversationFilter{Team: "chefs"}, []string{}},
			{"NewTeam", reports.ConversationFilter{Team: "support"}, []string{"u4"}},
		} {
			got, err := r.Conversations(t.Context(), tc.f)
			noErr(t, tc.name, err)
			equal(t, tc.name, conversationIDs(got), tc.want)
		}
	}},
	{"ReadMarksOnlyMoveForward", func(t *testing.T, s Store) {
		r := reportsOf(t, s)
		ps := inbox(t, s)
		noErr(t, "MarkRead", r.MarkRead(t.Context(), "ann", ps["u1"].ID, at(3*time.Minute)))
		noErr(t, "MarkRead older", r.MarkRead(t.Context(), "ann", ps["u1"].ID, at(time.Minute)))
		noErr(t, "MarkRead bob", r.MarkRead(t.Context(), "bob", ps["u2"].ID, at(time.Minute)))
		got, err := r.ReadMarks(t.Context(), "ann", []string{ps["u1"].ID, ps["u2"].ID})
		noErr(t, "ReadMarks", err)
		equal(t, "ann's marks", got, map[string]time.Time{ps["u1"].ID: at(3 * time.Minute)})
		got, err = r.ReadMarks(t.Context(), "ann", nil)
		noErr(t, "ReadMarks none", err)
		equal(t, "no ids", len(got), 0)
	}},
	{"BroadcastHistory", func(t *testing.T, s Store) {
		r := reportsOf(t, s)
		p := MustJoin(t, s, "u1")
		q := MustJoin(t, s, "u2")
		b1 := reports.Broadcast{ID: "b1", Campaign: campaign, Text: "Doors open", Audience: engine.Audience{State: "door"}, By: "ann", Queued: 2, At: at(time.Hour)}
		b2 := reports.Broadcast{ID: "b2", Campaign: campaign, Text: "Last call", Audience: engine.Audience{Var: "lang", Value: "nl"}, Template: "reminder", By: "bob", Queued: 1, At: at(2 * time.Hour)}
		for _, b := range []reports.Broadcast{b1, b2, b1} {
			noErr(t, "SaveBroadcast", r.SaveBroadcast(t.Context(), b))
		}
		noErr(t, "SaveBroadcast other", r.SaveBroadcast(t.Context(), reports.Broadcast{ID: "f1", Campaign: "fridge", Text: "x", At: at(3 * time.Hour)}))
		got, err := r.Broadcasts(t.Context(), campaign, 10)
		noErr(t, "Broadcasts", err)
		equal(t, "history", got, []reports.Broadcast{b2, b1})
		one, err := r.Broadcast(t.Context(), "b2")
		noErr(t, "Broadcast", err)
		equal(t, "one", one, b2)
		_, err = r.Broadcast(t.Context(), "nope")
		if !isNotFound(err) {
			t.Fatalf("Broadcast(nope): err = %v, want not found", err)
		}
		var out []engine.Outbound
		for _, x := range []engine.Participant{p, q} {
			o := outbound(x, "Doors open", time.Hour)
			o.BroadcastID = "b1"
			out = append(out, o)
		}
		noErr(t, "Enqueue", s.Enqueue(t.Context(), out))
		first, err := r.BroadcastRecipients(t.Context(), "b1", 0, 1)
		noErr(t, "BroadcastRecipients", err)
		equal(t, "first recipient", texts(first, func(o engine.Outbound) string { return o.To }), []string{"u1"})
		rest, err := r.BroadcastRecipients(t.Context(), "b1", first[0].ID, 10)
		noErr(t, "BroadcastRecipients", err)
		equal(t, "other recipients", texts(rest, func(o engine.Outbound) string { return o.To }), []string{"u2"})
	}},
	{"DeliveryByChannelAndDay", func(t *testing.T, s Store) {
		r := reportsOf(t, s)
		MustJoin(t, s, "u1")
		MustJoin(t, s, "u2")
		noErr(t, "MarkSent", s.MarkSent(t.Context(), dueID(t, s, "Welcome"), "w1", at(time.Minute)))
		got, err := r.DeliveryByChannel(t.Context(), campaign)
		noErr(t, "DeliveryByChannel", err)
		equal(t, "by channel", got, map[string]map[string]int{"webchat": {"sent": 1, "pending": 1}})
		days, err := r.DeliveryDays(t.Context(), campaign, t0.Add(-24*time.Hour), time.Time{})
		noErr(t, "DeliveryDays", err)
		equal(t, "days", days, []reports.DayCount{{Day: reports.Day(t0), Key: "pending", N: 1}, {Day: reports.Day(t0), Key: "sent", N: 1}})
		days, err = r.DeliveryDays(t.Context(), campaign, t0.Add(24*time.Hour), time.Time{})
		noErr(t, "DeliveryDays later", err)
		equal(t, "no days", len(days), 0)
		days, err = r.DeliveryDays(t.Context(), campaign, t0.Add(-24*time.Hour), reports.Day(t0))
		noErr(t, "DeliveryDays until today", err)
		equal(t, "none before today", len(days), 0)
		days, err = r.DeliveryDays(t.Context(), campaign, reports.Day(t0), reports.Day(t0).Add(24*time.Hour))
		noErr(t, "DeliveryDays of today", err)
		equal(t, "today", len(days), 2)
	}},
	{"EntryDaysCountReceivedAndDecided", func(t *testing.T, s Store) {
		r := reportsOf(t, s)
		collect(t, s, campaign, "u1", 0, "b1", "b2")
		collect(t, s, "fridge", "u2", 0, "f1")
		noErr(t, "Decide", s.Decide(t.Context(), decision("b1", judge.StatusApproved, "mod"),
			verdictEvent(engine.Entry{ID: "b1", Campaign: campaign}, judge.StatusApproved)))
		got, err := r.EntryDays(t.Context(), campaign, t0.Add(-time.Hour), time.Time{})
		noErr(t, "EntryDays", err)
		equal(t, "days", got, []reports.EntryDay{{Day: reports.Day(t0), Received: 2, Decided: 1, Wait: time.Hour}})
		got, err = r.EntryDays(t.Context(), campaign, t0.Add(-time.Hour), t0.Add(30*time.Minute))
		noErr(t, "EntryDays until before the verdict", err)
		equal(t, "days until", got, []reports.EntryDay{{Day: reports.Day(t0), Received: 2}})
	}},
	{"ExportsEveryRowInOrder", func(t *testing.T, s Store) {
		r := reportsOf(t, s)
		collect(t, s, campaign, "u1", 0, "b1", "b2")
		collect(t, s, campaign, "u2", 5*time.Second, "b3")
		collect(t, s, "fridge", "u3", 0, "f1")
		noErr(t, "SaveScorecard", scores(t, s).SaveScorecard(t.Context(), card(campaign, "b1", "ann", time.Minute, map[string]int{"Fun": 3, "Art": 4})))
		var ps, es, sc []string
		noErr(t, "EachParticipant", r.EachParticipant(t.Context(), campaign, func(p engine.Participant) error { ps = append(ps, p.Address); return nil }))
		noErr(t, "EachEntry", r.EachEntry(t.Context(), campaign, func(e judge.Entry) error { es = append(es, e.ID); return nil }))
		noErr(t, "EachScore", r.EachScore(t.Context(), campaign, func(x reports.ScoreRow) error {
			sc = append(sc, x.EntryID+"/"+x.Judge+"/"+x.Criterion+"="+itoa(int64(x.Score)))
			return nil
		}))
		mine, err := r.ParticipantEntries(t.Context(), engine.ParticipantID(campaign, "webchat", "u1"))
		noErr(t, "ParticipantEntries", err)
		equal(t, "u1's entries", entryIDs(mine), []string{"b1", "b2"})
		equal(t, "participants", ps, []string{"u1", "u2"})
		equal(t, "entries", es, []string{"b1", "b2", "b3"})
		equal(t, "scores", sc, []string{"b1/ann/Art=4", "b1/ann/Fun=3"})
	}},
}
