package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/channels/telegram/bottest"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/judge"
)

const tgSecret = "race-secret_01"

// tgServer runs campaign serve with race.yaml and the Telegram channel on a fake Bot API.
func tgServer(t *testing.T) (*server, *testClock, *bottest.Server) {
	api := bottest.New(t)
	srv, clock := startServer(t, t.TempDir(), func(c *Config) {
		c.Campaigns = []string{"../../campaigns/examples/race.yaml"}
		c.Telegram = TelegramConfig{APIURL: api.URL, Token: bottest.Token, WebhookSecret: tgSecret}
	})
	return srv, clock, api
}

// tgWait advances the clock until the fake Bot API has sent a message to chat containing want,
// and returns it.
func tgWait(t *testing.T, clock *testClock, api *bottest.Server, chat, want string) bottest.Call {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		for _, c := range api.SentTo(chat) {
			if strings.Contains(c.Text(), want) {
				return c
			}
		}
		clock.Advance(time.Second)
		time.Sleep(5 * time.Millisecond)
	}
	var got []string
	for _, c := range api.SentTo(chat) {
		got = append(got, c.Text())
	}
	t.Fatalf("no message to %s containing %q; sent there: %q", chat, want, got)
	return bottest.Call{}
}

// testMP4 is the start of an MP4 file: what the media store checks of a video.
func testMP4() []byte {
	b := []byte("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2\x00\x00\x00\x08free")
	return append(b, bytes.Repeat([]byte{0}, 64)...)
}

