package dashboard_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/dashboard"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/judge"
	"github.com/chatcampaigns/campaign/reports"
	"github.com/chatcampaigns/campaign/store/sqlite"
)

// Sizes of the stored campaign the page benchmark reads: 100,000 entries and 1,000,000
// transcript lines (20,000 participants of 50 lines and 5 entries each), 500,000 replies.
const (
	benchParticipants = 20_000
	benchLines        = 50
	benchEntries      = 5
	benchReplies      = 25
	benchDays         = 60
)

// storeCampaigns shows the harness's campaigns with their participants counted in the store,
// as the server's campaign directory does.
type storeCampaigns struct {
	*fakeCampaigns
	db *sqlite.DB
}

func (s storeCampaigns) Campaign(ctx context.Context, id string) (dashboard.CampaignInfo, error) {
	ci, err := s.fakeCampaigns.Campaign(ctx, id)
	if err != nil {
		return ci, err
	}
	ci.Counts, err = s.db.StateCounts(ctx, id)
	if id == "bouncer" { // the benchmark's bouncer plays rounds too: the overview draws them
		def := *ci.Def
		def.Rounds = []*campaigns.Round{{Name: "r1"}, {Name: "r2"}, {Name: "r3"}}
		ci.Def = &def
	}
	return ci, err
}

