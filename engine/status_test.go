package engine_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/store/sqlite"
)

// bouncerVersions compiles the bouncer example and a second version of it with other words,
// through the parser, because Restore recompiles what it stored.
func bouncerVersions(t *testing.T) (v1, v2 *campaigns.Definition) {
	t.Helper()
	src, err := os.ReadFile("../campaigns/examples/bouncer.yaml")
	if err != nil {
		t.Fatal(err)
	}
	v1, probs := campaigns.Parse("bouncer.yaml", src)
	if v1 == nil {
		t.Fatalf("parse v1: %v", probs)
	}
	src2 := strings.ReplaceAll(string(src), "Talk is cheap.", "Words are cheap.")
	src2 = strings.ReplaceAll(src2, "Evening. I'm Sven", "Good evening. I'm Sven")
	v2, probs = campaigns.Parse("bouncer.yaml", []byte(src2))
	if v2 == nil {
		t.Fatalf("parse v2: %v", probs)
	}
	if v1.Version == v2.Version {
		t.Fatal("both versions have the same version")
	}
	return v1, v2
}

func TestVersionsAndRestart(t *testing.T) {
	v1, v2 := bouncerVersions(t)
	h := newEnv(t, v1)
	if err := h.eng.Restore(h.ctx); err != nil {
		t.Fatal(err)
	}
	wantPrefix(t, h.join("bouncer", "ann"), "Evening. I'm Sven")
	if err := h.eng.Load(h.ctx, v2); err != nil {
		t.Fatal(err)
	}
	wantPrefix(t, h.join("bouncer", "bob"), "Good evening. I'm Sven")
	wantPrefix(t, h.text("bouncer", "ann", "let me in"), "Talk is cheap.")
	wantPrefix(t, h.text("bouncer", "bob", "let me in"), "Words are cheap.")
	if err := h.eng.SetStatus(h.ctx, "bouncer", engine.StatusPaused); err != nil {
		t.Fatal(err)
	}

	// A restart with the unchanged file keeps what was launched since, and the status.
	h.db.Close()
	db, err := sqlite.Open(context.Background(), h.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h.db = db
	h.eng = engine.New(engine.Config{Store: db, Campaigns: []*campaigns.Definition{v1}, Now: h.clock.Now})
	h.eng.Handle("test", h.sent)
	if err := h.eng.Restore(h.ctx); err != nil {
		t.Fatal(err)
	}
	if d, _ := h.eng.Campaign("bouncer"); d.Version != v2.Version {
		t.Errorf("current version after restart = %s, want the launched %s", d.Version, v2.Version)
	}
	if s := h.eng.Status("bouncer"); s != engine.StatusPaused {
		t.Errorf("status after restart = %q, want paused", s)
	}
	if err := h.eng.SetStatus(h.ctx, "bouncer", engine.StatusLive); err != nil {
		t.Fatal(err)
	}
	wantPrefix(t, h.text("bouncer", "ann", "still me"), "Talk is cheap.")
	wantPrefix(t, h.join("bouncer", "cy"), "Good evening. I'm Sven")

	// An edited file is a new version, and becomes current.
	v3 := *v2
	v3.Version = "edited"
	h.eng = engine.New(engine.Config{Store: db, Campaigns: []*campaigns.Definition{&v3}, Now: h.clock.Now})
	if err := h.eng.Restore(h.ctx); err != nil {
		t.Fatal(err)
	}
	if d, _ := h.eng.Campaign("bouncer"); d.Version != "edited" {
		t.Errorf("current version after an edit = %s, want edited", d.Version)
	}
	recs, _ := db.Campaigns(h.ctx)
	var versions []string
	for _, r := range recs {
		versions = append(versions, r.Version)
	}
	// v1 is still played by ann; v2 by bob and cy; the edit is the latest.
	if strings.Join(versions, ",") != v1.Version+","+v2.Version+",edited" {
		t.Errorf("stored versions = %v", versions)
	}
}

func wantPrefix(t *testing.T, got []string, want ...string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("replies = %q, want %d starting %q", got, len(want), want)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Fatalf("reply %d = %q, want it to start with %q", i, got[i], want[i])
		}
	}
}

