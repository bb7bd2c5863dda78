package dashboard

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/accounts"
	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/judge"
)

// Scoring is what the score forms and the round rankings need; *judge.Service satisfies it
// (with its Scores set).
type Scoring interface {
	// Score records a judge's scores on an entry, replacing that judge's earlier ones;
	// errs.ErrInvalid for scores that do not fit the rubric, errs.ErrNotFound for an unknown
	// entry.
	Score(ctx context.Context, def *campaigns.Definition, c judge.Scorecard) error
	// Scorecards returns the scorecards of one entry.
	Scorecards(ctx context.Context, campaign, entryID string) ([]judge.Scorecard, error)
	// Rank ranks the participants of a round; errs.ErrInvalid when the round cannot be ranked.
	Rank(ctx context.Context, campaign, round string, def *campaigns.Definition) (judge.Ranking, error)
	// Advance advances the top n of a ranking and eliminates the rest, once per participant
	// and round; errs.ErrConflict while entries are unscored or when all were decided before.
	Advance(ctx context.Context, r judge.Ranking, n int, by string) (judge.Advanced, error)
}

var _ Scoring = (*judge.Service)(nil)

// scoreField is one criterion of the score form.
type scoreField struct {
	Index    int
	Name     string
	Weight   float64
	Value    string
	Min, Max int
}

// scoreView is the score form and the scores so far of an entry.
type scoreView struct {
	Fields []scoreField
	// Mine says the current user scored the entry before (the form then replaces it).
	Mine      bool
	Aggregate judge.Aggregate
	// LockAt is when the user's scores lock (zero: never, or not scored yet); Closed says
	// why the user cannot score the entry (off its panel, recused, locked), "" when they can.
	LockAt time.Time
	Closed string
	// Campaign links to the scores page.
	Campaign string
}

