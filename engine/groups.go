package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/errs"
)

// Group chats the business makes. On a channel whose Sender is also a GroupMaker (WhatsApp's
// Groups API: the business creates a group, people join it by its invite link, nobody can be
// added) a team campaign's teams are groups made on request:
//
//  1. A captain writes the campaign's entry keyword, followed by the team's name, one to one
//     ("ESCAPE Red Rovers"). The engine asks the channel for a group with that subject
//     (GroupMaker.CreateGroup) and tells the captain it is on its way. A captain asks once: a
//     second request hears about the first.
//  2. The platform says the group exists (GroupCreated): the team is stored with the captain as
//     its first member, its address and invite code the group's address, and the captain gets
//     the invite link to pass on.
//  3. Members join (GroupJoined): each is added to the team, up to teams.max; one beyond it
//     hears, in the group, that the team is full. Once the team has teams.min members it starts
//     like any team (startTeam): the group is greeted and gets the round running then.
//
// Messages in the group then come from the group's address and play for the team.

// GroupMaker is implemented by a channel's Sender that can make group chats.
type GroupMaker interface {
	// CreateGroup asks the platform for a group chat named subject, made by the business
	// address from (empty: the channel's default), and returns the platform's request id; the
	// group itself is announced later (GroupCreated). Errors wrapping errs.ErrInvalid are
	// permanent (the number may not make groups).
	CreateGroup(ctx context.Context, from, subject, description string) (requestID string, err error)
}

// GroupRequest is a captain's request for a team's group chat.
type GroupRequest struct {
	Channel string
	// RequestID is the platform's id of the request.
	RequestID string
	Campaign  string
	// Captain is the address of who asked, MessageID the message they asked in; Number is the
	// business address they wrote to (the group's maker).
	Captain, MessageID, Number string
	Name                       string
	// Group and InviteLink are set once the platform made the group; Error when it could not.
	Group, InviteLink, Error string
	CreatedAt                time.Time
}

// GroupStore keeps captains' requests for group chats.
type GroupStore interface {
	// SaveGroupRequest stores r, replacing the request with the same Channel and RequestID.
	SaveGroupRequest(ctx context.Context, r GroupRequest) error
	// GroupRequest returns the request channel knows as requestID (errs.ErrNotFound if none).
	GroupRequest(ctx context.Context, channel, requestID string) (GroupRequest, error)
	// CaptainRequest returns the latest request of captain in campaign on channel
	// (errs.ErrNotFound if none).
	CaptainRequest(ctx context.Context, campaign, channel, captain string) (GroupRequest, error)
}

// The texts of making a group, in the words the captain or the group reads. The %s are the
// team's name, the invite link and the team size ("2 to 4 people").
const (
	GroupOnItsWay  = "A group for team %s is being made. The invite link follows in a moment."
	GroupInvite    = "Here is the group of team %s: %s\nJoin it and share the link with your team (%s)."
	GroupAsked     = "The group of team %s is on its way: the invite link follows in a moment."
	GroupFailed    = "Sorry, no group could be made for your team just now. Please send the keyword and your team's name again later."
	GroupTeamFull  = "This team is full: a team has %s, so the ones who joined last do not count for it."
	GroupNameFirst = "Send %s and your team's name, for example: %s Red Rovers"
)

// groupMaker returns the channel's GroupMaker, when its Sender is one.
func (e *Engine) groupMaker(channel string) (GroupMaker, bool) {
	m, ok := e.senders[channel].(GroupMaker)
	return m, ok
}

func (e *Engine) makesGroups(channel string) bool {
	_, ok := e.groupMaker(channel)
	return ok
}

// isCaptain reports whether in is a person writing one to one to a team campaign whose teams
// are the groups the channel makes; the addresses of groups begin with groupAddressPrefix.
func (e *Engine) isCaptain(def *campaigns.Definition, in Inbound) bool {
	if def.Teams == nil || strings.HasPrefix(in.From, groupAddressPrefix) || strings.HasPrefix(in.PlatformID, teamStartPrefix) {
		return false
	}
	return e.makesGroups(in.Channel)
}

// groupAddressPrefix begins a group chat's address on a channel with groups (WhatsApp's
// GroupPrefix): what a group writes comes from it, and is the team's.
const groupAddressPrefix = "group:"

