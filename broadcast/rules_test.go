package broadcast_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/broadcast"
	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// sentTo lists the addresses a broadcast reached, in the order sent.
func (e *env) sentTo(id string) []string {
	var out []string
	for _, s := range e.wa.all() {
		if s.broadcast == id {
			out = append(out, s.to)
		}
	}
	return out
}

// optOut has p opt out of their campaign, as the engine records it.
func (e *env) optOut(p engine.Participant) {
	e.t.Helper()
	cur, err := e.db.Participant(e.ctx, p.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	next := cur
	next.Version++
	next.State, next.Finished, next.UpdatedAt = engine.StateOptedOut, true, e.clock.Now()
	if err := e.db.Commit(e.ctx, engine.Step{Participant: next, PrevVersion: cur.Version}); err != nil {
		e.t.Fatal(err)
	}
}

// TestNeverToTheUnwilling: each rule that keeps a person out of a broadcast, at the plan and
// at the release, with the reason it gives.
func TestNeverToTheUnwilling(t *testing.T) {
	for _, tc := range []struct {
		name string
		// before runs before the broadcast starts, on the subscriber; after, between the start
		// and the next day's release (the first subscriber takes the day's one place).
		before, after func(e *env, p engine.Participant)
		msg           campaigns.Message
		cap           string
		wantSkip      string // "" for sent
	}{
		{name: "a marketing stop is honoured",
			before: func(e *env, p engine.Participant) {
				e.prefer(broadcast.Preference{Channel: "whatsapp", Address: p.Address, StopMarketing: true, Source: "user_preferences", At: e.clock.Now()})
			}, wantSkip: broadcast.SkipStoppedMarketing},
		{name: "a marketing stop taken back is not",
			before: func(e *env, p engine.Participant) {
				e.prefer(broadcast.Preference{Channel: "whatsapp", Address: p.Address, StopMarketing: true, Source: "user_preferences", At: e.clock.Now().Add(-time.Hour)})
				e.prefer(broadcast.Preference{Channel: "whatsapp", Address: p.Address, StopMarketing: false, Source: "user_preferences", At: e.clock.Now()})
			}},
		{name: "a marketing stop given while waiting is honoured at the release",
			after: func(e *env, p engine.Participant) {
				e.prefer(broadcast.Preference{Channel: "whatsapp", Address: p.Address, StopMarketing: true, Source: "user_preferences", At: e.clock.Now()})
			}, wantSkip: broadcast.SkipStoppedMarketing},
		{name: "opting out of the campaign while waiting",
			after: func(e *env, p engine.Participant) { e.optOut(p) }, wantSkip: broadcast.SkipOptedOut},
		{name: "a broadcast without a template skips those outside their window",
			// Someone inside their window, who gets the text.
			before:   func(e *env, p engine.Participant) { e.subscribe("news", "whatsapp", 2000, 1, time.Hour) },
			msg:      campaigns.Message{Text: campaigns.Text{"nl": "Nieuws"}},
			wantSkip: broadcast.SkipNoTemplate},
		{name: "the frequency cap", cap: "1/168h",
			before: func(e *env, p engine.Participant) {
				// A broadcast of another campaign reached them three days ago.
				e.clock.Advance(-72 * time.Hour)
				e.subscribe("deals", "whatsapp", 0, 1, 72*time.Hour)
				e.start("deals", deals())
				e.clock.Advance(72 * time.Hour)
			}, wantSkip: broadcast.SkipFrequencyCap},
		{name: "the frequency cap lets a week-old one pass", cap: "1/168h",
			before: func(e *env, p engine.Participant) {
				e.clock.Advance(-8 * 24 * time.Hour)
				e.subscribe("deals", "whatsapp", 0, 1, 72*time.Hour)
				e.start("deals", deals())
				e.clock.Advance(8 * 24 * time.Hour)
			}},
		{name: "131049 less than a day ago",
			before: func(e *env, p engine.Participant) {
				e.clock.Advance(-23 * time.Hour)
				e.wa.refuse[p.Address] = engine.ErrMarketingLimit
				e.subscribe("deals", "whatsapp", 0, 1, 72*time.Hour)
				e.start("deals", deals())
				delete(e.wa.refuse, p.Address)
				e.clock.Advance(23 * time.Hour)
			}, wantSkip: broadcast.SkipMarketingLimit},
		{name: "131049 more than a day ago",
			before: func(e *env, p engine.Participant) {
				e.clock.Advance(-25 * time.Hour)
				e.wa.refuse[p.Address] = engine.ErrMarketingLimit
				e.subscribe("deals", "whatsapp", 0, 1, 72*time.Hour)
				e.start("deals", deals())
				delete(e.wa.refuse, p.Address)
				e.clock.Advance(25 * time.Hour)
			}},
		{name: "131050 in another campaign on the number",
			before: func(e *env, p engine.Participant) {
				e.clock.Advance(-30 * 24 * time.Hour)
				e.wa.refuse[p.Address] = engine.ErrMarketingOptOut
				e.subscribe("deals", "whatsapp", 0, 1, 72*time.Hour)
				e.start("deals", deals())
				delete(e.wa.refuse, p.Address)
				e.clock.Advance(30 * 24 * time.Hour)
			}, wantSkip: broadcast.SkipStoppedMarketing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, 1)
			if tc.cap != "" {
				c, err := broadcast.ParseFrequencyCap(tc.cap)
				if err != nil {
					t.Fatal(err)
				}
				e.cfg.FrequencyCap = c
				e.restart()
			}
			msg := tc.msg
			if msg.Text == nil {
				msg = news()
			}
			// The one who takes the day's place, then the one the rule is about.
			ps := e.subscribe("news", "whatsapp", 1000, 1, 72*time.Hour)
			p := e.subscribe("news", "whatsapp", 0, 1, 72*time.Hour)[0]
			if tc.before != nil {
				tc.before(e, p)
			}
			b := e.start("news", msg)
			if tc.after != nil {
				tc.after(e, p)
			}
			e.clock.Advance(25 * time.Hour)
			e.tick()
			got := e.sentTo(b.ID)
			rs, err := e.svc.Recipients(e.ctx, b.ID, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			var r broadcast.Recipient
			for _, x := range rs {
				if x.ParticipantID == p.ID {
					r = x
				}
			}
			if tc.wantSkip == "" {
				if !slices.Contains(got, p.Address) || r.Status != broadcast.RecipientReleased {
					t.Fatalf("sent to %v, recipient %+v; want %s sent", got, r, p.Address)
				}
				return
			}
			if slices.Contains(got, p.Address) || r.Status != broadcast.RecipientSkipped || r.Reason != tc.wantSkip {
				t.Fatalf("sent to %v, recipient %+v; want %s skipped for %s", got, r, p.Address, tc.wantSkip)
			}
			if tc.msg.Text == nil && !slices.Contains(got, ps[0].Address) {
				t.Errorf("the first subscriber got nothing: %v", got)
			}
			if rep := e.report(b.ID); rep.Skipped[tc.wantSkip] == 0 {
				t.Errorf("report skipped = %v, want %s among them", rep.Skipped, tc.wantSkip)
			}
		})
	}
}

