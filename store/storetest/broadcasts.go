package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/broadcast"
	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// Broadcasts is what the pacer keeps (package broadcast), with the notifications it leaves
// for the admins; every backend implements it.
type Broadcasts interface {
	broadcast.Store
	broadcast.Notifier
}

func broadcastsOf(t *testing.T, s Store) Broadcasts {
	t.Helper()
	b, ok := s.(Broadcasts)
	if !ok {
		t.Fatalf("%T does not implement storetest.Broadcasts", s)
	}
	return b
}

// pacedBroadcast is a broadcast of campaign started at t0+d.
func pacedBroadcast(id string, d time.Duration) broadcast.Broadcast {
	req := broadcast.Request{Campaign: campaign, Audience: engine.Audience{State: "door"},
		Message: campaigns.Message{Text: campaigns.Text{"en": "News"}, Template: "news"}, By: "ann"}
	return broadcast.Broadcast{ID: id, Request: req, Status: broadcast.StatusRunning, Baseline: broadcast.QualityGreen,
		Channel: "whatsapp", Number: "100", At: at(d), UpdatedAt: at(d),
		Plan: broadcast.Plan{Request: req, Audience: 2, NeedTemplate: 2, Limit: 2000, Skipped: map[string]int{broadcast.SkipOptedOut: 1},
			Days: []broadcast.PlanDay{{Start: at(d), Count: 2}}, Finish: at(d), Category: "marketing"}}
}

// recipientsOf lists people as waiting recipients on whatsapp number 100.
func recipientsOf(ps ...engine.Participant) []broadcast.Recipient {
	rs := make([]broadcast.Recipient, len(ps))
	for i, p := range ps {
		rs[i] = broadcast.Recipient{Seq: int64(i + 1), ParticipantID: p.ID, Channel: "whatsapp", Number: "100",
			Address: p.Address, Country: "NL", Template: true, Status: broadcast.RecipientWaiting, UpdatedAt: t0}
	}
	return rs
}

// release settles rs as released at t0+d, each with a message to its participant.
func release(t *testing.T, b Broadcasts, id string, d time.Duration, ps []engine.Participant, rs []broadcast.Recipient) int {
	t.Helper()
	outs := make([]engine.Outbound, len(rs))
	for i := range rs {
		rs[i].Status, rs[i].ReleasedAt, rs[i].UpdatedAt = broadcast.RecipientReleased, at(d), at(d)
		outs[i] = outbound(ps[i], "News", d)
		outs[i].BroadcastID = id
	}
	n, err := b.ReleaseRecipients(t.Context(), id, rs, outs)
	noErr(t, "ReleaseRecipients", err)
	return n
}

