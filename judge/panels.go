package judge

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/errs"
)

// Seat is one judge's place on an entry's panel. Seats are numbered from 0 in the order they
// were given and never taken back: a judge who declares a conflict keeps the seat, marked by
// the recusal, and the entry gets a new seat for the judge who replaces them. Numbered seats
// let two processes assigning at once agree: only one can take seat N.
type Seat struct {
	Campaign string
	EntryID  string
	N        int
	Judge    string
	At       time.Time
}

// The kinds of recusal.
const (
	// RecuseConflict is a declared conflict of interest: the judge is replaced on the panel.
	RecuseConflict = "conflict"
	// RecuseAbstain is an abstention: the judge keeps the seat and gives no score, so the
	// entry's mean is over the judges who scored.
	RecuseAbstain = "abstain"
)

// Recusal is a judge's declared conflict of interest with, or abstention from, one entry.
type Recusal struct {
	Campaign string
	EntryID  string
	Judge    string
	Kind     string
	Reason   string
	At       time.Time
}

// Panel is an entry's seats and recusals.
type Panel struct {
	Seats    []Seat
	Recusals []Recusal
}

// Recusal returns the judge's recusal on the entry, if they declared one.
func (p Panel) Recusal(judge string) (Recusal, bool) {
	for _, r := range p.Recusals {
		if r.Judge == judge {
			return r, true
		}
	}
	return Recusal{}, false
}

// Seated says the judge has a seat on the panel and no conflict with the entry.
func (p Panel) Seated(judge string) bool {
	r, ok := p.Recusal(judge)
	if ok && r.Kind == RecuseConflict {
		return false
	}
	return slices.ContainsFunc(p.Seats, func(s Seat) bool { return s.Judge == judge })
}

// Judges are the panel's judges without a conflict, in seat order.
func (p Panel) Judges() []string {
	var out []string
	for _, s := range p.Seats {
		if p.Seated(s.Judge) {
			out = append(out, s.Judge)
		}
	}
	return out
}

// Panels is what panels need from persistence.
type Panels interface {
	// Panels returns the seats (by number) and recusals of entries, by entry id; an entry
	// without either is absent.
	Panels(ctx context.Context, entryIDs []string) (map[string]Panel, error)
	// AddSeat stores s. It fails with errs.ErrConflict, storing nothing, when seat s.N of the
	// entry is taken or s.Judge has a seat on the entry already.
	AddSeat(ctx context.Context, s Seat) error
	// Recuse stores r. It fails with errs.ErrConflict when r.Judge recused on the entry before.
	Recuse(ctx context.Context, r Recusal) error
	// Loads counts, for each of judges, their seats on the campaign's entries, leaving out
	// those they declared a conflict on. A judge with none is 0.
	Loads(ctx context.Context, campaign string, judges []string) (map[string]int, error)
}

// Assigned is what Assign did.
type Assigned struct {
	// Seated counts the seats given.
	Seated int
	// Short lists the entries that have fewer judges than the definition asks, because every
	// judge of the panel sits on them or recused.
	Short []string
}

// Panelled says def shares its entries out among a panel of judges.
func Panelled(def *campaigns.Definition) bool {
	return def != nil && def.Judging != nil && def.Judging.PerEntry > 0 && len(def.Judging.Judges) > 0
}

// Assign gives each of entries (those of def's campaign that are not rejected) the judges it
// lacks, up to def's per_entry: each seat goes to the judge of the panel with the fewest seats
// in the campaign so far (ties: the judge listed first), never to one already on the entry or
// who recused on it. Entries are served oldest first. Assigning again is harmless: entries
// with their full panel are left alone, and a seat another process gave meanwhile is
// respected.
func (s *Service) Assign(ctx context.Context, def *campaigns.Definition, entries []Entry) (Assigned, error) {
	var out Assigned
	if !Panelled(def) || s.Panels == nil {
		return out, nil
	}
	var todo []Entry
	for _, e := range entries {
		if e.Campaign == def.ID && e.Status != StatusRejected {
			todo = append(todo, e)
		}
	}
	if len(todo) == 0 {
		return out, nil
	}
	slices.SortFunc(todo, func(a, b Entry) int { return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID)) })
	ids := make([]string, len(todo))
	for i, e := range todo {
		ids[i] = e.ID
	}
	panels, err := s.Panels.Panels(ctx, ids)
	if err != nil {
		return out, fmt.Errorf("judge: assign judges in %s: %w", def.ID, err)
	}
	loads, err := s.Panels.Loads(ctx, def.ID, def.Judging.Judges)
	if err != nil {
		return out, fmt.Errorf("judge: assign judges in %s: %w", def.ID, err)
	}
	for _, e := range todo {
		n, short, err := s.fill(ctx, def, e, panels[e.ID], loads, "")
		out.Seated += n
		if err != nil {
			return out, fmt.Errorf("judge: assign judges to entry %s: %w", e.ID, err)
		}
		if short {
			out.Short = append(out.Short, e.ID)
		}
	}
	return out, nil
}

