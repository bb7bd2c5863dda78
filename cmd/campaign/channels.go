package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/chatcampaigns/campaign/channels"
	"github.com/chatcampaigns/campaign/channels/messenger"
	"github.com/chatcampaigns/campaign/channels/telegram"
	"github.com/chatcampaigns/campaign/channels/whatsapp"
)

// channelChecker is what a channel package offers `campaign channels check`: its checks
// against the platform, in the order of channels.Check (reachable, credentials, webhook).
// publicURL, when given, is where this server is reached from the internet.
type channelChecker interface {
	Check(ctx context.Context, publicURL string) []channels.Check
}

// channelEntry is one channel `channels check` knows: how to build its checker from the
// environment, and what to set when it is not configured.
type channelEntry struct {
	name string
	// build returns nil, nil when the channel is not configured.
	build func(getenv func(string) string) (channelChecker, error)
	// configure names what to set to configure it.
	configure string
}

// channelEntries lists the channels in the order they are checked. A new channel adds its
// entry here (its package offers Check, as channels/whatsapp does).
func channelEntries() []channelEntry {
	return []channelEntry{
		{name: whatsapp.ChannelName, build: whatsappChecker,
			configure: "WHATSAPP_ACCESS_TOKEN, WHATSAPP_APP_SECRET, WHATSAPP_VERIFY_TOKEN and WHATSAPP_PHONE_NUMBER_ID"},
		{name: telegram.ChannelName, build: telegramChecker, configure: "TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET"},
		{name: messenger.ChannelName, build: messengerChecker,
			configure: "MESSENGER_PAGE_TOKEN, MESSENGER_APP_SECRET and MESSENGER_VERIFY_TOKEN"},
	}
}

func whatsappChecker(getenv func(string) string) (channelChecker, error) {
	cfg, err := configFromFlags(nil, io.Discard, getenv)
	if err != nil {
		return nil, err
	}
	if !cfg.WhatsApp.enabled() {
		return nil, nil
	}
	w := cfg.WhatsApp
	return whatsapp.New(whatsapp.Config{APIURL: w.APIURL, AccessToken: w.AccessToken, AppSecret: w.AppSecret,
		VerifyToken: w.VerifyToken, PhoneNumberID: w.PhoneNumberID})
}

func messengerChecker(getenv func(string) string) (channelChecker, error) {
	cfg, err := configFromFlags(nil, io.Discard, getenv)
	if err != nil || !cfg.Messenger.enabled() {
		return nil, err
	}
	m := cfg.Messenger
	return messenger.New(messenger.Config{APIURL: m.APIURL, PageToken: m.PageToken, AppSecret: m.AppSecret, VerifyToken: m.VerifyToken})
}

const channelsUsage = `usage: campaign channels check [--public-url URL] [--timeout 20s]
       campaign channels setup telegram --public-url https://HOST`

// channelsCmd is `campaign channels SUBCOMMAND`.
func channelsCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	sub := ""
	if len(args) > 0 {
		sub = args[0]
	}
	switch sub {
	case "check":
		return channelsCheckCmd(ctx, args[1:], stdout, stderr, getenv)
	case "setup":
		return channelsSetupCmd(ctx, args[1:], stdout, stderr, getenv)
	}
	fmt.Fprintln(stderr, channelsUsage)
	return errUsage
}

// channelsCheckCmd is `campaign channels check`: every configured channel asked whether its
// platform answers, takes the credentials and sends webhooks here; non-nil (exit 1) when one
// does not or no channel is configured.
func channelsCheckCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("channels check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	publicURL := fs.String("public-url", getenv("CAMPAIGN_PUBLIC_URL"), "where the platforms reach this server (https://HOST); the webhooks must point at it")
	timeout := fs.Duration("timeout", 20*time.Second, "how long all checks may take")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	configured, failed := 0, 0
	for _, e := range channelEntries() {
		c, err := e.build(getenv)
		if err != nil {
			fmt.Fprintf(stdout, "%s\n  FAIL  configuration  %v\n", e.name, err)
			configured++
			failed++
			continue
		}
		if c == nil {
			fmt.Fprintf(stdout, "%s: not configured (set %s)\n", e.name, e.configure)
			continue
		}
		configured++
		fmt.Fprintln(stdout, e.name)
		for _, check := range c.Check(ctx, *publicURL) {
			mark := "ok  "
			if !check.OK {
				mark = "FAIL"
				failed++
			}
			fmt.Fprintf(stdout, "  %s  %-11s  %s\n", mark, check.What, check.Detail)
		}
	}
	switch {
	case configured == 0:
		return errors.New("no channel is configured")
	case failed > 0:
		return errors.New(count(failed, "check", "checks") + " failed")
	}
	return nil
}
