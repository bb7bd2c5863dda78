package dashboard

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/engine"
)

// Queue lists the conversations a human has: the participants handed off to a team (a
// state's `handoff: NAME`) and not handed back, longest waiting first. *engine.Engine
// satisfies it.
type Queue interface {
	HandedOff(ctx context.Context) ([]engine.Participant, error)
}

var _ Queue = (*engine.Engine)(nil)

// teamQueue is one team's waiting conversations, oldest first.
type teamQueue struct {
	Team string
	Mine bool
	Rows []queueRow
}

type queueRow struct {
	Campaign, CampaignTitle, ParticipantID, Who, State string
	Since, LastWrote                                   time.Time
	Waited                                             string
}

// conversationsPage shows the team queues. A user in teams sees their own teams' queues,
// and how many wait in the others (all=1 shows those too); admins, and users in no team,
// see every queue. The user's own teams come first either way.
func (d *Dashboard) conversationsPage(c *fiber.Ctx) error {
	ctx := c.UserContext()
	ps, err := d.queue.HandedOff(ctx)
	if err != nil {
		return fmt.Errorf("dashboard: team queues: %w", err)
	}
	u := currentUser(c)
	titles := map[string]string{}
	var teams []string // every team a campaign hands off to, so an empty queue shows as empty
	if list, err := d.campaigns.CampaignList(ctx); err == nil {
		for _, ci := range list {
			titles[ci.Def.ID] = ci.Def.Title
			for _, name := range ci.Def.Order {
				if t := ci.Def.States[name].Handoff; t != "" && !slices.Contains(teams, t) {
					teams = append(teams, t)
				}
			}
		}
	} else {
		return fmt.Errorf("dashboard: team queues: %w", err)
	}
	byTeam := map[string][]queueRow{}
	now := d.now()
	for _, p := range ps {
		if !u.SeesCampaign(p.Campaign) {
			continue
		}
		team := p.Vars["handoff"]
		if !slices.Contains(teams, team) {
			teams = append(teams, team)
		}
		since := engine.HandedOffAt(p)
		who := p.Vars["name"]
		if v := p.Vars["team"]; v != "" {
			who = v
		}
		if who == "" {
			who = "participant " + shortID(p.ID)
		}
		title := titles[p.Campaign]
		if title == "" {
			title = p.Campaign
		}
		byTeam[team] = append(byTeam[team], queueRow{Campaign: p.Campaign, CampaignTitle: title, ParticipantID: p.ID,
			Who: who, State: p.State, Since: since, LastWrote: p.LastInboundAt, Waited: waitedFor(now.Sub(since))})
	}
	slices.Sort(teams)
	// The user's own teams first, then the others by name.
	slices.SortStableFunc(teams, func(a, b string) int {
		ma, mb := slices.Contains(u.Teams, a), slices.Contains(u.Teams, b)
		switch {
		case ma && !mb:
			return -1
		case mb && !ma:
			return 1
		}
		return 0
	})
	all := u.Role == RoleAdmin || len(u.Teams) == 0 || c.Query("all") == "1"
	var queues []teamQueue
	hidden := 0
	for _, t := range teams {
		mine := slices.Contains(u.Teams, t)
		if !mine && !all {
			hidden += len(byTeam[t])
			continue
		}
		queues = append(queues, teamQueue{Team: t, Mine: mine, Rows: byTeam[t]})
	}
	return d.render(c, fiber.StatusOK, "conversations", map[string]any{
		"Queues": queues, "Hidden": hidden, "HiddenText": count(hidden, "more conversation waits", "more conversations wait"),
		"Teams": u.Teams,
	})
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// waitedFor writes a wait the way a desk says it: 45m, 2h0m, 3d4h.
func waitedFor(d time.Duration) string {
	if d < time.Minute {
		return "under a minute"
	}
	d = d.Truncate(time.Minute)
	if d >= 24*time.Hour {
		days := d / (24 * time.Hour)
		return fmt.Sprintf("%dd%dh", days, (d-days*24*time.Hour)/time.Hour)
	}
	h := d / time.Hour
	if h == 0 {
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return fmt.Sprintf("%dh%dm", h, (d-h*time.Hour)/time.Minute)
}
