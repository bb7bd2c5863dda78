package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/judge"
	"github.com/chatcampaigns/campaign/reports"
)

// growing are the tables whose rows grow with the participants and their messages: a scan
// of one of them costs more with everyone ever stored. (A scan of a table of a few rows,
// such as the campaigns' statuses, is not a whole read of anything.)
var growing = map[string]bool{"participants": true, "lines": true, "outbox": true, "inbound": true,
	"entries": true, "scores": true, "notifications": true, "timers": true, "codes": true,
	"read_marks": true, "assignments": true, "audit": true, "claims": true}

// tableOf maps the names a query gives its tables (the tables' own and their aliases) to
// the tables.
var tableOf = regexp.MustCompile(`(?i)\b(?:FROM|JOIN)\s+(\w+)(?:\s+(?:AS\s+)?(\w+))?`)

// wholeReads are the plan steps of query q that read a whole table that grows, or a whole
// index of one, from its first row: what no dashboard page may do, since its cost grows with
// everyone ever stored. A scan of a subquery's rows (a co-routine, a materialized view, a
// CTE) or of json_each reads only what those hold, and so does one of a partial index that
// holds only what the page lists: participants_handoff, the conversations waiting for a human.
func wholeReads(q string, plan []string) []string {
	tables := map[string]string{}
	for _, m := range tableOf.FindAllStringSubmatch(q, -1) {
		tables[m[1]] = m[1]
		if alias := m[2]; alias != "" && !strings.EqualFold(alias, "WHERE") && !strings.EqualFold(alias, "INDEXED") {
			tables[alias] = m[1]
		}
	}
	var out []string
	for _, step := range plan {
		rest, ok := strings.CutPrefix(step, "SCAN ")
		if !ok || strings.HasSuffix(rest, "USING INDEX participants_handoff") {
			continue
		}
		name, _, _ := strings.Cut(rest, " ")
		if growing[tables[name]] {
			out = append(out, step)
		}
	}
	return out
}

