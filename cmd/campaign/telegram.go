package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/chatcampaigns/campaign/channels/telegram"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/store/mongo"
	"github.com/chatcampaigns/campaign/store/sqlite"
)

// TelegramConfig connects a Telegram bot; the channel runs when the bot token and the webhook
// secret are both set.
type TelegramConfig struct {
	APIURL, Token, WebhookSecret string
	// ChatInterval, GroupPerMinute and BotPerSecond pace sends; zero means the channel's
	// defaults (1 s, 20, 30).
	ChatInterval   time.Duration
	GroupPerMinute int
	BotPerSecond   int
}

func (t TelegramConfig) enabled() bool { return t.Token != "" && t.WebhookSecret != "" }

// telegramFromEnv reads TELEGRAM_*. Setting one of the token and the secret without the
// other is refused: a bot without a secret would take anyone's updates, a secret without a
// bot is a typo.
func telegramFromEnv(getenv func(string) string) (TelegramConfig, error) {
	t := TelegramConfig{
		APIURL:        getenv("TELEGRAM_API_URL"),
		Token:         getenv("TELEGRAM_BOT_TOKEN"),
		WebhookSecret: getenv("TELEGRAM_WEBHOOK_SECRET"),
	}
	switch {
	case t.Token != "" && t.WebhookSecret == "":
		return t, errors.New("TELEGRAM_BOT_TOKEN is set but TELEGRAM_WEBHOOK_SECRET is not: set both (the secret is 1-256 of A-Z, a-z, 0-9, _ and -)")
	case t.Token == "" && t.WebhookSecret != "":
		return t, errors.New("TELEGRAM_WEBHOOK_SECRET is set but TELEGRAM_BOT_TOKEN is not: set both")
	}
	if v := getenv("TELEGRAM_CHAT_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return t, fmt.Errorf("TELEGRAM_CHAT_INTERVAL=%q: want a duration like 1s", v)
		}
		t.ChatInterval = d
	}
	for _, l := range []struct {
		env string
		n   *int
	}{{"TELEGRAM_GROUP_PER_MINUTE", &t.GroupPerMinute}, {"TELEGRAM_BOT_PER_SECOND", &t.BotPerSecond}} {
		if v := getenv(l.env); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return t, fmt.Errorf("%s=%q: want a positive whole number", l.env, v)
			}
			*l.n = n
		}
	}
	return t, nil
}

func (t TelegramConfig) channelConfig() telegram.Config {
	return telegram.Config{APIURL: t.APIURL, Token: t.Token, WebhookSecret: t.WebhookSecret,
		ChatInterval: t.ChatInterval, GroupPerMinute: t.GroupPerMinute, BotPerSecond: t.BotPerSecond}
}

// Both stores keep what the Telegram channel knows of groups that became supergroups.
var (
	_ telegram.Aliases = (*sqlite.DB)(nil)
	_ telegram.Aliases = (*mongo.DB)(nil)
)

// mountTelegram runs the Telegram channel in the server: its webhook, and its sender.
func (s *server) mountTelegram(cfg Config, media telegram.MediaStore) error {
	if !cfg.Telegram.enabled() {
		return nil
	}
	tc := cfg.Telegram.channelConfig()
	tc.Receiver, tc.Media, tc.Intake = s.engine, media, s.engine.Intake()
	tc.Now, tc.Log, tc.Typing = cfg.Now, cfg.Log, true
	if a, ok := s.db.(telegram.Aliases); ok {
		tc.Aliases = a
	}
	tg, err := telegram.New(tc)
	if err != nil {
		return fmt.Errorf("telegram: %w", err)
	}
	s.app.Use(telegram.WebhookPath, s.metrics.Webhook(telegram.ChannelName))
	tg.Mount(s.app)
	s.engine.Handle(telegram.ChannelName, tg)
	s.telegram = true
	return nil
}

// channelsSetupCmd is `campaign channels setup telegram --public-url URL`.
func channelsSetupCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	switch {
	case len(args) > 0 && (args[0] == "-h" || args[0] == "--help"):
		return setupTelegram(ctx, args, stdout, stderr, getenv)
	case len(args) == 0 || args[0] != "telegram":
		fmt.Fprintln(stderr, "usage: campaign channels setup telegram --public-url https://HOST")
		return errUsage
	}
	return setupTelegram(ctx, args[1:], stdout, stderr, getenv)
}

// telegramChecker is Telegram's entry in `campaign channels check`.
func telegramChecker(getenv func(string) string) (channelChecker, error) {
	cfg, err := telegramFromEnv(getenv)
	if err != nil || !cfg.enabled() {
		return nil, err
	}
	return telegram.New(cfg.channelConfig())
}

// setupTelegram points the bot's webhook at this server with the secret and the update types
// the channel needs, then checks it as `campaign channels check` does.
func setupTelegram(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("channels setup telegram", flag.ContinueOnError)
	fs.SetOutput(stderr)
	public := fs.String("public-url", getenv("CAMPAIGN_PUBLIC_URL"), "the https address Telegram reaches this server at, e.g. https://race.example.com")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *public == "" {
		fmt.Fprintln(stderr, "usage: campaign channels setup telegram --public-url https://HOST")
		return errUsage
	}
	cfg, err := telegramFromEnv(getenv)
	if err != nil {
		return err
	}
	if !cfg.enabled() {
		return fmt.Errorf("set TELEGRAM_BOT_TOKEN (from @BotFather) and TELEGRAM_WEBHOOK_SECRET (1-256 of A-Z, a-z, 0-9, _ and -) first: %w", errs.ErrInvalid)
	}
	tg, err := telegram.New(cfg.channelConfig())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	hook, err := tg.SetWebhook(ctx, *public)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Telegram delivers the bot's updates to %s\n", hook)
	failed := 0
	for _, c := range tg.Check(ctx, *public) {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
			failed++
		}
		fmt.Fprintf(stdout, "  %s  %-11s  %s\n", mark, c.What, c.Detail)
	}
	if failed > 0 {
		return errors.New(count(failed, "check", "checks") + " failed")
	}
	return nil
}
