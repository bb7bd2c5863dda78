package storetest

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/audit"
	"github.com/chatcampaigns/campaign/draw"
	"github.com/chatcampaigns/campaign/errs"
)

func auditStore(t *testing.T, s Store) audit.Store {
	t.Helper()
	a, ok := s.(audit.Store)
	if !ok {
		t.Fatalf("%T does not implement audit.Store", s)
	}
	return a
}

func event(d time.Duration, action, camp, participant, entry string) audit.Event {
	return audit.Event{At: at(d), Actor: "ann", Action: action, Campaign: camp, ParticipantID: participant, EntryID: entry,
		Subject: "subject of " + action, Detail: "approved: sharp, and $where: {\"a.b\": 1}"}
}

func appendAll(t *testing.T, a audit.Store, es ...audit.Event) []audit.Event {
	t.Helper()
	var out []audit.Event
	for _, e := range es {
		id, err := a.AppendAudit(t.Context(), e)
		noErr(t, "AppendAudit", err)
		e.ID = id
		out = append(out, e)
	}
	return out
}

var auditTests = []test{
	{"NoneIsEmpty", func(t *testing.T, s Store) {
		got, err := auditStore(t, s).AuditEvents(t.Context(), audit.Query{})
		noErr(t, "AuditEvents", err)
		equal(t, "events", len(got), 0)
	}},
	{"AppendsInOrderAndFilters", func(t *testing.T, s Store) {
		a := auditStore(t, s)
		want := appendAll(t, a,
			event(0, audit.Verdict, campaign, "p1", "e1"),
			event(time.Minute, audit.Score, campaign, "p1", "e1"),
			event(-time.Hour, audit.Verdict, campaign, "p2", "e2"), // an earlier At: order is by id
			event(2*time.Minute, audit.DrawCommit, "photocontest", "", ""),
			event(3*time.Minute, audit.UserAdd, "", "", ""),
		)
		for i := 1; i < len(want); i++ {
			if want[i].ID <= want[i-1].ID {
				t.Fatalf("ids do not increase: %d after %d", want[i].ID, want[i-1].ID)
			}
		}
		get := func(q audit.Query) []audit.Event {
			t.Helper()
			got, err := a.AuditEvents(t.Context(), q)
			noErr(t, "AuditEvents", err)
			return got
		}
		equal(t, "all", get(audit.Query{}), want)
		equal(t, "campaign", get(audit.Query{Campaign: campaign}), want[:3])
		equal(t, "participant", get(audit.Query{ParticipantID: "p1"}), want[:2])
		equal(t, "entry", get(audit.Query{EntryID: "e2"}), want[2:3])
		equal(t, "entry and campaign", get(audit.Query{Campaign: "photocontest", EntryID: "e1"}), []audit.Event{})
		equal(t, "a prefix matches nothing", get(audit.Query{EntryID: "e"}), []audit.Event{})
		equal(t, "an operator is a value", get(audit.Query{Campaign: `{"$ne": ""}`}), []audit.Event{})
		equal(t, "page 1", get(audit.Query{Limit: 2}), want[:2])
		equal(t, "page 2", get(audit.Query{Limit: 2, AfterID: want[1].ID}), want[2:4])
		var each []audit.Event
		noErr(t, "Each", audit.Each(t.Context(), a, audit.Query{Limit: 2}, func(e audit.Event) error {
			each = append(each, e)
			return nil
		}))
		equal(t, "Each pages through all", each, want)
	}},
	{"AppendOnly", func(t *testing.T, s Store) {
		a := auditStore(t, s)
		first := appendAll(t, a, event(0, audit.Verdict, campaign, "p1", "e1"))[0]
		// The same event again, and one claiming the first one's id, are new events: nothing
		// written is ever replaced.
		again := first
		again.Detail = "rejected"
		second := appendAll(t, a, first, again)
		if second[0].ID == first.ID || second[1].ID == first.ID {
			t.Fatalf("an append reused id %d", first.ID)
		}
		got, err := a.AuditEvents(t.Context(), audit.Query{})
		noErr(t, "AuditEvents", err)
		equal(t, "events", got, []audit.Event{first, second[0], second[1]})
		// Nothing in the store's method set could change or remove an event: the only
		// methods about the trail are the two of audit.Store.
		typ := reflect.TypeOf(s)
		for i := range typ.NumMethod() {
			name := typ.Method(i).Name
			if strings.Contains(strings.ToLower(name), "audit") && name != "AppendAudit" && name != "AuditEvents" {
				t.Errorf("%T has method %s: the audit trail is append-only (AppendAudit and AuditEvents only)", s, name)
			}
		}
	}},
	{"Log", func(t *testing.T, s Store) {
		a := auditStore(t, s)
		l := &audit.Log{Store: a, Now: func() time.Time { return at(time.Hour) }}
		noErr(t, "Record", l.Record(t.Context(), audit.Event{Actor: audit.ActorCLI, Action: audit.UserAdd, Subject: "bob"}))
		wantErr(t, "Record without actor", l.Record(t.Context(), audit.Event{Action: audit.UserAdd}), errs.ErrInvalid)
		got, err := a.AuditEvents(t.Context(), audit.Query{})
		noErr(t, "AuditEvents", err)
		if len(got) != 1 || !got[0].At.Equal(at(time.Hour)) || got[0].Actor != audit.ActorCLI {
			t.Fatalf("events = %+v, want one by cli at the injected clock", got)
		}
	}},
}

