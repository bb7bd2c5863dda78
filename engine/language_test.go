package engine_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/judge"
)

// news is the keyword subscription: join with a keyword, stay subscribed, opt out.
func news() *campaigns.Definition {
	return def("news").
		state("subscribed", "You're subscribed to the news.",
			onText("", "Noted: {{name}}", "hello")).
		with(func(d *campaigns.Definition) {
			d.Keywords = []string{"NRCQ ON"}
			d.Channels = []string{"whatsapp", "test"}
		}).build()
}

func TestConsentComesFirst(t *testing.T) {
	d := news()
	d.Consent = txt("We keep your number for news only. OK?")
	h := newEnv(t, d)
	wantTexts(t, h.text("news", "ann", "NRCQ ON"), "We keep your number for news only. OK?")
	h.wantState("news", "ann", engine.StateConsent)
	wantTexts(t, h.text("news", "ann", "ok"), "You're subscribed to the news.")
	h.wantState("news", "ann", "subscribed")
}

func TestConsentRefusedByOptOut(t *testing.T) {
	d := news()
	d.Consent = txt("OK?")
	h := newEnv(t, d)
	h.text("news", "ann", "NRCQ ON")
	wantTexts(t, h.text("news", "ann", "stop"), engine.DefaultOptOut)
	h.wantState("news", "ann", engine.StateOptedOut)
}

func TestOptOut(t *testing.T) {
	t.Run("DefaultWordsInAnyCase", func(t *testing.T) {
		for _, word := range []string{"STOP", "stoppen", " Afmelden ", "uit", "ABMELDEN", "unsubscribe"} {
			h := newEnv(t, news())
			h.text("news", "ann", "NRCQ ON")
			wantTexts(t, h.text("news", "ann", word), engine.DefaultOptOut)
			if p := h.wantState("news", "ann", engine.StateOptedOut); !p.Finished {
				t.Errorf("%q: opted-out participant not finished", word)
			}
		}
	})
	t.Run("DefinitionWordsAndSay", func(t *testing.T) {
		d := news()
		d.OptOut = []string{"NRCQ OFF"}
		d.OptOutSay = txt("Bye from the paper.")
		h := newEnv(t, d)
		h.text("news", "ann", "NRCQ ON")
		wantTexts(t, h.text("news", "ann", "nrcq off"), "Bye from the paper.")
	})
	t.Run("SaidOnceThenSilent", func(t *testing.T) {
		h := newEnv(t, news())
		h.text("news", "ann", "NRCQ ON")
		h.text("news", "ann", "STOP")
		wantTexts(t, h.text("news", "ann", "STOP"))
		wantTexts(t, h.text("news", "ann", "hello"))
		lines, _ := h.eng.Transcript(h.ctx, h.participant("news", "ann").ID)
		if got := lines[len(lines)-1].Text; got != "hello" {
			t.Errorf("last transcript line = %q, want the message kept", got)
		}
	})
	t.Run("KeywordStartsOver", func(t *testing.T) {
		h := newEnv(t, news())
		h.text("news", "ann", "NRCQ ON")
		h.text("news", "ann", "STOP")
		wantTexts(t, h.text("news", "ann", "nrcq on"), "You're subscribed to the news.")
		if p := h.wantState("news", "ann", "subscribed"); p.Finished {
			t.Error("restarted participant still finished")
		}
	})
	t.Run("StateTransitionWins", func(t *testing.T) {
		d := def("q").
			state("ask", "Sure you want to leave?", &campaigns.Transition{Kind: campaigns.OnOptOut, Say: says("Wait! One more question."), Goto: "last"}).
			state("last", "Last question.").build()
		h := newEnv(t, d)
		h.join("q", "ann")
		wantTexts(t, h.text("q", "ann", "STOP"), "Wait! One more question.", "Last question.")
		// The transition's words replace the goodbye; the participant is opted out all the same.
		h.wantState("q", "ann", engine.StateOptedOut)
	})
	t.Run("CancelsQueuedRepliesAndTimers", func(t *testing.T) {
		d := def("r").state("wait", "Hi", onAfter(time.Hour, "", "Still there?")).build()
		d.Persona.DelayMin = 10 * time.Minute // replies still queued when the opt-out arrives
		h := newEnv(t, d)
		h.receive("r", "ann", engine.Inbound{Kind: engine.KindJoin})
		h.eng.ProcessPending(h.ctx)
		h.receive("r", "ann", engine.Inbound{Kind: engine.KindText, Text: "stop"})
		h.eng.ProcessPending(h.ctx)
		h.clock.Advance(2 * time.Hour)
		if n, _ := h.eng.FireDueTimers(h.ctx); n != 0 {
			t.Errorf("%d timers fired after opting out", n)
		}
		h.eng.ProcessPending(h.ctx)
		h.eng.SendDue(h.ctx)
		got := h.sent.all()
		if len(got) != 1 || got[0].Text != engine.DefaultOptOut {
			t.Fatalf("sent %+v, want only the opt-out confirmation", got)
		}
		rows, _ := h.db.Outbox(h.ctx, h.participant("r", "ann").ID)
		if rows[0].Status != engine.StatusCancelled {
			t.Errorf("queued greeting = %s, want cancelled", rows[0].Status)
		}
	})
}

