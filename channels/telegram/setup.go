package telegram

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/chatcampaigns/campaign/channels"
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

// Check says, for `campaign channels check`, whether the Bot API answers (reachable), takes
// the token (credentials: getMe), and delivers the bot's updates here (webhook:
// getWebhookInfo): to publicURL+WebhookPath when publicURL is given, else to some
// …/webhooks/telegram, asking for every one of AllowedUpdates.
func (c *Channel) Check(ctx context.Context, publicURL string) []channels.Check {
	reach := channels.Check{What: channels.CheckReachable}
	creds := channels.Check{What: channels.CheckCredentials}
	hook := channels.Check{What: channels.CheckWebhook}
	bot, err := c.GetMe(ctx)
	var apiErr *APIError
	switch {
	case err != nil && !errors.As(err, &apiErr):
		reach.Detail = fmt.Sprintf("%s did not answer: %v", c.cfg.APIURL, err)
		creds.Detail, hook.Detail = "not checked: unreachable", "not checked: unreachable"
		return []channels.Check{reach, creds, hook}
	case err != nil && apiErr.Code >= 500:
		reach.Detail = fmt.Sprintf("%s answered %d: %s", c.cfg.APIURL, apiErr.Code, apiErr.Description)
		creds.Detail, hook.Detail = "not checked: the Bot API is failing", "not checked: the Bot API is failing"
		return []channels.Check{reach, creds, hook}
	}
	reach.OK, reach.Detail = true, c.cfg.APIURL+" answered"
	if err != nil {
		creds.Detail = "the bot token was refused (TELEGRAM_BOT_TOKEN): " + apiErr.Description
		hook.Detail = "not checked: credentials refused"
		return []channels.Check{reach, creds, hook}
	}
	creds.OK = true
	creds.Detail = fmt.Sprintf("token accepted for @%s (id %d)", bot.Username, bot.ID)
	if !bot.CanReadAllGroupMessages {
		creds.Detail += "; privacy mode is on: in groups where it is no administrator the bot sees no photos (docs/telegram.md)"
	}
	w, err := c.GetWebhookInfo(ctx)
	if err != nil {
		hook.Detail = "getWebhookInfo: " + err.Error()
		return []channels.Check{reach, creds, hook}
	}
	want := ""
	if publicURL != "" {
		if want, err = WebhookURL(publicURL); err != nil {
			hook.Detail = err.Error()
			return []channels.Check{reach, creds, hook}
		}
	}
	missing := ""
	for _, t := range AllowedUpdates {
		// An empty list is Telegram's default: every type but chat_member (and a few others).
		if len(w.AllowedUpdates) > 0 && !slices.Contains(w.AllowedUpdates, t) || len(w.AllowedUpdates) == 0 && t == "chat_member" {
			missing = t
			break
		}
	}
	setup := "run `campaign channels setup telegram --public-url " + cmp.Or(publicURL, "https://HOST") + "`"
	switch {
	case w.URL == "":
		hook.Detail = "no webhook is set: " + setup
	case want != "" && w.URL != want:
		hook.Detail = fmt.Sprintf("updates go to %s, not %s: %s", w.URL, want, setup)
	case want == "" && !strings.HasSuffix(w.URL, WebhookPath):
		hook.Detail = fmt.Sprintf("updates go to %s, not to a campaign server's %s: %s", w.URL, WebhookPath, setup)
	case missing != "":
		hook.Detail = fmt.Sprintf("the webhook does not ask for %s updates: %s", missing, setup)
	default:
		hook.OK = true
		hook.Detail = fmt.Sprintf("updates go to %s, %d waiting", w.URL, w.PendingUpdateCount)
		if w.LastErrorMessage != "" {
			hook.Detail += "; the last delivery failed: " + w.LastErrorMessage
		}
	}
	return []channels.Check{reach, creds, hook}
}