// TestLimits: how many go at once, by the number's limit and the people's windows.
func TestLimits(t *testing.T) {
	for _, tc := range []struct {
		name                     string
		limit                    int // -1 unlimited, 0 unknown
		inWindow, outside        int
		channel                  string
		wantAtOnce, wantTemplate int
		wantLimit                int
	}{
		{"inside the window go at once and do not count", 2, 5, 5, "whatsapp", 7, 2, 2},
		{"unknown limit keeps to the lowest tier", 0, 0, 300, "whatsapp", 250, 250, broadcast.UnknownLimit},
		{"unlimited", broadcast.Unlimited, 0, 300, "whatsapp", 300, 300, broadcast.Unlimited},
		{"telegram has no window and no limit", 2, 0, 40, "telegram", 40, 0, broadcast.Unlimited},
		{"messenger outside its window is skipped", 2, 3, 4, "messenger", 3, 0, broadcast.Unlimited},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.limit)
			e.subscribe("news", tc.channel, 0, tc.inWindow, time.Hour)
			e.subscribe("news", tc.channel, 1000, tc.outside, 72*time.Hour)
			b := e.start("news", news())
			if b.Plan.Limit != tc.wantLimit {
				t.Errorf("plan limit = %d, want %d", b.Plan.Limit, tc.wantLimit)
			}
			// Only a broadcast that sends from the WhatsApp number names it.
			if onWA := tc.channel == "whatsapp"; (b.Plan.OnWhatsApp > 0) != onWA || (b.Plan.Number.Number != "") != onWA || (b.Number != "") != onWA {
				t.Errorf("on WhatsApp %d, plan number %q, broadcast number %q; want a number only on WhatsApp",
					b.Plan.OnWhatsApp, b.Plan.Number.Number, b.Number)
			}
			got, templates := 0, 0
			for _, s := range e.wa.all() {
				got++
				if s.template {
					templates++
				}
			}
			if got != tc.wantAtOnce || templates != tc.wantTemplate {
				t.Errorf("sent at once %d (%d templates), want %d (%d)", got, templates, tc.wantAtOnce, tc.wantTemplate)
			}
			if tc.channel == "messenger" && b.Plan.Skipped[broadcast.SkipWindowClosed] != tc.outside {
				t.Errorf("plan skipped %v, want %d %s", b.Plan.Skipped, tc.outside, broadcast.SkipWindowClosed)
			}
		})
	}
}

