package dashboard

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/judge"
)

// Judging is what claims, panels, blind judging and the scores sheet need; *judge.Service
// satisfies it (with Leases, Panels and Scores set).
type Judging interface {
	// Claim gives the user the entry for a while, or renews their claim; a *judge.ClaimedError
	// when someone else holds it.
	Claim(ctx context.Context, campaign, entryID, user string) (judge.Lease, error)
	// Release gives the user's claim up.
	Release(ctx context.Context, campaign, entryID, user string) error
	// Claims returns who holds which of the entries.
	Claims(ctx context.Context, entryIDs []string) (map[string]judge.Lease, error)
	// Assign shares the entries out among the campaign's panel, when it has one.
	Assign(ctx context.Context, def *campaigns.Definition, entries []judge.Entry) (judge.Assigned, error)
	// PanelsOf returns the entries' panels.
	PanelsOf(ctx context.Context, entryIDs []string) (map[string]judge.Panel, error)
	// Recuse records a judge's conflict of interest or abstention (judge.RecuseConflict,
	// judge.RecuseAbstain).
	Recuse(ctx context.Context, def *campaigns.Definition, entryID, judgeName, kind, reason string) error
	// Sheet is a campaign's scores, raw and normalised.
	Sheet(ctx context.Context, def *campaigns.Definition) (judge.Sheet, error)
}

var _ Judging = (*judge.Service)(nil)

// entryJudging is what the judging blocks of the queue and the entry page show of an entry.
type entryJudging struct {
	EntryID string
	CSRF    string
	// Lease is the live claim on the entry, nil when nobody has it open; Mine says the viewer
	// holds it.
	Lease *judge.Lease
	Mine  bool
	// Blind says who sent the entry is hidden from the viewer.
	Blind bool
	// Panelled says the campaign shares entries out among a panel: Judges are its judges on
	// this entry, Seated says the viewer is one, Short that it lacks judges.
	Panelled bool
	Judges   []string
	Recusals []judge.Recusal
	Seated   bool
	// Recused is the viewer's own recusal on the entry, when they declared one.
	Recused *judge.Recusal
	Short   bool
}

// blindFor says entries of def are shown to u without who sent them: in a blind campaign,
// to the judges.
func blindFor(u *User, def *campaigns.Definition) bool {
	return u != nil && u.Role == RoleJudge && def != nil && def.Judging != nil && def.Judging.Blind
}

// hideSender takes out of an entry everything that says who sent it. The data is removed
// rather than the markup hidden, so no template (whatever its style) can show it.
func hideSender(it *entryItem) {
	it.ParticipantID = "hidden"
	it.Location = ""
}

// definitions looks campaigns up once per request.
type definitions struct {
	d     *Dashboard
	ctx   context.Context
	cache map[string]*campaigns.Definition
}

func (d *Dashboard) definitions(ctx context.Context) *definitions {
	return &definitions{d: d, ctx: ctx, cache: map[string]*campaigns.Definition{}}
}

// DefinitionLookup is implemented by a Campaigns that can hand out a campaign's definition
// without counting its participants (CampaignInfo's Counts): the queue needs only the
// definition of each campaign on the page, and counting on every page load costs a scan.
type DefinitionLookup interface {
	Definition(id string) (*campaigns.Definition, bool)
}

// of returns a campaign's definition; nil when it is not loaded or there are no campaigns.
func (ds *definitions) of(id string) (*campaigns.Definition, error) {
	if def, ok := ds.cache[id]; ok {
		return def, nil
	}
	var def *campaigns.Definition
	if dl, ok := ds.d.campaigns.(DefinitionLookup); ok {
		def, _ = dl.Definition(id)
	} else if ds.d.campaigns != nil {
		ci, err := ds.d.findCampaign(ds.ctx, id)
		switch {
		case errors.Is(err, errs.ErrNotFound):
		case err != nil:
			return nil, err
		default:
			def = ci.Def
		}
	}
	ds.cache[id] = def
	return def, nil
}