func TestSaveValidates(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		as       string
		min, max *float64
		answer   string
		want     string // "" = refused
	}{
		{"text", nil, nil, " Ann ", "Ann"},
		{"text", f(3), nil, "Al", ""},
		{"number", f(1), f(10), "7", "7"},
		{"number", f(1), f(10), "7,5", "7.5"},
		{"number", f(1), f(10), "11", ""},
		{"number", nil, nil, "seven", ""},
		{"number", nil, nil, "-2.5", "-2.5"},
		{"number", nil, nil, "1e3", "1000"},
		{"number", nil, nil, "12345678901234", "12345678901234"},
		// What strconv also reads as a number, no participant means as one: refused, and a
		// number too large to hold exactly (1e308 would be a text of 309 digits).
		{"number", nil, nil, "NaN", ""},
		{"number", nil, nil, "Infinity", ""},
		{"number", nil, nil, "-inf", ""},
		{"number", nil, nil, "0x10", ""},
		{"number", nil, nil, "0x1p4", ""},
		{"number", nil, nil, "1_000", ""},
		{"number", nil, nil, "1e308", ""},
		{"number", nil, nil, "1e400", ""},
		{"number", nil, nil, "-1e16", ""},
		{"email", nil, nil, "ann@example.com", "ann@example.com"},
		{"email", nil, nil, "ann@example", ""},
		{"email", nil, nil, "Ann <ann@example.com>", ""},
		{"phone", nil, nil, "+31 6 1234 5678", "+31612345678"},
		{"phone", nil, nil, "call me", ""},
		{"phone", nil, nil, "+12", ""},
		{"date", nil, nil, "2001-02-03", "2001-02-03"},
		{"date", nil, nil, "3 Feb 2001", ""},
		{"date", nil, nil, "2001-02-30", ""},
		{"age", f(18), nil, "2008-11-25", "18"}, // the 18th birthday is today (t0)
		{"age", f(18), nil, "2008-11-26", ""},   // tomorrow
		{"age", f(18), f(99), "42", "42"},
		{"age", f(18), nil, "17", ""},
		{"age", nil, nil, "2030-01-01", ""},
	}
	for _, tt := range tests {
		t.Run(tt.as+"/"+tt.answer, func(t *testing.T) {
			d := def("s").
				state("ask", "Your answer?", &campaigns.Transition{Kind: campaigns.OnText, AnyText: true,
					Save: &campaigns.Save{Var: "v", As: tt.as, Min: tt.min, Max: tt.max}, Goto: "done"}).
				final("done", "Thanks, {{v}}.").build()
			h := newEnv(t, d)
			h.join("s", "ann")
			got := h.text("s", "ann", tt.answer)
			if tt.want == "" {
				wantTexts(t, got, engine.DefaultInvalid)
				h.wantState("s", "ann", "ask")
				return
			}
			wantTexts(t, got, "Thanks, "+tt.want+".")
		})
	}
	t.Run("InvalidTextFromDefinition", func(t *testing.T) {
		d := def("s").state("ask", "Email?", &campaigns.Transition{Kind: campaigns.OnText, AnyText: true,
			Save: &campaigns.Save{Var: "email", As: "email", Invalid: txt("That is no email.")}}).build()
		h := newEnv(t, d)
		h.join("s", "ann")
		wantTexts(t, h.text("s", "ann", "nope"), "That is no email.")
	})
}