// TestLimitSharedByTheNumbersBroadcasts: two campaigns on one number share its limit.
func TestLimitSharedByTheNumbersBroadcasts(t *testing.T) {
	e := newEnv(t, 3)
	e.subscribe("news", "whatsapp", 0, 2, 72*time.Hour)
	e.subscribe("deals", "whatsapp", 100, 2, 72*time.Hour)
	first := e.start("news", news())
	e.clock.Advance(time.Hour)
	second := e.start("deals", deals())
	if second.Plan.UsedLast24h != 2 || second.Plan.AllowedToday != 1 {
		t.Errorf("second plan: used %d, allowed %d; want 2 and 1", second.Plan.UsedLast24h, second.Plan.AllowedToday)
	}
	if a, b := len(e.sentTo(first.ID)), len(e.sentTo(second.ID)); a != 2 || b != 1 {
		t.Fatalf("sent %d and %d, want 2 and 1 (a limit of 3 between them)", a, b)
	}
	e.clock.Advance(23 * time.Hour) // the first's two still count
	e.tick()
	if n := len(e.sentTo(second.ID)); n != 1 {
		t.Fatalf("23 hours later the second sent %d, want still 1", n)
	}
	e.clock.Advance(2 * time.Hour)
	e.tick()
	if n := len(e.sentTo(second.ID)); n != 2 {
		t.Fatalf("a day after the first, the second sent %d, want 2", n)
	}
	if got := e.get(second.ID).Status; got != broadcast.StatusDone {
		t.Errorf("second broadcast %s, want done", got)
	}
}

// TestSpamRatePausesTheNumber: a 131048 pauses every running broadcast on the number, with the
// reason, an audit line and a notification; a 131050 keeps the person's marketing stop.
func TestSpamRatePausesTheNumber(t *testing.T) {
	e := newEnv(t, 2)
	ps := e.subscribe("news", "whatsapp", 0, 4, 72*time.Hour)
	e.subscribe("deals", "whatsapp", 100, 4, 72*time.Hour)
	e.wa.refuse[ps[0].Address] = engine.ErrSpamRate
	e.wa.refuse[ps[1].Address] = engine.ErrMarketingOptOut
	// Both start before anything is sent: the number's two places go to the news.
	news, err := e.svc.Start(e.ctx, broadcast.Request{Campaign: "news", Message: news()})
	if err != nil {
		t.Fatal(err)
	}
	deals, err := e.svc.Start(e.ctx, broadcast.Request{Campaign: "deals", Message: deals()})
	if err != nil {
		t.Fatal(err)
	}
	e.send()
	for _, id := range []string{news.ID, deals.ID} {
		b := e.get(id)
		if b.Status != broadcast.StatusPaused || !strings.Contains(b.PausedReason, "131048") {
			t.Errorf("%s: %s (%q), want paused for 131048", id, b.Status, b.PausedReason)
		}
	}
	if stopped, err := e.db.StoppedMarketing(e.ctx, "whatsapp", []string{ps[1].Address}); err != nil || !stopped[ps[1].Address] {
		t.Errorf("marketing stopped after 131050 = %v, %v; want a stop kept", stopped, err)
	}
	notes, err := e.db.Notifications(e.ctx, "", 0)
	if err != nil || len(notes) != 2 {
		t.Errorf("notifications = %+v, %v; want one per paused broadcast", notes, err)
	}
	r := e.report(news.ID)
	if r.Failed[broadcast.FailSpamRate] != 1 || r.Failed[broadcast.FailOptOut] != 1 {
		t.Errorf("report failed = %v", r.Failed)
	}
}