// judgeItems adds the claims, panels and blindness to the items of a page: it shares the
// items' entries out among their campaigns' panels first. A judge of a panelled campaign sees
// only the entries they are seated on.
func (d *Dashboard) judgeItems(ctx context.Context, u *User, csrf string, items []entryItem, mineOnly bool) ([]entryItem, error) {
	defs := d.definitions(ctx)
	ids := make([]string, len(items))
	byCampaign := map[string][]judge.Entry{}
	for i, it := range items {
		ids[i] = it.ID
		byCampaign[it.Campaign] = append(byCampaign[it.Campaign], it.Entry)
	}
	short := map[string]bool{}
	if d.judging != nil {
		for camp, es := range byCampaign {
			def, err := defs.of(camp)
			if err != nil {
				return nil, err
			}
			res, err := d.judging.Assign(ctx, def, es)
			if err != nil {
				return nil, fmt.Errorf("dashboard: assign judges: %w", err)
			}
			for _, id := range res.Short {
				short[id] = true
			}
		}
	}
	var (
		leases = map[string]judge.Lease{}
		panels = map[string]judge.Panel{}
		err    error
	)
	if d.judging != nil && len(ids) > 0 {
		if leases, err = d.judging.Claims(ctx, ids); err != nil {
			return nil, fmt.Errorf("dashboard: claims: %w", err)
		}
		if panels, err = d.judging.PanelsOf(ctx, ids); err != nil {
			return nil, fmt.Errorf("dashboard: panels: %w", err)
		}
	}
	out := items[:0]
	for _, it := range items {
		def, err := defs.of(it.Campaign)
		if err != nil {
			return nil, err
		}
		j := &entryJudging{EntryID: it.ID, CSRF: csrf, Blind: blindFor(u, def), Panelled: judge.Panelled(def), Short: short[it.ID]}
		if l, ok := leases[it.ID]; ok {
			j.Lease, j.Mine = &l, l.By == u.Username
		}
		p := panels[it.ID]
		j.Judges, j.Recusals, j.Seated = p.Judges(), p.Recusals, p.Seated(u.Username)
		if r, ok := p.Recusal(u.Username); ok {
			j.Recused = &r
		}
		if mineOnly && j.Panelled && u.Role == RoleJudge && !j.Seated {
			continue
		}
		if j.Blind {
			hideSender(&it)
		}
		it.Judging = j
		out = append(out, it)
	}
	return out, nil
}

// openEntry claims a pending entry for the user who opens it, and assigns its panel. A claim
// someone else holds is no error: the page says who has it.
func (d *Dashboard) openEntry(ctx context.Context, u *User, e judge.Entry) error {
	if d.judging == nil || e.Status != judge.StatusPending {
		return nil
	}
	_, err := d.judging.Claim(ctx, e.Campaign, e.ID, u.Username)
	if _, held := judge.Claimed(err); err != nil && !held {
		return fmt.Errorf("dashboard: claim entry %s: %w", e.ID, err)
	}
	return nil
}

// releaseEntry gives the user's claim on an entry up: it returns to the queue at once.
func (d *Dashboard) releaseEntry(c *fiber.Ctx) error {
	ctx := c.UserContext()
	id := strings.Clone(c.Params("id"))
	e, err := d.judge.Entry(ctx, id)
	if err != nil {
		return fmt.Errorf("dashboard: release entry %s: %w", id, err)
	}
	if err := d.judging.Release(ctx, e.Campaign, e.ID, currentUser(c).Username); err != nil {
		return fmt.Errorf("dashboard: release entry %s: %w", id, err)
	}
	d.setFlash(c, flash{Message: "Entry released: it is back in the queue for anyone."})
	return c.Redirect("/dashboard/entries", fiber.StatusSeeOther)
}