func TestStatus(t *testing.T) {
	t.Run("PausedKeepsEventsUntilResumed", func(t *testing.T) {
		h := newEnv(t, news(), def("other").state("s", "Other.").build())
		h.text("news", "ann", "NRCQ ON")
		if err := h.eng.SetStatus(h.ctx, "news", engine.StatusPaused); err != nil {
			t.Fatal(err)
		}
		h.receive("news", "ann", engine.Inbound{Kind: engine.KindText, Text: "hello"})
		h.receive("news", "bob", engine.Inbound{Kind: engine.KindText, Text: "NRCQ ON"})
		wantTexts(t, h.join("other", "cy"), "Other.") // other campaigns go on
		if err := h.eng.SetStatus(h.ctx, "news", engine.StatusLive); err != nil {
			t.Fatal(err)
		}
		wantTexts(t, h.settle(), "Noted: ", "You're subscribed to the news.")
	})
	t.Run("ClosedAnswersEveryoneAndCreatesNobody", func(t *testing.T) {
		h := newEnv(t, news())
		h.text("news", "ann", "NRCQ ON")
		if err := h.eng.SetStatus(h.ctx, "news", engine.StatusClosed); err != nil {
			t.Fatal(err)
		}
		wantTexts(t, h.text("news", "zed", "NRCQ ON"), engine.NotRunning)
		if _, err := h.db.Participant(h.ctx, engine.ParticipantID("news", "test", "zed")); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("stranger stored: %v", err)
		}
		wantTexts(t, h.text("news", "ann", "hello"), engine.NotRunning)
		h.wantState("news", "ann", "subscribed")
		lines, _ := h.eng.Transcript(h.ctx, h.participant("news", "ann").ID)
		if got := lines[len(lines)-2].Text; got != "hello" {
			t.Errorf("transcript = %+v, want the message kept", lines)
		}
		wantTexts(t, h.text("news", "ann", "stop"), engine.DefaultOptOut) // opting out always works
	})
	t.Run("OutsideSchedule", func(t *testing.T) {
		d := news()
		s := campaigns.Schedule{Start: t0.Add(time.Hour), End: t0.Add(2 * time.Hour), HardStop: t0.Add(3 * time.Hour), Location: time.UTC}
		d.Schedule = s
		h := newEnv(t, d)
		wantTexts(t, h.text("news", "early", "NRCQ ON"), fmt.Sprintf(engine.NotStarted, s.Format(s.Start)))
		h.clock.Advance(time.Hour)
		wantTexts(t, h.text("news", "ontime", "NRCQ ON"), "You're subscribed to the news.")
		h.clock.Advance(time.Hour)
		// The end stops newcomers only: a subscriber from before it is still answered.
		wantTexts(t, h.text("news", "late", "NRCQ ON"), fmt.Sprintf(engine.Ended, s.Format(s.End)))
		wantTexts(t, h.text("news", "ontime", "hello"), "Noted: ")
		h.clock.Advance(time.Hour)
		wantTexts(t, h.text("news", "ontime", "hello"), fmt.Sprintf(engine.Ended, s.Format(s.HardStop)))
	})
	t.Run("DraftIsProcessedButNotRouted", func(t *testing.T) {
		h := newEnv(t, news())
		if err := h.eng.SetStatus(h.ctx, "news", engine.StatusDraft); err != nil {
			t.Fatal(err)
		}
		if c, ok, _ := h.eng.Route(h.ctx, "test", "ann", "NRCQ ON", ""); ok {
			t.Errorf("draft routed to: %s", c)
		}
		wantTexts(t, h.text("news", "ann", "NRCQ ON"), "You're subscribed to the news.")
	})
	t.Run("LaunchAsDraftThenLive", func(t *testing.T) {
		h := newEnv(t)
		if err := h.eng.Launch(h.ctx, news(), engine.StatusDraft); err != nil {
			t.Fatal(err)
		}
		if s := h.eng.Status("news"); s != engine.StatusDraft {
			t.Fatalf("status = %q, want draft", s)
		}
		if _, ok, _ := h.eng.Route(h.ctx, "test", "ann", "NRCQ ON", ""); ok {
			t.Error("draft routed to")
		}
		if err := h.eng.SetStatus(h.ctx, "news", engine.StatusLive); err != nil {
			t.Fatal(err)
		}
		if c, ok, _ := h.eng.Route(h.ctx, "test", "ann", "NRCQ ON", ""); !ok || c != "news" {
			t.Errorf("Route = %s, %v; want news once live", c, ok)
		}
		counts, err := h.eng.StateCounts(h.ctx, "news")
		if err != nil || len(counts) != 0 {
			t.Errorf("StateCounts = %v, %v", counts, err)
		}
		if err := h.eng.Launch(h.ctx, news(), "open"); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("Launch with an unknown status: %v", err)
		}
	})
	t.Run("Refused", func(t *testing.T) {
		h := newEnv(t, news())
		if err := h.eng.SetStatus(h.ctx, "news", "running"); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("unknown status: %v", err)
		}
		if err := h.eng.SetStatus(h.ctx, "nope", engine.StatusLive); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("unknown campaign: %v", err)
		}
		if err := h.eng.Load(h.ctx, &campaigns.Definition{ID: "x"}); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("incomplete definition: %v", err)
		}
	})
}

