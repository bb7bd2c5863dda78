package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/errs"
)

// The parts of a broadcast, for a caller that releases its recipients at its own pace
// (package broadcast) rather than queueing them all at once as BroadcastTo does: who it
// reaches, checked once, and each recipient's message rendered when it is released, with
// their variables as they are then.

// CheckBroadcast answers whether msg can be broadcast in campaign to the audience, as
// BroadcastTo checks it: errs.ErrNotFound for an unknown campaign, errs.ErrInvalid for an
// empty message, a missing first-language text or an unknown template. It returns the
// campaign's definition.
func (e *Engine) CheckBroadcast(campaign string, to Audience, msg campaigns.Message) (*campaigns.Definition, error) {
	def, ok := e.Campaign(campaign)
	if !ok {
		return nil, fmt.Errorf("engine: broadcast to %s: campaign %w", campaign, errs.ErrNotFound)
	}
	if msg.Text.IsZero() && msg.Media == "" {
		// A template alone would leave those whose window is open an empty message.
		return nil, fmt.Errorf("engine: broadcast to %s: %w: empty message (a template goes only to those whose 24-hour window is closed; give the text too)", campaign, errs.ErrInvalid)
	}
	if first := lang(def); !msg.Text.IsZero() && msg.Text[first] == "" {
		// To the speakers of one language, their text is enough: nobody it reaches falls
		// back to the first language's.
		only := ""
		if to.Var == campaigns.VarLanguage {
			only = def.MatchLanguage(to.Value)
		}
		if only == "" || msg.Text[only] == "" {
			return nil, fmt.Errorf("engine: broadcast to %s: %w: no %s text; %s is the first language, the one everyone without a text in theirs gets", campaign, errs.ErrInvalid, first, first)
		}
	}
	if msg.Template != "" && def.Templates[msg.Template] == nil {
		return nil, fmt.Errorf("engine: broadcast to %s: %w: no template %q under templates: (it has %s)", campaign, errs.ErrInvalid, msg.Template, templateKeys(def))
	}
	return def, nil
}

