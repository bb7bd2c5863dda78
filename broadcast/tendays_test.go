package broadcast_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/audit"
	"github.com/chatcampaigns/campaign/broadcast"
	"github.com/chatcampaigns/campaign/engine"
)

// TestTwentyThousandOnTwoThousandADay is issue 16's done-when: 20,000 subscribers on a number
// limited to 2,000 unique people a day outside their window. The plan says ten days; the
// pacer spreads them over ten days, never more than 2,000 outside their window in any 24
// hours, while those who write meanwhile get it at once (and do not count); a quality drop
// pauses it, Resume resumes it, a restart (a new Service on the same store) continues it,
// nobody gets it twice; the 131050 and 131049 refusals it met hold in a later broadcast of
// another campaign on the same number.
func TestTwentyThousandOnTwoThousandADay(t *testing.T) {
	if testing.Short() {
		t.Skip("ten days of pacing")
	}
	e := newEnv(t, 2000)
	subs := e.subscribe("news", "whatsapp", 0, 19700, 72*time.Hour)
	subs = append(subs, e.subscribe("news", "whatsapp", 19700, 300, time.Hour)...)
	optOut, limited := subs[19690], subs[19691]
	e.wa.refuse[optOut.Address] = engine.ErrMarketingOptOut
	e.wa.refuse[limited.Address] = engine.ErrMarketingLimit

	plan, err := e.svc.Plan(e.ctx, broadcast.Request{Campaign: "news", Message: news()})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Audience != 20000 || plan.InWindow != 300 || plan.NeedTemplate != 19700 || plan.AllowedToday != 2000 || plan.UsedLast24h != 0 {
		t.Fatalf("plan: audience %d, in window %d, template %d, allowed today %d, used %d; want 20000, 300, 19700, 2000, 0",
			plan.Audience, plan.InWindow, plan.NeedTemplate, plan.AllowedToday, plan.UsedLast24h)
	}
	if len(plan.Days) != 10 || plan.Days[0].Count != 2300 || plan.Days[9].Count != 1700 || !plan.Finish.Equal(t0.Add(9*24*time.Hour)) {
		t.Fatalf("plan days = %+v, finish %s; want ten, 2300 on the first (300 in their window), 1700 on the last, nine days on", plan.Days, plan.Finish)
	}

	b := e.start("news", news())
	if got := len(e.wa.all()); got != 2300 {
		t.Fatalf("sent at the start: %d, want 2300 (300 in their window, 2000 with the template)", got)
	}
	var writers []engine.Participant
	for h := 1; h <= 11*24 && e.get(b.ID).Status != broadcast.StatusDone; h++ {
		e.clock.Advance(time.Hour)
		switch h {
		case 30:
			// Fifty waiting subscribers write: they get it in the next pass, outside the limit.
			writers = subs[5000:5050]
			for _, p := range writers {
				e.write(p)
			}
		case 60:
			// The number's quality drops: the broadcast pauses, the admins are told.
			h := broadcast.NumberHealth{Channel: "whatsapp", Number: number, Limit: 2000, Throughput: 80,
				Quality: broadcast.QualityYellow, Event: "DOWNGRADE", CheckedAt: e.clock.Now()}
			e.numbers.set(h)
			e.svc.HealthChanged(e.ctx, h)
			got := e.get(b.ID)
			if got.Status != broadcast.StatusPaused || !strings.Contains(got.PausedReason, "YELLOW") {
				t.Fatalf("after the drop: %s (%q), want paused saying YELLOW", got.Status, got.PausedReason)
			}
			e.write(subs[7000]) // inside the window now, but the broadcast is paused
		case 80:
			before := len(e.wa.all())
			e.tick()
			if after := len(e.wa.all()); after != before {
				t.Fatalf("paused, yet %d were sent", after-before)
			}
			if err := e.svc.Resume(e.ctx, b.ID, "ann"); err != nil {
				t.Fatal(err)
			}
		case 120:
			e.restart()
		}
		e.tick()
		if h == 31 {
			got := map[string]bool{}
			for _, s := range e.wa.all() {
				if !s.template {
					got[s.to] = true
				}
			}
			for _, p := range writers {
				if !got[p.Address] {
					t.Fatalf("%s wrote at hour 30 and got nothing at hour 31", p.Address)
				}
			}
		}
	}
	final := e.get(b.ID)
	if final.Status != broadcast.StatusDone {
		t.Fatalf("after eleven days: %s", final.Status)
	}
	all := e.wa.all()
	seen := map[string]bool{}
	var last time.Time
	for _, s := range all {
		if seen[s.to] {
			t.Fatalf("%s got the broadcast twice", s.to)
		}
		seen[s.to] = true
		if s.template {
			last = s.at
		}
	}
	if len(seen) != 19998 {
		t.Errorf("%d got it, want 19,998 (all but the two who refused)", len(seen))
	}
	if n := maxInMovingDay(all); n > 2000 {
		t.Errorf("%d unique people outside their window in one moving 24 hours, limit 2,000", n)
	}
	if days := last.Sub(t0).Hours() / 24; days < 9 || days > 10.5 {
		t.Errorf("the last template went %.1f days after the start, want about ten days' pacing (nine to ten and a half)", days)
	}
	r := e.report(b.ID)
	if r.Sent != 19998 || r.Waiting != 0 || r.Failed[broadcast.FailOptOut] != 1 || r.Failed[broadcast.FailMarketingLimit] != 1 {
		t.Errorf("report = %+v", r)
	}
	// The pause is in the audit trail and in the notifications.
	events, err := e.db.AuditEvents(e.ctx, audit.Query{Campaign: "news"})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, ev := range events {
		actions = append(actions, ev.Actor+" "+ev.Action)
	}
	if want := []string{"ann broadcast", "system broadcast.pause", "ann broadcast.resume"}; strings.Join(actions, ", ") != strings.Join(want, ", ") {
		t.Errorf("audit trail = %q, want %q", actions, want)
	}
	notes, err := e.db.Notifications(e.ctx, "news", 0)
	if err != nil || len(notes) != 1 || !strings.Contains(notes[0].Text, "paused") {
		t.Errorf("notifications = %+v, %v; want one saying the broadcast paused", notes, err)
	}

	// Another campaign on the same number, an hour after the last batch: the person who
	// opted out of marketing (131050) is skipped, and so is the one the platform held a
	// message back from (131049) less than 24 hours ago; a newcomer gets it.
	e.clock.Advance(time.Hour)
	e.subscribe("deals", "whatsapp", 19690, 2, 72*time.Hour)
	e.subscribe("deals", "whatsapp", 30000, 1, 72*time.Hour)
	d1 := e.start("deals", deals())
	if want := map[string]int{broadcast.SkipStoppedMarketing: 1, broadcast.SkipMarketingLimit: 1}; !equalCounts(d1.Plan.Skipped, want) || d1.Plan.NeedTemplate != 1 {
		t.Errorf("deals plan: skipped %v, template %d; want %v and 1", d1.Plan.Skipped, d1.Plan.NeedTemplate, want)
	}
	// A day later the marketing limit has passed; the opt-out holds.
	e.clock.Advance(25 * time.Hour)
	d2 := e.start("deals", deals())
	if want := map[string]int{broadcast.SkipStoppedMarketing: 1}; !equalCounts(d2.Plan.Skipped, want) || d2.Plan.NeedTemplate != 2 {
		t.Errorf("deals plan a day later: skipped %v, template %d; want %v and 2", d2.Plan.Skipped, d2.Plan.NeedTemplate, want)
	}
}

func equalCounts(got, want map[string]int) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}
