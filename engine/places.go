package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/errs"
)

// DefaultOutside is said when a shared location is farther from every place of the state than
// its radius, and the transition has no outside text.
const DefaultOutside = "That's not the place yet ({{distance}} m away). Get a little closer and share your location again."

// outsideTexts are DefaultOutside in the languages the engine has built-in texts in.
var outsideTexts = map[string]string{
	"en": DefaultOutside,
	"nl": "Dat is de plek nog niet ({{distance}} m ervandaan). Kom wat dichterbij en deel je locatie opnieuw.",
	"de": "Das ist noch nicht der Ort ({{distance}} m entfernt). Komm etwas näher und teile deinen Standort noch einmal.",
	"fr": "Ce n'est pas encore le bon endroit (à {{distance}} m). Approche-toi et partage à nouveau ta position.",
	"es": "Todavía no es el sitio (a {{distance}} m). Acércate un poco y vuelve a compartir tu ubicación.",
	"pt": "Ainda não é o lugar (a {{distance}} m). Chegue um pouco mais perto e partilhe a sua localização de novo.",
}

// builtInOutside is DefaultOutside in every language of def that has it, English standing in
// for the first language when it has none.
func builtInOutside(def *campaigns.Definition) campaigns.Text {
	text := campaigns.Text{}
	for _, l := range def.Languages {
		if s, ok := outsideTexts[campaigns.LanguageBase(l)]; ok {
			text[l] = s
		}
	}
	if first := lang(def); text[first] == "" {
		text[first] = DefaultOutside
	}
	return text
}

// varCode is the prefix of the variable that keeps the code a participant was handed from a
// pool of codes (code.vouchers): taking from the pool again gives them the same code, never a
// second one. No save can write it (a dot is not a variable name).
const varCode = "code."

// saveLocation keeps the shared location in {{lat}} and {{lng}} and, for a place with a
// centre, how far from it it was in {{distance}} (whole metres).
func (r *run) saveLocation(area *campaigns.Area) {
	loc := r.in.Location
	if loc == nil {
		return
	}
	r.p.Vars["lat"] = strconv.FormatFloat(loc.Latitude, 'f', -1, 64)
	r.p.Vars["lng"] = strconv.FormatFloat(loc.Longitude, 'f', -1, 64)
	if area != nil {
		r.p.Vars["distance"] = strconv.Itoa(int(math.Round(area.Distance(loc.Latitude, loc.Longitude))))
	}
}

// outside answers a shared location that no location transition of st takes: when st has
// places (a centre and radius), the participant hears the outside text of the nearest one and
// stays. It reports false when st has no place to be outside of.
func (r *run) outside(st *campaigns.State) bool {
	loc := r.in.Location
	if loc == nil {
		return false
	}
	var nearest *campaigns.Transition
	best := math.Inf(1)
	for _, t := range st.On {
		if t.Kind != campaigns.OnLocation || t.Area == nil {
			continue
		}
		if d := t.Area.Distance(loc.Latitude, loc.Longitude); d < best {
			nearest, best = t, d
		}
	}
	if nearest == nil {
		return false
	}
	r.saveLocation(nearest.Area)
	text := nearest.Outside
	if text.IsZero() {
		text = builtInOutside(r.def)
	}
	r.sayText(text)
	return true
}

// fallback is said to a message that matches none of st's transitions: st's own fallback, the
// campaign's, or the engine's.
func (r *run) fallback(st *campaigns.State) {
	text := st.Fallback
	if text.IsZero() {
		text = r.def.Fallback
	}
	if text.IsZero() {
		text = builtIn(r.def, func(t builtInText) string { return t.Fallback })
	}
	r.sayText(text)
}

// takeCode hands the participant the next code of a pool of codes, or the one they were
// handed before. It reports false when the pool has no code left for them.
func (r *run) takeCode(pool *campaigns.Pool) (bool, error) {
	p := r.p
	if c := p.Vars[varCode+pool.Name]; c != "" {
		p.Vars["code"] = c
		return true, nil
	}
	code, err := r.e.store.NextCode(r.ctx, r.def.ID, pool.Name)
	if errors.Is(err, errs.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("engine: next code of pool %s: %w", pool.Name, err)
	}
	r.step.Claims = append(r.step.Claims, CodeClaim{Campaign: r.def.ID, Pool: pool.Name, Code: code})
	p.Vars[varCode+pool.Name] = code
	p.Vars["code"] = code
	return true, nil
}