// BroadcastAudience checks the broadcast (CheckBroadcast) and lists the participants it
// reaches now: those of the campaign in the audience, not finished or opted out, nor asked
// for consent without a yes yet.
func (e *Engine) BroadcastAudience(ctx context.Context, campaign string, to Audience, msg campaigns.Message) ([]Participant, error) {
	def, err := e.CheckBroadcast(campaign, to, msg)
	if err != nil {
		return nil, err
	}
	ps, err := e.store.Participants(ctx, ParticipantFilter{Campaign: campaign, State: to.State, Unfinished: true})
	if err != nil {
		return nil, fmt.Errorf("engine: broadcast to %s: %w", campaign, err)
	}
	out := ps[:0]
	for _, p := range ps {
		if p.State == StateConsent {
			// Not yet agreed (or, coming back, not again): not taking part, so no news.
			continue
		}
		d, ok := e.definition(p.Campaign, p.DefVersion)
		if !ok {
			d = def
		}
		if to.Has(d, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// BroadcastID names a new broadcast of campaign.
func (e *Engine) BroadcastID(campaign string) string {
	return fmt.Sprintf("b-%s-%d-%s", campaign, e.now().UnixMilli(), strings.ToLower(e.code()))
}

// RenderBroadcast renders msg for each of ps (as read just now) the way BroadcastTo queues
// it: in their language, with their variables, due after the replies the persona may still
// be typing to them, carrying the broadcast's id. A row to a participant who opted out comes
// back cancelled (NotSentOptedOut). Nothing is queued.
func (e *Engine) RenderBroadcast(ctx context.Context, id, campaign string, msg campaigns.Message, ps []Participant) ([]Outbound, error) {
	def, ok := e.Campaign(campaign)
	if !ok {
		return nil, fmt.Errorf("engine: broadcast to %s: campaign %w", campaign, errs.ErrNotFound)
	}
	now := e.now()
	ranks, err := e.broadcastRanks(ctx, def, msg)
	if err != nil {
		return nil, fmt.Errorf("engine: broadcast to %s: %w", campaign, err)
	}
	// What a text of a step works out, worked out once for all: the top, the places left.
	worked := map[string]string{}
	if rk := def.Ranking; rk != nil && rk.Top > 0 {
		worked["top"] = strconv.Itoa(rk.Top)
	}
	if mentions(def, msg, "places_left") {
		worked["places_left"] = (&run{e: e, ctx: ctx, def: def, step: &Step{}}).placesLeft()
	}
	rows := make([]Outbound, 0, len(ps))
	for i := range ps {
		p := &ps[i]
		d, ok := e.definition(p.Campaign, p.DefVersion)
		if !ok {
			d = def
		}
		fill := func(s string) string {
			if !strings.Contains(s, "{{") {
				return s
			}
			vars := map[string]string{"persona": d.Persona.Name}
			fillNumbers(d, vars)
			for k, v := range p.Vars {
				vars[k] = v
			}
			maps.Copy(vars, worked)
			if ranks != nil {
				vars["rank_of"] = strconv.Itoa(len(ranks))
				vars["rank"] = ""
				if n := ranks[p.ID]; n > 0 {
					vars["rank"] = strconv.Itoa(n)
				}
			}
			return campaigns.Render(s, vars)
		}
		out := e.render(d, p, msg, fill)
		// After the replies the persona may still be typing to them, not before. Opted-out
		// participants are not listed; one who opts out meanwhile is held back by the sender
		// (SendDue).
		out.DueAt, out.BroadcastID = later(now, p.LastReplyDue), id
		rows = append(rows, out)
		holdBack(*p, rows[len(rows)-1:], now)
	}
	return rows, nil
}

// Window is the customer-service window of channel (Config.Windows): how long after a
// participant's last message free-form replies may go; 0 for a channel without one.
func (e *Engine) Window(channel string) time.Duration { return e.windows[channel] }

// WakeSender tells the sender there are replies to send now (queued outside a step).
func (e *Engine) WakeSender() { e.wakeSender() }

// RefusalFunc is told of a reply the platform refused for good with one of the marketing
// refusals (ErrMarketingOptOut, ErrMarketingLimit, ErrSpamRate; err wraps it), after the
// reply was recorded as failed. It runs on the sender's goroutine: keep it short.
type RefusalFunc func(ctx context.Context, out Outbound, err error)

// OnMarketingRefusal registers fn, replacing any registered before; call it before Run.
func (e *Engine) OnMarketingRefusal(fn RefusalFunc) { e.refusal.Store(&fn) }

// marketingRefusal tells the registered RefusalFunc of a permanent send failure that is a
// marketing refusal.
func (e *Engine) marketingRefusal(ctx context.Context, out Outbound, err error) {
	if !errors.Is(err, ErrMarketingOptOut) && !errors.Is(err, ErrMarketingLimit) && !errors.Is(err, ErrSpamRate) {
		return
	}
	if fn := e.refusal.Load(); fn != nil && *fn != nil {
		(*fn)(ctx, out, err)
	}
}

// WroteSince lists the participants of a campaign who last wrote at or after since, finished
// ones too: those inside their window, whom a paced broadcast sends to at once.
func (e *Engine) WroteSince(ctx context.Context, campaign string, since time.Time) ([]Participant, error) {
	ps, err := e.store.Participants(ctx, ParticipantFilter{Campaign: campaign, WroteSince: since})
	if err != nil {
		return nil, fmt.Errorf("engine: participants of %s who wrote since %s: %w", campaign, since.Format(time.RFC3339), err)
	}
	return ps, nil
}

// OptedOutOf counts the participants of campaign a broadcast to the audience would have
// reached had they not opted out (StateOptedOut), for a plan to say so. Only an audience of
// every state has any: an opted-out participant is in no other.
func (e *Engine) OptedOutOf(ctx context.Context, campaign string, to Audience) (int, error) {
	if to.State != "" && to.State != StateOptedOut {
		return 0, nil
	}
	def, ok := e.Campaign(campaign)
	if !ok {
		return 0, fmt.Errorf("engine: broadcast to %s: campaign %w", campaign, errs.ErrNotFound)
	}
	ps, err := e.store.Participants(ctx, ParticipantFilter{Campaign: campaign, State: StateOptedOut})
	if err != nil {
		return 0, fmt.Errorf("engine: opted out of %s: %w", campaign, err)
	}
	n := 0
	for _, p := range ps {
		d, ok := e.definition(p.Campaign, p.DefVersion)
		if !ok {
			d = def
		}
		if to.Has(d, p) {
			n++
		}
	}
	return n, nil
}
