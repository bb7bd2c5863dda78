package dashboard_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/dashboard"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/judge"
)

// TestDeliveriesShowMaybeTwice: a reply that was in flight when the server died, and was sent
// again after the restart, shows in the delivery monitor as possibly received twice; a reply
// sent once does not.
func TestDeliveriesShowMaybeTwice(t *testing.T) {
	h := newHarness(t)
	// The harness's dashboard has no delivery monitor: this one does.
	judges := &judge.Service{Store: h.db, Scores: h.db, Now: h.clock.Now}
	d, err := dashboard.New(dashboard.Config{Judge: judges, Scoring: judges, Users: h.users, Media: h.media,
		Campaigns: h.camps, Conversations: h.convs, Queue: h.queue, Deliveries: h.db, Now: h.clock.Now,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h.app = fiber.New()
	d.Mount(h.app)

	ctx := context.Background()
	h.MustParticipant("bouncer", "p1", "door", false)
	now := h.clock.Now()
	err = h.db.Enqueue(ctx, []engine.Outbound{
		{ParticipantID: "p1", Campaign: "bouncer", Channel: "whatsapp", To: "+p1", Text: "You're on the list", DueAt: now},
		{ParticipantID: "p1", Campaign: "bouncer", Channel: "whatsapp", To: "+p1", Text: "See you at the door", DueAt: now.Add(time.Second)},
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := h.db.Outbox(ctx, "p1")
	if err != nil || len(out) != 2 {
		t.Fatalf("outbox: %v %v", out, err)
	}
	// The first was with the platform when the server was killed, and sent again after.
	for _, at := range []time.Time{now, now.Add(30 * time.Second)} {
		if err := h.db.AttemptOutbox(ctx, out[0].ID, "node@host", at); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.db.AttemptOutbox(ctx, out[1].ID, "node@host", now.Add(31*time.Second)); err != nil {
		t.Fatal(err)
	}
	for _, o := range out {
		if err := h.db.MarkSent(ctx, o.ID, "wamid."+o.Text[:3], now.Add(32*time.Second)); err != nil {
			t.Fatal(err)
		}
	}

	h.MustUser("mod", "moderator")
	h.MustLogin("mod")
	resp := h.Get("/dashboard/campaigns/bouncer/deliveries")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("deliveries: %d", resp.StatusCode)
	}
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	rows := doc.Find("table.maybe-twice tr.twice")
	if rows.Length() != 1 {
		t.Fatalf("%d rows maybe sent twice, want 1", rows.Length())
	}
	if got := rows.Find("td").Eq(1).Text(); got != "You're on the list" {
		t.Errorf("maybe sent twice: %q", got)
	}
	if got := rows.Find(".attempts").Text(); got != "2" {
		t.Errorf("attempts = %q, want 2", got)
	}
	if got := rows.Find(".badge-twice").Text(); !strings.Contains(got, "may have been sent twice (in flight at a crash)") {
		t.Errorf("badge = %q", got)
	}
}
