package dashboard

import (
	"context"
	"fmt"
	"html/template"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/accounts"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/judge"
	"github.com/chatcampaigns/campaign/reports"
)

// overview is the top of a campaign's page: how many take part, the flow drawn with the
// participants in each state, and the charts of the last chartDays days.
type overview struct {
	ID              string
	Total           int
	Pending         string
	Diagram, Funnel template.HTML
	// Rounds is the funnel per round of a campaign with rounds, RoundsTitle its heading.
	Rounds                      template.HTML
	RoundsTitle                 string
	RoundsKey                   []legendItem
	Entries, Turnaround, Sent   template.HTML
	EntriesKey, SentKey         []legendItem
	Received, Decided, Failures int
	Days                        int
	Reports, Broadcasts, Export bool
	// Lists links the participants lists and the inbox, Deliveries the delivery monitor: only
	// for a role that may open them (a judge reads no conversations).
	Lists, Deliveries bool
}

// pendingShown is how many pending entries the overview counts before it says "N+" (the
// most the judge lists at once).
const pendingShown = 500

// campaignOverview works out the overview of ci. Every number comes from an index range (the
// participants per state, the entries and replies of the last days), never from a whole
// table.
func (d *Dashboard) campaignOverview(ctx context.Context, ci CampaignInfo, u *User) (*overview, error) {
	def := ci.Def
	o := &overview{ID: def.ID, Days: chartDays, Reports: d.reports != nil, Export: d.reports != nil && u.Role == RoleAdmin,
		Broadcasts: d.reports != nil && accounts.Can(u.Role, accounts.Broadcast),
		Lists:      d.reports != nil && accounts.Can(u.Role, accounts.ReadConversations),
		Deliveries: d.deliveries != nil && accounts.Can(u.Role, accounts.SeeDeliveries)}
	var bars []hbar
	for _, name := range def.Order {
		o.Total += ci.Counts[name]
		href := ""
		if o.Lists {
			href = stateLink(def.ID, name)
		}
		bars = append(bars, hbar{Label: name, Value: ci.Counts[name], Href: href})
	}
	for _, extra := range []string{"opted_out"} {
		if n := ci.Counts[extra]; n > 0 {
			o.Total += n
			bars = append(bars, hbar{Label: "opted out", Value: n})
		}
	}
	var link func(string) string
	if o.Lists {
		link = func(state string) string { return stateLink(def.ID, state) }
	}
	o.Diagram = flowDiagram(def, ci.Counts, link)
	o.Funnel = barChart("Participants per state", bars)
	pending, err := d.judge.Entries(ctx, judge.Filter{Campaign: def.ID, Status: judge.StatusPending, Limit: pendingShown})
	if err != nil {
		return nil, fmt.Errorf("dashboard: overview of %s: %w", def.ID, err)
	}
	o.Pending = strconv.Itoa(len(pending))
	if len(pending) >= pendingShown {
		o.Pending = strconv.Itoa(pendingShown) + "+"
	}
	if d.reports == nil {
		return o, nil
	}
	if len(def.Rounds) > 0 {
		names := make([]string, len(def.Rounds))
		for i, rd := range def.Rounds {
			names[i] = rd.Name
		}
		rcs, err := d.roundCounts(ctx, def.ID, names)
		if err != nil {
			return nil, err
		}
		o.RoundsTitle = "Participants per round"
		if def.Teams != nil {
			o.RoundsTitle = "Teams per round"
		}
		o.Rounds, o.RoundsKey = funnelChart(o.RoundsTitle, roundFunnel(def, o.Total, rcs)), funnelKeys
	}
	now := d.now()
	since := now.UTC().Truncate(24*time.Hour).AddDate(0, 0, -(chartDays - 1))
	days := dayRange(since, now)
	eds, dcs, err := d.chartData(ctx, def.ID, since)
	if err != nil {
		return nil, err
	}
	received, decided, wait := make([]float64, len(days)), make([]float64, len(days)), make([]float64, len(days))
	for _, e := range eds {
		if i := dayIndex(days, e.Day); i >= 0 {
			received[i], decided[i], wait[i] = float64(e.Received), float64(e.Decided), e.Wait.Seconds()
			o.Received += e.Received
			o.Decided += e.Decided
		}
	}
	es := []series{{"received", "#0b5cad", received}, {"decided", "#1a7f37", decided}}
	o.Entries, o.EntriesKey = dayChart("Entries per day", days, es, false, nil), legendOf(es)
	o.Turnaround = dayChart("Mean time to a verdict per day", days, []series{{"mean wait", "#8a5a00", wait}}, false,
		func(s float64) string { return waitedFor(time.Duration(s) * time.Second) })
	byKey := map[string][]float64{}
	for _, k := range []string{"sent", "delivered", "read", "failed"} {
		byKey[k] = make([]float64, len(days))
	}
	for _, dc := range dcs {
		i := dayIndex(days, dc.Day)
		key := dc.Key
		switch key {
		case "played":
			key = "read"
		case "cancelled":
			key = "failed"
		}
		if i < 0 || byKey[key] == nil {
			continue
		}
		byKey[key][i] += float64(dc.N)
		if key == "failed" {
			o.Failures += dc.N
		}
	}
	ss := []series{{"sent, no report", "#9fbfe6", byKey["sent"]}, {"delivered", "#1a7f37", byKey["delivered"]},
		{"read", "#0b5cad", byKey["read"]}, {"not delivered", "#b42318", byKey["failed"]}}
	o.Sent, o.SentKey = dayChart("Replies per day by how far they got", days, ss, true, nil), legendOf(ss)
	return o, nil
}

