package dashboard

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/judge"
	"github.com/chatcampaigns/campaign/reports"
)

// Reports is what the inbox, the participants lists, the campaign overview's charts, the
// broadcast history, the delivery monitor per channel and the exports read; store/sqlite and
// store/mongo satisfy it.
type Reports interface {
	// Conversations lists conversations matching f, most recently active first, one page.
	Conversations(ctx context.Context, f reports.ConversationFilter) ([]reports.Conversation, error)
	// MarkRead records that user has read a conversation up to seen; marks never move back.
	MarkRead(ctx context.Context, user, participantID string, seen time.Time) error
	ReadMarks(ctx context.Context, user string, ids []string) (map[string]time.Time, error)
	SaveBroadcast(ctx context.Context, b reports.Broadcast) error
	// Broadcasts lists a campaign's broadcasts, newest first.
	Broadcasts(ctx context.Context, campaign string, limit int) ([]reports.Broadcast, error)
	// Broadcast returns one broadcast of the history, or an error wrapping errs.ErrNotFound.
	Broadcast(ctx context.Context, id string) (reports.Broadcast, error)
	// BroadcastRecipients lists a broadcast's replies in queue order, the page after id after.
	BroadcastRecipients(ctx context.Context, id string, after int64, limit int) ([]engine.Outbound, error)
	DeliveryByChannel(ctx context.Context, campaign string) (map[string]map[string]int, error)
	// DeliveryDays and EntryDays count per UTC day from since until until (no end when zero).
	DeliveryDays(ctx context.Context, campaign string, since, until time.Time) ([]reports.DayCount, error)
	EntryDays(ctx context.Context, campaign string, since, until time.Time) ([]reports.EntryDay, error)
	EachParticipant(ctx context.Context, campaign string, fn func(engine.Participant) error) error
	EachEntry(ctx context.Context, campaign string, fn func(judge.Entry) error) error
	EachScore(ctx context.Context, campaign string, fn func(reports.ScoreRow) error) error
	// ParticipantEntries lists a participant's entries, oldest first.
	ParticipantEntries(ctx context.Context, participantID string) ([]judge.Entry, error)
	// Assign assigns a conversation to a user, or to nobody (User ""); errs.ErrNotFound for
	// an unknown participant. Assignment says whom (a zero User: nobody).
	Assign(ctx context.Context, a reports.Assignment) error
	Assignment(ctx context.Context, participantID string) (reports.Assignment, error)
	// RoundCounts counts a campaign's participants by the last round that started for them,
	// for each of rounds.
	RoundCounts(ctx context.Context, campaign string, rounds []string) ([]reports.RoundCount, error)
}

// morePages are the pages of the inbox, the participants lists and the broadcast history.
var morePages = []string{"inbox", "participants", "broadcasts"}

// chartDays is how far back the overview's charts look.
const chartDays = 14

// mountPages adds the inbox, the participants lists, the broadcast history and the exports.
func (d *Dashboard) mountPages(a guarded) {
	if d.reports == nil || d.campaigns == nil {
		return
	}
	a.Get("/inbox", d.inboxPage)
	a.Get("/campaigns/:id/participants", d.participantsPage)
	a.Get("/campaigns/:id/broadcasts", d.broadcastsPage)
	a.Get("/campaigns/:id/export/:what", d.export)
	if d.conversations != nil {
		a.Post("/campaigns/:id/participants/:pid/assign", d.assign)
	}
}

// whoOf is how a participant is named in lists: their team's or their own name, else the
// start of their id (never their phone number).
func whoOf(p engine.Participant) string {
	if v := p.Vars["team"]; v != "" {
		return v
	}
	if v := p.Vars["name"]; v != "" {
		return v
	}
	return "participant " + shortID(p.ID)
}

// cursorParam writes a list position for a "next page" link; parseCursor reads it back.
func cursorParam(c reports.Cursor) string {
	return strconv.FormatInt(c.At.UnixNano(), 10) + "." + c.ID
}

func parseCursor(s string) (reports.Cursor, error) {
	if s == "" {
		return reports.Cursor{}, nil
	}
	n, id, ok := strings.Cut(s, ".")
	at, err := strconv.ParseInt(n, 10, 64)
	if !ok || err != nil || id == "" {
		return reports.Cursor{}, fmt.Errorf("dashboard: page position %q: %w", s, errs.ErrInvalid)
	}
	return reports.Cursor{At: time.Unix(0, at).UTC(), ID: strings.Clone(id)}, nil
}

// inboxRow is one conversation of the inbox.
type inboxRow struct {
	Campaign, CampaignTitle, ParticipantID, Who, State, Channel, Team string
	Assignee                                                          string
	Last                                                              engine.Line
	LastAt                                                            time.Time
	Unread, Finished                                                  bool
}