func TestCollectSeveralItems(t *testing.T) {
	collect := onMedia("judging", true)
	collect.Count = 3
	d := def("c").state("send", "Send three photos.", collect).state("judging", "Thanks, all three are in.").build()
	h := newEnv(t, d)
	h.join("c", "ann")
	for i := 1; i <= 3; i++ {
		h.receive("c", "ann", engine.Inbound{Kind: engine.KindMedia, Media: &engine.Media{Kind: "photo", Key: fmt.Sprintf("k%d", i)}})
		got := h.settle()
		if i < 3 {
			wantTexts(t, got, fmt.Sprintf("Got it (%d of 3).", i))
			h.wantState("c", "ann", "send")
		} else {
			wantTexts(t, got, "Thanks, all three are in.")
		}
	}
	p := h.wantState("c", "ann", "judging")
	if _, ok := p.Vars["collected"]; ok {
		t.Errorf("counter left behind: %v", p.Vars)
	}
	entries, _ := h.judge.Entries(h.ctx, judge.Filter{Campaign: "c"})
	if len(entries) != 3 {
		t.Errorf("%d entries, want 3", len(entries))
	}
}

func TestPoolNeverOversubscribed(t *testing.T) {
	take := onText("in", "", "yes")
	take.Take, take.TakeFull = "guests", "full"
	d := def("p").
		state("ask", "{{places_left}} places left. Want one?", take).
		final("in", "You're in. {{places_left}} left.").
		final("full", "Sorry, the list is full.").
		with(func(d *campaigns.Definition) { d.Pools["guests"] = &campaigns.Pool{Name: "guests", Capacity: 2} }).build()
	h := newEnv(t, d)
	wantTexts(t, h.join("p", "a"), "2 places left. Want one?")
	wantTexts(t, h.text("p", "a", "yes"), "You're in. 1 left.")
	h.join("p", "b")
	h.join("p", "c")
	// b and c answer together: one place for two.
	h.receive("p", "b", engine.Inbound{Kind: engine.KindText, Text: "yes"})
	h.receive("p", "c", engine.Inbound{Kind: engine.KindText, Text: "yes"})
	wantTexts(t, h.settle(), "You're in. 0 left.", "Sorry, the list is full.")
	if n, _ := h.db.PoolTaken(h.ctx, "p", "guests"); n != 2 {
		t.Errorf("taken = %d, want 2", n)
	}
}

// TestPoolFullFromAnotherWriter makes the store refuse the place the engine saw free: a
// second process took it between the engine's read and its commit.
func TestPoolFullFromAnotherWriter(t *testing.T) {
	take := onText("in", "", "yes")
	take.Take, take.TakeFull = "guests", "full"
	d := def("p").state("ask", "Want one?", take).final("in", "In.").final("full", "Full.").
		with(func(d *campaigns.Definition) { d.Pools["guests"] = &campaigns.Pool{Name: "guests", Capacity: 1} }).build()
	h := newEnv(t, d)
	h.join("p", "a")
	other := newEnvOn(t, h, d)
	other.join("p", "z")
	other.text("p", "z", "yes")
	wantTexts(t, h.text("p", "a", "yes"), "Full.")
}

// newEnvOn is a second engine on the same database file, standing in for another process.
func newEnvOn(t *testing.T, h *env, defs ...*campaigns.Definition) *env {
	o := &env{t: t, ctx: h.ctx, clock: h.clock, db: h.db, path: h.path, sent: &recorder{}, seq: 1000}
	o.eng = engine.New(engine.Config{Store: h.db, Campaigns: defs, Now: h.clock.Now})
	o.eng.Handle("test", o.sent)
	return o
}