// recuse handles the conflict of interest and abstain forms of the entry page.
func (d *Dashboard) recuse(c *fiber.Ctx) error {
	ctx := c.UserContext()
	id := strings.Clone(c.Params("id"))
	kind := strings.Clone(c.FormValue("kind"))
	if kind != judge.RecuseConflict && kind != judge.RecuseAbstain {
		return fmt.Errorf("dashboard: recuse: %w: kind %q", errs.ErrInvalid, kind)
	}
	e, err := d.judge.Entry(ctx, id)
	if err != nil {
		return fmt.Errorf("dashboard: recuse from entry %s: %w", id, err)
	}
	ci, err := d.findCampaign(ctx, e.Campaign)
	if err != nil {
		return err
	}
	back := "/dashboard/entries/" + e.ID
	err = d.judging.Recuse(ctx, ci.Def, e.ID, currentUser(c).Username, kind, clip(c.FormValue("reason"), maxReasonLen))
	switch {
	case err == nil && kind == judge.RecuseConflict:
		d.setFlash(c, flash{Message: "Conflict of interest recorded. The entry went to another judge of the panel."})
		back = "/dashboard/entries"
	case err == nil:
		d.setFlash(c, flash{Message: "Abstention recorded: the entry's mean is over the judges who score it."})
	case errors.Is(err, errs.ErrConflict):
		d.setFlash(c, flash{Message: "Not recorded: you scored this entry or recused on it already.", Error: true})
	case errors.Is(err, errs.ErrInvalid):
		d.setFlash(c, flash{Message: "Not recorded: you are not on this entry's panel.", Error: true})
	default:
		return fmt.Errorf("dashboard: recuse from entry %s: %w", id, err)
	}
	return c.Redirect(back, fiber.StatusSeeOther)
}

// Decidable says the viewer may give the entry a verdict now: it is pending and nobody else
// has it open. The pages offer approve and reject only then; the server refuses the others
// anyway (a page loaded before the claim).
func (it entryItem) Decidable() bool {
	return it.Pending && (it.Judging == nil || it.Judging.Lease == nil || it.Judging.Mine)
}

func isClaimed(err error) bool {
	_, ok := judge.Claimed(err)
	return ok
}

// claimedMessage is the flash for an action refused because someone else has the entry open.
func claimedMessage(l judge.Lease) string {
	return fmt.Sprintf("Not decided: %s is judging this entry. It returns to the queue when they are done, or at %s when their claim runs out.",
		l.By, l.Until.UTC().Format("15:04 UTC"))
}

// blindGuard answers 403 to a judge opening a participant's page in a blind campaign: the
// page shows their name and number.
func (d *Dashboard) blindGuard(c *fiber.Ctx) error {
	rest, ok := strings.CutPrefix(c.Path(), "/dashboard/campaigns/")
	if !ok {
		return c.Next()
	}
	camp, rest, _ := strings.Cut(rest, "/")
	if !strings.HasPrefix(rest, "participants/") || currentUser(c) == nil || currentUser(c).Role != RoleJudge {
		return c.Next()
	}
	def, err := d.definitions(c.UserContext()).of(camp)
	if err != nil {
		return err
	}
	if blindFor(currentUser(c), def) {
		return fmt.Errorf("dashboard: blind campaign %s: a judge may not see who takes part: %w", camp, errForbidden)
	}
	return c.Next()
}

// scoresView is the scores page of a campaign.
type scoresView struct {
	Campaign CampaignInfo
	Sheet    judge.Sheet
	// Normalised says the sheet has a normalised column worth showing.
	Normalised bool
	Blind      bool
	Rule       string
}

// tieBreakRule is the published tie-break, as the scores page states it.
const tieBreakRule = "Ranked on the mean of the judges' weighted totals; on a tie, the mean on the first criterion; then the median judge; then a seeded draw anyone can recompute."