// codesLeft is {{places_left}} of a pool of codes: the codes not handed out, this step's
// counted as handed out.
func (r *run) codesLeft(name string) string {
	left, _, err := r.e.store.CodesLeft(r.ctx, r.def.ID, name)
	if err != nil {
		r.e.log.Warn("codes left", "campaign", r.def.ID, "pool", name, "err", err)
		return ""
	}
	for _, c := range r.step.Claims {
		if c.Pool == name {
			left--
		}
	}
	return strconv.Itoa(max(0, left))
}

// choiceTitle is the title of the button the participant tapped, as offered to them (in their
// language), or the text the tap came with when no button of their state has that id.
func (r *run) choiceTitle() string {
	for _, b := range r.def.Offered(r.p.State) {
		if b.ID == r.in.Choice {
			return r.render(b.Title.In(r.p.Vars["lang"], lang(r.def)))
		}
	}
	if r.in.Text != "" {
		return r.in.Text
	}
	return r.in.Choice
}

// loadCodes stores the codes of def's pools of codes (AddCodes keeps what is stored, so a
// restart or a new version adds only new codes). A pool whose codes file did not come with the
// definition (launched as bytes) must have its codes in the store already.
func (e *Engine) loadCodes(ctx context.Context, def *campaigns.Definition) error {
	for _, name := range sortedPools(def) {
		pool := def.Pools[name]
		if !pool.HasCodes() {
			continue
		}
		if pool.Codes == nil {
			_, total, err := e.store.CodesLeft(ctx, def.ID, name)
			if err != nil {
				return fmt.Errorf("codes of pool %s: %w", name, err)
			}
			if total == 0 {
				return fmt.Errorf("%w: pool %q takes its codes from %s, which did not come with the definition and none are stored: send the file with it (campaign launch does), write the codes in the definition (codes: [A1, B2]), or serve it from its file (campaign serve --campaigns)", errs.ErrInvalid, name, pool.CodesFile)
			}
			continue
		}
		n, err := e.store.AddCodes(ctx, def.ID, name, pool.Codes)
		if err != nil {
			return fmt.Errorf("codes of pool %s: %w", name, err)
		}
		if n > 0 {
			e.log.Info("codes loaded", "campaign", def.ID, "pool", name, "new", n, "in definition", len(pool.Codes))
		}
	}
	return nil
}

func sortedPools(def *campaigns.Definition) []string {
	names := make([]string, 0, len(def.Pools))
	for n := range def.Pools {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// AddCodes adds codes to a pool of codes of a loaded campaign (a rehearsal pre-filling a
// pool), after the ones it has; codes it has already are left alone. It returns how many were
// new.
func (e *Engine) AddCodes(ctx context.Context, campaign, pool string, codes []string) (int, error) {
	def, ok := e.Campaign(campaign)
	if !ok {
		return 0, fmt.Errorf("engine: add codes: campaign %s: %w", campaign, errs.ErrNotFound)
	}
	if !def.Pools[pool].HasCodes() {
		return 0, fmt.Errorf("engine: add codes: %w: campaign %s has no pool of codes %q", errs.ErrInvalid, campaign, pool)
	}
	n, err := e.store.AddCodes(ctx, campaign, pool, codes)
	if err != nil {
		return 0, fmt.Errorf("engine: add codes to %s/%s: %w", campaign, pool, err)
	}
	return n, nil
}

// CodesLeft returns how many codes of a pool of codes are not handed out yet, and how many it
// has, for the dashboard.
func (e *Engine) CodesLeft(ctx context.Context, campaign, pool string) (left, total int, err error) {
	left, total, err = e.store.CodesLeft(ctx, campaign, pool)
	if err != nil {
		return 0, 0, fmt.Errorf("engine: codes left in %s/%s: %w", campaign, pool, err)
	}
	return left, total, nil
}

// PlacesTaken returns how many places of a pool with a capacity are taken, for the dashboard.
func (e *Engine) PlacesTaken(ctx context.Context, campaign, pool string) (int, error) {
	n, err := e.store.PoolTaken(ctx, campaign, pool)
	if err != nil {
		return 0, fmt.Errorf("engine: places taken in %s/%s: %w", campaign, pool, err)
	}
	return n, nil
}