func TestActionsInOrder(t *testing.T) {
	tr := &campaigns.Transition{Kind: campaigns.OnText, Keywords: []string{"go"}, IssueCode: true,
		Notify: txt("{{name}} got code {{code}}"),
		Say: []campaigns.Message{
			{Text: txt("Code {{code}}"), Buttons: []campaigns.Button{{ID: "again", Title: txt("Again, {{name}}")}}},
			{Text: txt("A picture"), Media: "https://cdn.example/{{code}}.jpg"},
		},
		End: true}
	d := def("a").state("s", "Say go.", tr).build()
	h := newEnv(t, d)
	h.receive("a", "ann", engine.Inbound{Kind: engine.KindJoin, Name: "Ann"})
	h.settle()
	out := func() []engine.Outbound {
		h.receive("a", "ann", engine.Inbound{Kind: engine.KindText, Text: "GO"})
		return h.settleOut()
	}()
	p := h.participant("a", "ann")
	code := p.Vars["code"]
	if len(code) != 6 || !p.Finished {
		t.Fatalf("participant = %+v, want a code and finished", p)
	}
	if len(out) != 2 || out[0].Text != "Code "+code || len(out[0].Buttons) != 1 ||
		out[0].Buttons[0] != (engine.Button{ID: "again", Title: "Again, Ann"}) ||
		out[1].MediaURL != "https://cdn.example/"+code+".jpg" {
		t.Fatalf("sent %+v", out)
	}
	ns, err := h.eng.Notifications(h.ctx, "a", 10)
	if err != nil || len(ns) != 1 || ns[0].Text != "Ann got code "+code || ns[0].ParticipantID != p.ID {
		t.Fatalf("notifications = %+v, %v", ns, err)
	}
}

func TestLanguages(t *testing.T) {
	d := def("l").state("s", "", &campaigns.Transition{Kind: campaigns.OnText, AnyText: true,
		Save: &campaigns.Save{Var: "lang", As: "text"}, Goto: "hello"}).
		state("hello", "").
		with(func(d *campaigns.Definition) {
			d.Languages = []string{"nl", "en"}
			d.States["s"].Say = []campaigns.Message{{Text: campaigns.Text{"nl": "Taal?", "en": "Language?"}}}
			d.States["hello"].Say = []campaigns.Message{{Text: campaigns.Text{"nl": "Hallo", "en": "Hello"}}}
		}).build()
	h := newEnv(t, d)
	wantTexts(t, h.join("l", "ann"), "Taal?")
	wantTexts(t, h.text("l", "ann", "en"), "Hello")
	h.join("l", "bob")
	// No French: not a language of the campaign, so not saved; "EN" is en.
	wantTexts(t, h.text("l", "bob", "fr"), "Dat klopt niet helemaal. Probeer het nog eens.")
	wantTexts(t, h.text("l", "bob", "EN"), "Hello")
}

func TestChoiceLocationUnsupported(t *testing.T) {
	d := def("k").
		state("menu", "Pick one.",
			&campaigns.Transition{Kind: campaigns.OnChoice, Choices: []string{"shop"}, Goto: "where"},
			onText("menu", "Use the buttons.", "help")).
		state("where", "Where are you?",
			&campaigns.Transition{Kind: campaigns.OnLocation, Say: says("You are at {{lat}},{{lng}}."), Goto: "done"}).
		final("done", "").build()
	h := newEnv(t, d)
	h.join("k", "ann")
	h.receive("k", "ann", engine.Inbound{Kind: engine.KindChoice, Choice: "other", Text: "Other"})
	wantTexts(t, h.settle(), engine.DefaultFallback)
	h.receive("k", "ann", engine.Inbound{Kind: engine.KindChoice, Choice: "x", Text: "help"})
	wantTexts(t, h.settle(), "Use the buttons.", "Pick one.")
	h.receive("k", "ann", engine.Inbound{Kind: engine.KindChoice, Choice: "shop", Text: "Shop"})
	wantTexts(t, h.settle(), "Where are you?")
	h.receive("k", "ann", engine.Inbound{Kind: engine.KindUnsupported, Text: "sticker"})
	wantTexts(t, h.settle(), engine.Unsupported)
	h.wantState("k", "ann", "where")
	h.receive("k", "ann", engine.Inbound{Kind: engine.KindLocation, Location: &engine.Location{Latitude: 52.37, Longitude: 4.89}})
	wantTexts(t, h.settle(), "You are at 52.37,4.89.")
	h.wantState("k", "ann", "done")
}

