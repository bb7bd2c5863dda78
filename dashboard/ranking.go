package dashboard

import (
	"context"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/accounts"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/judge"
)

// Ranking is what the ranking page needs: the campaign's participants ranked on its ranking's
// variable. *engine.Engine satisfies it.
type Ranking interface {
	// Ranking fails with errs.ErrNotFound for a campaign not loaded, errs.ErrInvalid for one
	// without a ranking.
	Ranking(ctx context.Context, campaign string) ([]engine.Ranked, error)
}

// Winners gives the top of a ranking the verdict winner; *judge.Service satisfies it.
type Winners interface {
	// PickWinners names the top (ties at the boundary included) winner, each once.
	PickWinners(ctx context.Context, campaign string, ranked []engine.Ranked, top int, by string) (judge.Crowned, error)
}

var (
	_ Ranking = (*engine.Engine)(nil)
	_ Winners = (*judge.Service)(nil)
)

// maxRankingRows bounds the rows the ranking page shows; the winners are always among them.
const maxRankingRows = 500

// rankingRow is one row of the ranking page.
type rankingRow struct {
	engine.Ranked
	// Wins says the row is in the top (as engine.Winners counts it).
	Wins bool
}

// rankingPage shows a campaign's ranking, its rule in words, and to admins the button that
// names the top winners.
func (d *Dashboard) rankingPage(c *fiber.Ctx) error {
	ctx := c.UserContext()
	ci, err := d.findCampaign(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	rk := ci.Def.Ranking
	if rk == nil {
		return fmt.Errorf("dashboard: ranking of %s: %w: the campaign has no ranking", ci.Def.ID, errs.ErrNotFound)
	}
	ranked, err := d.ranking.Ranking(ctx, ci.Def.ID)
	if err != nil {
		return fmt.Errorf("dashboard: ranking of %s: %w", ci.Def.ID, err)
	}
	var winners []engine.Ranked
	if rk.Top > 0 {
		winners = engine.Winners(ranked, rk.Top)
	}
	rows := make([]rankingRow, 0, min(len(ranked), maxRankingRows))
	for i, r := range ranked {
		if i >= maxRankingRows && i >= len(winners) {
			break
		}
		rows = append(rows, rankingRow{Ranked: r, Wins: i < len(winners)})
	}
	// tie says, before the button is pressed, that ranks shared at the boundary make more
	// winners than the top.
	tie := ""
	if n := len(winners); n > rk.Top {
		last := winners[n-1].Rank
		shared := 0
		for _, w := range winners {
			if w.Rank == last {
				shared++
			}
		}
		tie = fmt.Sprintf("%d participants share rank %d, so all of them win: %d winners for a top %d.", shared, last, n, rk.Top)
	}
	var ended, playing []string
	for _, w := range winners {
		switch {
		case w.Winner:
		case w.Finished:
			ended = append(ended, rankedName(w))
		case w.Unanswered != "":
			playing = append(playing, rankedName(w))
		}
	}
	u := currentUser(c)
	return d.render(c, fiber.StatusOK, "ranking", map[string]any{
		"Campaign": ci, "Ranking": rk, "Rule": rk.Rule(), "Rows": rows, "More": len(ranked) - len(rows),
		"Count": len(ranked), "Winners": len(winners), "Tie": tie, "Ended": strings.Join(ended, ", "),
		"Playing":      strings.Join(playing, ", "),
		"MayPick":      accounts.Can(u.Role, accounts.RunCampaigns) && rk.Top > 0 && d.winners != nil && len(winners) > 0,
		"Participants": d.conversations != nil && accounts.Can(u.Role, accounts.ReadConversations),
	})
}

// pickWinners names the top of the ranking winner, through the verdict path: each winner's
// verdict: winner transition moves them on and announces it.
func (d *Dashboard) pickWinners(c *fiber.Ctx) error {
	u := currentUser(c)
	if u.Role != RoleAdmin {
		return fmt.Errorf("dashboard: %s may not pick winners: %w", u.Username, errForbidden)
	}
	ctx := c.UserContext()
	ci, err := d.findCampaign(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	rk := ci.Def.Ranking
	if rk == nil || rk.Top < 1 {
		return fmt.Errorf("dashboard: pick winners of %s: %w: the campaign's ranking has no top", ci.Def.ID, errs.ErrInvalid)
	}
	back := "/dashboard/campaigns/" + ci.Def.ID + "/ranking"
	ranked, err := d.ranking.Ranking(ctx, ci.Def.ID)
	if err != nil {
		return fmt.Errorf("dashboard: pick winners of %s: %w", ci.Def.ID, err)
	}
	if len(ranked) == 0 {
		d.setFlash(c, flash{Message: "Nobody is ranked yet: there is nobody to name winner.", Error: true})
		return c.Redirect(back, fiber.StatusSeeOther)
	}
	got, err := d.winners.PickWinners(ctx, ci.Def.ID, ranked, rk.Top, u.Username)
	if err != nil {
		return fmt.Errorf("dashboard: pick winners of %s: %w", ci.Def.ID, err)
	}
	var msg []string
	if len(got.Named) > 0 {
		msg = append(msg, fmt.Sprintf("Named %s: %s.", count(len(got.Named), "winner", "winners"), rankedNames(got.Named)))
	} else {
		msg = append(msg, "Nobody new was named winner.")
	}
	if len(got.Already) > 0 {
		msg = append(msg, fmt.Sprintf("%s named before: %s.", count(len(got.Already), "winner was", "winners were"), rankedNames(got.Already)))
	}
	if len(got.Refused) > 0 {
		var rs []engine.Ranked
		for _, r := range got.Refused {
			rs = append(rs, r.Ranked)
		}
		msg = append(msg, fmt.Sprintf("No verdict reaches %s (%s): tell them another way.", rankedNames(rs), got.Refused[0].Reason))
	}
	if len(got.Waiting) > 0 {
		msg = append(msg, fmt.Sprintf("Not named yet, still playing: %s; pick again once they wait for the verdict.", rankedNames(got.Waiting)))
	}
	d.setFlash(c, flash{Message: strings.Join(msg, " "), Error: len(got.Refused) > 0})
	return c.Redirect(back, fiber.StatusSeeOther)
}

// rankedName is how the pages name a ranked participant: the name they gave, else the start
// of their id (never their phone number).
func rankedName(r engine.Ranked) string {
	if r.Name != "" {
		return r.Name
	}
	if len(r.ParticipantID) > 8 {
		return r.ParticipantID[:8]
	}
	return r.ParticipantID
}

// maxFlashNames bounds the names a message lists: it travels in a cookie.
const maxFlashNames = 10

func rankedNames(rs []engine.Ranked) string {
	var names []string
	for i, r := range rs {
		if i == maxFlashNames {
			names = append(names, fmt.Sprintf("and %d more", len(rs)-i))
			break
		}
		names = append(names, clip(rankedName(r), 40))
	}
	return strings.Join(names, ", ")
}
