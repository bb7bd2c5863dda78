package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/errs"
)

// AgentSay queues a human agent's reply to a participant, due at once (an agent's typing was
// real), or right after the persona's replies still being typed. It is written as a step of
// its own, so it is ordered with the bot's replies. A reply to a participant who opted out is
// recorded as not sent (NotSentOptedOut) and AgentSay returns an error wrapping ErrOptedOut.
func (e *Engine) AgentSay(ctx context.Context, participantID, agent, text string) error {
	text = strings.TrimSpace(text)
	if text == "" {
		return fmt.Errorf("engine: agent reply: %w: empty message", errs.ErrInvalid)
	}
	for attempt := 0; ; attempt++ {
		p, err := e.store.Participant(ctx, participantID)
		if err != nil {
			return fmt.Errorf("engine: agent reply to %s: %w", participantID, err)
		}
		now := e.now()
		s := Step{Participant: p, PrevVersion: p.Version}
		s.Participant.Version++
		s.Participant.UpdatedAt = now
		s.Participant.Vars["agent"] = agent
		due := later(now, p.LastReplyDue)
		s.Participant.LastReplyDue = due
		s.Outbox = []Outbound{{ParticipantID: p.ID, Campaign: p.Campaign, Channel: p.Channel,
			To: p.Address, From: p.Vars[campaigns.VarSender], Agent: agent, Text: text, DueAt: due, Status: StatusPending}}
		s.Lines = holdBack(p, s.Outbox, now)
		err = e.store.Commit(ctx, s)
		if errors.Is(err, errs.ErrConflict) && attempt < 10 {
			continue
		}
		if err != nil {
			return fmt.Errorf("engine: agent reply to %s: %w", participantID, err)
		}
		if len(s.Lines) > 0 {
			return fmt.Errorf("engine: agent reply to %s recorded, %w", participantID, ErrOptedOut)
		}
		e.wakeSender()
		return nil
	}
}

// Handback gives a handed-off conversation back to the bot: it stores a KindHandback event,
// which clears the hand-off and fires the state's handback transition. Handing back twice at
// the same point has one effect.
func (e *Engine) Handback(ctx context.Context, participantID, agent string) error {
	p, err := e.store.Participant(ctx, participantID)
	if err != nil {
		return fmt.Errorf("engine: hand back %s: %w", participantID, err)
	}
	_, _, err = e.store.SaveInbound(ctx, Inbound{
		Channel: "agent", PlatformID: fmt.Sprintf("handback:%s:%d", p.ID, p.Version),
		Campaign: p.Campaign, From: p.Address, ParticipantID: p.ID, Kind: KindHandback,
		Agent: agent, At: e.now(),
	})
	if err != nil {
		return fmt.Errorf("engine: hand back %s: %w", participantID, err)
	}
	e.Wake()
	return nil
}

// Broadcast queues msg for every participant of campaign currently in state; see BroadcastTo.
func (e *Engine) Broadcast(ctx context.Context, campaign, state string, msg campaigns.Message) (id string, queued int, err error) {
	return e.BroadcastTo(ctx, campaign, Audience{State: state}, msg)
}

// Audience is who a broadcast reaches: the participants in State (in every state when empty)
// whose variable Var has Value (compared case-insensitively; everyone when Var is empty). The
// variable lang is the language they are spoken to in (Language): lang = nl reaches those
// who never chose one, in a Dutch-first campaign.
type Audience struct {
	State      string
	Var, Value string
}

// Has reports whether p is in the audience.
func (a Audience) Has(def *campaigns.Definition, p Participant) bool {
	if a.Var == "" {
		return true
	}
	v, want := p.Vars[a.Var], a.Value
	if a.Var == campaigns.VarLanguage {
		// en-GB picks the English speakers of a campaign in en.
		v, want = Language(def, p), def.MatchLanguage(want)
	}
	return strings.EqualFold(strings.TrimSpace(v), strings.TrimSpace(want))
}

// BroadcastTo queues msg for every participant of campaign in the audience (not finished or
// opted out, nor asked for consent without a yes yet), rendered for each in their language
// (msg.Text by language, the first language's for the others) with their variables. The
// 24-hour window is checked when each reply is sent: msg.Template, the key of one of the
// definition's templates, goes out instead to those who have not written for a day, in the
// template language that matches theirs. It returns the broadcast's id, for
// BroadcastReport, and how many were queued.
func (e *Engine) BroadcastTo(ctx context.Context, campaign string, to Audience, msg campaigns.Message) (id string, queued int, err error) {
	ps, err := e.BroadcastAudience(ctx, campaign, to, msg)
	if err != nil {
		return "", 0, err
	}
	id = e.BroadcastID(campaign)
	rows, err := e.RenderBroadcast(ctx, id, campaign, msg, ps)
	if err != nil {
		return "", 0, err
	}
	const chunk = 500
	for start := 0; start < len(rows); start += chunk {
		if err := e.store.Enqueue(ctx, rows[start:min(start+chunk, len(rows))]); err != nil {
			return id, start, fmt.Errorf("engine: broadcast to %s: %w", campaign, err)
		}
	}
	e.wakeSender()
	return id, len(rows), nil
}