func TestTimers(t *testing.T) {
	d := def("t").
		state("wait", "Send a photo.",
			onAfter(time.Hour, "", "Reminder: send a photo."),
			onAfter(3*time.Hour, "gone", "Too late."),
			onMedia("thanks", false)).
		state("thanks", "Thanks.", onText("wait", "", "again")).
		final("gone", "Bye.").build()
	t.Run("ReminderThenTimeout", func(t *testing.T) {
		h := newEnv(t, d)
		h.join("t", "ann")
		wantTexts(t, h.wait(30*time.Minute))
		wantTexts(t, h.wait(30*time.Minute), "Reminder: send a photo.")
		h.wantState("t", "ann", "wait")
		wantTexts(t, h.wait(time.Hour)) // a reminder is not re-armed
		wantTexts(t, h.wait(time.Hour), "Too late.", "Bye.")
		if p := h.wantState("t", "ann", "gone"); !p.Finished {
			t.Error("not finished after the timeout into a final state")
		}
	})
	t.Run("LeavingCancels", func(t *testing.T) {
		h := newEnv(t, d)
		h.join("t", "ann")
		h.receive("t", "ann", engine.Inbound{Kind: engine.KindMedia, Media: &engine.Media{Kind: "photo", Key: "k"}})
		h.settle()
		wantTexts(t, h.wait(4*time.Hour))
		h.wantState("t", "ann", "thanks")
	})
	t.Run("StaleTimerOfEarlierVisitIgnored", func(t *testing.T) {
		h := newEnv(t, d)
		h.join("t", "ann")
		// The reminder fires into an event, but before it is processed ann leaves and comes
		// back: the event belongs to the earlier visit.
		h.clock.Advance(time.Hour)
		if n, _ := h.eng.FireDueTimers(h.ctx); n != 1 {
			t.Fatalf("fired %d timers, want 1", n)
		}
		pending, _ := h.db.PendingInbound(h.ctx, 0)
		timerEvent := pending[0]
		if want := fmt.Sprintf("timer:%s:wait/0:1", h.participant("t", "ann").ID); timerEvent.PlatformID != want {
			t.Errorf("timer event id = %q, want %q", timerEvent.PlatformID, want)
		}
		h.db.SkipInbound(h.ctx, timerEvent.ID, "held back by the test")
		h.receive("t", "ann", engine.Inbound{Kind: engine.KindMedia, Media: &engine.Media{Kind: "photo", Key: "k"}})
		h.settle()
		h.text("t", "ann", "again")
		h.wantState("t", "ann", "wait")
		// The held-back event arrives now (under a new id, as the old one was consumed).
		ev := timerEvent.Inbound
		ev.PlatformID += ":replayed"
		h.db.StoreEvents(h.ctx, 0, []engine.Inbound{ev})
		wantTexts(t, h.settle())
	})
	t.Run("FireOnce", func(t *testing.T) {
		h := newEnv(t, d)
		h.join("t", "ann")
		h.clock.Advance(time.Hour)
		a, _ := h.eng.FireDueTimers(h.ctx)
		b, _ := h.eng.FireDueTimers(h.ctx)
		if a != 1 || b != 0 {
			t.Errorf("fired %d then %d, want 1 then 0", a, b)
		}
	})
}