// captainAsks handles a captain's message (step 1 above). It is called from Receive, before
// the message would be stored: a captain is no participant. Its replies are queued directly.
func (e *Engine) captainAsks(ctx context.Context, def *campaigns.Definition, in Inbound) (duplicate bool, err error) {
	now := e.now()
	reply := func(text string) error {
		return e.store.Enqueue(ctx, []Outbound{{Campaign: def.ID, Channel: in.Channel, To: in.From, From: in.To,
			Text: text, DueAt: now, Status: StatusPending}})
	}
	if in.Kind != KindText {
		return false, nil // a photo or a tap to a captain's chat: nothing to do
	}
	prev, err := e.store.CaptainRequest(ctx, def.ID, in.Channel, in.From)
	switch {
	case err == nil && prev.MessageID == in.PlatformID:
		return true, nil // the platform delivered the request again
	case err == nil && prev.Error == "":
		if prev.InviteLink != "" {
			return false, reply(fmt.Sprintf(GroupInvite, prev.Name, prev.InviteLink, teamSize(def)))
		}
		return false, reply(fmt.Sprintf(GroupAsked, prev.Name))
	case err != nil && !errors.Is(err, errs.ErrNotFound):
		return false, fmt.Errorf("engine: captain %s in %s: %w", in.From, def.ID, err)
	}
	if why := e.unavailable(def, now, false); why != "" {
		return false, reply(why)
	}
	name, ok := teamNameAfterKeyword(def, in.Text)
	if !ok || name == "" {
		kw := "the keyword"
		if len(def.Keywords) > 0 {
			kw = def.Keywords[0]
		}
		return false, reply(fmt.Sprintf(GroupNameFirst, kw, kw))
	}
	name, err = cleanTeamName(name)
	if err != nil {
		var nameErr *TeamNameError
		if errors.As(err, &nameErr) {
			return false, reply(nameErr.Reason)
		}
		return false, err
	}
	maker, _ := e.groupMaker(in.Channel)
	rid, err := maker.CreateGroup(ctx, in.To, name, def.Title)
	if err != nil {
		if Permanent(err) {
			e.log.Warn("group not made", "campaign", def.ID, "captain", in.From, "err", err)
			return false, reply(GroupFailed)
		}
		return false, fmt.Errorf("engine: make group for %s in %s: %w", in.From, def.ID, err)
	}
	r := GroupRequest{Channel: in.Channel, RequestID: rid, Campaign: def.ID, Captain: in.From,
		MessageID: in.PlatformID, Number: in.To, Name: name, CreatedAt: now}
	if err := e.store.SaveGroupRequest(ctx, r); err != nil {
		return false, fmt.Errorf("engine: group request %s: %w", rid, err)
	}
	return false, reply(fmt.Sprintf(GroupOnItsWay, name))
}

// teamNameAfterKeyword returns what follows the entry keyword the text begins with.
func teamNameAfterKeyword(def *campaigns.Definition, text string) (string, bool) {
	text = strings.TrimSpace(text)
	if len(def.Keywords) == 0 {
		return text, true
	}
	for _, kw := range def.Keywords {
		if len(text) >= len(kw) && strings.EqualFold(text[:len(kw)], kw) &&
			(len(text) == len(kw) || text[len(kw)] == ' ') {
			return strings.TrimSpace(text[len(kw):]), true
		}
	}
	return "", false
}

// keywordWithName reports whether text is one of def's keywords followed by a team's name,
// the way a captain asks for a group.
func keywordWithName(def *campaigns.Definition, text string) bool {
	name, ok := teamNameAfterKeyword(def, text)
	return ok && name != "" && len(def.Keywords) > 0
}

// teamSize words a campaign's team size for a captain.
func teamSize(def *campaigns.Definition) string {
	min, max := def.Teams.MinSize, def.Teams.MaxSize
	switch {
	case max > 0 && min > 1 && min != max:
		return fmt.Sprintf("%d to %d people", min, max)
	case max > 0 && min == max:
		return fmt.Sprintf("%d people", max)
	case max > 0:
		return fmt.Sprintf("at most %d people", max)
	case min > 1:
		return fmt.Sprintf("at least %d people", min)
	}
	return "as many as you like"
}