// fill seats judges on one entry until it has its panel; replaced names the judge a
// conflict unseated, for the audit trail.
func (s *Service) fill(ctx context.Context, def *campaigns.Definition, e Entry, p Panel, loads map[string]int, replaced string) (int, bool, error) {
	seated := 0
	for tries := 0; len(p.Judges()) < def.Judging.PerEntry; {
		j, ok := leastLoaded(def.Judging.Judges, p, loads)
		if !ok {
			return seated, true, nil
		}
		seat := Seat{Campaign: def.ID, EntryID: e.ID, N: len(p.Seats), Judge: j, At: s.now()}
		err := s.Panels.AddSeat(ctx, seat)
		switch {
		case err == nil:
			p.Seats = append(p.Seats, seat)
			loads[j]++
			seated++
			detail := fmt.Sprintf("seat %d", seat.N+1)
			if replaced != "" {
				detail = "replaces " + replaced
			}
			s.audit(ctx, Event{Kind: EventAssign, Campaign: def.ID, EntryID: e.ID, Judge: j, Detail: detail, At: seat.At})
		case errors.Is(err, errs.ErrConflict) && tries < 3:
			// Another process seated someone meanwhile: start from what it stored.
			tries++
			ps, err := s.Panels.Panels(ctx, []string{e.ID})
			if err != nil {
				return seated, false, err
			}
			p = ps[e.ID]
		default:
			return seated, false, err
		}
	}
	return seated, false, nil
}

// leastLoaded picks the judge for a new seat on p: not on it, not recused, fewest seats.
func leastLoaded(judges []string, p Panel, loads map[string]int) (string, bool) {
	best, found := "", false
	for _, j := range judges {
		if _, recused := p.Recusal(j); recused || slices.ContainsFunc(p.Seats, func(s Seat) bool { return s.Judge == j }) {
			continue
		}
		if !found || loads[j] < loads[best] {
			best, found = j, true
		}
	}
	return best, found
}

// Panel returns an entry's panel (empty when it has none or panels are not configured).
func (s *Service) Panel(ctx context.Context, entryID string) (Panel, error) {
	if s.Panels == nil {
		return Panel{}, nil
	}
	ps, err := s.Panels.Panels(ctx, []string{entryID})
	if err != nil {
		return Panel{}, fmt.Errorf("judge: panel of %s: %w", entryID, err)
	}
	return ps[entryID], nil
}

// PanelsOf returns the panels of entries, by entry id.
func (s *Service) PanelsOf(ctx context.Context, entryIDs []string) (map[string]Panel, error) {
	if s.Panels == nil || len(entryIDs) == 0 {
		return map[string]Panel{}, nil
	}
	ps, err := s.Panels.Panels(ctx, entryIDs)
	if err != nil {
		return nil, fmt.Errorf("judge: panels of %d entries: %w", len(entryIDs), err)
	}
	return ps, nil
}

// maxRecusalReason bounds a recusal's reason, which comes from a form.
const maxRecusalReason = 500

// Recuse records judge's conflict of interest with (kind RecuseConflict), or abstention from
// (RecuseAbstain), an entry. A conflict gives the judge's seat to the next least-loaded judge
// of the panel. In a panelled campaign only a seated judge recuses. A judge who scored the
// entry, or recused on it before, is refused with errs.ErrConflict: a recusal comes before a
// score, and one is enough.
func (s *Service) Recuse(ctx context.Context, def *campaigns.Definition, entryID, judge, kind, reason string) error {
	if s.Panels == nil {
		return fmt.Errorf("judge: recuse: %w: panels are not configured", errs.ErrInvalid)
	}
	if kind != RecuseConflict && kind != RecuseAbstain {
		return fmt.Errorf("judge: recuse: %w: kind %q (want %s or %s)", errs.ErrInvalid, kind, RecuseConflict, RecuseAbstain)
	}
	if strings.TrimSpace(judge) == "" {
		return fmt.Errorf("judge: recuse: %w: no judge", errs.ErrInvalid)
	}
	if def == nil {
		return fmt.Errorf("judge: recuse: %w: no definition", errs.ErrInvalid)
	}
	e, err := s.Store.Entry(ctx, entryID)
	if err != nil {
		return fmt.Errorf("judge: recuse from entry %s: %w", entryID, err)
	}
	if e.Campaign != def.ID {
		return fmt.Errorf("judge: recuse from entry %s: %w in campaign %s", entryID, errs.ErrNotFound, def.ID)
	}
	p, err := s.Panel(ctx, entryID)
	if err != nil {
		return err
	}
	if Panelled(def) && !p.Seated(judge) {
		return fmt.Errorf("judge: recuse from entry %s: %w: %s is not on its panel", entryID, errs.ErrInvalid, judge)
	}
	if s.Scores != nil {
		cards, err := s.Scores.Scorecards(ctx, def.ID, entryID)
		if err != nil {
			return fmt.Errorf("judge: recuse from entry %s: %w", entryID, err)
		}
		if slices.ContainsFunc(cards, func(c Scorecard) bool { return c.Judge == judge }) {
			return fmt.Errorf("judge: recuse from entry %s: %w: %s scored it already", entryID, errs.ErrConflict, judge)
		}
	}
	r := Recusal{Campaign: def.ID, EntryID: entryID, Judge: judge, Kind: kind, Reason: clipText(strings.TrimSpace(reason), maxRecusalReason), At: s.now()}
	if err := s.Panels.Recuse(ctx, r); err != nil {
		return fmt.Errorf("judge: recuse %s from entry %s: %w", judge, entryID, err)
	}
	ev := EventAbstain
	if kind == RecuseConflict {
		ev = EventConflict
	}
	s.audit(ctx, Event{Kind: ev, Campaign: def.ID, EntryID: entryID, By: judge, Detail: r.Reason, At: r.At})
	if kind != RecuseConflict || !Panelled(def) {
		return nil
	}
	p.Recusals = append(p.Recusals, r)
	loads, err := s.Panels.Loads(ctx, def.ID, def.Judging.Judges)
	if err != nil {
		return fmt.Errorf("judge: reassign entry %s: %w", entryID, err)
	}
	if _, _, err := s.fill(ctx, def, e, p, loads, judge); err != nil {
		return fmt.Errorf("judge: reassign entry %s: %w", entryID, err)
	}
	return nil
}

func clipText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
