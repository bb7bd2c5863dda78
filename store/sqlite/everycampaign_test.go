package sqlite

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/reports"
)

// TestEveryCampaignPastTheMerge: with more campaigns than one statement merges, the list of
// every campaign is still every participant newest first, ties by id descending.
func TestEveryCampaignPastTheMerge(t *testing.T) {
	ctx := t.Context()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "many.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	at := time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)
	var steps []engine.Step
	var want []engine.Participant
	for i := range maxMergedCampaigns + 1 {
		c := fmt.Sprintf("c%03d", i)
		p := engine.Participant{ID: engine.ParticipantID(c, "webchat", "u"), Campaign: c, Channel: "webchat",
			Address: "u", State: "start", Vars: map[string]string{}, Version: 1, CreatedAt: at,
			UpdatedAt: at.Add(time.Duration(i%7) * time.Minute)}
		steps = append(steps, engine.Step{Participant: p, Created: true})
		want = append(want, p)
	}
	if errs, err := db.CommitBatch(ctx, steps); err != nil || slices.ContainsFunc(errs, func(e error) bool { return e != nil }) {
		t.Fatal(err, errs)
	}
	slices.SortFunc(want, func(a, b engine.Participant) int {
		if c := b.UpdatedAt.Compare(a.UpdatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	got, err := db.Conversations(ctx, reports.ConversationFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if got[i].Participant.ID != want[i].ID {
			t.Fatalf("row %d: %s, want %s", i, got[i].Participant.ID, want[i].ID)
		}
	}
	if len(got) != 10 {
		t.Fatalf("%d rows, want 10", len(got))
	}
}