// participantSide is the panel beside a conversation: the participant's variables and
// entries, so a moderator answers knowing what they said and sent before.
type participantSide struct {
	Vars    [][2]string
	Entries []judge.Entry
	Channel string
	Joined  time.Time
}

// hiddenVars are the engine's own bookkeeping, shown elsewhere on the page or not at all.
var hiddenVars = map[string]bool{"handoff_at": true, "entry": true}

// sidePanel fills the panel for p and marks the conversation read by the user up to p's
// latest message.
func (d *Dashboard) sidePanel(c *fiber.Ctx, side *participantSide, p engine.Participant) error {
	ctx := c.UserContext()
	side.Channel, side.Joined = p.Channel, p.CreatedAt
	for _, k := range slices.Sorted(maps.Keys(p.Vars)) {
		if !hiddenVars[k] && !strings.HasPrefix(k, "run.") && p.Vars[k] != "" {
			side.Vars = append(side.Vars, [2]string{k, p.Vars[k]})
		}
	}
	if d.reports == nil {
		return nil
	}
	es, err := d.reports.ParticipantEntries(ctx, p.ID)
	if err != nil {
		return fmt.Errorf("dashboard: entries of %s: %w", p.ID, err)
	}
	side.Entries = es
	if p.LastInboundAt.IsZero() {
		return nil
	}
	// The open page polls itself every few seconds: it writes a mark only when the
	// participant wrote since the last one.
	user := currentUser(c).Username
	marks, err := d.reports.ReadMarks(ctx, user, []string{p.ID})
	if err != nil {
		return fmt.Errorf("dashboard: read mark of %s: %w", p.ID, err)
	}
	if seen, ok := marks[p.ID]; !ok || seen.Before(p.LastInboundAt) {
		if err := d.reports.MarkRead(ctx, user, p.ID, p.LastInboundAt); err != nil {
			return fmt.Errorf("dashboard: mark %s read: %w", p.ID, err)
		}
	}
	return nil
}

// The overview's per-day series are counted in parts. Counting the replies of 14 days reads
// every one of them (a few hundred thousand in a large campaign, a tenth of a second or
// more), but the days before yesterday hardly change any more: their entries came in and
// were decided on their day, and only the odd late read receipt moves a reply of theirs on.
// So today and yesterday are counted again after chartTTL, and of the older days the one
// counted longest ago, when that was closedTTL ago or more: a view counts at most three days.
// Only the first view of a campaign (after a start) counts all 14 days. The counts above the
// charts (participants per state, entries waiting) are read on every view, those per round
// every roundTTL.
const (
	chartTTL  = time.Minute
	closedTTL = 10 * time.Minute
	// liveDays are the days counted every chartTTL: today and yesterday.
	liveDays = 2
)

// chartCache keeps each campaign's per-day series, and its participants per round.
type chartCache struct {
	mu     sync.Mutex
	m      map[string]*chartSeries
	rounds map[string]roundsCounted
}

// roundTTL is how long the participants per round are reused. Counting them reads an index
// entry per participant who played a round (20,000 in the page benchmark, a third of the
// overview's time); a round moves a race on once a day or so, and a verdict a team at a time.
const roundTTL = 10 * time.Second

type roundsCounted struct {
	key    string
	at     time.Time
	counts []reports.RoundCount
}

// roundCounts counts a campaign's participants per round, from memory when they were
// counted less than roundTTL ago for the same rounds.
func (d *Dashboard) roundCounts(ctx context.Context, campaign string, rounds []string) ([]reports.RoundCount, error) {
	now, key := d.now(), strings.Join(rounds, "\x00")
	d.charts.mu.Lock()
	rc, ok := d.charts.rounds[campaign]
	d.charts.mu.Unlock()
	if ok && rc.key == key && fresh(rc.at, now, roundTTL) {
		return rc.counts, nil
	}
	counts, err := d.reports.RoundCounts(ctx, campaign, rounds)
	if err != nil {
		return nil, fmt.Errorf("dashboard: overview of %s: %w", campaign, err)
	}
	d.charts.mu.Lock()
	if d.charts.rounds == nil {
		d.charts.rounds = map[string]roundsCounted{}
	}
	d.charts.rounds[campaign] = roundsCounted{key: key, at: now, counts: counts}
	d.charts.mu.Unlock()
	return counts, nil
}

