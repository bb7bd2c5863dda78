package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/chatcampaigns/campaign/errs"
)

// A group chat (a Telegram group, a WhatsApp group) plays a team campaign as one participant
// whose address is the group's. The channel tells the engine who is in it, from the messages
// members send and the platform's member updates; the engine keeps them as the team's
// members (TeamStore), so teams.max holds and a person races in one team per campaign, and the
// team's name is the group's.

// JoinGroup records member as a member of the team that is the group chat group on channel,
// in a team campaign, registering the team on the first call (named name, the group's title;
// "Team 2" and so on when another team has that name), and starts the team: its join is
// received, once, so the campaign greets the group. It returns the team with its members.
//
// It fails with errs.ErrNotFound for an unknown campaign, errs.ErrInvalid when the campaign's
// participants are not teams (the group then plays as one participant without a team),
// ErrTeamFull when the team has teams.max members, ErrInTeam when member is in another team,
// and ErrTeamsClosed when a new team cannot start because the campaign is not running.
//
// Unlike a team formed on the web chat, a group starts at once, whatever teams.min says: the
// group exists, and its members may stay silent (a bot in privacy mode sees few of them).
func (e *Engine) JoinGroup(ctx context.Context, campaign, channel, group, name, member string) (Team, error) {
	def, err := e.teamCampaign(campaign)
	if err != nil {
		return Team{}, err
	}
	if group == "" || member == "" {
		return Team{}, fmt.Errorf("engine: join group in %s: %w: no group or member", campaign, errs.ErrInvalid)
	}
	// Most calls are for a member recorded before (every message of a group passes here): a
	// read answers those, and only a newcomer costs a write.
	if t, err := e.store.TeamOf(ctx, def.ID, channel, member); err == nil && t.ID == group {
		return t, nil
	}
	// A group's team is found by its address, its invite code as on WhatsApp (GroupCreated):
	// nobody types it, the group is the way in.
	code := group
	t, err := e.store.JoinTeam(ctx, def.ID, channel, code, member, def.Teams.MaxSize)
	if !errors.Is(err, errs.ErrNotFound) {
		if err != nil {
			return Team{}, fmt.Errorf("engine: join group %s in %s: %w", group, campaign, err)
		}
		return t, nil
	}
	if t, err = e.registerGroup(ctx, def.ID, channel, group, name, member, code); err != nil {
		return Team{}, fmt.Errorf("engine: join group %s in %s: %w", group, campaign, err)
	}
	// Only the call that registered the team starts it. Should this process die in between,
	// the group's next message starts it instead, as any first message does.
	_, err = e.Receive(ctx, Inbound{Channel: channel, PlatformID: teamStartPrefix + def.ID + ":" + group, Campaign: def.ID,
		From: group, Name: t.Name, ParticipantID: ParticipantID(def.ID, channel, group), Kind: KindJoin, At: e.now()})
	if err != nil {
		return t, fmt.Errorf("engine: start the team of group %s in %s: %w", group, campaign, err)
	}
	return t, nil
}

func (e *Engine) registerGroup(ctx context.Context, campaign, channel, group, name, member, code string) (Team, error) {
	def, _ := e.Campaign(campaign)
	if def != nil && e.unavailable(def, e.now(), false) != "" {
		return Team{}, ErrTeamsClosed
	}
	base, err := cleanTeamName(name)
	if err != nil {
		base = "Team"
	}
	t := Team{ID: group, Campaign: campaign, Channel: channel, Code: code, Members: []string{member}, CreatedAt: e.now()}
	for n := 1; ; n++ {
		t.Name = base
		if n > 1 {
			suffix := " " + strconv.Itoa(n)
			t.Name = truncateRunes(base, MaxTeamName-len(suffix)) + suffix
		}
		err = e.store.CreateTeam(ctx, t)
		switch {
		case errors.Is(err, ErrTeamNameTaken) && n < 50:
			continue
		case errors.Is(err, ErrTeamCodeTaken):
			// Another message of the group registered it a moment ago.
			return e.store.JoinTeam(ctx, campaign, channel, code, member, def.Teams.MaxSize)
		case err != nil:
			return Team{}, err
		}
		return t, nil
	}
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}

// RouteStart says which campaign a deep link's payload chooses for a message from address
// on channel (Telegram's t.me/BOT?start=PAYLOAD sends "/start PAYLOAD"): the campaign whose id
// is the payload, else the one whose entry keyword it is, when that campaign serves the
// channel and is not a draft; otherwise the payload is routed like a message (Route).
func (e *Engine) RouteStart(ctx context.Context, channel, address, payload string) (campaign string, ok bool, err error) {
	payload = strings.TrimSpace(payload)
	if payload != "" {
		var byWord string
		for _, def := range e.Campaigns() {
			if e.Status(def.ID) == StatusDraft || !serves(def, channel, "") {
				continue
			}
			if strings.EqualFold(def.ID, payload) {
				return def.ID, true, nil
			}
			if byWord == "" && matchWord(def.Keywords, payload) {
				byWord = def.ID
			}
		}
		if byWord != "" {
			return byWord, true, nil
		}
	}
	return e.Route(ctx, channel, address, payload, "")
}