func TestHandoff(t *testing.T) {
	d := def("f").
		state("photo", "Send your fridge.", onMedia("chef", true)).
		state("chef", "A chef will answer.",
			&campaigns.Transition{Kind: campaigns.OnHandback, Say: says("Enjoy your meal!"), Goto: "done"}).
		final("done", "").
		with(func(d *campaigns.Definition) { d.States["chef"].Handoff = "chefs" }).build()
	h := newEnv(t, d)
	h.receive("f", "ann", engine.Inbound{Kind: engine.KindJoin, Name: "Ann"})
	h.settle()
	h.receive("f", "ann", engine.Inbound{Kind: engine.KindMedia, Media: &engine.Media{Kind: "photo", Key: "fridge.jpg"}})
	wantTexts(t, h.settle(), "A chef will answer.")
	p := h.wantState("f", "ann", "chef")
	if p.Vars["handoff"] != "chefs" {
		t.Fatalf("vars = %v, want handoff chefs", p.Vars)
	}
	wantTexts(t, h.text("f", "ann", "is anyone there?")) // the bot keeps quiet
	ns, _ := h.eng.Notifications(h.ctx, "f", 10)
	if len(ns) != 2 || ns[0].Text != "Ann wrote: is anyone there?" || ns[1].Text != "Ann is handed to chefs" {
		t.Fatalf("notifications = %+v", ns)
	}
	if err := h.eng.AgentSay(h.ctx, p.ID, "chef Bo", "Make an omelette."); err != nil {
		t.Fatal(err)
	}
	if _, err := h.eng.SendDue(h.ctx); err != nil { // no persona delay: due at once
		t.Fatal(err)
	}
	if got := h.sent.all(); got[len(got)-1].Text != "Make an omelette." {
		t.Fatalf("agent reply not sent at once: %+v", got[len(got)-1])
	}
	if err := h.eng.Handback(h.ctx, p.ID, "chef Bo"); err != nil {
		t.Fatal(err)
	}
	h.eng.Handback(h.ctx, p.ID, "chef Bo") // a double click
	wantTexts(t, h.settle(), "Enjoy your meal!")
	if p := h.wantState("f", "ann", "done"); p.Vars["handoff"] != "" {
		t.Errorf("still handed off: %v", p.Vars)
	}
	if err := h.eng.AgentSay(h.ctx, "nobody", "x", "hi"); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("AgentSay to nobody: %v, want not found", err)
	}
}

func TestRoundsAndTeams(t *testing.T) {
	d := def("race").
		state("waiting", "Welcome, team {{team}}.",
			&campaigns.Transition{Kind: campaigns.OnRound, Round: "r1", RoundEvent: campaigns.RoundDeadline, Say: says("Round 1 closed."), Goto: "waiting"},
			&campaigns.Transition{Kind: campaigns.OnVerdict, Verdict: campaigns.VerdictEliminated, Say: says("You're out."), Goto: "out"},
			onMedia("", true)).
		final("out", "").
		with(func(d *campaigns.Definition) {
			d.Teams = &campaigns.Teams{MinSize: 2, MaxSize: 4}
			d.Rounds = []*campaigns.Round{{Name: "r1", Assignment: txt("Round {{round}}: a photo at a beach."), Duration: 48 * time.Hour}}
		}).build()
	h := newEnv(t, d)
	for _, g := range []string{"g1", "g2", "g3"} {
		h.receive("race", g, engine.Inbound{Kind: engine.KindJoin, Name: "Team " + g})
	}
	wantTexts(t, h.settle(), "Welcome, team Team g1.", "Welcome, team Team g2.", "Welcome, team Team g3.")
	g3 := h.participant("race", "g3")
	if err := h.judge.DecideParticipant(h.ctx, "race", g3.ID, campaigns.VerdictEliminated, "jury", ""); err != nil {
		t.Fatal(err)
	}
	wantTexts(t, h.settle(), "You're out.")
	if err := h.eng.StartRound(h.ctx, "race", "r1"); err != nil {
		t.Fatal(err)
	}
	h.eng.StartRound(h.ctx, "race", "r1") // twice: deduped
	wantTexts(t, h.settle(), "Round r1: a photo at a beach.", "Round r1: a photo at a beach.")
	if v := h.participant("race", "g1").Vars["round"]; v != "r1" {
		t.Errorf("round var = %q", v)
	}
	wantTexts(t, h.wait(47*time.Hour))
	wantTexts(t, h.wait(time.Hour), "Round 1 closed.", "Welcome, team Team g1.", "Round 1 closed.", "Welcome, team Team g2.")
	if err := h.eng.StartRound(h.ctx, "race", "nope"); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("unknown round: %v", err)
	}
	if err := h.judge.DecideParticipant(h.ctx, "race", g3.ID, "maybe", "jury", ""); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("unknown verdict: %v", err)
	}
}