// TestPauseResumeCancel: what each does, and what each refuses.
func TestPauseResumeCancel(t *testing.T) {
	e := newEnv(t, 1)
	e.subscribe("news", "whatsapp", 0, 3, 72*time.Hour)
	b := e.start("news", news())
	if err := e.svc.Pause(e.ctx, b.ID, "", "ann"); err != nil {
		t.Fatal(err)
	}
	if got := e.get(b.ID); got.Status != broadcast.StatusPaused || got.PausedReason != "paused by ann" {
		t.Errorf("after Pause: %+v", got)
	}
	// A second pause changes nothing and says so: the reason stays the first one.
	if err := e.svc.Pause(e.ctx, b.ID, "again", "bob"); !errors.Is(err, errs.ErrConflict) {
		t.Errorf("Pause of a paused broadcast: %v, want a conflict", err)
	}
	if got := e.get(b.ID); got.PausedReason != "paused by ann" {
		t.Errorf("a second pause changed the reason to %q", got.PausedReason)
	}
	e.clock.Advance(25 * time.Hour)
	e.tick()
	if n := len(e.sentTo(b.ID)); n != 1 {
		t.Fatalf("paused, yet %d sent (want the first only)", n)
	}
	if err := e.svc.Resume(e.ctx, b.ID, "ann"); err != nil {
		t.Fatal(err)
	}
	e.tick()
	if n := len(e.sentTo(b.ID)); n != 2 {
		t.Fatalf("resumed: %d sent, want 2", n)
	}
	if err := e.svc.Resume(e.ctx, b.ID, "ann"); !errors.Is(err, errs.ErrConflict) {
		t.Errorf("Resume of a running broadcast: %v, want a conflict", err)
	}
	if err := e.svc.Cancel(e.ctx, b.ID, "ann"); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(25 * time.Hour)
	e.tick()
	if n := len(e.sentTo(b.ID)); n != 2 {
		t.Fatalf("cancelled, yet %d sent", n)
	}
	if r := e.report(b.ID); r.Skipped[broadcast.SkipCancelled] != 1 || r.Waiting != 0 {
		t.Errorf("report after Cancel: %+v", r)
	}
	for what, err := range map[string]error{
		"Pause":  e.svc.Pause(e.ctx, b.ID, "", "ann"),
		"Cancel": e.svc.Cancel(e.ctx, b.ID, "ann"),
		"Resume": e.svc.Resume(e.ctx, b.ID, "ann"),
	} {
		if !errors.Is(err, errs.ErrConflict) {
			t.Errorf("%s of a cancelled broadcast: %v, want a conflict", what, err)
		}
	}
	if _, err := e.svc.Get(e.ctx, "nope"); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("Get(nope): %v", err)
	}
	if _, err := e.svc.Start(e.ctx, broadcast.Request{Campaign: "nope", Message: news()}); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("Start to an unknown campaign: %v", err)
	}
	if _, err := e.svc.Plan(e.ctx, broadcast.Request{Campaign: "news", Message: campaigns.Message{Text: campaigns.Text{"nl": "x"}, Template: "nope"}}); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("Plan with an unknown template: %v", err)
	}
	if _, err := e.svc.Start(e.ctx, broadcast.Request{Campaign: "deals", Message: deals()}); !errors.Is(err, broadcast.ErrNobody) {
		t.Errorf("Start to nobody: %v", err)
	}
}