// seed stores the benchmark's campaign through the store's own commits, spread over
// benchDays days before the harness's clock: participants in door (most), in (some) and
// handed to the chefs (one in fifty).
func seed(b *testing.B, h *harness) {
	ctx := context.Background()
	start := h.clock.Now().Add(-benchDays * 24 * time.Hour)
	step := time.Duration(benchDays*24) * time.Hour / benchParticipants
	var batch []engine.Step
	flush := func() {
		errs, err := h.db.CommitBatch(ctx, batch)
		if err != nil {
			b.Fatal(err)
		}
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
		batch = batch[:0]
	}
	for i := range benchParticipants {
		at := start.Add(time.Duration(i) * step)
		id := fmt.Sprintf("p%06d", i)
		// Every participant played a round (the most the funnel per round reads).
		state, vars := "door", map[string]string{"name": fmt.Sprintf("Guest %d", i), "round": fmt.Sprintf("r%d", 1+i%3)}
		switch {
		case i%50 == 0:
			vars["handoff"] = "chefs"
		case i%5 == 0:
			state = "in"
		}
		s := engine.Step{Created: true, Participant: engine.Participant{ID: id, Campaign: "bouncer", Channel: "whatsapp",
			Address: "+" + id, State: state, Vars: vars, Version: 1, CreatedAt: at, UpdatedAt: at.Add(time.Hour), LastInboundAt: at.Add(time.Hour)}}
		for l := range benchLines {
			dir := engine.In
			if l%2 == 1 {
				dir = engine.Out
			}
			s.Lines = append(s.Lines, engine.Line{ParticipantID: id, Direction: dir, Text: fmt.Sprintf("message %d of guest %d", l, i), At: at.Add(time.Duration(l) * time.Minute)})
		}
		for e := range benchEntries {
			s.Entries = append(s.Entries, engine.Entry{ID: fmt.Sprintf("e%06d-%d", i, e), Campaign: "bouncer", ParticipantID: id, State: "door",
				Kind: "photo", MediaKey: "m", MIME: "image/jpeg", CreatedAt: at.Add(time.Duration(e) * time.Minute)})
		}
		for r := range benchReplies {
			st := engine.StatusSent
			if r == 0 && i%20 == 0 {
				st = engine.StatusFailed
			}
			s.Outbox = append(s.Outbox, engine.Outbound{ParticipantID: id, Campaign: "bouncer", Channel: "whatsapp", To: "+" + id,
				Text: "reply", DueAt: at.Add(time.Duration(r) * time.Minute), Status: st})
		}
		batch = append(batch, s)
		if len(batch) == 25 {
			flush()
		}
	}
	if len(batch) > 0 {
		flush()
	}
	// One conversation in a hundred is assigned to the benchmark's admin.
	for i := 0; i < benchParticipants; i += 100 {
		err := h.db.Assign(ctx, reports.Assignment{ParticipantID: fmt.Sprintf("p%06d", i), User: "boss", By: "boss", At: h.clock.Now()})
		if err != nil {
			b.Fatal(err)
		}
	}
	// A verdict on the first entry of one participant in ten: the moderation turnaround.
	judges := &judge.Service{Store: h.db, Now: h.clock.Now}
	for i := 0; i < benchParticipants; i += 10 {
		err := judges.Decide(ctx, judge.Decision{EntryID: fmt.Sprintf("e%06d-0", i), Verdict: judge.StatusApproved, By: "mod",
			At: start.Add(time.Duration(i)*step + 3*time.Hour)})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPages measures the moderator's and the marketer's pages on a large store: the
// entry queue, the inbox (newest, a state, waiting for a human, an older page, a search) and
// the campaign overview (flow diagram, counts, charts). It prints each page's p50 and p95;
// the target is p95 < 100 ms. Run it with
//
//	go test ./dashboard -run '^$' -bench BenchmarkPages -benchtime 40x
func BenchmarkPages(b *testing.B) {
	// CAMPAIGN_BENCH_DB keeps the stored campaign in that file and reads it from there the
	// next time, so a second run measures without building it again.
	path := os.Getenv("CAMPAIGN_BENCH_DB")
	reuse := false
	if path == "" {
		path = filepath.Join(b.TempDir(), "campaign.db")
	} else if _, err := os.Stat(path); err == nil {
		reuse = true
	}
	h := newHarnessAt(b, path)
	built := time.Now()
	if !reuse {
		seed(b, h)
	}
	b.Logf("stored %d participants, %d entries, %d lines, %d replies in %v", benchParticipants,
		benchParticipants*benchEntries, benchParticipants*benchLines, benchParticipants*benchReplies, time.Since(built).Round(time.Second))
	// The store indexes the lines for the search in the background, a few seconds behind the
	// messages; the benchmark measures a store that has caught up.
	indexed := time.Now()
	if err := h.db.IndexLines(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Logf("search index caught up in %v", time.Since(indexed).Round(time.Second))
	judges := &judge.Service{Store: h.db, Scores: h.db, Now: h.clock.Now}
	d, err := dashboard.New(dashboard.Config{Judge: judges, Scoring: judges, Users: h.users, Media: h.media,
		Campaigns: storeCampaigns{h.camps, h.db}, Conversations: storeConversations{h.convs, h.db}, Queue: h.queue,
		Deliveries: h.db, Reports: h.db, Now: h.clock.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	h.app = fiber.New()
	d.Mount(h.app)
	if !reuse {
		h.MustUser("boss", "admin")
	}
	h.MustLogin("boss")
	older := fmt.Sprintf("/dashboard/inbox?before=%d.p010000", h.clock.Now().Add(-30*24*time.Hour).UnixNano())
	pages := []struct {
		name, path string
		// fresh, when set, runs before each request: the overview's charts counted anew.
		fresh func()
	}{
		{"queue", "/dashboard/entries", nil},
		{"queue-all", "/dashboard/entries?status=all", nil},
		{"inbox", "/dashboard/inbox", nil},
		{"inbox-state", "/dashboard/inbox?campaign=bouncer&state=in", nil},
		{"inbox-waiting", "/dashboard/inbox?waiting=1", nil},
		{"inbox-older-page", older, nil},
		{"inbox-search", "/dashboard/inbox?q=guest+19999", nil},
		{"inbox-search-common", "/dashboard/inbox?q=message", nil},
		{"inbox-search-nothing", "/dashboard/inbox?q=nobody+wrote+this", nil},
		{"participants-state", "/dashboard/campaigns/bouncer/participants?state=door", nil},
		{"conversation", "/dashboard/campaigns/bouncer/participants/p000100", nil},
		{"overview", "/dashboard/campaigns/bouncer", nil},
		{"overview-first-of-a-minute", "/dashboard/campaigns/bouncer", func() { h.clock.Advance(time.Minute + time.Second) }},
		{"inbox-assigned-to-me", "/dashboard/inbox?assigned=me", nil},
		{"inbox-unassigned", "/dashboard/inbox?assigned=nobody", nil},
	}
	report := ""
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			var took []time.Duration
			for b.Loop() {
				if p.fresh != nil {
					p.fresh()
				}
				t := time.Now()
				resp := h.Get(p.path)
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				took = append(took, time.Since(t))
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("%s: status %d", p.path, resp.StatusCode)
				}
			}
			slices.Sort(took)
			p50, p95 := took[len(took)/2], took[min(len(took)-1, len(took)*95/100)]
			b.ReportMetric(float64(p95.Microseconds())/1000, "p95-ms")
			b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
			report += fmt.Sprintf("%-20s p50 %6.1f ms  p95 %6.1f ms  (%d requests)\n", p.name,
				float64(p50.Microseconds())/1000, float64(p95.Microseconds())/1000, len(took))
		})
	}
	fmt.Fprint(os.Stderr, report)
}