// TestTelegramRaceInGroups plays race.yaml on Telegram groups against the fake Bot API, through
// campaign serve: two groups add the bot through its deep link, agree to the terms with a
// button, get each round's assignment in the group, send entries from any member, one group
// becomes a supergroup mid-race and keeps its team, the jury advances one and eliminates the
// other, and the last team standing wins.
func TestTelegramRaceInGroups(t *testing.T) {
	srv, clock, api := tgServer(t)
	hook := srv.URL() + "/webhooks/telegram"
	amira, bram := bottest.User{ID: 5123456789, FirstName: "Amira"}, bottest.User{ID: 6234567890, FirstName: "Bram"}
	chen, dana := bottest.User{ID: 7234567890, FirstName: "Chen"}, bottest.User{ID: 8234567890, FirstName: "Dana"}
	rats, deck := bottest.Group(-4001, "Harbour Rats"), bottest.Group(-4002, "Deck Hands")
	super := bottest.Supergroup(-1001987654321, "Harbour Rats")
	var seq int64 = 100
	deliver := func(u func(id int64) map[string]any) {
		t.Helper()
		seq++
		if code := bottest.Deliver(t, hook, tgSecret, u(seq)); code != http.StatusOK {
			t.Fatalf("update %d: status %d", seq, code)
		}
	}

	// Without the secret nothing gets in.
	if code := bottest.Deliver(t, hook, "wrong", bottest.Text(1, rats, amira, "/start ESCAPE")); code != http.StatusUnauthorized {
		t.Fatalf("update without the secret: %d, want 401", code)
	}

	// Amira adds the bot to her group with the deep link t.me/campaign_bot?startgroup=ESCAPE:
	// Telegram says the bot was added, then sends /start@campaign_bot ESCAPE in the group.
	deliver(func(id int64) map[string]any { return bottest.BotAdded(id, rats, amira) })
	deliver(func(id int64) map[string]any { return bottest.Text(id, rats, amira, "/start@campaign_bot ESCAPE") })
	consent := tgWait(t, clock, api, "-4001", "Before your team joins the race")
	keyboard, _ := consent.Params["reply_markup"].(map[string]any)
	if keyboard == nil {
		t.Fatalf("consent without an inline keyboard: %s", consent.Raw)
	}
	// Bram taps "yes" under it: the tap counts for the team, and its spinner is stopped.
	deliver(func(id int64) map[string]any {
		return bottest.Callback(id, rats, bram, "q1", campaigns.ConsentYesID, "Yes")
	})
	tgWait(t, clock, api, "-4001", "Welcome aboard, team Harbour Rats!")
	if answers := api.Method("answerCallbackQuery"); len(answers) != 1 {
		t.Errorf("answerCallbackQuery calls %d, want 1", len(answers))
	}

	// The second group: Chen starts it, Dana joins later and agrees by typing OK.
	deliver(func(id int64) map[string]any { return bottest.Text(id, deck, chen, "/start@campaign_bot ESCAPE") })
	tgWait(t, clock, api, "-4002", "Before your team joins the race")
	deliver(func(id int64) map[string]any { return bottest.Joined(id, deck, chen, dana) })
	deliver(func(id int64) map[string]any { return bottest.Text(id, deck, dana, "OK") })
	tgWait(t, clock, api, "-4002", "Welcome aboard, team Deck Hands!")

	// The teams and their members, as the groups showed them.
	ctx := context.Background()
	for member, want := range map[int64]string{amira.ID: "Harbour Rats", bram.ID: "Harbour Rats", chen.ID: "Deck Hands", dana.ID: "Deck Hands"} {
		team, err := srv.engine.TeamOf(ctx, "race", "telegram", itoa(member))
		if err != nil || team.Name != want {
			t.Errorf("team of %d = %+v, %v; want %s", member, team, err, want)
		}
	}

	// Harbour Rats becomes a supergroup before the race starts.
	deliver(func(id int64) map[string]any { return bottest.Migrated(id, rats, amira, super.ID) })
	api.Migrate("-4001", super.ID)

	// Round one opens a week after launch: the assignment goes to every group, Harbour Rats'
	// to its supergroup.
	clock.Advance(7 * 24 * time.Hour)
	tgWait(t, clock, api, "-1001987654321", "Round one, the harbour")
	tgWait(t, clock, api, "-4002", "Round one, the harbour")

	// Entries come from any member and count for the team.
	api.AddFile("rats-1", "photos/rats1.png", testPNG(t))
	deliver(func(id int64) map[string]any { return bottest.Photo(id, super, bram, "rats-1", "all of us") })
	tgWait(t, clock, api, "-1001987654321", "Photo received!")
	api.AddFile("deck-v", "videos/deck.mp4", testMP4())
	deliver(func(id int64) map[string]any { return bottest.Video(id, deck, dana, "deck-v", int64(len(testMP4()))) })
	tgWait(t, clock, api, "-4002", "This round asks for a photo, not a video.")
	api.AddFile("deck-1", "photos/deck1.png", testPNG(t))
	deliver(func(id int64) map[string]any { return bottest.Photo(id, deck, chen, "deck-1", "") })
	tgWait(t, clock, api, "-4002", "Photo received!")

	judges := &judge.Service{Store: srv.db, Wake: srv.engine.Wake, Now: clock.Now}
	decide := func(group, verdict string) {
		t.Helper()
		entries, err := judges.Entries(ctx, judge.Filter{Campaign: "race", Status: judge.StatusPending})
		if err != nil {
			t.Fatal(err)
		}
		pid := engine.ParticipantID("race", "telegram", group)
		for _, e := range entries {
			if e.ParticipantID == pid {
				if err := judges.Decide(ctx, judge.Decision{EntryID: e.ID, Verdict: verdict, By: "jury", At: clock.Now()}); err != nil {
					t.Fatal(err)
				}
				return
			}
		}
		t.Fatalf("no pending entry of %s among %d", group, len(entries))
	}
	decide("-4001", "advanced")
	decide("-4002", "eliminated")
	tgWait(t, clock, api, "-1001987654321", "The jury loved it")
	tgWait(t, clock, api, "-4002", "Thanks for racing, team Deck Hands")

	// Round two: a video, from yet another member.
	clock.Advance(7 * 24 * time.Hour)
	tgWait(t, clock, api, "-1001987654321", "Round two, the rooftop")
	api.AddFile("rats-v", "videos/rats.mp4", testMP4())
	deliver(func(id int64) map[string]any { return bottest.Video(id, super, amira, "rats-v", int64(len(testMP4()))) })
	tgWait(t, clock, api, "-1001987654321", "Video received!")
	decide("-4001", "advanced")
	tgWait(t, clock, api, "-1001987654321", "You made the finale, team Harbour Rats!")

	// The finale: three shots, then the jury crowns them.
	clock.Advance(7 * 24 * time.Hour)
	tgWait(t, clock, api, "-1001987654321", "The finale: three shots")
	for i, from := range []bottest.User{amira, bram, amira} {
		file := "rats-f" + itoa(int64(i))
		api.AddFile(file, "photos/"+file+".png", testPNG(t))
		deliver(func(id int64) map[string]any { return bottest.Photo(id, super, from, file, "") })
	}
	tgWait(t, clock, api, "-1001987654321", "All three shots are in")
	decide("-4001", "winner")
	tgWait(t, clock, api, "-1001987654321", "Team Harbour Rats, you WON the Great Escape!")

	// Nothing went to the old group after it became a supergroup, and Deck Hands heard no
	// round after their elimination.
	for _, c := range api.SentTo("-4002") {
		if strings.Contains(c.Text(), "Round two") {
			t.Errorf("the eliminated team got %q", c.Text())
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestChannelsSetupTelegram(t *testing.T) {
	api := bottest.New(t)
	env := map[string]string{"TELEGRAM_API_URL": api.URL, "TELEGRAM_BOT_TOKEN": bottest.Token, "TELEGRAM_WEBHOOK_SECRET": tgSecret}
	getenv := func(k string) string { return env[k] }
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"channels", "setup", "telegram", "--public-url", "https://race.example.com"}, &stdout, &stderr, getenv)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	hook := api.Webhook()
	if hook["url"] != "https://race.example.com/webhooks/telegram" || hook["secret_token"] != tgSecret {
		t.Errorf("setWebhook got %v", hook)
	}
	for _, want := range []string{"https://race.example.com/webhooks/telegram", "@" + bottest.BotUsername, "privacy mode is on"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}

	for name, tc := range map[string]struct {
		args []string
		env  map[string]string
		want string
	}{
		"no public URL": {[]string{"channels", "setup", "telegram"}, env, "usage"},
		"http":          {[]string{"channels", "setup", "telegram", "--public-url", "http://race.example.com"}, env, "https"},
		"no token":      {[]string{"channels", "setup", "telegram", "--public-url", "https://race.example.com"}, map[string]string{"TELEGRAM_API_URL": api.URL}, "TELEGRAM_BOT_TOKEN"},
		"no secret": {[]string{"channels", "setup", "telegram", "--public-url", "https://race.example.com"},
			map[string]string{"TELEGRAM_API_URL": api.URL, "TELEGRAM_BOT_TOKEN": bottest.Token}, "TELEGRAM_WEBHOOK_SECRET"},
		"wrong token": {[]string{"channels", "setup", "telegram", "--public-url", "https://race.example.com"},
			map[string]string{"TELEGRAM_API_URL": api.URL, "TELEGRAM_BOT_TOKEN": "1:nope", "TELEGRAM_WEBHOOK_SECRET": tgSecret}, "Unauthorized"},
	} {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, &stdout, &stderr, func(k string) string { return tc.env[k] })
			if code == 0 || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want a failure saying %q", code, stderr.String(), tc.want)
			}
		})
	}
}