// TestDashboardQueriesUseIndexes runs every query the dashboard's pages read (the inbox with
// each of its filters, the participants lists, the overview's charts, the delivery monitor,
// the team queues, the exports) and asks SQLite how it runs each: none may scan a table.
// The indexes of the message path were cut to the fewest that serve these pages (migration
// 0025); this is what keeps a later change of index or query from leaving one without.
func TestDashboardQueriesUseIndexes(t *testing.T) {
	ctx := t.Context()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "plans.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	type query struct {
		sql  string
		args []any
	}
	var (
		mu   sync.Mutex
		seen = map[string]query{}
	)
	at := time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)
	for i, c := range []string{"fridge", "fridge", "door", "door", "door"} {
		from := fmt.Sprint("u", i)
		p := engine.Participant{ID: engine.ParticipantID(c, "webchat", from), Campaign: c, Channel: "webchat",
			Address: from, State: "start", Vars: map[string]string{"name": "Ann " + from}, Version: 1,
			CreatedAt: at, UpdatedAt: at.Add(time.Duration(i) * time.Minute)}
		if i%2 == 0 {
			p.Vars["handoff"] = "chefs"
		}
		in := engine.Inbound{Channel: "webchat", PlatformID: "m" + from, Campaign: c, From: from, ParticipantID: p.ID,
			Kind: engine.KindText, Text: "hello", At: p.UpdatedAt}
		id, _, err := db.SaveInbound(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		step := engine.Step{InboundID: id, Participant: p, Created: true,
			Lines:   []engine.Line{{ParticipantID: p.ID, Direction: engine.In, Text: "hello", At: p.UpdatedAt}},
			Outbox:  []engine.Outbound{{Campaign: c, Channel: "webchat", To: from, Text: "hi", DueAt: p.UpdatedAt}},
			Entries: []engine.Entry{{ID: "e" + from, Campaign: c, ParticipantID: p.ID, State: "start", Kind: "photo", CreatedAt: p.UpdatedAt}}}
		if err := db.Commit(ctx, step); err != nil {
			t.Fatal(err)
		}
	}
	due, err := db.DueOutbox(ctx, at.Add(time.Hour), 0)
	if err != nil || len(due) == 0 {
		t.Fatalf("due replies: %d, %v", len(due), err)
	}
	if err := db.MarkSent(ctx, due[0].ID, "wamid.1", at); err != nil {
		t.Fatal(err)
	}
	if err := db.UpdateDelivery(ctx, "wamid.1", engine.Delivery{Status: "delivered", At: at}); err != nil {
		t.Fatal(err)
	}
	if err := db.MarkFailed(ctx, due[1].ID, "refused", at); err != nil {
		t.Fatal(err)
	}
	since := at.Add(-14 * 24 * time.Hour)
	db.rq.observe = func(q string, args []any) {
		mu.Lock()
		defer mu.Unlock()
		seen[q] = query{q, args}
	}
	cursor := reports.Cursor{At: at.Add(3 * time.Minute), ID: engine.ParticipantID("door", "webchat", "u3")}
	filters := []reports.ConversationFilter{{}, {Before: cursor}, {Campaign: "door"}, {Campaign: "door", Before: cursor},
		{Campaign: "door", State: "start"}, {Campaign: "door", State: "start", Before: cursor}, {Waiting: true},
		{Waiting: true, Before: cursor}, {Team: "chefs"}, {Team: "chefs", Campaign: "door", State: "start"},
		{Search: "ann"}, {Search: "ann", Campaign: "door"}, {Search: "ann", Before: cursor}, {Assignee: "ann"}, {Unassigned: true}, {Unassigned: true, Campaign: "door"}}
	for _, f := range filters {
		if _, err := db.Conversations(ctx, f); err != nil {
			t.Fatalf("Conversations(%+v): %v", f, err)
		}
	}
	for _, c := range []string{"fridge", "door"} {
		calls := []error{
			func() error { _, err := db.DeliveryByChannel(ctx, c); return err }(),
			func() error { _, err := db.DeliveryDays(ctx, c, since, at.Add(time.Hour)); return err }(),
			func() error { _, err := db.DeliveryCounts(ctx, c); return err }(),
			func() error { _, err := db.Undelivered(ctx, c, 20); return err }(),
			func() error { _, err := db.MaybeTwice(ctx, c, 20); return err }(),
			func() error { _, err := db.EntryDays(ctx, c, since, at.Add(time.Hour)); return err }(),
			func() error { _, err := db.StateCounts(ctx, c); return err }(),
			func() error { _, err := db.RoundCounts(ctx, c, []string{"harbour", "rooftop"}); return err }(),
			func() error { _, err := db.Broadcasts(ctx, c, 20); return err }(),
			func() error {
				_, err := db.Participants(ctx, engine.ParticipantFilter{Campaign: c, State: "start", Unfinished: true})
				return err
			}(),
			db.EachParticipant(ctx, c, func(engine.Participant) error { return nil }),
			db.EachEntry(ctx, c, func(judge.Entry) error { return nil }),
			db.EachScore(ctx, c, func(reports.ScoreRow) error { return nil }),
		}
		for i, err := range calls {
			if err != nil {
				t.Fatalf("%s: call %d: %v", c, i, err)
			}
		}
	}
	if _, err := db.ParticipantEntries(ctx, engine.ParticipantID("door", "webchat", "u2")); err != nil {
		t.Fatal(err)
	}
	db.rq.observe = nil
	if len(seen) < 20 {
		t.Fatalf("only %d queries seen", len(seen))
	}
	counted := false
	for _, q := range seen {
		plan, err := explain(ctx, db, q.sql, q.args)
		if err != nil {
			t.Fatalf("explain %s: %v", q.sql, err)
		}
		// The funnel per round counts from its index alone, not reading a participant's row.
		if strings.Contains(q.sql, "participants_round") {
			counted = true
			if p := strings.Join(plan, "; "); !strings.Contains(p, "USING COVERING INDEX participants_round") {
				t.Errorf("%s\nreads rows besides its index: %s", oneLine(q.sql), p)
			}
		}
		if bad := wholeReads(q.sql, plan); len(bad) > 0 {
			t.Errorf("%s\nreads a whole table: %s\nplan:\n  %s", oneLine(q.sql), strings.Join(bad, "; "), strings.Join(plan, "\n  "))
		}
	}
	if !counted {
		t.Error("RoundCounts' query not seen")
	}
}

func explain(ctx context.Context, db *DB, q string, args []any) ([]string, error) {
	rows, err := db.r.QueryContext(ctx, `EXPLAIN QUERY PLAN `+q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			return nil, err
		}
		out = append(out, detail)
	}
	return out, rows.Err()
}

func oneLine(q string) string { return strings.Join(strings.Fields(q), " ") }