// GroupCreated is the platform's word that the group of request requestID exists at address
// (step 2 above), with its invite link; failure is set instead when it could not be made. A
// request the engine does not know (a group made by another tool) is ignored, and one it
// handled before is not handled again.
func (e *Engine) GroupCreated(ctx context.Context, channel, requestID, address, inviteLink, failure string) error {
	r, err := e.store.GroupRequest(ctx, channel, requestID)
	if errors.Is(err, errs.ErrNotFound) {
		e.log.Info("group made by another request; ignored", "channel", channel, "request", requestID, "group", address)
		return nil
	}
	if err != nil {
		return fmt.Errorf("engine: group request %s: %w", requestID, err)
	}
	if r.Group != "" || r.Error != "" {
		return nil
	}
	def, ok := e.Campaign(r.Campaign)
	if !ok || def.Teams == nil {
		return nil
	}
	now := e.now()
	tell := func(text string) error {
		return e.store.Enqueue(ctx, []Outbound{{Campaign: def.ID, Channel: channel, To: r.Captain, From: r.Number,
			Text: text, DueAt: now, Status: StatusPending}})
	}
	if failure != "" || address == "" {
		e.log.Warn("group not made", "campaign", def.ID, "request", requestID, "err", failure)
		r.Error = failure
		if r.Error == "" {
			r.Error = "no group id"
		}
		if err := tell(GroupFailed); err != nil {
			return err
		}
		if err := e.store.SaveGroupRequest(ctx, r); err != nil {
			return fmt.Errorf("engine: group request %s: %w", requestID, err)
		}
		return nil
	}
	// The name was free when asked; a team that took it since gets a number after its name.
	t := Team{ID: address, Campaign: def.ID, Channel: channel, Name: r.Name, Code: address,
		Members: []string{r.Captain}, CreatedAt: now}
	for n := 2; ; n++ {
		err = e.store.CreateTeam(ctx, t)
		if errors.Is(err, ErrTeamNameTaken) && n < 100 {
			t.Name = fmt.Sprintf("%s %d", r.Name, n)
			continue
		}
		break
	}
	switch {
	case errors.Is(err, ErrTeamCodeTaken):
		// Stored before a crash kept the request from saying so.
	case errors.Is(err, ErrInTeam):
		e.log.Warn("captain is in another team already; the group stays without a team", "campaign", def.ID, "group", address)
	case err != nil:
		return fmt.Errorf("engine: team of group %s: %w", address, err)
	}
	// The invite is queued before the request says it was handled: a crash in between sends it
	// twice when the platform delivers the webhook again, rather than never.
	if err := tell(fmt.Sprintf(GroupInvite, t.Name, inviteLink, teamSize(def))); err != nil {
		return err
	}
	r.Group, r.InviteLink, r.Name = address, inviteLink, t.Name
	if err := e.store.SaveGroupRequest(ctx, r); err != nil {
		return fmt.Errorf("engine: group request %s: %w", requestID, err)
	}
	return nil
}

// GroupJoined is the platform's word that members joined the group at address (step 3
// above). Each is added to the group's team; a member beyond teams.max hears in the group that
// the team is full. A group of no team campaign is ignored.
func (e *Engine) GroupJoined(ctx context.Context, channel, address string, members []string) error {
	for _, def := range e.Campaigns() {
		if def.Teams == nil || !serves(def, channel, "") {
			continue
		}
		found := false
		for _, m := range members {
			t, err := e.store.JoinTeam(ctx, def.ID, channel, address, m, def.Teams.MaxSize)
			switch {
			case errors.Is(err, errs.ErrNotFound):
				continue
			case errors.Is(err, ErrTeamFull):
				found = true
				if err := e.store.Enqueue(ctx, []Outbound{{Campaign: def.ID, Channel: channel, To: address,
					Text:  fmt.Sprintf(GroupTeamFull, teamSize(def)),
					DueAt: e.now(), Status: StatusPending}}); err != nil {
					return fmt.Errorf("engine: team of group %s is full: %w", address, err)
				}
				continue
			case errors.Is(err, ErrInTeam):
				found = true
				e.log.Info("member of another team joined a group", "campaign", def.ID, "group", address)
				continue
			case err != nil:
				return fmt.Errorf("engine: join group %s: %w", address, err)
			}
			found = true
			if err := e.startTeam(ctx, def, t); err != nil {
				return err
			}
		}
		if found {
			return nil
		}
	}
	return nil
}