func TestRoundDeadlineFromDefinition(t *testing.T) {
	d := def("race").
		state("waiting", "Hi.", &campaigns.Transition{Kind: campaigns.OnRound, RoundEvent: campaigns.RoundDeadline, Say: says("Time's up.")}).
		with(func(d *campaigns.Definition) {
			d.Rounds = []*campaigns.Round{{Name: "r1", Assignment: txt("Go!"), Starts: t0.Add(time.Hour), Deadline: t0.Add(2 * time.Hour)}}
		}).build()
	h := newEnv(t, d)
	if err := h.eng.Restore(h.ctx); err != nil {
		t.Fatal(err)
	}
	h.join("race", "g1")
	wantTexts(t, h.wait(time.Hour), "Go!")
	wantTexts(t, h.wait(time.Hour), "Time's up.")
}

func TestWindow(t *testing.T) {
	d := def("w").state("s", "Hi.",
		onAfter(30*time.Hour, "", "Still there?"),
		onAfter(40*time.Hour, "", "Last call!")).
		with(func(d *campaigns.Definition) {
			d.Templates["nudge"] = &campaigns.Template{Key: "nudge", Name: "nudge_v1", Language: "en", Params: []string{"name"}}
			d.States["s"].On[1].Say[0].Template = "nudge"
		}).build()
	h := newEnvWith(t, map[string]time.Duration{"whatsapp": 24 * time.Hour}, d)
	h.receive("w", "ann", engine.Inbound{Kind: engine.KindJoin, Channel: "whatsapp", Name: "Ann"})
	out := h.settleOut()
	if len(out) != 1 || out[0].Template != nil {
		t.Fatalf("inside the window: %+v, want the text without template", out)
	}
	h.clock.Advance(30 * time.Hour)
	h.eng.FireDueTimers(h.ctx)
	if got := h.settleOut(); len(got) != 0 {
		t.Fatalf("sent %+v outside the window without a template", got)
	}
	h.clock.Advance(10 * time.Hour)
	h.eng.FireDueTimers(h.ctx)
	out = h.settleOut()
	if len(out) != 1 || out[0].Template == nil || out[0].Template.Name != "nudge_v1" ||
		strings.Join(out[0].Template.Params, ",") != "Ann" || out[0].Text != "Last call!" {
		t.Fatalf("outside the window with a template: %+v", out)
	}
	rows, _ := h.db.Outbox(h.ctx, engine.ParticipantID("w", "whatsapp", "ann"))
	if rows[1].Status != engine.StatusFailed || rows[1].Error != engine.WindowClosed {
		t.Errorf("reminder row = %s %q, want failed with the window reason", rows[1].Status, rows[1].Error)
	}
}

// TestWindowClosesAtTwentyFourHours: a reply exactly 24 hours after the participant's last
// message is outside WhatsApp's window (the channel refuses free text then, and validation
// calls an after: 24h certainly outside), so it goes out as its template.
func TestWindowClosesAtTwentyFourHours(t *testing.T) {
	d := def("w").state("s", "Hi.", onAfter(24*time.Hour, "", "How was it?")).
		with(func(d *campaigns.Definition) {
			d.Templates["ask"] = &campaigns.Template{Key: "ask", Name: "ask_v1", Language: "en"}
			d.States["s"].On[0].Say[0].Template = "ask"
		}).build()
	h := newEnvWith(t, map[string]time.Duration{"whatsapp": 24 * time.Hour}, d)
	h.receive("w", "ann", engine.Inbound{Kind: engine.KindJoin, Channel: "whatsapp", Name: "Ann"})
	h.settleOut() // the greeting goes out a minute after the join
	h.clock.Advance(24*time.Hour - time.Minute)
	h.eng.FireDueTimers(h.ctx)
	for {
		if n, err := h.eng.ProcessPending(h.ctx); err != nil {
			t.Fatal(err)
		} else if n == 0 {
			break
		}
	}
	before := len(h.sent.all())
	if _, err := h.eng.SendDue(h.ctx); err != nil {
		t.Fatal(err)
	}
	out := h.sent.all()[before:]
	if len(out) != 1 || out[0].Template == nil || out[0].Template.Name != "ask_v1" {
		t.Fatalf("24h after the last message: %+v, want the template", out)
	}
}

