package sqlite

import (
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/accounts"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/reports"
)

// orphans is what PRAGMA foreign_key_check finds: rows whose parent row is gone. The write
// connection does not enforce the foreign keys (Open), so the deletes that relied on ON
// DELETE CASCADE do it themselves; the schema still declares them, and this check reads them.
func orphans(t *testing.T, db *DB) []string {
	t.Helper()
	var out []string
	err := db.withWriteConn(t.Context(), func(c *sql.Conn) error {
		rows, err := c.QueryContext(t.Context(), `PRAGMA foreign_key_check`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var table, parent string
			var rowid, fk any
			if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
				return err
			}
			out = append(out, table+" -> "+parent)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEraseLeavesNoOrphans: erasing a participant, with and without a tombstone, removes
// every row that refers to them in every table that refers to participants, and deleting a
// user removes their sessions, as the schema's ON DELETE clauses say.
func TestEraseLeavesNoOrphans(t *testing.T) {
	for _, tomb := range []bool{false, true} {
		t.Run(map[bool]string{false: "no tombstone", true: "tombstone"}[tomb], func(t *testing.T) {
			db := openTest(t)
			ctx := t.Context()
			at := time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC)
			fill := func(id string) {
				p := engine.Participant{ID: id, Campaign: "bouncer", Channel: "webchat", Address: id, State: "door",
					Vars: map[string]string{}, Version: 1, CreatedAt: at, UpdatedAt: at}
				err := db.Commit(ctx, engine.Step{Created: true, Participant: p,
					Lines:         []engine.Line{{ParticipantID: id, Direction: engine.In, Text: "hello", At: at}},
					Entries:       []engine.Entry{{ID: "e-" + id, Campaign: "bouncer", State: "door", Kind: "photo", CreatedAt: at}},
					Outbox:        []engine.Outbound{{Campaign: "bouncer", Channel: "webchat", To: id, Text: "hi", DueAt: at}},
					Timers:        []engine.Timer{{Key: "t-" + id, Campaign: "bouncer", Transition: "late", DueAt: at.Add(time.Hour)}},
					Notifications: []engine.Notification{{Campaign: "bouncer", Text: "joined", At: at}},
					Codes:         []string{"CODE-" + id}})
				if err != nil {
					t.Fatal(err)
				}
				if err := db.MarkRead(ctx, "mo", id, at); err != nil {
					t.Fatal(err)
				}
				if err := db.Assign(ctx, reports.Assignment{ParticipantID: id, Campaign: "bouncer", User: "mo", By: "admin", At: at}); err != nil {
					t.Fatal(err)
				}
			}
			fill("p1")
			fill("p2")
			// A line and a reply without the participant's seq, as a store may hold from
			// before migration 0006 filled it (the cascade found them by id).
			err := db.withWriteConn(ctx, func(c *sql.Conn) error {
				for _, q := range []string{
					`INSERT INTO lines (participant_id, participant_seq, direction, text, media_key, at) VALUES ('p1', NULL, 'in', 'old', '', 1)`,
					`INSERT INTO outbox (participant_id, participant_seq, campaign, channel, recipient, text, due_at, status) VALUES ('p1', NULL, 'bouncer', 'webchat', 'p1', 'old', 1, 'sent')`,
				} {
					if _, err := c.ExecContext(ctx, q); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			var stone *engine.Participant
			if tomb {
				s := engine.Participant{ID: "erased-1", Campaign: "bouncer", Channel: "webchat", State: "door",
					Vars: map[string]string{}, Version: 1, CreatedAt: at, UpdatedAt: at}
				stone = &s
			}
			if err := db.EraseParticipant(ctx, "p1", stone); err != nil {
				t.Fatal(err)
			}
			if got := orphans(t, db); len(got) > 0 {
				t.Errorf("rows left referring to rows gone: %q", got)
			}
			count := func(table, where string, args ...any) int {
				var n int
				if err := db.rq.QueryRowContext(ctx, `SELECT count(*) FROM `+table+` WHERE `+where, args...).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			for _, table := range []string{"lines", "entries", "outbox", "timers", "notifications", "read_marks", "assignments"} {
				if n := count(table, "participant_id = ?", "p1"); n != 0 {
					t.Errorf("%s: %d rows of the erased participant", table, n)
				}
				if n := count(table, "participant_id = ?", "p2"); n != 1 {
					t.Errorf("%s: %d rows of the other participant, want 1", table, n)
				}
			}
			holder := any(nil)
			if tomb {
				holder = "erased-1"
			}
			if n := count("codes", "code = 'CODE-p1' AND participant_id IS ?", holder); n != 1 {
				t.Errorf("the erased participant's code is not held by %v", holder)
			}

			u, err := db.CreateUser(ctx, accounts.User{Username: "mo", Role: "moderator", PasswordHash: []byte("x"), CreatedAt: at})
			if err != nil {
				t.Fatal(err)
			}
			if err := db.CreateSession(ctx, "token", u.ID, at.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if err := db.DeleteUser(ctx, "mo"); err != nil {
				t.Fatal(err)
			}
			if got := orphans(t, db); len(got) > 0 {
				t.Errorf("after deleting a user, rows left referring to rows gone: %q", got)
			}
		})
	}
}

// TestWritesForSomeoneGone: a write outside a step that names a participant or a user who
// does not exist (erased meanwhile) stores nothing and says so, as the foreign keys the
// writer does not enforce would have refused it.
func TestWritesForSomeoneGone(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	at := time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name  string
		write func() error
	}{
		{"a reply", func() error {
			return db.Enqueue(ctx, []engine.Outbound{{ParticipantID: "gone", Campaign: "bouncer", Channel: "webchat", To: "gone", Text: "hi", DueAt: at}})
		}},
		{"a timer", func() error {
			return db.SaveTimer(ctx, engine.Timer{Key: "t", Campaign: "bouncer", ParticipantID: "gone", Transition: "late", DueAt: at})
		}},
		{"a session", func() error { return db.CreateSession(ctx, "token", 42, at.Add(time.Hour)) }},
		{"a notification", func() error {
			return db.AddNotification(ctx, engine.Notification{Campaign: "bouncer", ParticipantID: "gone", Text: "look", At: at})
		}},
		{"an assignment", func() error {
			return db.Assign(ctx, reports.Assignment{ParticipantID: "gone", Campaign: "bouncer", User: "mo", By: "admin", At: at})
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.write(); !errors.Is(err, errs.ErrNotFound) {
				t.Errorf("got %v, want not found", err)
			}
		})
	}
	// A read mark for someone gone is not an error (the dashboard marks what it showed), but
	// it stores nothing either.
	if err := db.MarkRead(ctx, "mo", "gone", at); err != nil {
		t.Errorf("mark read: %v", err)
	}
	for _, table := range []string{"outbox", "timers", "sessions", "notifications", "assignments", "read_marks"} {
		var n int
		if err := db.rq.QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%s: %d rows stored", table, n)
		}
	}
}