// chartSeries is a campaign's counts: each closed day's on its own, the live days' together.
// mu is held while they are counted, so the views of a campaign arriving meanwhile wait for
// those counts instead of counting too.
type chartSeries struct {
	mu           sync.Mutex
	closed       map[time.Time]dayCounts
	live, liveAt time.Time
	liveEntries  []reports.EntryDay
	liveReplies  []reports.DayCount
}

// dayCounts are one day's entries and replies, and when they were counted.
type dayCounts struct {
	entries []reports.EntryDay
	replies []reports.DayCount
	at      time.Time
}

// fresh reports whether a part counted at at is still good at now for ttl.
func fresh(at, now time.Time, ttl time.Duration) bool {
	return !at.IsZero() && !now.Before(at) && now.Sub(at) < ttl
}

// chartData returns the per-day series of a campaign since since, counting anew only the days
// whose time ran out.
func (d *Dashboard) chartData(ctx context.Context, campaign string, since time.Time) ([]reports.EntryDay, []reports.DayCount, error) {
	now := d.now()
	live := reports.Day(now).AddDate(0, 0, -(liveDays - 1))
	if live.Before(since) {
		live = since
	}
	d.charts.mu.Lock()
	if d.charts.m == nil {
		d.charts.m = map[string]*chartSeries{}
	}
	c := d.charts.m[campaign]
	if c == nil {
		c = &chartSeries{closed: map[time.Time]dayCounts{}}
		d.charts.m[campaign] = c
	}
	d.charts.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live.Equal(live) {
		c.liveAt = time.Time{} // a new day: the live days are others
	}
	for day := range c.closed {
		if day.Before(since) || !day.Before(live) {
			delete(c.closed, day)
		}
	}
	var missing, stalest time.Time
	for day := since; day.Before(live); day = day.AddDate(0, 0, 1) {
		dc, ok := c.closed[day]
		switch {
		case !ok:
			if missing.IsZero() {
				missing = day
			}
		case !fresh(dc.at, now, closedTTL) && (stalest.IsZero() || dc.at.Before(c.closed[stalest].at)):
			stalest = day
		}
	}
	switch {
	case !missing.IsZero():
		// The days from the first missing one on, today's included: the live days' count too.
		eds, dcs, err := d.countDays(ctx, campaign, missing, time.Time{})
		if err != nil {
			return nil, nil, err
		}
		for day := missing; day.Before(live); day = day.AddDate(0, 0, 1) {
			c.closed[day] = dayCounts{entries: onDay(eds, day, func(e reports.EntryDay) time.Time { return e.Day }),
				replies: onDay(dcs, day, func(dc reports.DayCount) time.Time { return dc.Day }), at: now}
		}
		c.liveEntries = slices.DeleteFunc(eds, func(e reports.EntryDay) bool { return e.Day.Before(live) })
		c.liveReplies = slices.DeleteFunc(dcs, func(dc reports.DayCount) bool { return dc.Day.Before(live) })
		c.live, c.liveAt = live, now
	case !stalest.IsZero():
		eds, dcs, err := d.countDays(ctx, campaign, stalest, stalest.AddDate(0, 0, 1))
		if err != nil {
			return nil, nil, err
		}
		c.closed[stalest] = dayCounts{entries: eds, replies: dcs, at: now}
	}
	if !fresh(c.liveAt, now, chartTTL) {
		eds, dcs, err := d.countDays(ctx, campaign, live, time.Time{})
		if err != nil {
			return nil, nil, err
		}
		c.live, c.liveAt, c.liveEntries, c.liveReplies = live, now, eds, dcs
	}
	var entries []reports.EntryDay
	var replies []reports.DayCount
	for day := since; day.Before(live); day = day.AddDate(0, 0, 1) {
		entries = append(entries, c.closed[day].entries...)
		replies = append(replies, c.closed[day].replies...)
	}
	return append(entries, c.liveEntries...), append(replies, c.liveReplies...), nil
}

// onDay keeps the counts of xs that are of day.
func onDay[T any](xs []T, day time.Time, dayOf func(T) time.Time) []T {
	var out []T
	for _, x := range xs {
		if dayOf(x).Equal(day) {
			out = append(out, x)
		}
	}
	return out
}

// countDays counts a campaign's entries and replies per day from since until until.
func (d *Dashboard) countDays(ctx context.Context, campaign string, since, until time.Time) ([]reports.EntryDay, []reports.DayCount, error) {
	eds, err := d.reports.EntryDays(ctx, campaign, since, until)
	if err != nil {
		return nil, nil, fmt.Errorf("dashboard: overview of %s: %w", campaign, err)
	}
	dcs, err := d.reports.DeliveryDays(ctx, campaign, since, until)
	if err != nil {
		return nil, nil, fmt.Errorf("dashboard: overview of %s: %w", campaign, err)
	}
	return eds, dcs, nil
}