// TestPairLimit: a broadcast goes no sooner than 6 seconds after the persona's last reply to
// the same person.
func TestPairLimit(t *testing.T) {
	e := newEnv(t, 10)
	p := e.subscribe("news", "whatsapp", 0, 1, time.Hour)[0]
	cur, _ := e.db.Participant(e.ctx, p.ID)
	next := cur
	next.Version++
	next.LastReplyDue = e.clock.Now().Add(2 * time.Second)
	if err := e.db.Commit(e.ctx, engine.Step{Participant: next, PrevVersion: cur.Version}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Start(e.ctx, broadcast.Request{Campaign: "news", Message: news()}); err != nil {
		t.Fatal(err)
	}
	out, err := e.db.Outbox(e.ctx, p.ID)
	if err != nil || len(out) != 1 {
		t.Fatalf("outbox = %+v, %v", out, err)
	}
	if want := e.clock.Now().Add(8 * time.Second); !out[0].DueAt.Equal(want) {
		t.Errorf("due %s, want %s (6 s after the last reply)", out[0].DueAt, want)
	}
}

// pricer is a two-country price table.
type pricer struct{}

func (pricer) Country(address string) string {
	switch {
	case strings.HasPrefix(address, "+31"):
		return "NL"
	case strings.HasPrefix(address, "+49"):
		return "DE"
	}
	return ""
}

func (pricer) Price(category, country string) (float64, string, bool) {
	if category != "marketing" {
		return 0, "", false
	}
	switch country {
	case "NL":
		return 0.1, "EUR", true
	}
	return 0, "", false
}

// TestPlanCost: the plan counts the templates by country and prices them; the report prices
// what was sent.
func TestPlanCost(t *testing.T) {
	e := newEnv(t, 3)
	e.cfg.Pricer = pricer{}
	e.restart()
	e.subscribe("news", "whatsapp", 0, 4, 72*time.Hour)
	e.subscribe("news", "whatsapp", 100, 1, time.Hour)
	b := e.start("news", news())
	p := b.Plan
	if p.ByCountry["NL"] != 4 || p.Category != "marketing" {
		t.Errorf("by country %v, category %q", p.ByCountry, p.Category)
	}
	if p.Cost.Currency != "EUR" || len(p.Cost.Lines) != 1 || p.Cost.Lines[0].Count != 4 || p.Cost.Total < 0.399 || p.Cost.Total > 0.401 {
		t.Errorf("plan cost = %+v", p.Cost)
	}
	r := e.report(b.ID)
	if r.Sent != 4 || r.Cost.Total < 0.299 || r.Cost.Total > 0.301 {
		t.Errorf("report: sent %d, cost %+v; want 4 sent (one free-form) and three templates priced", r.Sent, r.Cost)
	}
}

// TestOnePacerAtATime: with leases, a process whose pass finds another pacing skips it, so
// two servers never both spend the number's room.
func TestOnePacerAtATime(t *testing.T) {
	e := newEnv(t, 10)
	e.cfg.Leases, e.cfg.Owner = e.db, "server-a"
	e.restart()
	e.subscribe("news", "whatsapp", 0, 3, 72*time.Hour)
	if _, err := e.db.Claim(e.ctx, "server-b", []string{"broadcast:pacer"}, e.clock.Now(), e.clock.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	b := e.start("news", news())
	if n := len(e.sentTo(b.ID)); n != 0 {
		t.Fatalf("another server holds the pacer, yet %d sent here", n)
	}
	e.clock.Advance(2 * time.Minute) // server-b's lease ran out
	e.tick()
	if n := len(e.sentTo(b.ID)); n != 3 {
		t.Fatalf("sent %d once the lease ran out, want 3", n)
	}
}

// TestPlanCountsTheOptedOut: those who opted out get nothing, and the plan says how many.
func TestPlanCountsTheOptedOut(t *testing.T) {
	e := newEnv(t, 10)
	ps := e.subscribe("news", "whatsapp", 0, 3, 72*time.Hour)
	e.optOut(ps[0])
	plan, err := e.svc.Plan(e.ctx, broadcast.Request{Campaign: "news", Message: news()})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Audience != 3 || plan.NeedTemplate != 2 || plan.Skipped[broadcast.SkipOptedOut] != 1 {
		t.Errorf("plan: audience %d, template %d, skipped %v; want 3, 2 and one opted out", plan.Audience, plan.NeedTemplate, plan.Skipped)
	}
}

// TestReportCountsDeliveries: the report follows the platform's delivery reports.
func TestReportCountsDeliveries(t *testing.T) {
	e := newEnv(t, 10)
	e.subscribe("news", "whatsapp", 0, 3, 72*time.Hour)
	b := e.start("news", news())
	for id, status := range map[string]string{"wamid.1": "delivered", "wamid.2": "read"} {
		if err := e.db.UpdateDelivery(e.ctx, id, engine.Delivery{Status: status, At: e.clock.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	r := e.report(b.ID)
	if r.Planned != 3 || r.Released != 3 || r.Sent != 3 || r.Delivered != 2 || r.Read != 1 || r.Waiting != 0 {
		t.Errorf("report = %+v; want 3 planned, released and sent, 2 delivered, 1 read", r)
	}
}