func drawStore(t *testing.T, s Store) draw.Store {
	t.Helper()
	d, ok := s.(draw.Store)
	if !ok {
		t.Fatalf("%T does not implement draw.Store", s)
	}
	return d
}

func drawRecord(name string, d time.Duration) draw.Record {
	list := []string{"a1", "b2", "c3"}
	seed := []byte{0, 1, 2, 0xff}
	return draw.Record{Campaign: "photocontest", Name: name, Status: "approved", Algorithm: draw.AlgorithmV1, Winners: 2,
		Eligible: list, EligibleSHA256: draw.ListHash(list), Seed: seed, SeedSHA256: draw.SeedHash(seed),
		CommittedBy: "ann", CommittedAt: at(d)}
}

var drawTests = []test{
	{"CreateGetList", func(t *testing.T, s Store) {
		ds := drawStore(t, s)
		got, err := ds.Draws(t.Context(), "photocontest")
		noErr(t, "Draws", err)
		equal(t, "no draws", len(got), 0)
		_, err = ds.Draw(t.Context(), "photocontest", "kits")
		wantErr(t, "unknown draw", err, errs.ErrNotFound)
		later, first := drawRecord("later", time.Hour), drawRecord("kits", 0)
		noErr(t, "CreateDraw", ds.CreateDraw(t.Context(), later))
		noErr(t, "CreateDraw", ds.CreateDraw(t.Context(), first))
		other := first
		other.Campaign = "bouncer"
		noErr(t, "CreateDraw in another campaign", ds.CreateDraw(t.Context(), other))
		again := first
		again.Winners, again.Seed = 9, []byte{9}
		wantErr(t, "CreateDraw again", ds.CreateDraw(t.Context(), again), errs.ErrConflict)
		r, err := ds.Draw(t.Context(), "photocontest", "kits")
		noErr(t, "Draw", err)
		equal(t, "draw", r, first)
		all, err := ds.Draws(t.Context(), "photocontest")
		noErr(t, "Draws", err)
		equal(t, "draws", all, []draw.Record{first, later})
	}},
	{"ClosesOnce", func(t *testing.T, s Store) {
		ds := drawStore(t, s)
		r := drawRecord("kits", 0)
		noErr(t, "CreateDraw", ds.CreateDraw(t.Context(), r))
		wantErr(t, "close unknown", ds.CloseDraw(t.Context(), "photocontest", "nope", []string{"a1"}, "bob", at(time.Hour)), errs.ErrNotFound)
		noErr(t, "CloseDraw", ds.CloseDraw(t.Context(), "photocontest", "kits", []string{"c3", "a1"}, "bob", at(time.Hour)))
		wantErr(t, "close again", ds.CloseDraw(t.Context(), "photocontest", "kits", []string{"b2"}, "eve", at(2*time.Hour)), errs.ErrConflict)
		got, err := ds.Draw(t.Context(), "photocontest", "kits")
		noErr(t, "Draw", err)
		r.Drawn, r.ClosedBy, r.ClosedAt = []string{"c3", "a1"}, "bob", at(time.Hour)
		equal(t, "closed draw", got, r)
	}},
}