func TestRoute(t *testing.T) {
	quiz := def("quiz").state("q", "Quiz!").with(func(d *campaigns.Definition) {
		d.Keywords = []string{"QUIZ"}
		d.WhatsAppNumber = "111"
	}).build()
	shop := def("shop").state("s", "Shop.").with(func(d *campaigns.Definition) { d.Channels = []string{"whatsapp"} }).build()
	drafty := def("drafty").state("s", "Draft.").with(func(d *campaigns.Definition) { d.Keywords = []string{"DRAFTY"} }).build()
	h := newEnv(t, news(), quiz, shop, drafty)
	if err := h.eng.SetStatus(h.ctx, "drafty", engine.StatusDraft); err != nil {
		t.Fatal(err)
	}
	route := func(channel, from, text, number string) string {
		t.Helper()
		c, ok, err := h.eng.Route(h.ctx, channel, from, text, number)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return "-"
		}
		return c
	}
	for _, tt := range []struct {
		name, channel, text, number, want string
	}{
		{"Keyword", "whatsapp", " nrcq on ", "", "news"},
		{"KeywordOnItsNumber", "whatsapp", "quiz", "111", "quiz"},
		{"KeywordOnAnotherNumber", "whatsapp", "quiz", "222", "shop"},
		{"SoleCampaignWithoutKeywords", "whatsapp", "hello", "", "shop"},
		{"NothingOnTheChannel", "telegram", "hello", "", "-"},
		{"KeywordOnAllChannels", "telegram", "QUIZ", "", "quiz"},
		{"DraftNever", "whatsapp", "drafty", "", "shop"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := route(tt.channel, "stranger", tt.text, tt.number); got != tt.want {
				t.Errorf("Route = %s, want %s", got, tt.want)
			}
		})
	}
	t.Run("ParticipantWins", func(t *testing.T) {
		h.receive("news", "ann", engine.Inbound{Kind: engine.KindText, Text: "NRCQ ON", Channel: "whatsapp"})
		h.settle()
		if got := route("whatsapp", "ann", "hello", ""); got != "news" {
			t.Errorf("Route = %s, want news (ann subscribed)", got)
		}
		h.receive("news", "ann", engine.Inbound{Kind: engine.KindText, Text: "STOP", Channel: "whatsapp"})
		h.settle()
		if got := route("whatsapp", "ann", "hello", ""); got != "shop" {
			t.Errorf("Route after opting out = %s, want shop", got)
		}
		if got := route("whatsapp", "ann", "NRCQ ON", ""); got != "news" {
			t.Errorf("Route of the keyword after opting out = %s, want news", got)
		}
		if got := route("whatsapp", "ann", "start", ""); got != "news" {
			t.Errorf("Route of the rejoin word after opting out = %s, want news", got)
		}
	})
	t.Run("ClosedStillAnswersItsKeyword", func(t *testing.T) {
		h.eng.SetStatus(h.ctx, "quiz", engine.StatusClosed)
		if got := route("whatsapp", "x", "QUIZ", "111"); got != "quiz" {
			t.Errorf("Route = %s, want quiz (to hear it is closed)", got)
		}
	})
}