func TestServeTelegramConfiguration(t *testing.T) {
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"token without secret": {map[string]string{"TELEGRAM_BOT_TOKEN": "1:a"}, "TELEGRAM_WEBHOOK_SECRET"},
		"secret without token": {map[string]string{"TELEGRAM_WEBHOOK_SECRET": "abc"}, "TELEGRAM_BOT_TOKEN"},
		"bad group pace":       {map[string]string{"TELEGRAM_GROUP_PER_MINUTE": "many"}, "TELEGRAM_GROUP_PER_MINUTE"},
		"bad chat pace":        {map[string]string{"TELEGRAM_CHAT_INTERVAL": "-1s"}, "TELEGRAM_CHAT_INTERVAL"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := configFromFlags(nil, io.Discard, func(k string) string { return tc.env[k] })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("configFromFlags = %v, want an error naming %s", err, tc.want)
			}
		})
	}
	cfg, err := configFromFlags(nil, io.Discard, func(k string) string {
		return map[string]string{"TELEGRAM_BOT_TOKEN": "1:a", "TELEGRAM_WEBHOOK_SECRET": "abc", "TELEGRAM_GROUP_PER_MINUTE": "10", "TELEGRAM_CHAT_INTERVAL": "2s"}[k]
	})
	if err != nil || !cfg.Telegram.enabled() || cfg.Telegram.GroupPerMinute != 10 || cfg.Telegram.ChatInterval != 2*time.Second {
		t.Errorf("configFromFlags = %+v, %v", cfg.Telegram, err)
	}
	// A secret Telegram would refuse stops the server at start, not at the first update.
	_, err = newServer(context.Background(), Config{Addr: "127.0.0.1:0", Data: t.TempDir(),
		Campaigns: []string{"../../campaigns/examples/race.yaml"}, Telegram: TelegramConfig{Token: "1:a", WebhookSecret: "has spaces"}})
	if err == nil || !strings.Contains(err.Error(), "TELEGRAM_WEBHOOK_SECRET") {
		t.Errorf("newServer with a bad secret = %v", err)
	}
}

func TestChannelsCheckTelegram(t *testing.T) {
	api := bottest.New(t)
	env := map[string]string{"TELEGRAM_API_URL": api.URL, "TELEGRAM_BOT_TOKEN": bottest.Token, "TELEGRAM_WEBHOOK_SECRET": tgSecret}
	getenv := func(k string) string { return env[k] }
	check := func() (int, string) {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"channels", "check", "--public-url", "https://race.example.com"}, &stdout, &stderr, getenv)
		return code, stdout.String() + stderr.String()
	}
	code, out := check()
	if code != 1 || !strings.Contains(out, "FAIL  webhook      no webhook is set") || !strings.Contains(out, "ok    credentials  token accepted for @"+bottest.BotUsername) {
		t.Errorf("before setup: exit %d\n%s", code, out)
	}
	if code := run(context.Background(), []string{"channels", "setup", "telegram", "--public-url", "https://race.example.com"}, io.Discard, io.Discard, getenv); code != 0 {
		t.Fatalf("setup: exit %d", code)
	}
	code, out = check()
	if code != 0 || !strings.Contains(out, "ok    webhook      updates go to https://race.example.com/webhooks/telegram") {
		t.Errorf("after setup: exit %d\n%s", code, out)
	}
}
