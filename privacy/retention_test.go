package privacy_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/privacy"
)

type counted map[string]int

func (c counted) RetentionErased(campaign string, n int) { c[campaign] += n }
func (c counted) RetentionFailed(campaign string)        { c["failed "+campaign]++ }

// TestRetentionErasesAfterTheCampaignEnded: with retention_days 30 and a campaign ending a
// day after the participant last wrote, nothing goes 30 days after their last message, and
// they are erased 30 days after the end; a second pass erases nothing more.
func TestRetentionErasesAfterTheCampaignEnded(t *testing.T) {
	svc, db, ms, _ := setup(t)
	ann := join(t, db, ms, "ann", "5")
	def := &campaigns.Definition{ID: "quiz", RetentionDays: 30}
	def.Schedule.End = t0.Add(24 * time.Hour)
	now := t0
	obs := counted{}
	r := &privacy.Retention{Service: svc, Lister: db, Campaigns: func() []*campaigns.Definition { return []*campaigns.Definition{def} },
		Now: func() time.Time { return now }, Log: slog.New(slog.DiscardHandler), Observer: obs}
	ctx := context.Background()

	for _, tt := range []struct {
		at   time.Duration
		want int
	}{
		{30 * 24 * time.Hour, 0},
		{31*24*time.Hour - time.Second, 0},
		{31 * 24 * time.Hour, 1},
		{32 * 24 * time.Hour, 0},
	} {
		now = t0.Add(tt.at)
		n, err := r.Run(ctx)
		if err != nil || n != tt.want {
			t.Fatalf("at +%v: erased %d, %v; want %d", tt.at, n, err, tt.want)
		}
	}
	if _, err := db.Participant(ctx, ann.ID); err == nil {
		t.Error("ann is still stored")
	}
	if obs["quiz"] != 1 {
		t.Errorf("observer counted %v", obs)
	}
	if keys, _ := ms.Keys(ctx, "quiz", ann.ID); len(keys) != 0 {
		t.Errorf("media left: %v", keys)
	}

	def.RetentionDays = 0
	join(t, db, ms, "bob", "1")
	now = t0.Add(10000 * 24 * time.Hour)
	if n, _ := r.Run(ctx); n != 0 {
		t.Errorf("retention_days 0 erased %d", n)
	}
	if !privacy.Due(&campaigns.Definition{RetentionDays: 1}, engine.Participant{UpdatedAt: t0}, t0.Add(24*time.Hour)) {
		t.Error("a participant silent for retention_days with no campaign end is not due")
	}
}
