package telegram

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/chatcampaigns/campaign/errs"
)

// AllowedUpdates are the update types setWebhook asks for: messages, taps on inline buttons,
// the bot being added to or removed from a group, and members joining a group (chat_member
// comes only when asked for by name, and only where the bot is an administrator). Edits are
// not asked for: they change nothing (see ParseUpdate).
var AllowedUpdates = []string{"message", "callback_query", "my_chat_member", "chat_member"}

// Bot is what getMe says about the bot.
type Bot struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
	Name     string `json:"first_name"`
	// CanJoinGroups and CanReadAllGroupMessages (privacy mode off) are set with @BotFather.
	CanJoinGroups           bool `json:"can_join_groups"`
	CanReadAllGroupMessages bool `json:"can_read_all_group_messages"`
}

// WebhookInfo is what getWebhookInfo says about the webhook.
type WebhookInfo struct {
	URL                  string   `json:"url"`
	PendingUpdateCount   int      `json:"pending_update_count"`
	LastErrorDate        int64    `json:"last_error_date"`
	LastErrorMessage     string   `json:"last_error_message"`
	MaxConnections       int      `json:"max_connections"`
	AllowedUpdates       []string `json:"allowed_updates"`
	HasCustomCertificate bool     `json:"has_custom_certificate"`
}

// WebhookURL is where Telegram must deliver updates for a server reachable at publicURL.
// publicURL must be an https URL without a query: Telegram delivers only over TLS.
func WebhookURL(publicURL string) (string, error) {
	u, err := url.Parse(strings.TrimRight(publicURL, "/"))
	if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("telegram: public URL %q: want https://HOST[/PATH], the address Telegram reaches this server at (it delivers only over https, on port 443, 80, 88 or 8443): %w", publicURL, errs.ErrInvalid)
	}
	return u.String() + WebhookPath, nil
}

// SetWebhook points the bot's updates at publicURL+WebhookPath with the channel's secret and
// AllowedUpdates, and returns the webhook URL.
func (c *Channel) SetWebhook(ctx context.Context, publicURL string) (string, error) {
	hook, err := WebhookURL(publicURL)
	if err != nil {
		return "", err
	}
	err = c.call(ctx, "setWebhook", map[string]any{
		"url":             hook,
		"secret_token":    c.cfg.WebhookSecret,
		"allowed_updates": AllowedUpdates,
	}, nil)
	if err != nil {
		return "", err
	}
	return hook, nil
}

// GetMe asks Telegram who the bot is; it fails with errs.ErrUnauthorized for a wrong token.
func (c *Channel) GetMe(ctx context.Context) (Bot, error) {
	var b Bot
	err := c.call(ctx, "getMe", map[string]any{}, &b)
	return b, err
}

// GetWebhookInfo asks Telegram where it delivers the bot's updates and how that goes.
func (c *Channel) GetWebhookInfo(ctx context.Context) (WebhookInfo, error) {
	var w WebhookInfo
	err := c.call(ctx, "getWebhookInfo", map[string]any{}, &w)
	return w, err
}

// Check says whether the bot is reachable and set up: getMe answers, a webhook ending in
// WebhookPath is set, and it asks for every one of AllowedUpdates. The lines are for people;
// err is set when something must be fixed.
func (c *Channel) Check(ctx context.Context) (lines []string, err error) {
	bot, err := c.GetMe(ctx)
	if err != nil {
		return nil, fmt.Errorf("telegram: the Bot API does not accept the token (TELEGRAM_BOT_TOKEN): %w", err)
	}
	lines = append(lines, fmt.Sprintf("bot @%s (id %d) answers", bot.Username, bot.ID))
	if !bot.CanReadAllGroupMessages {
		lines = append(lines, "privacy mode is on: in groups the bot sees commands, replies to it and member changes only, not photos, unless it is an administrator (docs/telegram.md)")
	}
	w, err := c.GetWebhookInfo(ctx)
	if err != nil {
		return lines, fmt.Errorf("telegram: getWebhookInfo: %w", err)
	}
	if !strings.HasSuffix(w.URL, WebhookPath) {
		what := "no webhook is set"
		if w.URL != "" {
			what = "the webhook is " + w.URL
		}
		return lines, fmt.Errorf("telegram: %s: run `campaign channels setup telegram --public-url URL`: %w", what, errs.ErrInvalid)
	}
	lines = append(lines, fmt.Sprintf("webhook %s, %d updates waiting", w.URL, w.PendingUpdateCount))
	if w.LastErrorMessage != "" {
		lines = append(lines, "last delivery error: "+w.LastErrorMessage)
	}
	for _, t := range AllowedUpdates {
		// An empty list means Telegram's default: every type but chat_member and a few others.
		if len(w.AllowedUpdates) > 0 && !slices.Contains(w.AllowedUpdates, t) || len(w.AllowedUpdates) == 0 && t == "chat_member" {
			return lines, fmt.Errorf("telegram: the webhook does not ask for %s updates: run `campaign channels setup telegram` again: %w", t, errs.ErrInvalid)
		}
	}
	return lines, nil
}
