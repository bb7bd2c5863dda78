package storetest

import (
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/judge"
)

// snapshot is what a failed commit must leave untouched.
type snapshot struct {
	Participant engine.Participant
	Lines       []string
	Due         []string
	Pending     []int64
}

func snap(t *testing.T, s Store, participantID string) snapshot {
	t.Helper()
	p, err := s.Participant(t.Context(), participantID)
	if err != nil && !isNotFound(err) {
		t.Fatalf("Participant: %v", err)
	}
	return snapshot{
		Participant: p,
		Lines:       lineTexts(t, s, participantID),
		Due:         outTexts(due(t, s, at(24*time.Hour))),
		Pending:     pendingIDs(t, s),
	}
}

var commitTests = []test{
	{"ParticipantMissingIsNotFound", func(t *testing.T, s Store) {
		_, err := s.Participant(t.Context(), "nobody")
		wantErr(t, "Participant", err, errs.ErrNotFound)
	}},
	{"CommitCreatesParticipant", func(t *testing.T, s Store) {
		p := MustJoin(t, s, "u1")
		got, err := s.Participant(t.Context(), p.ID)
		noErr(t, "Participant", err)
		equal(t, "Participant", got, p)
	}},
	{"ParticipantVarsAreNeverNil", func(t *testing.T, s Store) {
		// The engine sets variables on the participant it loaded.
		id := MustSaveInbound(t, s, inbound("j", "u1", ""))
		p := engine.Participant{ID: "p1", Campaign: campaign, Channel: "webchat", Address: "u1",
			State: "door", Version: 1, CreatedAt: t0, UpdatedAt: t0}
		MustCommit(t, s, engine.Step{InboundID: id, Participant: p, Created: true})
		got, err := s.Participant(t.Context(), "p1")
		noErr(t, "Participant", err)
		if got.Vars == nil {
			t.Fatal("Vars = nil, want an empty map")
		}
	}},
	{"CommitUpdatesAtCurrentVersion", func(t *testing.T, s Store) {
		p := MustJoin(t, s, "u1")
		id := MustSaveInbound(t, s, inbound("m1", "u1", "let me in"))
		p2 := next(p, "convince", time.Minute)
		p2.Vars["mood"] = "hopeful"
		p2.LastReplyDue = at(time.Minute + 3*time.Second)
		MustCommit(t, s, engine.Step{InboundID: id, Participant: p2, PrevVersion: p.Version})
		got, err := s.Participant(t.Context(), p.ID)
		noErr(t, "Participant", err)
		equal(t, "Participant", got, p2)
	}},
	{"CommitRejectsStaleVersion", func(t *testing.T, s Store) {
		p := MustJoin(t, s, "u1")
		id := MustSaveInbound(t, s, inbound("m1", "u1", "hi"))
		for _, prev := range []int64{p.Version - 1, p.Version + 1} {
			before := snap(t, s, p.ID)
			err := s.Commit(t.Context(), engine.Step{
				InboundID: id, Participant: next(next(p, "x", time.Minute), "x", time.Minute), PrevVersion: prev,
				Lines:  []engine.Line{{ParticipantID: p.ID, Direction: engine.In, Text: "hi", At: t0}},
				Outbox: []engine.Outbound{outbound(p, "stale reply", 0)},
			})
			wantErr(t, "Commit from version "+itoa(prev), err, errs.ErrConflict)
			equal(t, "state after the stale commit", snap(t, s, p.ID), before)
		}
	}},
	{"CommitRejectsCreatingExistingParticipant", func(t *testing.T, s Store) {
		p := MustJoin(t, s, "u1")
		id := MustSaveInbound(t, s, inbound("again", "u1", ""))
		before := snap(t, s, p.ID)
		again := p
		again.State = "elsewhere"
		err := s.Commit(t.Context(), engine.Step{InboundID: id, Participant: again, Created: true,
			Outbox: []engine.Outbound{outbound(p, "second welcome", 0)}})
		wantErr(t, "Commit creating an existing participant", err, errs.ErrConflict)
		equal(t, "state after the refused commit", snap(t, s, p.ID), before)
	}},
	{"CommitRejectsUpdatingMissingParticipant", func(t *testing.T, s Store) {
		id := MustSaveInbound(t, s, inbound("m", "u1", ""))
		p := engine.Participant{ID: "ghost", Campaign: campaign, Channel: "webchat", Address: "u1",
			State: "door", Vars: map[string]string{}, Version: 2, CreatedAt: t0, UpdatedAt: t0}
		err := s.Commit(t.Context(), engine.Step{InboundID: id, Participant: p, PrevVersion: 1})
		wantErr(t, "Commit", err, errs.ErrConflict)
		equal(t, "pending", pendingIDs(t, s), []int64{id})
	}},
	{"CommitWritesLinesEntriesOutboxAndCodes", func(t *testing.T, s Store) {
		p := MustJoin(t, s, "u1")
		id := MustSaveInbound(t, s, inbound("m1", "u1", "my photo"))
		p2 := next(p, "review", time.Minute)
		p2.Vars["code"] = "ABC234"
		entry := engine.Entry{ID: "e1", Campaign: campaign, ParticipantID: p.ID, State: "convince",
			Kind: "photo", MediaKey: "m/1.jpg", ThumbKey: "t/1.jpg", MIME: "image/jpeg",
			Caption: "my photo", Location: "52.3731,4.8922", CreatedAt: at(time.Minute)}
		MustCommit(t, s, engine.Step{
			InboundID: id, Participant: p2, PrevVersion: p.Version,
			Lines: []engine.Line{
				{ParticipantID: p.ID, Direction: engine.In, Text: "my photo", MediaKey: "m/1.jpg", At: at(time.Minute)},
			},
			Entries: []engine.Entry{entry},
			Outbox:  []engine.Outbound{outbound(p, "Let me look", time.Minute+2*time.Second)},
			Codes:   []string{"ABC234"},
		})
		lines, err := s.Transcript(t.Context(), p.ID)
		noErr(t, "Transcript", err)
		if len(lines) != 1 || lines[0].ID == 0 {
			t.Fatalf("Transcript = %+v, want one line with an id", lines)
		}
		lines[0].ID = 0
		equal(t, "Transcript", lines, []engine.Line{{ParticipantID: p.ID, Direction: engine.In,
			Text: "my photo", MediaKey: "m/1.jpg", At: at(time.Minute)}})
		got, err := s.Entry(t.Context(), "e1")
		noErr(t, "Entry", err)
		equal(t, "Entry", got, judge.Entry{Entry: entry, Status: judge.StatusPending})
		equal(t, "due replies", outTexts(due(t, s, at(time.Hour))), []string{"Welcome", "Let me look"})
		equal(t, "pending", len(pending(t, s)), 0)
	}},
	{"CommitWithoutInboundConsumesNothing", func(t *testing.T, s Store) {
		// Steps caused by a timer or an agent in the dashboard have no stored event.
		p := MustJoin(t, s, "u1")
		waiting := MustSaveInbound(t, s, inbound("m1", "u1", "still there?"))
		MustCommit(t, s, engine.Step{Participant: next(p, "door", time.Hour), PrevVersion: p.Version,
			Outbox: []engine.Outbound{outbound(p, "Reminder", time.Hour)}})
		equal(t, "pending", pendingIDs(t, s), []int64{waiting})
	}},
	{"CommitRejectsProcessedInbound", func(t *testing.T, s Store) {
		// A replayed event must not have its effects twice, even at the right version.
		p := MustJoin(t, s, "u1")
		id := MustSaveInbound(t, s, inbound("m1", "u1", "hi"))
		p2 := next(p, "door", time.Minute)
		MustCommit(t, s, engine.Step{InboundID: id, Participant: p2, PrevVersion: p.Version})
		before := snap(t, s, p.ID)
		err := s.Commit(t.Context(), engine.Step{InboundID: id, Participant: next(p2, "door", time.Minute),
			PrevVersion: p2.Version, Outbox: []engine.Outbound{outbound(p, "twice", 0)}})
		wantErr(t, "Commit of a processed event", err, errs.ErrConflict)
		equal(t, "state after the replay", snap(t, s, p.ID), before)
	}},
	{"CommitIsAtomicOnCodeConflict", func(t *testing.T, s Store) {
		a := MustJoin(t, s, "u1")
		ia := MustSaveInbound(t, s, inbound("a1", "u1", "code please"))
		MustCommit(t, s, engine.Step{InboundID: ia, Participant: next(a, "in", time.Minute),
			PrevVersion: a.Version, Codes: []string{"DOOR42"}})

		in := inbound("join-u2", "u2", "")
		in.Kind = engine.KindJoin
		ib := MustSaveInbound(t, s, in)
		b := engine.Participant{ID: in.ParticipantID, Campaign: campaign, Channel: "webchat",
			Address: "u2", State: "in", Vars: map[string]string{"code": "DOOR42"}, Version: 1,
			CreatedAt: t0, UpdatedAt: t0}
		before := snap(t, s, b.ID)
		err := s.Commit(t.Context(), engine.Step{
			InboundID: ib, Participant: b, Created: true,
			Lines:   []engine.Line{{ParticipantID: b.ID, Direction: engine.In, Text: "hi", At: t0}},
			Entries: []engine.Entry{{ID: "eb", Campaign: campaign, ParticipantID: b.ID, Kind: "photo", CreatedAt: t0}},
			Outbox:  []engine.Outbound{outbound(b, "Your code is DOOR42", 0)},
			Codes:   []string{"FRESH1", "DOOR42"},
		})
		wantErr(t, "Commit with a taken code", err, engine.ErrCodeTaken)
		wantErr(t, "Commit with a taken code", err, errs.ErrConflict)
		equal(t, "state after the refused commit", snap(t, s, b.ID), before)
		_, err = s.Entry(t.Context(), "eb")
		wantErr(t, "Entry of the refused commit", err, errs.ErrNotFound)

		// FRESH1 was rolled back with the rest, so it can still be issued.
		MustCommit(t, s, engine.Step{InboundID: ib, Participant: b, Created: true, Codes: []string{"FRESH1"}})
	}},
	{"CodesAreUniquePerCampaign", func(t *testing.T, s Store) {
		a := MustJoin(t, s, "u1")
		MustCommit(t, s, engine.Step{Participant: next(a, "in", time.Minute), PrevVersion: a.Version,
			Codes: []string{"SAME99"}})
		in := inbound("other-join", "u9", "")
		in.Campaign = "fridge"
		in.ParticipantID = engine.ParticipantID("fridge", "webchat", "u9")
		id := MustSaveInbound(t, s, in)
		MustCommit(t, s, engine.Step{InboundID: id, Created: true, Codes: []string{"SAME99"},
			Participant: engine.Participant{ID: in.ParticipantID, Campaign: "fridge", Channel: "webchat",
				Address: "u9", State: "start", Vars: map[string]string{}, Version: 1, CreatedAt: t0, UpdatedAt: t0}})
	}},
}