// TestRouteFinished: the texts of a participant who finished or opted out reach their campaign
// when no other campaign claims them, so they hear its finished text rather than nothing.
func TestRouteFinished(t *testing.T) {
	h := newEnv(t, news())
	h.receive("news", "ann", engine.Inbound{Kind: engine.KindText, Text: "NRCQ ON", Channel: "whatsapp"})
	h.receive("news", "ann", engine.Inbound{Kind: engine.KindText, Text: "STOP", Channel: "whatsapp"})
	h.settle()
	if c, ok, err := h.eng.Route(h.ctx, "whatsapp", "ann", "hello", ""); err != nil || !ok || c != "news" {
		t.Errorf("Route = %s, %v, %v; want news", c, ok, err)
	}
	if c, ok, _ := h.eng.Route(h.ctx, "whatsapp", "bob", "hello", ""); ok {
		t.Errorf("a stranger routed to %s", c)
	}
}

// TestRouteNumberOwnerWins: of the campaigns without keywords, the one that names the number a
// stranger writes to takes them, before one that answers on any number; two of a kind on a
// number leave the stranger unanswered (campaign validate warns).
func TestRouteNumberOwnerWins(t *testing.T) {
	nokw := func(id, number string) *campaigns.Definition {
		return def(id).state("s", id+".").with(func(d *campaigns.Definition) {
			d.Channels = []string{"whatsapp"}
			d.WhatsAppNumber = number
		}).build()
	}
	h := newEnv(t, nokw("anywhere", ""), nokw("desk", "111"), nokw("shop", "222"), nokw("shop2", "222"))
	for _, tt := range []struct{ number, want string }{
		{"111", "desk"},     // the desk's own number: the desk, not the any-number campaign
		{"333", "anywhere"}, // a number nobody names
		{"222", "-"},        // two name it: neither
	} {
		c, ok, err := h.eng.Route(h.ctx, "whatsapp", "stranger", "hello", tt.number)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			c = "-"
		}
		if c != tt.want {
			t.Errorf("a stranger on %s goes to %s, want %s", tt.number, c, tt.want)
		}
	}
}

// TestRouteClosedPlayerHearsNotice: someone playing a campaign that was closed hears that it
// is not running when they write (not silence), unless the message is another campaign's
// entry keyword, which joins that one.
func TestRouteClosedPlayerHearsNotice(t *testing.T) {
	quiz := def("quiz").state("q", "Quiz!").with(func(d *campaigns.Definition) { d.Keywords = []string{"QUIZ"} }).build()
	shop := def("shop").state("s", "Shop.").with(func(d *campaigns.Definition) { d.Channels = []string{"whatsapp"} }).build()
	h := newEnv(t, news(), quiz, shop)
	h.receive("news", "ann", engine.Inbound{Kind: engine.KindText, Text: "NRCQ ON", Channel: "whatsapp"})
	h.settle()
	if err := h.eng.SetStatus(h.ctx, "news", engine.StatusClosed); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ text, want string }{
		{"hello", "news"}, // to hear "not running", not to join the shop without keywords
		{"QUIZ", "quiz"},
	} {
		c, ok, err := h.eng.Route(h.ctx, "whatsapp", "ann", tt.text, "")
		if err != nil || !ok || c != tt.want {
			t.Errorf("%q from a player of the closed news: Route = %s, %v, %v; want %s", tt.text, c, ok, err, tt.want)
		}
	}
}