// entryScores builds the score form of an entry, or nil when its campaign has no rubric or
// scoring is not configured.
func (d *Dashboard) entryScores(ctx context.Context, e judge.Entry, user string) (*scoreView, error) {
	if d.scoring == nil || d.campaigns == nil {
		return nil, nil
	}
	ci, err := d.findCampaign(ctx, e.Campaign)
	if errors.Is(err, errs.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	r := ci.Def.Rubric
	if r == nil || len(r.Criteria) == 0 {
		return nil, nil
	}
	cards, err := d.scoring.Scorecards(ctx, e.Campaign, e.ID)
	if err != nil {
		return nil, fmt.Errorf("dashboard: scores of %s: %w", e.ID, err)
	}
	v := &scoreView{Aggregate: judge.Aggregated(r, cards), Campaign: e.Campaign}
	var mine map[string]int
	for _, c := range cards {
		if c.Judge == user {
			mine, v.Mine = c.Scores, true
			v.LockAt = judge.LockOf(ci.Def, c)
		}
	}
	if err := d.scoreClosed(ctx, ci.Def, e, user, v); err != nil {
		return nil, err
	}
	for i, cr := range r.Criteria {
		f := scoreField{Index: i, Name: cr.Name, Weight: cr.Weight, Min: r.ScaleMin, Max: r.ScaleMax}
		if s, ok := mine[cr.Name]; ok {
			f.Value = strconv.Itoa(s)
		}
		v.Fields = append(v.Fields, f)
	}
	return v, nil
}

// scoreClosed fills in v.Closed when user cannot score e: the same rules judge.Score applies,
// said before the form is filled in rather than after.
func (d *Dashboard) scoreClosed(ctx context.Context, def *campaigns.Definition, e judge.Entry, user string, v *scoreView) error {
	if d.judging != nil {
		ps, err := d.judging.PanelsOf(ctx, []string{e.ID})
		if err != nil {
			return fmt.Errorf("dashboard: panel of %s: %w", e.ID, err)
		}
		p := ps[e.ID]
		if r, ok := p.Recusal(user); ok {
			v.Closed = "You declared a conflict of interest with this entry, so you do not score it."
			if r.Kind == judge.RecuseAbstain {
				v.Closed = "You abstained from this entry, so you do not score it."
			}
			return nil
		}
		if judge.Panelled(def) && !p.Seated(user) {
			v.Closed = "You are not on this entry's panel; its judges are " + strings.Join(p.Judges(), ", ") + "."
			return nil
		}
	}
	if !v.LockAt.IsZero() && !d.now().Before(v.LockAt) {
		v.Closed = "Your scores locked at " + v.LockAt.UTC().Format("2006-01-02 15:04 UTC") + "; they stand as you gave them."
	}
	return nil
}

// scoreEntry handles the score form. Scores that do not fit the rubric are not an error page:
// the judge is sent back to the entry with a message saying what fits.
func (d *Dashboard) scoreEntry(c *fiber.Ctx) error {
	ctx := c.UserContext()
	id := strings.Clone(c.Params("id"))
	e, err := d.judge.Entry(ctx, id)
	if err != nil {
		return fmt.Errorf("dashboard: score entry %s: %w", id, err)
	}
	ci, err := d.findCampaign(ctx, e.Campaign)
	if err != nil {
		return err
	}
	r := ci.Def.Rubric
	if r == nil || len(r.Criteria) == 0 {
		return fmt.Errorf("dashboard: score entry %s: %w: the campaign has no rubric", id, errs.ErrInvalid)
	}
	back := "/dashboard/entries/" + e.ID
	bad := fmt.Sprintf("Give every criterion a whole number from %d to %d.", r.ScaleMin, r.ScaleMax)
	scores := make(map[string]int, len(r.Criteria))
	for i, cr := range r.Criteria {
		v, err := strconv.Atoi(strings.TrimSpace(c.FormValue("score-" + strconv.Itoa(i))))
		if err != nil {
			d.setFlash(c, flash{Message: bad, Error: true})
			return c.Redirect(back, fiber.StatusSeeOther)
		}
		scores[cr.Name] = v
	}
	err = d.scoring.Score(ctx, ci.Def, judge.Scorecard{EntryID: e.ID, Judge: currentUser(c).Username, Scores: scores, At: d.now()})
	var locked *judge.LockedError
	switch {
	case err == nil:
		d.setFlash(c, flash{Message: "Scores saved."})
	case errors.As(err, &locked):
		d.setFlash(c, flash{Message: "Not changed: your scores on this entry locked at " + locked.LockedAt.UTC().Format("15:04 UTC") + "; they stand as you gave them.", Error: true})
	case errors.Is(err, judge.ErrNotOnPanel):
		d.setFlash(c, flash{Message: "Not saved: you are not on this entry's panel. Entries are shared out among the panel's judges.", Error: true})
	case errors.Is(err, errs.ErrConflict):
		d.setFlash(c, flash{Message: "Not saved: you declared a conflict of interest with, or abstained from, this entry.", Error: true})
	case errors.Is(err, errs.ErrInvalid):
		d.setFlash(c, flash{Message: bad, Error: true})
	default:
		return fmt.Errorf("dashboard: score entry %s: %w", id, err)
	}
	return c.Redirect(back, fiber.StatusSeeOther)
}

// roundView is one round's ranking on the campaign page.
type roundView struct {
	Name string
	// Problem says why the round cannot be ranked, when it cannot.
	Problem string
	Ranking judge.Ranking
	// Advance is the number the "Advance top N" form starts with.
	Advance int
}

// rankings ranks every round of a campaign with a rubric.
func (d *Dashboard) rankings(ctx context.Context, def *campaigns.Definition) ([]roundView, error) {
	if d.scoring == nil || def.Rubric == nil || len(def.Rubric.Criteria) == 0 {
		return nil, nil
	}
	var out []roundView
	for _, rd := range def.Rounds {
		rk, err := d.scoring.Rank(ctx, def.ID, rd.Name, def)
		v := roundView{Name: rd.Name, Ranking: rk, Advance: rd.Advance}
		switch {
		case errors.Is(err, errs.ErrInvalid):
			v.Problem = "This round cannot be ranked: no state closes at its deadline, and it has no fixed start and deadline."
		case err != nil:
			return nil, fmt.Errorf("dashboard: rank round %s of %s: %w", rd.Name, def.ID, err)
		}
		if v.Advance <= 0 || v.Advance > len(rk.Rows) {
			v.Advance = max(1, len(rk.Rows))
		}
		out = append(out, v)
	}
	return out, nil
}

func mayAdvance(u *User) bool { return accounts.Can(u.Role, accounts.GiveVerdicts) }

// advanceRound advances the top N of a round's ranking and eliminates the others.
func (d *Dashboard) advanceRound(c *fiber.Ctx) error {
	u := currentUser(c)
	if !mayAdvance(u) {
		return fmt.Errorf("dashboard: %s may not decide a round: %w", u.Username, errForbidden)
	}
	ctx := c.UserContext()
	ci, err := d.findCampaign(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	round := strings.Clone(c.Params("round"))
	n, err := strconv.Atoi(strings.TrimSpace(c.FormValue("n")))
	if err != nil || n < 1 {
		return fmt.Errorf("dashboard: advance round %s: %w: n %q", round, errs.ErrInvalid, c.FormValue("n"))
	}
	back := "/dashboard/campaigns/" + ci.Def.ID
	rk, err := d.scoring.Rank(ctx, ci.Def.ID, round, ci.Def)
	if err != nil {
		return fmt.Errorf("dashboard: advance round %s: %w", round, err)
	}
	res, err := d.scoring.Advance(ctx, rk, n, u.Username)
	switch {
	case err == nil:
		msg := fmt.Sprintf("Round %s: %d advanced, %d eliminated.", round, len(res.Advanced), len(res.Eliminated))
		if res.Already > 0 {
			msg += fmt.Sprintf(" %d had their verdict already.", res.Already)
		}
		if len(res.Left) > 0 {
			msg += fmt.Sprintf(" %d opted out or finished and were left out.", len(res.Left))
		}
		d.setFlash(c, flash{Message: msg})
	case errors.Is(err, errs.ErrConflict) && rk.Unscored > 0:
		d.setFlash(c, flash{Message: fmt.Sprintf("Round %s: %s entries nobody scored yet; score them first.", round, count(rk.Unscored, "team has", "teams have")), Error: true})
	case errors.Is(err, errs.ErrConflict):
		d.setFlash(c, flash{Message: fmt.Sprintf("Round %s was decided already: nobody was advanced or eliminated twice.", round), Error: true})
	default:
		return fmt.Errorf("dashboard: advance round %s: %w", round, err)
	}
	return c.Redirect(back, fiber.StatusSeeOther)
}
