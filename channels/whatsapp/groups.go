package whatsapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// WhatsApp groups (the Cloud API's Groups API): the business makes a group (CreateGroup), the
// platform announces it with its invite link in a group_lifecycle_update webhook, and people
// who join by the link arrive in group_participants_update webhooks. Both go to Config.Groups
// (the engine: engine/groups.go says what a team campaign makes of them). Messages in a group
// carry its group_id and come from GroupPrefix+group id; statuses of messages to a group say
// recipient_type "group". Groups get no interactive messages (inGroup), no read receipts.

// Group limits of the Groups API.
const (
	MaxGroupMembers        = 8
	MaxGroupSubjectLen     = 128
	MaxGroupDescriptionLen = 2048
)

// GroupReceiver is what the channel hands group webhooks to; *engine.Engine satisfies it.
type GroupReceiver interface {
	// GroupCreated says the group of the request requestID exists at address
	// (GroupPrefix+group id) with inviteLink, or, with failure set, that it could not be made.
	GroupCreated(ctx context.Context, channel, requestID, address, inviteLink, failure string) error
	// GroupJoined says members (WhatsApp ids) joined the group at address.
	GroupJoined(ctx context.Context, channel, address string, members []string) error
}

var (
	_ GroupReceiver     = (*engine.Engine)(nil)
	_ engine.GroupMaker = (*Channel)(nil)
)

// GroupEvent is one group webhook item, normalized.
type GroupEvent struct {
	PhoneNumberID string
	// Type is GroupCreated, GroupJoined or GroupLeft; others are not kept.
	Type string
	// Group is GroupPrefix+the group id.
	Group      string
	RequestID  string
	InviteLink string
	// Members are the WhatsApp ids that joined or left.
	Members []string
	// Error is set when the platform could not make the group.
	Error string
}

// The group events the channel acts on.
const (
	GroupCreated = "created"
	GroupJoined  = "joined"
	GroupLeft    = "left"
)

// groupChange is one item of value.groups in a group webhook.
type groupChange struct {
	Type       string        `json:"type"`
	GroupID    string        `json:"group_id"`
	RequestID  string        `json:"request_id"`
	InviteLink string        `json:"invite_link"`
	Errors     []ErrorInfo   `json:"errors"`
	Added      []groupMember `json:"added_participants"`
	Removed    []groupMember `json:"removed_participants"`
}

type groupMember struct {
	WaID string `json:"wa_id"`
}

// normalizeGroup turns one group webhook item into an event; ok is false for what the channel
// does not act on (deletions, settings, join requests, an item without a group or request).
func normalizeGroup(number string, g groupChange) (GroupEvent, bool) {
	ev := GroupEvent{PhoneNumberID: number, RequestID: g.RequestID, InviteLink: g.InviteLink}
	if g.GroupID != "" {
		ev.Group = GroupPrefix + g.GroupID
	}
	switch g.Type {
	case "group_create":
		ev.Type = GroupCreated
		if len(g.Errors) > 0 {
			e := g.Errors[0]
			ev.Error = strconv.Itoa(e.Code) + ": " + firstNonEmpty(e.Title, e.Message, e.Data.Details)
		} else if ev.Group == "" {
			ev.Error = "no group id"
		}
		return ev, ev.RequestID != ""
	case "group_participants_add":
		ev.Type = GroupJoined
		for _, p := range g.Added {
			if p.WaID != "" {
				ev.Members = append(ev.Members, p.WaID)
			}
		}
	case "group_participants_remove":
		ev.Type = GroupLeft
		for _, p := range g.Removed {
			if p.WaID != "" {
				ev.Members = append(ev.Members, p.WaID)
			}
		}
	default:
		return GroupEvent{}, false
	}
	return ev, ev.Group != "" && len(ev.Members) > 0
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// handleGroup hands one group event to Config.Groups.
func (c *Channel) handleGroup(ctx context.Context, ev GroupEvent) error {
	if c.cfg.Groups == nil {
		c.cfg.Log.Debug("whatsapp: group webhook ignored (no group receiver)", "type", ev.Type)
		return nil
	}
	switch ev.Type {
	case GroupCreated:
		return c.cfg.Groups.GroupCreated(ctx, ChannelName, ev.RequestID, ev.Group, ev.InviteLink, ev.Error)
	case GroupJoined:
		return c.cfg.Groups.GroupJoined(ctx, ChannelName, ev.Group, ev.Members)
	case GroupLeft:
		// A team keeps the members it had: what they sent counts, and the group plays on.
		c.cfg.Log.Info("whatsapp: members left a group", "group", ev.Group, "members", len(ev.Members))
	}
	return nil
}

// createGroupResponse is the documented answer to POST /{phone-number-id}/groups.
type createGroupResponse struct {
	RequestID string `json:"request_id"`
}

// CreateGroup asks the Groups API for a group made by the business number from (empty: the
// default PhoneNumberID) named subject, anyone with the invite link joining without approval,
// and returns the request id its group_lifecycle_update webhook will carry. The subject is cut
// to 128 characters and the description to 2048. A number that may not use groups (error
// 131215, not an Official Business Account) is a permanent *APIError.
func (c *Channel) CreateGroup(ctx context.Context, from, subject, description string) (string, error) {
	number := from
	if number == "" {
		number = c.cfg.PhoneNumberID
	}
	if number == "" {
		return "", fmt.Errorf("whatsapp: create group: no business number (WHATSAPP_PHONE_NUMBER_ID): %w", errs.ErrInvalid)
	}
	if subject == "" {
		return "", fmt.Errorf("whatsapp: create group: no subject: %w", errs.ErrInvalid)
	}
	payload := map[string]any{"messaging_product": "whatsapp", "subject": cut(subject, MaxGroupSubjectLen),
		"join_approval_mode": "auto_approve"}
	if description != "" {
		payload["description"] = cut(description, MaxGroupDescriptionLen)
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return "", fmt.Errorf("whatsapp: encode groups request: %w", err)
	}
	data, err := c.postTo(ctx, number, "groups", body)
	if err != nil {
		return "", err
	}
	var r createGroupResponse
	if err := json.Unmarshal(data, &r); err != nil || r.RequestID == "" {
		return "", errors.New("whatsapp: create group: answer without a request id")
	}
	return r.RequestID, nil
}

func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