// BroadcastReport tells how a broadcast is doing: replies pending, sent, failed (with the
// window closed and no template, among others) and cancelled.
func (e *Engine) BroadcastReport(ctx context.Context, id string) (BroadcastReport, error) {
	r, err := e.store.BroadcastReport(ctx, id)
	if err != nil {
		return BroadcastReport{}, fmt.Errorf("engine: broadcast report %s: %w", id, err)
	}
	return r, nil
}

// later is the later of two times.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// templateKeys lists the keys of def's templates, for a message naming one it has not.
func templateKeys(def *campaigns.Definition) string {
	keys := make([]string, 0, len(def.Templates))
	for k := range def.Templates {
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return "none"
	}
	slices.Sort(keys)
	return strings.Join(keys, ", ")
}

// broadcastRanks is every ranked participant's rank, read once for the whole broadcast, when
// the message asks for {{rank}} or {{rank_of}} ("You are 4th of 120 with a week to go").
func (e *Engine) broadcastRanks(ctx context.Context, def *campaigns.Definition, msg campaigns.Message) (map[string]int, error) {
	if def.Ranking == nil || !mentions(def, msg, "rank") {
		return nil, nil
	}
	ranked, err := e.Ranking(ctx, def.ID)
	if err != nil {
		return nil, err
	}
	ranks := make(map[string]int, len(ranked))
	for _, r := range ranked {
		ranks[r.ParticipantID] = r.Rank
	}
	return ranks, nil
}

// mentions reports whether msg's texts, buttons or template parameters use a variable whose
// name starts with name ({{rank}} and {{rank_of}} for rank), so that it is worked out only
// for a broadcast that needs it.
func mentions(def *campaigns.Definition, msg campaigns.Message, name string) bool {
	for _, s := range msg.Text {
		if strings.Contains(s, "{{"+name) {
			return true
		}
	}
	for _, b := range msg.Buttons {
		for _, s := range b.Title {
			if strings.Contains(s, "{{"+name) {
				return true
			}
		}
	}
	if tm := def.Templates[msg.Template]; tm != nil {
		for _, p := range tm.Params {
			if strings.HasPrefix(p, name) || strings.Contains(p, "{{"+name) {
				return true
			}
		}
	}
	return false
}

// varHandoffAt holds when the conversation was handed to its team (RFC 3339, UTC).
const varHandoffAt = "handoff_at"

// HandedOffAt is when a handed-off participant was handed to their team: how long they have
// waited for a human. Participants handed off before the time was kept give their last update.
func HandedOffAt(p Participant) time.Time {
	if t, err := time.Parse(time.RFC3339Nano, p.Vars[varHandoffAt]); err == nil {
		return t
	}
	return p.UpdatedAt
}

// HandedOff lists the unfinished participants of every campaign whom a human has (handed off
// and not handed back yet), longest waiting first; Vars["handoff"] names each one's team. It
// reads only the states that hand off, so it costs what the queues hold, not the campaign.
func (e *Engine) HandedOff(ctx context.Context) ([]Participant, error) {
	// The states that hand off in any loaded version: a participant still on an older
	// version may wait in a state the current one renamed.
	type key struct{ campaign, state string }
	var states []key
	e.defMu.RLock()
	for id, versions := range e.versions {
		for _, def := range versions {
			for _, name := range def.Order {
				if k := (key{id, name}); def.States[name].Handoff != "" && !slices.Contains(states, k) {
					states = append(states, k)
				}
			}
		}
	}
	e.defMu.RUnlock()
	var out []Participant
	for _, k := range states {
		ps, err := e.store.Participants(ctx, ParticipantFilter{Campaign: k.campaign, State: k.state, Unfinished: true})
		if err != nil {
			return nil, fmt.Errorf("engine: handed-off participants of %s: %w", k.campaign, err)
		}
		for _, p := range ps {
			if p.Vars["handoff"] != "" {
				out = append(out, p)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Participant) int {
		if c := HandedOffAt(a).Compare(HandedOffAt(b)); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}