var broadcastTests = []test{
	{"StartGetList", func(t *testing.T, s Store) {
		b, ctx := broadcastsOf(t, s), t.Context()
		one, two := pacedBroadcast("b1", 0), pacedBroadcast("b2", time.Minute)
		noErr(t, "StartBroadcast", b.StartBroadcast(ctx, one, nil))
		noErr(t, "StartBroadcast", b.StartBroadcast(ctx, two, nil))
		wantErr(t, "StartBroadcast again", b.StartBroadcast(ctx, one, nil), errs.ErrConflict)
		got, err := b.PacedBroadcast(ctx, "b1")
		noErr(t, "PacedBroadcast", err)
		equal(t, "PacedBroadcast", got, one)
		_, err = b.PacedBroadcast(ctx, "nope")
		wantErr(t, "PacedBroadcast(nope)", err, errs.ErrNotFound)
		list, err := b.PacedBroadcasts(ctx, campaign, "", 0)
		noErr(t, "PacedBroadcasts", err)
		equal(t, "newest first", []string{list[0].ID, list[1].ID}, []string{"b2", "b1"})
		two.Status, two.PausedReason, two.Baseline, two.UpdatedAt = broadcast.StatusPaused, "quality dropped", broadcast.QualityYellow, at(time.Hour)
		noErr(t, "UpdateBroadcast", b.UpdateBroadcast(ctx, two))
		running, err := b.PacedBroadcasts(ctx, "", broadcast.StatusRunning, 0)
		noErr(t, "PacedBroadcasts running", err)
		equal(t, "running", len(running), 1)
		equal(t, "running", running[0].ID, "b1")
		got, _ = b.PacedBroadcast(ctx, "b2")
		equal(t, "paused", got, two)
		wantErr(t, "UpdateBroadcast(nope)", b.UpdateBroadcast(ctx, pacedBroadcast("nope", 0)), errs.ErrNotFound)
		other, err := b.PacedBroadcasts(ctx, "other", "", 0)
		noErr(t, "PacedBroadcasts other", err)
		equal(t, "other campaign", len(other), 0)
	}},
	{"RecipientsReleasedOnce", func(t *testing.T, s Store) {
		b, ctx := broadcastsOf(t, s), t.Context()
		ann, bob, cat := MustJoin(t, s, "ann"), MustJoin(t, s, "bob"), MustJoin(t, s, "cat")
		rs := recipientsOf(ann, bob, cat)
		rs[2].Status, rs[2].Reason = broadcast.RecipientSkipped, broadcast.SkipStoppedMarketing
		noErr(t, "StartBroadcast", b.StartBroadcast(ctx, pacedBroadcast("b1", 0), rs))
		waiting, err := b.BroadcastRecipientList(ctx, "b1", broadcast.RecipientWaiting, 0, 0)
		noErr(t, "waiting", err)
		equal(t, "waiting", len(waiting), 2)
		equal(t, "first waiting", waiting[0], rs[0])
		if n := release(t, b, "b1", time.Minute, []engine.Participant{ann}, waiting[:1]); n != 1 {
			t.Fatalf("released %d, want 1", n)
		}
		// A second pass with the same recipient (another process, a restart) queues nothing.
		if n := release(t, b, "b1", 2*time.Minute, []engine.Participant{ann, bob}, []broadcast.Recipient{rs[0], rs[1]}); n != 1 {
			t.Fatalf("released again %d, want 1 (bob only)", n)
		}
		r, err := s.BroadcastReport(ctx, "b1")
		noErr(t, "BroadcastReport", err)
		equal(t, "outbox rows of b1", r.Total, 2)
		all, err := b.BroadcastRecipientList(ctx, "b1", "", 0, 0)
		noErr(t, "recipients", err)
		equal(t, "statuses", texts(all, func(r broadcast.Recipient) string { return r.Status + ":" + r.Reason }),
			[]string{"released:", "released:", "skipped:stopped_marketing"})
		if all[0].OutboxID == 0 || all[1].OutboxID == 0 || all[0].OutboxID == all[1].OutboxID {
			t.Fatalf("outbox ids %d, %d: want two different rows", all[0].OutboxID, all[1].OutboxID)
		}
		equal(t, "released at", all[0].ReleasedAt, at(time.Minute))
		page, err := b.BroadcastRecipientList(ctx, "b1", "", 1, 1)
		noErr(t, "page", err)
		equal(t, "page after 1", page[0].ParticipantID, bob.ID)
		_, err = b.ReleaseRecipients(ctx, "b1", rs[:1], nil)
		wantErr(t, "messages and recipients that do not pair", err, errs.ErrInvalid)
	}},
	{"ReachedOutsideWindow", func(t *testing.T, s Store) {
		b, ctx := broadcastsOf(t, s), t.Context()
		ann, bob, cat := MustJoin(t, s, "ann"), MustJoin(t, s, "bob"), MustJoin(t, s, "cat")
		noErr(t, "StartBroadcast", b.StartBroadcast(ctx, pacedBroadcast("b1", 0), recipientsOf(ann, bob, cat)))
		noErr(t, "StartBroadcast", b.StartBroadcast(ctx, pacedBroadcast("b2", 0), recipientsOf(ann)))
		rs := recipientsOf(ann, bob, cat)
		rs[2].Template = false // cat was inside her window: not counted
		release(t, b, "b1", time.Hour, []engine.Participant{ann, bob, cat}, rs)
		release(t, b, "b2", 2*time.Hour, []engine.Participant{ann}, recipientsOf(ann)) // ann again: one person
		for _, tc := range []struct {
			number string
			since  time.Duration
			want   int
		}{{"100", 0, 2}, {"100", time.Hour, 2}, {"100", 90 * time.Minute, 1}, {"100", 3 * time.Hour, 0}, {"200", 0, 0}} {
			n, err := b.ReachedOutsideWindow(ctx, "whatsapp", tc.number, at(tc.since))
			noErr(t, "ReachedOutsideWindow", err)
			if n != tc.want {
				t.Errorf("reached on %s since +%s = %d, want %d", tc.number, tc.since, n, tc.want)
			}
		}
	}},
	{"FrequencyLedgerAcrossCampaigns", func(t *testing.T, s Store) {
		b, ctx := broadcastsOf(t, s), t.Context()
		ann, bob := MustJoin(t, s, "ann"), MustJoin(t, s, "bob")
		first, second := pacedBroadcast("b1", 0), pacedBroadcast("b2", 0)
		second.Request.Campaign = "other"
		noErr(t, "StartBroadcast", b.StartBroadcast(ctx, first, recipientsOf(ann, bob)))
		noErr(t, "StartBroadcast", b.StartBroadcast(ctx, second, recipientsOf(ann)))
		release(t, b, "b1", time.Hour, []engine.Participant{ann, bob}, recipientsOf(ann, bob))
		release(t, b, "b2", 2*time.Hour, []engine.Participant{ann}, recipientsOf(ann))
		got, err := b.ReleasedTo(ctx, "whatsapp", []string{"ann", "bob", "cat"}, t0)
		noErr(t, "ReleasedTo", err)
		equal(t, "since t0", got, map[string]int{"ann": 2, "bob": 1})
		got, err = b.ReleasedTo(ctx, "whatsapp", []string{"ann", "bob"}, at(90*time.Minute))
		noErr(t, "ReleasedTo", err)
		equal(t, "since +90m", got, map[string]int{"ann": 1})
		got, err = b.ReleasedTo(ctx, "telegram", []string{"ann"}, t0)
		noErr(t, "ReleasedTo telegram", err)
		equal(t, "other channel", got, map[string]int{})
	}},
	{"Refusals", func(t *testing.T, s Store) {
		b, ctx := broadcastsOf(t, s), t.Context()
		ann, bob := MustJoin(t, s, "ann"), MustJoin(t, s, "bob")
		noErr(t, "StartBroadcast", b.StartBroadcast(ctx, pacedBroadcast("b1", 0), recipientsOf(ann, bob)))
		release(t, b, "b1", time.Minute, []engine.Participant{ann, bob}, recipientsOf(ann, bob))
		noErr(t, "FailRecipient", b.FailRecipient(ctx, "b1", ann.ID, broadcast.FailMarketingLimit, at(time.Hour)))
		noErr(t, "FailRecipient", b.FailRecipient(ctx, "b1", bob.ID, broadcast.FailOptOut, at(time.Hour)))
		wantErr(t, "FailRecipient(nobody)", b.FailRecipient(ctx, "b1", "nobody", broadcast.FailOptOut, t0), errs.ErrNotFound)
		limited, err := b.RefusedSince(ctx, "whatsapp", []string{"ann", "bob"}, broadcast.FailMarketingLimit, t0)
		noErr(t, "RefusedSince", err)
		equal(t, "limited", limited, map[string]bool{"ann": true})
		limited, err = b.RefusedSince(ctx, "whatsapp", []string{"ann", "bob"}, broadcast.FailMarketingLimit, at(2*time.Hour))
		noErr(t, "RefusedSince later", err)
		equal(t, "limited an hour later", limited, map[string]bool{})
		out, err := b.RefusedSince(ctx, "whatsapp", []string{"ann", "bob"}, broadcast.FailOptOut, time.Time{})
		noErr(t, "RefusedSince opt-out", err)
		equal(t, "opted out", out, map[string]bool{"bob": true})
		// A refused recipient still counts as reached and as a broadcast had.
		n, err := b.ReachedOutsideWindow(ctx, "whatsapp", "100", t0)
		noErr(t, "ReachedOutsideWindow", err)
		equal(t, "reached", n, 2)
	}},
	{"RecipientsOfAndWhoWroteLately", func(t *testing.T, s Store) {
		b, ctx := broadcastsOf(t, s), t.Context()
		ann, bob, cat := MustJoin(t, s, "ann"), MustJoin(t, s, "bob"), MustJoin(t, s, "cat")
		noErr(t, "StartBroadcast", b.StartBroadcast(ctx, pacedBroadcast("b1", 0), recipientsOf(ann, bob, cat)))
		got, err := b.RecipientsOf(ctx, "b1", []string{cat.ID, ann.ID, "nobody"})
		noErr(t, "RecipientsOf", err)
		equal(t, "recipients of ann and cat", texts(got, func(r broadcast.Recipient) string { return r.ParticipantID }), []string{ann.ID, cat.ID})
		// bob writes at +1h: the only one who wrote since +30m.
		talk(t, s, bob, "door", time.Hour, "hi", nil)
		ps, err := s.Participants(ctx, engine.ParticipantFilter{Campaign: campaign, WroteSince: at(30 * time.Minute)})
		noErr(t, "Participants WroteSince", err)
		equal(t, "wrote since +30m", texts(ps, func(p engine.Participant) string { return p.Address }), []string{"bob"})
	}},
	{"ErasedWithTheParticipant", func(t *testing.T, s Store) {
		b, ctx := broadcastsOf(t, s), t.Context()
		eraser, ok := s.(interface {
			EraseParticipant(ctx context.Context, id string, tombstone *engine.Participant) error
		})
		if !ok {
			t.Skip("no EraseParticipant")
		}
		ann, bob := MustJoin(t, s, "ann"), MustJoin(t, s, "bob")
		noErr(t, "StartBroadcast", b.StartBroadcast(ctx, pacedBroadcast("b1", 0), recipientsOf(ann, bob)))
		noErr(t, "EraseParticipant", eraser.EraseParticipant(ctx, ann.ID, nil))
		rs, err := b.BroadcastRecipientList(ctx, "b1", "", 0, 0)
		noErr(t, "recipients", err)
		equal(t, "recipients after ann was erased", texts(rs, func(r broadcast.Recipient) string { return r.Address }), []string{"bob"})
	}},
	{"NotificationWithoutParticipant", func(t *testing.T, s Store) {
		b := broadcastsOf(t, s)
		noErr(t, "AddNotification", b.AddNotification(t.Context(), engine.Notification{Campaign: campaign, Text: "Broadcast b1 paused", At: t0}))
		got, err := s.Notifications(context.Background(), campaign, 0)
		noErr(t, "Notifications", err)
		equal(t, "notifications", texts(got, func(n engine.Notification) string { return n.Text }), []string{"Broadcast b1 paused"})
	}},
}
