package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/judge"
)

// Eraser is implemented by backends that can erase a participant (every backend here).
type Eraser interface {
	EraseParticipant(ctx context.Context, id string, tombstone *engine.Participant) error
}

func eraser(t *testing.T, s Store) Eraser {
	t.Helper()
	e, ok := s.(Eraser)
	if !ok {
		t.Fatalf("%T cannot erase participants", s)
	}
	return e
}

var privacyTests = []test{
	{"EraseRemovesEverythingAndLeavesTheTombstone", func(t *testing.T, s Store) {
		ctx := t.Context()
		es := collect(t, s, campaign, "ann", 0, "e-ann")
		keep := collect(t, s, campaign, "bob", 0, "e-bob")
		pid := es[0].ParticipantID
		sc := scores(t, s)
		noErr(t, "score ann", sc.SaveScorecard(ctx, card(campaign, "e-ann", "judy", 0, map[string]int{"A": 3})))
		noErr(t, "score bob", sc.SaveScorecard(ctx, card(campaign, "e-bob", "judy", 0, map[string]int{"A": 4})))
		p, err := s.Participant(ctx, pid)
		noErr(t, "Participant", err)
		p = next(p, "review", time.Minute)
		p.Vars["score"] = "42"
		MustCommit(t, s, engine.Step{Participant: p, PrevVersion: 1,
			Lines: []engine.Line{{Direction: engine.In, Text: "my address is 1 Main St", At: at(time.Minute)}}})

		tomb := engine.Tombstone(nil, p, "erased-0001", at(time.Hour))
		tomb.Vars["score"] = p.Vars["score"]
		noErr(t, "EraseParticipant", eraser(t, s).EraseParticipant(ctx, pid, &tomb))

		_, err = s.Participant(ctx, pid)
		wantErr(t, "Participant after erase", err, errs.ErrNotFound)
		lines, err := s.Transcript(ctx, pid)
		noErr(t, "Transcript", err)
		equal(t, "transcript lines", len(lines), 0)
		_, err = s.Entry(ctx, "e-ann")
		wantErr(t, "Entry after erase", err, errs.ErrNotFound)
		cards, err := sc.Scorecards(ctx, campaign, "e-ann")
		noErr(t, "Scorecards", err)
		equal(t, "erased entry's scorecards", len(cards), 0)
		at, err := s.ParticipantsAt(ctx, "webchat", "ann")
		noErr(t, "ParticipantsAt", err)
		equal(t, "participants at the erased address", len(at), 0)

		got, err := s.Participant(ctx, "erased-0001")
		noErr(t, "tombstone", err)
		equal(t, "tombstone address", got.Address, "")
		equal(t, "tombstone vars", got.Vars, map[string]string{"name": engine.ErasedName, engine.VarErasedAt: "2025-03-14T10:30:00Z", "score": "42"})
		all, err := s.Participants(ctx, engine.ParticipantFilter{Campaign: campaign})
		noErr(t, "Participants", err)
		ids := []string{}
		for _, q := range all {
			ids = append(ids, q.ID)
		}
		equal(t, "participants in join order", ids, []string{"erased-0001", keep[0].ParticipantID})

		// The other participant keeps everything.
		if _, err := s.Entry(ctx, "e-bob"); err != nil {
			t.Fatalf("other participant's entry: %v", err)
		}
		cards, err = sc.Scorecards(ctx, campaign, "e-bob")
		noErr(t, "Scorecards bob", err)
		equal(t, "other entry's scorecards", len(cards), 1)
		left, err := s.Entries(ctx, judge.Filter{Campaign: campaign, Limit: 10})
		noErr(t, "Entries", err)
		equal(t, "entries left", len(left), 1)
	}},
	{"EraseWithoutTombstoneAndUnknown", func(t *testing.T, s Store) {
		ctx := t.Context()
		p := MustJoin(t, s, "cat")
		noErr(t, "EraseParticipant", eraser(t, s).EraseParticipant(ctx, p.ID, nil))
		all, err := s.Participants(ctx, engine.ParticipantFilter{Campaign: campaign})
		noErr(t, "Participants", err)
		equal(t, "participants", len(all), 0)
		wantErr(t, "erase again", eraser(t, s).EraseParticipant(ctx, p.ID, nil), errs.ErrNotFound)
	}},
}
