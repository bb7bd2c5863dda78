package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// joinAs is MustJoin for a participant of another campaign or channel.
func joinAs(t *testing.T, s Store, camp, channel, from string, at0 time.Time) engine.Participant {
	t.Helper()
	in := inbound("join-"+camp+channel+from, from, "")
	in.Campaign, in.Channel, in.Kind = camp, channel, engine.KindJoin
	in.ParticipantID = engine.ParticipantID(camp, channel, from)
	id := MustSaveInbound(t, s, in)
	p := engine.Participant{ID: in.ParticipantID, Campaign: camp, Channel: channel, Address: from,
		State: "start", Vars: map[string]string{}, Version: 1, DefVersion: "v1", Entered: 1,
		CreatedAt: at0, UpdatedAt: at0}
	MustCommit(t, s, engine.Step{InboundID: id, Participant: p, Created: true})
	return p
}

func place(capacity int) engine.Place {
	return engine.Place{Campaign: campaign, Pool: "guests", Capacity: capacity}
}

var runtimeTests = []test{
	{"ParticipantFieldsRoundTrip", func(t *testing.T, s Store) {
		p := MustJoin(t, s, "u1")
		p2 := next(p, "done", time.Minute)
		p2.Entered, p2.Finished, p2.LastInboundAt = 2, true, at(30*time.Second)
		MustCommit(t, s, engine.Step{Participant: p2, PrevVersion: p.Version})
		got, err := s.Participant(t.Context(), p.ID)
		noErr(t, "Participant", err)
		equal(t, "Participant", got, p2)
	}},
	{"InboundKindFieldsRoundTrip", func(t *testing.T, s Store) {
		choice := inbound("c1", "u1", "Yes please")
		choice.Kind, choice.Choice, choice.ReplyTo = engine.KindChoice, "yes", "wamid.prev"
		loc := inbound("l1", "u1", "")
		loc.Kind = engine.KindLocation
		loc.Location = &engine.Location{Latitude: 52.3676, Longitude: 4.9041, Name: "Dam", Address: "Dam 1"}
		timer := inbound("timer:p:s/0:3", "u1", "")
		timer.Channel, timer.Kind, timer.Timer, timer.Seq = "timer", engine.KindTimer, "s/0", 3
		round := inbound("round:c:r1:started:p", "u1", "")
		round.Channel, round.Kind, round.Round, round.RoundEvent = "round", engine.KindRound, "r1", "started"
		back := inbound("handback:p:4", "u1", "")
		back.Channel, back.Kind, back.Agent = "agent", engine.KindHandback, "chef"
		join := inbound("j1", "u1", "")
		join.Kind, join.Locale, join.To = engine.KindJoin, "nl-BE", "pn-b"
		var want []engine.StoredInbound
		for _, in := range []engine.Inbound{choice, loc, timer, round, back, join} {
			want = append(want, engine.StoredInbound{ID: MustSaveInbound(t, s, in), Inbound: in})
		}
		equal(t, "PendingInbound", pending(t, s), want)
	}},
	{"PendingInboundExceptLeavesCampaignsOut", func(t *testing.T, s Store) {
		a := MustSaveInbound(t, s, inbound("a", "u1", "a"))
		other := inbound("b", "u1", "b")
		other.Campaign = "paused"
		MustSaveInbound(t, s, other)
		c := MustSaveInbound(t, s, inbound("c", "u1", "c"))
		got, err := s.PendingInboundExcept(t.Context(), []string{"paused", "another"}, 0)
		noErr(t, "PendingInboundExcept", err)
		equal(t, "ids", texts(got, func(in engine.StoredInbound) string { return itoa(in.ID) }), []string{itoa(a), itoa(c)})
		got, err = s.PendingInboundExcept(t.Context(), nil, 0)
		noErr(t, "PendingInboundExcept", err)
		equal(t, "all", len(got), 3)
	}},
	{"ParticipantsAtNewestFirst", func(t *testing.T, s Store) {
		old := joinAs(t, s, "news", "whatsapp", "316", t0)
		recent := joinAs(t, s, "quiz", "whatsapp", "316", at(time.Hour))
		joinAs(t, s, "news", "telegram", "316", at(2*time.Hour))
		joinAs(t, s, "news", "whatsapp", "317", at(2*time.Hour))
		got, err := s.ParticipantsAt(t.Context(), "whatsapp", "316")
		noErr(t, "ParticipantsAt", err)
		equal(t, "ParticipantsAt", got, []engine.Participant{recent, old})
		got, err = s.ParticipantsAt(t.Context(), "whatsapp", "nobody")
		noErr(t, "ParticipantsAt", err)
		equal(t, "ParticipantsAt of nobody", len(got), 0)
	}},
	{"ParticipantsFilter", func(t *testing.T, s Store) {
		a := joinAs(t, s, "news", "whatsapp", "a", t0)
		b := joinAs(t, s, "news", "whatsapp", "b", at(time.Second))
		c := joinAs(t, s, "news", "whatsapp", "c", at(2*time.Second))
		joinAs(t, s, "quiz", "whatsapp", "d", at(3*time.Second))
		b2 := next(b, "done", time.Minute)
		b2.Finished = true
		MustCommit(t, s, engine.Step{Participant: b2, PrevVersion: b.Version})
		c2 := next(c, "other", time.Minute)
		MustCommit(t, s, engine.Step{Participant: c2, PrevVersion: c.Version})
		ids := func(f engine.ParticipantFilter) []string {
			got, err := s.Participants(t.Context(), f)
			noErr(t, "Participants", err)
			return texts(got, func(p engine.Participant) string { return p.Address })
		}
		equal(t, "campaign", ids(engine.ParticipantFilter{Campaign: "news"}), []string{"a", "b", "c"})
		equal(t, "unfinished", ids(engine.ParticipantFilter{Campaign: "news", Unfinished: true}), []string{"a", "c"})
		equal(t, "state", ids(engine.ParticipantFilter{Campaign: "news", State: "start"}), []string{"a"})
		equal(t, "limit", ids(engine.ParticipantFilter{Limit: 2}), []string{"a", "b"})
		got, err := s.Participants(t.Context(), engine.ParticipantFilter{Campaign: "news", State: "start"})
		noErr(t, "Participants", err)
		equal(t, "round trip", got, []engine.Participant{a})
	}},
	{"StateCounts", func(t *testing.T, s Store) {
		got, err := s.StateCounts(t.Context(), "news")
		noErr(t, "StateCounts of nothing", err)
		equal(t, "empty", got, map[string]int{})
		joinAs(t, s, "news", "whatsapp", "a", t0)
		joinAs(t, s, "news", "whatsapp", "b", t0)
		c := joinAs(t, s, "news", "whatsapp", "c", t0)
		joinAs(t, s, "quiz", "whatsapp", "d", t0)
		MustCommit(t, s, engine.Step{Participant: next(c, engine.StateOptedOut, time.Minute), PrevVersion: c.Version})
		got, err = s.StateCounts(t.Context(), "news")
		noErr(t, "StateCounts", err)
		equal(t, "counts", got, map[string]int{"start": 2, engine.StateOptedOut: 1})
	}},
	{"PlacesStopAtCapacity", func(t *testing.T, s Store) {
		n, err := s.PoolTaken(t.Context(), campaign, "guests")
		noErr(t, "PoolTaken of an unused pool", err)
		equal(t, "taken", n, 0)
		p := MustJoin(t, s, "u1")
		p2 := next(p, "in", time.Minute)
		MustCommit(t, s, engine.Step{Participant: p2, PrevVersion: p.Version, Places: []engine.Place{place(1)}})
		n, _ = s.PoolTaken(t.Context(), campaign, "guests")
		equal(t, "taken", n, 1)

		q := MustJoin(t, s, "u2")
		id := MustSaveInbound(t, s, inbound("m2", "u2", "me too"))
		before := snap(t, s, q.ID)
		err = s.Commit(t.Context(), engine.Step{InboundID: id, Participant: next(q, "in", time.Minute),
			PrevVersion: q.Version, Places: []engine.Place{place(1)}, Codes: []string{"FULL01"},
			Outbox: []engine.Outbound{outbound(q, "You're in", 0)}})
		wantErr(t, "Commit into a full pool", err, engine.ErrPoolFull)
		if errors.Is(err, engine.ErrCodeTaken) {
			t.Error("a full pool must be told apart from a taken code")
		}
		equal(t, "state after the refused commit", snap(t, s, q.ID), before)
		n, _ = s.PoolTaken(t.Context(), campaign, "guests")
		equal(t, "taken", n, 1)
		// A larger capacity (a new definition version) lets the next one in.
		MustCommit(t, s, engine.Step{InboundID: id, Participant: next(q, "in", time.Minute),
			PrevVersion: q.Version, Places: []engine.Place{place(2)}})
	}},
	{"PlacesNeverOversubscribedUnderConcurrentCommits", func(t *testing.T, s Store) {
		const people, capacity = 24, 5
		var ps []engine.Participant
		for i := range people {
			ps = append(ps, MustJoin(t, s, fmt.Sprintf("u%d", i)))
		}
		var (
			wg          sync.WaitGroup
			mu          sync.Mutex
			taken, full int
		)
		start := make(chan struct{})
		for _, p := range ps {
			wg.Go(func() {
				<-start
				err := s.Commit(t.Context(), engine.Step{Participant: next(p, "in", time.Minute),
					PrevVersion: p.Version, Places: []engine.Place{place(capacity)}})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					taken++
				case errors.Is(err, engine.ErrPoolFull):
					full++
				default:
					t.Errorf("Commit: %v", err)
				}
			})
		}
		close(start)
		wg.Wait()
		equal(t, "places taken", taken, capacity)
		equal(t, "refused", full, people-capacity)
		n, _ := s.PoolTaken(t.Context(), campaign, "guests")
		equal(t, "PoolTaken", n, capacity)
	}},
	{"TimersFireOnce", func(t *testing.T, s Store) {
		p := MustJoin(t, s, "u1")
		p2 := next(p, "wait", time.Minute)
		tm := engine.Timer{Key: "timer:" + p.ID + ":wait/0:2", Campaign: campaign, ParticipantID: p.ID,
			Transition: "wait/0", Seq: 2, DueAt: at(time.Hour)}
		late := tm
		late.Key, late.Transition, late.DueAt = "timer:"+p.ID+":wait/1:2", "wait/1", at(2*time.Hour)
		MustCommit(t, s, engine.Step{Participant: p2, PrevVersion: p.Version, Timers: []engine.Timer{late, tm}})
		round := engine.Timer{Key: "round:bouncer:r1:deadline", Campaign: campaign, Round: "r1",
			RoundEvent: "deadline", DueAt: at(90 * time.Minute)}
		noErr(t, "SaveTimer", s.SaveTimer(t.Context(), round))
		again := round
		again.DueAt = at(time.Minute)
		noErr(t, "SaveTimer with a taken key", s.SaveTimer(t.Context(), again))

		keys := func(now time.Time) []string {
			got, err := s.DueTimers(t.Context(), now, 0)
			noErr(t, "DueTimers", err)
			return texts(got, func(t engine.Timer) string { return t.Key })
		}
		equal(t, "due before", keys(at(59*time.Minute)), []string{})
		equal(t, "due in order", keys(at(3*time.Hour)), []string{tm.Key, round.Key, late.Key})
		got, err := s.DueTimers(t.Context(), at(time.Hour), 1)
		noErr(t, "DueTimers", err)
		if len(got) != 1 || got[0].ID == 0 {
			t.Fatalf("DueTimers = %+v, want one with an id", got)
		}
		fired := got[0]
		fired.ID = 0
		equal(t, "timer", fired, tm)

		ev := engine.Inbound{Channel: "timer", PlatformID: tm.Key, Campaign: campaign, ParticipantID: p.ID,
			Kind: engine.KindTimer, Timer: tm.Transition, Seq: tm.Seq, At: tm.DueAt}
		n, err := s.StoreEvents(t.Context(), got[0].ID, []engine.Inbound{ev})
		noErr(t, "StoreEvents", err)
		equal(t, "new events", n, 1)
		_, err = s.StoreEvents(t.Context(), got[0].ID, []engine.Inbound{ev, inbound("x", "u1", "x")})
		wantErr(t, "StoreEvents of a fired timer", err, errs.ErrNotFound)
		equal(t, "pending", texts(pending(t, s), func(in engine.StoredInbound) string { return in.PlatformID }),
			[]string{tm.Key})
		equal(t, "left", keys(at(3*time.Hour)), []string{round.Key, late.Key})
	}},
	{"StoreEventsDedupes", func(t *testing.T, s Store) {
		a, b := inbound("r:1", "u1", ""), inbound("r:2", "u2", "")
		n, err := s.StoreEvents(t.Context(), 0, []engine.Inbound{a, b})
		noErr(t, "StoreEvents", err)
		equal(t, "new", n, 2)
		n, err = s.StoreEvents(t.Context(), 0, []engine.Inbound{a, b, inbound("r:3", "u3", "")})
		noErr(t, "StoreEvents", err)
		equal(t, "new", n, 1)
		equal(t, "pending", len(pending(t, s)), 3)
	}},
	{"CommitCancelsTimers", func(t *testing.T, s Store) {
		p := MustJoin(t, s, "u1")
		other := MustJoin(t, s, "u2")
		mk := func(p engine.Participant, key string) engine.Timer {
			return engine.Timer{Key: key, Campaign: campaign, ParticipantID: p.ID, Transition: "x", Seq: 1, DueAt: at(time.Hour)}
		}
		p2 := next(p, "a", time.Minute)
		MustCommit(t, s, engine.Step{Participant: p2, PrevVersion: p.Version, Timers: []engine.Timer{mk(p, "t1")}})
		o2 := next(other, "a", time.Minute)
		MustCommit(t, s, engine.Step{Participant: o2, PrevVersion: other.Version, Timers: []engine.Timer{mk(other, "t2")}})
		MustCommit(t, s, engine.Step{Participant: next(p2, "b", time.Minute), PrevVersion: p2.Version,
			CancelTimers: true, Timers: []engine.Timer{mk(p, "t3")}})
		got, err := s.DueTimers(t.Context(), at(2*time.Hour), 0)
		noErr(t, "DueTimers", err)
		equal(t, "timers", texts(got, func(t engine.Timer) string { return t.Key }), []string{"t2", "t3"})
	}},
	{"CommitCancelsOutbox", func(t *testing.T, s Store) {
		p := queue(t, s, 2*time.Second, 3*time.Second)
		noErr(t, "MarkSent", s.MarkSent(t.Context(), dueID(t, s, "Welcome"), "w1", at(time.Second)))
		other := MustJoin(t, s, "u2")
		MustCommit(t, s, engine.Step{Participant: next(p, engine.StateOptedOut, time.Minute), PrevVersion: p.Version,
			CancelOutbox: true, Outbox: []engine.Outbound{outbound(p, "Bye", time.Minute)}})
		equal(t, "due", outTexts(due(t, s, at(time.Hour))), []string{"Welcome", "Bye"})
		_ = other
		if l, ok := s.(OutboxLister); ok {
			all, err := l.Outbox(t.Context(), p.ID)
			noErr(t, "Outbox", err)
			equal(t, "statuses", texts(all, func(o engine.Outbound) string { return o.Text + ":" + o.Status }),
				[]string{"Welcome:sent", "reply 1:cancelled", "reply 2:cancelled", "Bye:pending"})
		}
		// The delivery monitor lists what was held back, and why.
		if l, ok := s.(UndeliveredLister); ok {
			got, err := l.Undelivered(t.Context(), campaign, 10)
			noErr(t, "Undelivered", err)
			equal(t, "undelivered", texts(got, func(o engine.Outbound) string { return o.Text + ": " + o.Error }),
				[]string{"reply 2: " + engine.NotSentOptedOut, "reply 1: " + engine.NotSentOptedOut})
		}
	}},
	{"MarkCancelled", func(t *testing.T, s Store) {
		p := queue(t, s, 2*time.Second)
		id := dueID(t, s, "reply 1")
		noErr(t, "MarkCancelled", s.MarkCancelled(t.Context(), id, "opted out", at(time.Second)))
		equal(t, "due", outTexts(due(t, s, at(time.Hour))), []string{"Welcome"})
		equal(t, "Transcript", lineTexts(t, s, p.ID), []string{})
		sent := dueID(t, s, "Welcome")
		noErr(t, "MarkSent", s.MarkSent(t.Context(), sent, "w", at(time.Second)))
		wantErr(t, "MarkCancelled of a sent reply", s.MarkCancelled(t.Context(), sent, "x", t0), errs.ErrConflict)
		wantErr(t, "MarkCancelled of nothing", s.MarkCancelled(t.Context(), 987654, "x", t0), errs.ErrNotFound)
	}},
	{"OutboxCarriesButtonsMediaTemplateAndWindow", func(t *testing.T, s Store) {
		p := MustJoin(t, s, "u1")
		p2 := next(p, "door", time.Minute)
		p2.LastInboundAt = at(30 * time.Second)
		o := outbound(p, "Pick one", 2*time.Minute)
		o.Buttons = []engine.Button{{ID: "a", Title: "A"}, {ID: "b", Title: "B"}}
		o.MediaURL = "https://cdn.example/x.jpg"
		o.Template = &engine.TemplateCall{Name: "nudge", Language: "nl", Params: []string{"Ann", "3"}}
		o.From, o.Agent = "pn-b", "chef"
		MustCommit(t, s, engine.Step{Participant: p2, PrevVersion: p.Version, Outbox: []engine.Outbound{o}})
		got := due(t, s, at(time.Hour))
		if len(got) != 2 {
			t.Fatalf("due = %+v", got)
		}
		o.ID, o.LastInboundAt = got[1].ID, p2.LastInboundAt
		equal(t, "reply", got[1], o)
	}},
	{"StrangerReplyHasNoParticipant", func(t *testing.T, s Store) {
		id := MustSaveInbound(t, s, inbound("m1", "zed", "hi"))
		reply := engine.Outbound{Campaign: campaign, Channel: "webchat", To: "zed", From: "pn-b", Text: "Not running", DueAt: t0, Status: engine.StatusPending}
		MustCommit(t, s, engine.Step{InboundID: id, Outbox: []engine.Outbound{reply}})
		equal(t, "pending", len(pending(t, s)), 0)
		got := due(t, s, at(time.Minute))
		if len(got) != 1 || got[0].ParticipantID != "" || got[0].To != "zed" || got[0].From != "pn-b" {
			t.Fatalf("due = %+v, want the reply to zed", got)
		}
		noErr(t, "MarkSent", s.MarkSent(t.Context(), got[0].ID, "w", at(time.Second)))
		err := s.Commit(t.Context(), engine.Step{Lines: []engine.Line{{Direction: engine.In, Text: "x", At: t0}}})
		wantErr(t, "a stranger step with lines", err, errs.ErrInvalid)
	}},
	{"BroadcastReportCountsByStatus", func(t *testing.T, s Store) {
		a, b, c := MustJoin(t, s, "a"), MustJoin(t, s, "b"), MustJoin(t, s, "c")
		var rows []engine.Outbound
		for _, p := range []engine.Participant{a, b, c} {
			o := outbound(p, "News!", 0)
			o.BroadcastID = "b1"
			rows = append(rows, o)
		}
		other := outbound(a, "Other news", 0)
		other.BroadcastID = "b2"
		noErr(t, "Enqueue", s.Enqueue(t.Context(), append(rows, other)))
		r, err := s.BroadcastReport(t.Context(), "b1")
		noErr(t, "BroadcastReport", err)
		equal(t, "report", r, engine.BroadcastReport{ID: "b1", Campaign: campaign, Pending: 3, Total: 3})
		var ids []int64
		for _, o := range due(t, s, at(time.Minute)) {
			if o.BroadcastID == "b1" {
				ids = append(ids, o.ID)
			}
		}
		noErr(t, "MarkSent", s.MarkSent(t.Context(), ids[0], "w", t0))
		noErr(t, "MarkFailed", s.MarkFailed(t.Context(), ids[1], "window", t0))
		r, err = s.BroadcastReport(t.Context(), "b1")
		noErr(t, "BroadcastReport", err)
		equal(t, "report", r, engine.BroadcastReport{ID: "b1", Campaign: campaign, Pending: 1, Sent: 1, Failed: 1, Total: 3})
		_, err = s.BroadcastReport(t.Context(), "none")
		wantErr(t, "BroadcastReport of nothing", err, errs.ErrNotFound)
	}},
	{"NotificationsNewestFirst", func(t *testing.T, s Store) {
		p := MustJoin(t, s, "u1")
		q := joinAs(t, s, "fridge", "webchat", "u2", t0)
		n := func(text string, d time.Duration) engine.Notification {
			return engine.Notification{Campaign: p.Campaign, ParticipantID: p.ID, Text: text, At: at(d)}
		}
		MustCommit(t, s, engine.Step{Participant: next(p, "x", time.Minute), PrevVersion: p.Version,
			Notifications: []engine.Notification{n("one", time.Minute), n("two", 2*time.Minute)}})
		MustCommit(t, s, engine.Step{Participant: next(q, "x", time.Minute), PrevVersion: q.Version,
			Notifications: []engine.Notification{{Campaign: "fridge", Text: "three", At: at(3 * time.Minute)}}})
		got, err := s.Notifications(t.Context(), campaign, 0)
		noErr(t, "Notifications", err)
		if len(got) != 2 || got[0].ID == 0 {
			t.Fatalf("Notifications = %+v", got)
		}
		got[0].ID, got[1].ID = 0, 0
		equal(t, "Notifications", got, []engine.Notification{n("two", 2*time.Minute), n("one", time.Minute)})
		all, err := s.Notifications(t.Context(), "", 2)
		noErr(t, "Notifications", err)
		equal(t, "all, limited", texts(all, func(n engine.Notification) string { return n.Text }), []string{"three", "two"})
		if all[0].ParticipantID != q.ID {
			t.Errorf("notification participant = %q, want the step's %q", all[0].ParticipantID, q.ID)
		}
	}},
	{"CampaignVersionsAndStatus", func(t *testing.T, s Store) {
		rec := func(version string, d time.Duration, status string) engine.CampaignRecord {
			return engine.CampaignRecord{ID: campaign, Version: version, File: "bouncer.yaml",
				Source: []byte("id: bouncer # " + version), Status: status, At: at(d)}
		}
		list := func() []string {
			got, err := s.Campaigns(t.Context())
			noErr(t, "Campaigns", err)
			return texts(got, func(r engine.CampaignRecord) string { return r.ID + "/" + r.Version + "/" + r.Status })
		}
		equal(t, "nothing stored", list(), []string{})
		noErr(t, "SaveCampaign", s.SaveCampaign(t.Context(), rec("v1", 0, engine.StatusLive)))
		got, err := s.Campaigns(t.Context())
		noErr(t, "Campaigns", err)
		want := rec("v1", 0, engine.StatusLive)
		want.Launched = want.At
		equal(t, "record", got, []engine.CampaignRecord{want})

		// A participant plays v1, so v1 stays listed after v2 is saved.
		MustJoin(t, s, "u1")
		noErr(t, "SaveCampaign", s.SaveCampaign(t.Context(), rec("v2", time.Hour, engine.StatusLive)))
		noErr(t, "SaveCampaign", s.SaveCampaign(t.Context(), engine.CampaignRecord{ID: "fridge", Version: "f1",
			Source: []byte("x"), Status: engine.StatusDraft, At: t0}))
		equal(t, "versions", list(), []string{"bouncer/v1/live", "bouncer/v2/live", "fridge/f1/draft"})
		noErr(t, "SaveCampaign", s.SaveCampaign(t.Context(), rec("v3", 2*time.Hour, engine.StatusLive)))
		equal(t, "v2 is played by nobody", list(), []string{"bouncer/v1/live", "bouncer/v3/live", "fridge/f1/draft"})
		// Launching v2 again makes it the latest, with the source it had.
		noErr(t, "SaveCampaign", s.SaveCampaign(t.Context(), rec("v2", 3*time.Hour, engine.StatusLive)))
		equal(t, "relaunched", list(), []string{"bouncer/v1/live", "bouncer/v2/live", "fridge/f1/draft"})

		noErr(t, "SetCampaignStatus", s.SetCampaignStatus(t.Context(), campaign, engine.StatusPaused, at(4*time.Hour)))
		equal(t, "paused", list(), []string{"bouncer/v1/paused", "bouncer/v2/paused", "fridge/f1/draft"})
		wantErr(t, "SetCampaignStatus of nothing", s.SetCampaignStatus(t.Context(), "nope", engine.StatusLive, t0), errs.ErrNotFound)
		wantErr(t, "SaveCampaign without a version", s.SaveCampaign(t.Context(), engine.CampaignRecord{ID: "x", Status: "live"}), errs.ErrInvalid)
	}},
	{"CampaignFilesAndLaunch", func(t *testing.T, s Store) {
		_, err := s.LoadedFile(t.Context(), "/defs/bouncer.yaml")
		wantErr(t, "LoadedFile of a file never loaded", err, errs.ErrNotFound)
		fromFile := func(version string, d time.Duration) engine.CampaignRecord {
			return engine.CampaignRecord{ID: campaign, Version: version, File: "bouncer.yaml", Source: []byte("id: bouncer # " + version),
				Status: engine.StatusLive, At: at(d), Path: "/defs/bouncer.yaml", Hash: "hash-" + version}
		}
		noErr(t, "SaveCampaign", s.SaveCampaign(t.Context(), fromFile("v1", 0)))
		// A launch (no path) is a newer version but not what the file holds.
		noErr(t, "SaveCampaign", s.SaveCampaign(t.Context(), engine.CampaignRecord{ID: campaign, Version: "v2",
			Source: []byte("id: bouncer # v2"), Status: engine.StatusLive, At: at(time.Hour)}))
		got, err := s.LoadedFile(t.Context(), "/defs/bouncer.yaml")
		noErr(t, "LoadedFile", err)
		equal(t, "loaded file", got, engine.CampaignRecord{ID: campaign, Version: "v1", Path: "/defs/bouncer.yaml",
			Hash: "hash-v1", At: at(0), Launched: at(0)})
		noErr(t, "SaveCampaign", s.SaveCampaign(t.Context(), fromFile("v3", 2*time.Hour)))
		got, err = s.LoadedFile(t.Context(), "/defs/bouncer.yaml")
		noErr(t, "LoadedFile", err)
		equal(t, "file changed", []string{got.Version, got.Hash}, []string{"v3", "hash-v3"})
		// The launch stays the first one, whatever the versions since.
		recs, err := s.Campaigns(t.Context())
		noErr(t, "Campaigns", err)
		for _, r := range recs {
			if !r.Launched.Equal(at(0)) {
				t.Errorf("%s/%s launched %v, want the first save's %v", r.ID, r.Version, r.Launched, at(0))
			}
		}
	}},
}