// inboxPage lists the conversations of every campaign, most recently active first, with
// filters (campaign, state, team, waiting for a human, the user's own teams) and a search.
// A conversation is unread for the user when its participant wrote after the user last
// opened it.
func (d *Dashboard) inboxPage(c *fiber.Ctx) error {
	ctx := c.UserContext()
	u := currentUser(c)
	list, err := d.campaigns.CampaignList(ctx)
	if err != nil {
		return fmt.Errorf("dashboard: inbox: %w", err)
	}
	titles := map[string]string{}
	var teams, states []string
	var ids []string
	for _, ci := range list {
		titles[ci.Def.ID] = ci.Def.Title
		ids = append(ids, ci.Def.ID)
		for _, name := range ci.Def.Order {
			if t := ci.Def.States[name].Handoff; t != "" && !slices.Contains(teams, t) {
				teams = append(teams, t)
			}
		}
	}
	slices.Sort(ids)
	slices.Sort(teams)
	f := reports.ConversationFilter{
		Campaign: strings.Clone(c.Query("campaign")), State: strings.Clone(c.Query("state")),
		Team: strings.Clone(c.Query("team")), Waiting: c.Query("waiting") == "1",
		Search: strings.TrimSpace(strings.Clone(c.Query("q"))),
	}
	if f.Campaign != "" {
		if _, ok := titles[f.Campaign]; !ok {
			return fmt.Errorf("dashboard: inbox: campaign %q: %w", f.Campaign, errs.ErrNotFound)
		}
		for _, ci := range list {
			if ci.Def.ID == f.Campaign {
				states = ci.Def.Order
			}
		}
	} else {
		f.State = "" // a state is a campaign's own
	}
	assigned := strings.Clone(c.Query("assigned"))
	switch {
	case assigned == "":
	case assigned == "me":
		f.Assignee = u.Username
	case assigned == "nobody":
		f.Unassigned = true
	case strings.HasPrefix(assigned, "@") && len(assigned) > 1:
		f.Assignee = assigned[1:]
	default:
		return fmt.Errorf("dashboard: inbox: assigned %q (me, nobody or @USER): %w", assigned, errs.ErrInvalid)
	}
	assignees, err := d.assignees(ctx, f.Campaign, u)
	if err != nil {
		return err
	}
	mine := c.Query("mine") == "1" && len(u.Teams) > 0
	if mine && f.Team == "" {
		if len(u.Teams) == 1 {
			f.Team = u.Teams[0]
		} else {
			f.Waiting = true
		}
	}
	if f.Before, err = parseCursor(c.Query("before")); err != nil {
		return err
	}
	rows, next, err := d.inboxRows(ctx, f, u, mine)
	if err != nil {
		return err
	}
	marks, err := d.reports.ReadMarks(ctx, u.Username, texts(rows, func(r inboxRow) string { return r.ParticipantID }))
	if err != nil {
		return fmt.Errorf("dashboard: inbox: %w", err)
	}
	unread := 0
	for i := range rows {
		rows[i].CampaignTitle = titles[rows[i].Campaign]
		seen, ok := marks[rows[i].ParticipantID]
		rows[i].Unread = !rows[i].LastAt.IsZero() && (!ok || rows[i].LastAt.After(seen))
		if rows[i].Unread {
			unread++
		}
	}
	q := url.Values{}
	for k, v := range map[string]string{"campaign": f.Campaign, "state": c.Query("state"), "team": c.Query("team"), "q": f.Search, "assigned": assigned} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if c.Query("waiting") == "1" {
		q.Set("waiting", "1")
	}
	if mine {
		q.Set("mine", "1")
	}
	self := "/dashboard/inbox"
	if len(q) > 0 {
		self += "?" + q.Encode()
	}
	nextLink := ""
	if next != nil {
		q.Set("before", cursorParam(*next))
		nextLink = "/dashboard/inbox?" + q.Encode()
	}
	return d.render(c, fiber.StatusOK, "inbox", map[string]any{
		"Rows": rows, "Filter": f, "Campaigns": ids, "Titles": titles, "States": states, "Teams": teams,
		"MyTeams": u.Teams, "Mine": mine, "Next": nextLink, "First": f.Before.IsZero(), "Self": self,
		"Unread": unread, "Window": reports.SearchWindow, "Assigned": assigned, "Assignees": assignees,
		"Filtered": f.Campaign != "" || f.Team != "" || f.Waiting || f.Search != "" || mine || assigned != "",
	})
}

