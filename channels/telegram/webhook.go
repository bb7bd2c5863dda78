package telegram

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// WebhookPath is where Telegram delivers updates; setWebhook is given {public URL}+WebhookPath.
const WebhookPath = "/webhooks/telegram"

// SecretHeader carries the secret_token given to setWebhook.
const SecretHeader = "X-Telegram-Bot-Api-Secret-Token"

// TooBigText is what a participant hears about a file above the download limit.
const TooBigText = "That file is larger than 20 MB, the most Telegram lets a bot receive. Please send a smaller or shorter one."

// Mount registers POST WebhookPath on r.
func (c *Channel) Mount(r fiber.Router) {
	r.Post(WebhookPath, c.handleWebhook)
}

func (c *Channel) handleWebhook(ctx *fiber.Ctx) error {
	// The secret is checked before the body is even looked at: an update from anyone else
	// never reaches the JSON decoder, let alone the store.
	got := ctx.Request().Header.Peek(SecretHeader)
	if subtle.ConstantTimeCompare(got, []byte(c.cfg.WebhookSecret)) != 1 {
		c.cfg.Log.Warn("telegram: update without the webhook secret refused", "ip", ctx.IP())
		return ctx.Status(fiber.StatusUnauthorized).SendString("missing or wrong " + SecretHeader)
	}
	if n := ctx.Request().Header.ContentLength(); n > MaxWebhookBody {
		return ctx.SendStatus(fiber.StatusRequestEntityTooLarge)
	}
	body := ctx.Body()
	if len(body) > MaxWebhookBody {
		return ctx.SendStatus(fiber.StatusRequestEntityTooLarge)
	}
	u, err := ParseUpdate(body, c.cfg.Now())
	if err != nil {
		c.cfg.Log.Warn("telegram: malformed update refused", "err", err)
		return ctx.Status(fiber.StatusBadRequest).SendString(err.Error())
	}
	if u.Skip == "" && c.cfg.Intake != nil {
		retry, err := c.cfg.Intake.Admit(ctx.UserContext())
		if err != nil {
			if engine.IsBusy(err) {
				ctx.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(retry/time.Second)))
				return ctx.Status(fiber.StatusServiceUnavailable).SendString("too many messages waiting; retry later")
			}
			return ctx.SendStatus(fiber.StatusServiceUnavailable)
		}
	}
	if err := c.Handle(ctx.UserContext(), u); err != nil {
		c.cfg.Log.Error("telegram: update not handled; Telegram will deliver it again", "update", u.ID, "err", err)
		return ctx.SendStatus(fiber.StatusInternalServerError)
	}
	return ctx.SendStatus(fiber.StatusOK)
}

// Handle hands a parsed update over: a group migration is recorded, members joining a group
// are recorded in its team, and a message or a tapped button is routed, its file fetched and
// stored, and Received. A callback query is answered once the tap is stored (or ignored).
func (c *Channel) Handle(ctx context.Context, u *Update) error {
	log := c.cfg.Log.With("update", u.ID, "chat", u.Address)
	if c.cfg.Receiver == nil {
		return errors.New("telegram: no receiver configured")
	}
	if u.Skip != "" {
		log.Debug("telegram: update ignored", "reason", u.Skip)
		c.answerCallback(ctx, u.CallbackID)
		return nil
	}
	switch {
	case u.MigratedTo != 0:
		return c.migrated(ctx, u.Address, strconv.FormatInt(u.MigratedTo, 10))
	case u.MigratedFrom != 0:
		return c.migrated(ctx, strconv.FormatInt(u.MigratedFrom, 10), u.Address)
	}
	addr := u.Address
	if u.Chat.Group() {
		var err error
		if addr, err = c.teamAddress(ctx, u.Address); err != nil {
			return err
		}
	}
	in := u.Inbound
	in.From = addr
	var campaign string
	var ok bool
	var err error
	if u.Start && u.Payload != "" {
		campaign, ok, err = c.cfg.Receiver.RouteStart(ctx, ChannelName, addr, u.Payload)
	} else {
		text := in.Text
		if in.Kind != engine.KindText {
			text = ""
		}
		campaign, ok, err = c.cfg.Receiver.Route(ctx, ChannelName, addr, text, "")
	}
	if err != nil {
		return err
	}
	if !ok {
		log.Info("telegram: update reaches no campaign; ignored")
		c.answerCallback(ctx, u.CallbackID)
		return nil
	}
	if def, found := c.cfg.Receiver.Campaign(campaign); found && def.Teams != nil && !u.Chat.Group() {
		// A team campaign is played by a group chat, one per team: a private chat would make
		// a team of one.
		log.Info("telegram: private message to a team campaign; the sender is sent to a group", "campaign", campaign)
		if in.Kind != "" {
			c.say(ctx, u.Address, c.playInGroups(ctx, def))
		}
		c.answerCallback(ctx, u.CallbackID)
		return nil
	}
	if u.Chat.Group() {
		members := u.Joined
		if u.BotAdded || in.Kind != "" {
			members = append(members, u.Member)
		}
		for _, m := range members {
			if err := c.joinGroup(ctx, campaign, addr, u.Chat.Title, m); err != nil {
				return err
			}
		}
	}
	if in.Kind == "" {
		return nil // a member update: recorded above
	}
	in.Campaign = campaign
	in.ParticipantID = engine.ParticipantID(campaign, ChannelName, addr)
	if u.Media != nil {
		media, err := c.fetchAndStore(ctx, campaign, in.ParticipantID, *u.Media)
		var failed mediaFailure
		switch {
		case errors.Is(err, ErrFileTooBig):
			// The engine would answer "cannot read that"; the participant needs to hear why.
			log.Info("telegram: file above the download limit; the chat is told", "kind", u.Media.Kind, "size", u.Media.Size)
			c.say(ctx, u.Address, TooBigText)
			return nil
		case errors.As(err, &failed):
			log.Warn("telegram: file refused; the participant is told", "kind", u.Media.Kind, "err", err)
			in.Kind = engine.KindUnsupported
		case err != nil:
			return err
		default:
			in.Media = &media
		}
	}
	dup, err := c.cfg.Receiver.Receive(ctx, in)
	if err != nil {
		if errors.Is(err, errs.ErrInvalid) {
			log.Warn("telegram: update refused by the engine; dropped", "campaign", campaign, "err", err)
			c.answerCallback(ctx, u.CallbackID)
			return nil
		}
		return err
	}
	c.answerCallback(ctx, u.CallbackID)
	if c.cfg.Typing && !dup {
		c.showTyping(ctx, u.Address)
	}
	return nil
}