func TestBroadcast(t *testing.T) {
	h := newEnvWith(t, map[string]time.Duration{"whatsapp": 24 * time.Hour}, news())
	for _, who := range []string{"a", "b", "c"} {
		h.receive("news", who, engine.Inbound{Kind: engine.KindText, Text: "NRCQ ON", Channel: "whatsapp"})
	}
	h.settle()
	h.receive("news", "c", engine.Inbound{Kind: engine.KindText, Text: "STOP", Channel: "whatsapp"})
	h.settle()
	h.clock.Advance(23 * time.Hour)
	h.receive("news", "a", engine.Inbound{Kind: engine.KindText, Text: "hello", Channel: "whatsapp"})
	h.settle()
	h.clock.Advance(2 * time.Hour) // a wrote 2h ago; b a day ago
	id, n, err := h.eng.Broadcast(h.ctx, "news", "subscribed", msg("Breaking news"))
	if err != nil || n != 2 {
		t.Fatalf("Broadcast = %d, %v; want 2 queued", n, err)
	}
	r, err := h.eng.BroadcastReport(h.ctx, id)
	if err != nil || r.Pending != 2 || r.Total != 2 {
		t.Fatalf("report before sending = %+v, %v", r, err)
	}
	h.settle()
	r, _ = h.eng.BroadcastReport(h.ctx, id)
	if r.Sent != 1 || r.Failed != 1 || r.Pending != 0 || r.Campaign != "news" {
		t.Fatalf("report = %+v, want 1 sent (a) and 1 failed (b, window closed)", r)
	}
	if _, err := h.eng.BroadcastReport(h.ctx, "nope"); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("unknown broadcast: %v", err)
	}
}

func TestConcurrentLoadIsSafe(t *testing.T) {
	h := newEnv(t, news())
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			d := news()
			d.Version = fmt.Sprintf("v%d", i)
			if err := h.eng.Load(h.ctx, d); err != nil {
				t.Error(err)
			}
			h.eng.Campaign("news")
			h.eng.Campaigns()
			h.eng.Status("news")
		})
	}
	wg.Wait()
}

// TestRunFiresTimersByItself runs the engine's loops as a server does: the reminder goes out
// with nobody calling FireDueTimers, once the clock passes its due time.
func TestRunFiresTimersByItself(t *testing.T) {
	d := def("t").state("wait", "Send a photo.", onAfter(time.Hour, "", "Reminder.")).build()
	d.Persona.DelayMin = 30 * time.Second
	h := newEnv(t, d)
	h.cfg.Poll = 5 * time.Millisecond
	h.eng = engine.New(h.cfg)
	h.eng.Handle("test", h.sent)
	ctx, cancel := context.WithCancel(h.ctx)
	done := make(chan struct{})
	go func() { h.eng.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	h.receive("t", "ann", engine.Inbound{Kind: engine.KindJoin})
	eventually(t, func() bool {
		p, err := h.db.Participant(h.ctx, engine.ParticipantID("t", "test", "ann"))
		return err == nil && p.State == "wait"
	})
	if n := len(h.sent.all()); n != 0 {
		t.Fatalf("%d replies before the persona finished typing", n)
	}
	h.clock.Advance(time.Minute) // the persona's typing is done
	eventually(t, func() bool { return len(h.sent.all()) == 1 })
	h.clock.Advance(time.Hour)
	eventually(t, func() bool { return h.participant("t", "ann").Version == 2 }) // the reminder step
	h.clock.Advance(time.Minute)
	eventually(t, func() bool { return len(h.sent.all()) == 2 })
	if got := h.sent.all()[1].Text; got != "Reminder." {
		t.Errorf("second reply = %q", got)
	}
}

// eventually waits for cond, which background loops make true; it fails after 10s.
func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}