func (d *Dashboard) sheet(c *fiber.Ctx) (CampaignInfo, judge.Sheet, error) {
	ci, err := d.findCampaign(c.UserContext(), c.Params("id"))
	if err != nil {
		return ci, judge.Sheet{}, err
	}
	if ci.Def.Rubric == nil || len(ci.Def.Rubric.Criteria) == 0 {
		return ci, judge.Sheet{}, fmt.Errorf("dashboard: scores of %s: %w: no rubric", ci.Def.ID, errs.ErrNotFound)
	}
	sh, err := d.judging.Sheet(c.UserContext(), ci.Def)
	if err != nil {
		return ci, sh, fmt.Errorf("dashboard: scores of %s: %w", ci.Def.ID, err)
	}
	if blindFor(currentUser(c), ci.Def) {
		for i := range sh.Entries {
			sh.Entries[i].Entry.ParticipantID = "hidden"
			sh.Entries[i].Entry.Location = ""
		}
	}
	return ci, sh, nil
}

// scoresPage shows a campaign's scores: the entries ranked, and every judge's scorecard, raw
// and normalised side by side.
func (d *Dashboard) scoresPage(c *fiber.Ctx) error {
	ci, sh, err := d.sheet(c)
	if err != nil {
		return err
	}
	rule := tieBreakRule
	if sh.Method != campaigns.NormaliseNone {
		rule = "Ranked on the mean of the judges' normalised totals (" + sh.Method + ", per judge over the whole campaign); on a tie, the mean on the first criterion; then the median judge; then a seeded draw anyone can recompute."
	}
	return d.render(c, fiber.StatusOK, "scores", scoresView{Campaign: ci, Sheet: sh, Normalised: sh.Method != campaigns.NormaliseNone,
		Blind: blindFor(currentUser(c), ci.Def), Rule: rule})
}

// scoresCSV exports the scorecards, one row per judge and entry, raw and normalised side by
// side, with the entry's rank and means.
func (d *Dashboard) scoresCSV(c *fiber.Ctx) error {
	ci, sh, err := d.sheet(c)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+ci.Def.ID+`-scores.csv"`)
	w := csv.NewWriter(c.Response().BodyWriter())
	head := []string{"rank", "entry", "participant", "judge"}
	head = append(head, sh.Criteria...)
	head = append(head, "raw_total", "normalised_total", "normalisation", "entry_raw_mean", "entry_normalised_mean", "given_at", "changed_at")
	if err := w.Write(head); err != nil {
		return err
	}
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', 4, 64) }
	for _, e := range sh.Entries {
		for _, card := range sh.Cards {
			if card.EntryID != e.Entry.ID {
				continue
			}
			row := []string{strconv.Itoa(e.Rank), e.Entry.ID, e.Entry.ParticipantID, card.Judge}
			for _, v := range card.Scores {
				row = append(row, strconv.Itoa(v))
			}
			row = append(row, f(card.Raw), f(card.Normalised), sh.Method, f(e.Mean), f(e.Normalised),
				card.Scorecard.Given.UTC().Format(time.RFC3339), card.Scorecard.At.UTC().Format(time.RFC3339))
			if err := w.Write(csvSafe(row)); err != nil {
				return err
			}
		}
	}
	w.Flush()
	return w.Error()
}

// recusalsCSV exports the conflicts of interest and abstentions, with their reasons.
func (d *Dashboard) recusalsCSV(c *fiber.Ctx) error {
	ci, sh, err := d.sheet(c)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+ci.Def.ID+`-recusals.csv"`)
	w := csv.NewWriter(c.Response().BodyWriter())
	if err := w.Write([]string{"entry", "judge", "kind", "reason", "at"}); err != nil {
		return err
	}
	for _, r := range sh.Recusals {
		if err := w.Write(csvSafe([]string{r.EntryID, r.Judge, r.Kind, r.Reason, r.At.UTC().Format(time.RFC3339)})); err != nil {
			return err
		}
	}
	w.Flush()
	return w.Error()
}

// csvSafe keeps a spreadsheet from running a cell as a formula: judges' names and ids come
// from people.
func csvSafe(row []string) []string {
	for i, v := range row {
		if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				row[i] = "'" + v
			}
		}
	}
	return row
}