// showTyping shows "typing…" in chat without holding up the webhook's answer: the update is
// stored, and a chat action that fails costs only the indicator. Past a few in flight one is
// skipped rather than queued: under a flood a late indicator is worth nothing.
func (c *Channel) showTyping(ctx context.Context, chat string) {
	select {
	case c.typing <- struct{}{}:
	default:
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	go func() {
		defer func() { <-c.typing; cancel() }()
		if err := c.call(ctx, "sendChatAction", map[string]any{"chat_id": chat, "action": "typing"}, nil); err != nil {
			c.cfg.Log.Debug("telegram: typing indicator", "chat", chat, "err", err)
		}
	}()
}

// joinGroup records m in the team of the group at addr. A campaign whose participants are not
// teams has none; a member the team cannot take (full, or in another team) is logged and
// still heard as the group: what a group sends counts for its team.
func (c *Channel) joinGroup(ctx context.Context, campaign, addr, title string, m User) error {
	if m.ID == 0 || m.IsBot {
		return nil
	}
	key := campaign + "\x00" + addr + "\x00" + strconv.FormatInt(m.ID, 10)
	if _, known := c.members.Load(key); known {
		return nil
	}
	_, err := c.cfg.Receiver.JoinGroup(ctx, campaign, ChannelName, addr, title, strconv.FormatInt(m.ID, 10))
	switch {
	case err == nil, errors.Is(err, errs.ErrInvalid):
		c.members.Store(key, struct{}{})
		return nil
	case errors.Is(err, engine.ErrTeamsClosed):
		// The campaign is not running: the message itself hears so.
		return nil
	case errors.Is(err, errs.ErrConflict):
		c.cfg.Log.Info("telegram: group member not counted in the team", "team", addr, "member", m.ID, "err", err)
		c.members.Store(key, struct{}{})
		return nil
	}
	return fmt.Errorf("telegram: team of group %s: %w", addr, err)
}

// playInGroups tells someone who wrote privately to a team campaign how to play it: in their
// team's group, which the deep link adds the bot to.
func (c *Channel) playInGroups(ctx context.Context, def *campaigns.Definition) string {
	title := def.Title
	if title == "" {
		title = def.ID
	}
	text := title + " is played in group chats, one for each team. Add me to your team's group"
	if name := c.botUsername(ctx); name != "" {
		return text + ": https://t.me/" + name + "?startgroup=" + def.ID
	}
	return text + " and send /start " + def.ID + " there."
}

// botUsername is the bot's username from getMe, asked once; "" while getMe fails.
func (c *Channel) botUsername(ctx context.Context) string {
	c.botMu.Lock()
	defer c.botMu.Unlock()
	if c.botName == "" {
		if b, err := c.GetMe(ctx); err == nil {
			c.botName = b.Username
		} else {
			c.cfg.Log.Warn("telegram: getMe", "err", err)
		}
	}
	return c.botName
}
