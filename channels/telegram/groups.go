package telegram

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/chatcampaigns/campaign/errs"
)

// A group's team is addressed by the chat id the group had when it started playing. When
// Telegram upgrades the group to a supergroup the chat gets a new id for good; two aliases
// keep the team: the new id stands for the team's address (inbound), and the address's
// current chat (">" + address) is the new id (outbound).

// sendPrefix marks the alias that says where a team's address is written to now.
const sendPrefix = ">"

// aliasCache remembers the aliases found: a chat migrates once, so a found alias never
// changes. Misses are not kept (another process may record the migration).
type aliasCache struct{ m sync.Map }

func (c *Channel) alias(ctx context.Context, key string) (string, bool, error) {
	if v, ok := c.aliases.m.Load(key); ok {
		return v.(string), true, nil
	}
	if c.cfg.Aliases == nil {
		return "", false, nil
	}
	v, err := c.cfg.Aliases.Alias(ctx, ChannelName, key)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("telegram: look up chat alias %s: %w", key, err)
	}
	c.aliases.m.Store(key, v)
	return v, true, nil
}

// teamAddress is the address of the team playing in group chat: the chat's id, or the id it
// had before it became a supergroup.
func (c *Channel) teamAddress(ctx context.Context, chat string) (string, error) {
	addr, ok, err := c.alias(ctx, chat)
	if err != nil || !ok {
		return chat, err
	}
	return addr, nil
}

// currentChat is the chat a reply to address goes to now: its supergroup after a migration.
// A failed lookup sends to address, which Telegram answers with the new id.
func (c *Channel) currentChat(ctx context.Context, address string) string {
	chat, ok, err := c.alias(ctx, sendPrefix+address)
	if err != nil {
		c.cfg.Log.Warn("telegram: chat alias", "err", err)
	}
	if !ok {
		return address
	}
	return chat
}

// migrated records that the group whose chat was old (a team address or an id standing for
// one) is now the supergroup chat.
func (c *Channel) migrated(ctx context.Context, old, chat string) error {
	if old == chat {
		return nil
	}
	addr, err := c.teamAddress(ctx, old)
	if err != nil {
		return err
	}
	if c.cfg.Aliases == nil {
		return errors.New("telegram: no alias store: a migrated group would lose its team")
	}
	if err := c.cfg.Aliases.SetAlias(ctx, ChannelName, chat, addr); err != nil {
		return fmt.Errorf("telegram: record migration of %s: %w", addr, err)
	}
	if err := c.cfg.Aliases.SetAlias(ctx, ChannelName, sendPrefix+addr, chat); err != nil {
		return fmt.Errorf("telegram: record migration of %s: %w", addr, err)
	}
	c.aliases.m.Store(chat, addr)
	c.aliases.m.Store(sendPrefix+addr, chat)
	c.cfg.Log.Info("telegram: group became a supergroup; its team plays on", "team", addr, "chat", chat)
	return nil
}
