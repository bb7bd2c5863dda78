package sqlite_test

import (
	"errors"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/store/sqlite"
)

type dbT = *sqlite.DB

func mustClaim(t *testing.T, db dbT, owner string, id int64, until time.Time) {
	t.Helper()
	if won, err := db.Claim(t.Context(), owner, []string{"outbox:" + strconv.FormatInt(id, 10)}, t0, until); err != nil || len(won) != 1 {
		t.Fatalf("claim: %v %v", won, err)
	}
}

// TestAttemptIfFree: the sender that takes no leases records an attempt only on a reply no
// other owner holds: neither leased past now nor attempted within the lease without outcome.
func TestAttemptIfFree(t *testing.T) {
	lease := 20 * time.Second
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, db dbT, id int64)
		at    time.Duration // after t0
		want  error         // nil, engine.ErrHeld or errs.ErrConflict
	}{
		{"free", nil, 0, nil},
		{"leased by another", func(t *testing.T, db dbT, id int64) {
			mustClaim(t, db, "other", id, t0.Add(lease))
		}, time.Second, engine.ErrHeld},
		{"another's lease ran out", func(t *testing.T, db dbT, id int64) {
			mustClaim(t, db, "other", id, t0.Add(lease))
		}, lease + time.Second, nil},
		{"leased by me", func(t *testing.T, db dbT, id int64) {
			mustClaim(t, db, "me", id, t0.Add(lease))
		}, time.Second, nil},
		{"in flight by another", func(t *testing.T, db dbT, id int64) {
			if err := db.AttemptOutbox(t.Context(), id, "other", t0); err != nil {
				t.Fatal(err)
			}
		}, time.Second, engine.ErrHeld},
		{"in flight by another a lease ago", func(t *testing.T, db dbT, id int64) {
			if err := db.AttemptOutbox(t.Context(), id, "other", t0); err != nil {
				t.Fatal(err)
			}
		}, lease + time.Second, nil},
		{"in flight by me (a restart)", func(t *testing.T, db dbT, id int64) {
			if err := db.AttemptOutbox(t.Context(), id, "me", t0); err != nil {
				t.Fatal(err)
			}
		}, time.Second, nil},
		{"sent", func(t *testing.T, db dbT, id int64) {
			if err := db.MarkSent(t.Context(), id, "wamid", t0); err != nil {
				t.Fatal(err)
			}
		}, time.Second, errs.ErrConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := MustOpen(t, filepath.Join(t.TempDir(), "campaign.db"))
			id := queueReplies(t, db, 1)[0].ID
			if tc.setup != nil {
				tc.setup(t, db, id)
			}
			at := t0.Add(tc.at)
			err := db.AttemptIfFree(t.Context(), id, "me", at, at.Add(-lease))
			switch {
			case tc.want == nil && err != nil:
				t.Fatalf("attempt: %v, want it recorded", err)
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Fatalf("attempt: %v, want %v", err, tc.want)
			}
			rows, err := db.DueOutbox(t.Context(), at, 0)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == nil && (len(rows) != 1 || !rows[0].InFlight || rows[0].AttemptedBy != "me") {
				t.Errorf("after the attempt: %+v, want in flight by me", rows)
			}
			if errors.Is(tc.want, engine.ErrHeld) && len(rows) == 1 && rows[0].AttemptedBy == "me" {
				t.Errorf("a refused attempt was recorded: %+v", rows[0])
			}
		})
	}
}