// inboxRows reads one page of the inbox, and the position of the next page (nil: the last).
// With several teams of the user's own it reads the conversations waiting for any team and
// keeps the user's, a few pages at most.
func (d *Dashboard) inboxRows(ctx context.Context, f reports.ConversationFilter, u *User, mine bool) ([]inboxRow, *reports.Cursor, error) {
	limit := f.PageSize()
	var rows []inboxRow
	var next *reports.Cursor
	for range 5 {
		f.Limit = limit
		cs, err := d.reports.Conversations(ctx, f)
		if err != nil {
			return nil, nil, fmt.Errorf("dashboard: inbox: %w", err)
		}
		for _, cv := range cs {
			p := cv.Participant
			if mine && f.Team == "" && !slices.Contains(u.Teams, p.Vars["handoff"]) {
				continue
			}
			rows = append(rows, inboxRow{Campaign: p.Campaign, ParticipantID: p.ID, Who: whoOf(p), State: p.State,
				Channel: p.Channel, Team: p.Vars["handoff"], Assignee: cv.Assignee, Last: cv.Last, LastAt: p.LastInboundAt, Finished: p.Finished})
		}
		if len(cs) < limit {
			return rows, nil, nil
		}
		cur := reports.CursorOf(cs[len(cs)-1].Participant)
		next, f.Before = &cur, cur
		if len(rows) >= limit/2 {
			break
		}
	}
	return rows, next, nil
}

func texts[T any](xs []T, fn func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = fn(x)
	}
	return out
}

// participantsPage lists a campaign's participants, those in one state when state is given,
// most recently active first, a page at a time: what a box of the flow diagram links to.
func (d *Dashboard) participantsPage(c *fiber.Ctx) error {
	ctx := c.UserContext()
	ci, err := d.findCampaign(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	state := strings.Clone(c.Query("state"))
	if state != "" && ci.Def.States[state] == nil && state != engine.StateOptedOut && state != engine.StateConsent && state != engine.StateDeclined {
		return fmt.Errorf("dashboard: participants of %s: state %q: %w", ci.Def.ID, state, errs.ErrNotFound)
	}
	f := reports.ConversationFilter{Campaign: ci.Def.ID, State: state}
	if f.Before, err = parseCursor(c.Query("before")); err != nil {
		return err
	}
	cs, err := d.reports.Conversations(ctx, f)
	if err != nil {
		return fmt.Errorf("dashboard: participants of %s: %w", ci.Def.ID, err)
	}
	vars := broadcastFormOf(ci.Def).Vars
	type row struct {
		ID, Who, State, Channel string
		Joined, LastWrote       time.Time
		Finished                bool
		Vars                    []string
	}
	var rows []row
	for _, cv := range cs {
		p := cv.Participant
		r := row{ID: p.ID, Who: whoOf(p), State: p.State, Channel: p.Channel, Joined: p.CreatedAt, LastWrote: p.LastInboundAt, Finished: p.Finished}
		for _, v := range vars {
			r.Vars = append(r.Vars, p.Vars[v])
		}
		rows = append(rows, r)
	}
	next := ""
	if len(cs) == f.PageSize() {
		q := url.Values{"before": {cursorParam(reports.CursorOf(cs[len(cs)-1].Participant))}}
		if state != "" {
			q.Set("state", state)
		}
		next = "/dashboard/campaigns/" + ci.Def.ID + "/participants?" + q.Encode()
	}
	total := 0
	for _, n := range ci.Counts {
		total += n
	}
	n := total
	if state != "" {
		n = ci.Counts[state]
	}
	return d.render(c, fiber.StatusOK, "participants", map[string]any{
		"Campaign": ci, "State": state, "States": ci.Def.Order, "Rows": rows, "Vars": vars, "Next": next,
		"Count": n, "First": f.Before.IsZero(), "Conversations": d.conversations != nil, "Export": currentUser(c).Role == RoleAdmin,
	})
}

// broadcastsPage is a campaign's broadcast history with each one's progress.
func (d *Dashboard) broadcastsPage(c *fiber.Ctx) error {
	ctx := c.UserContext()
	ci, err := d.findCampaign(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	bs, err := d.reports.Broadcasts(ctx, ci.Def.ID, 100)
	if err != nil {
		return fmt.Errorf("dashboard: broadcasts of %s: %w", ci.Def.ID, err)
	}
	type row struct {
		reports.Broadcast
		Audience string
		Report   engine.BroadcastReport
		Percent  int
	}
	var rows []row
	for _, b := range bs {
		r := row{Broadcast: b, Audience: reports.AudienceText(b.Audience)}
		if d.broadcaster != nil {
			rep, err := d.broadcaster.BroadcastReport(ctx, b.ID)
			if err != nil && !errors.Is(err, errs.ErrNotFound) {
				return fmt.Errorf("dashboard: broadcast %s: %w", b.ID, err)
			}
			r.Report = rep
			if rep.Total > 0 {
				r.Percent = (rep.Total - rep.Pending) * 100 / rep.Total
			}
		}
		rows = append(rows, r)
	}
	return d.render(c, fiber.StatusOK, "broadcasts", map[string]any{"Campaign": ci, "Rows": rows, "Admin": currentUser(c).Role == RoleAdmin && d.broadcaster != nil})
}
