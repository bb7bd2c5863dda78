package engine_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

func bi(nl, en string) campaigns.Text { return campaigns.Text{"nl": nl, "en": en} }

// dutchFirst is a Dutch-first campaign in Dutch and English, joined with NIEUWS (Dutch) or
// NEWS (English).
func dutchFirst() *campaigns.Definition {
	return def("nieuws").
		state("welkom", "",
			&campaigns.Transition{Kind: campaigns.OnText, Keywords: []string{"leeftijd"},
				Save: &campaigns.Save{Var: "age", As: "number", Invalid: bi("Geen getal.", "Not a number.")}},
			&campaigns.Transition{Kind: campaigns.OnText, Keywords: []string{"meld"}, Notify: bi("Melding van {{name}}", "Notice from {{name}}")},
			&campaigns.Transition{Kind: campaigns.OnText, Keywords: []string{"taal"}, Goto: "taal"},
			&campaigns.Transition{Kind: campaigns.OnText, Keywords: []string{"klaar"}, Goto: "klaar"}).
		state("taal", "",
			&campaigns.Transition{Kind: campaigns.OnChoice, Save: &campaigns.Save{Var: "lang", As: "text", Invalid: bi("Kies een taal.", "Pick a language.")}, Goto: "welkom"}).
		final("klaar", "").
		with(func(d *campaigns.Definition) {
			d.Languages = []string{"nl", "en"}
			d.Keywords = []string{"NIEUWS", "NEWS"}
			d.KeywordLanguages = map[string]string{"nieuws": "nl", "news": "en"}
			d.Channels = []string{"test", "whatsapp"}
			d.States["welkom"].Say = []campaigns.Message{{Text: bi("Welkom!", "Welcome!")}}
			d.States["taal"].Say = []campaigns.Message{{Text: bi("Taal?", "Language?"), Buttons: []campaigns.Button{
				{ID: "nl", Title: bi("Nederlands", "Nederlands")}, {ID: "en", Title: bi("English", "English")}}}}
			d.States["klaar"].Say = []campaigns.Message{{Text: bi("Klaar.", "Done.")}}
		}).build()
}

// TestEveryTextInTheParticipantsLanguage: a participant who joined a Dutch-first campaign with
// its English keyword hears every text in English, on every path that says something.
func TestEveryTextInTheParticipantsLanguage(t *testing.T) {
	en := campaigns.ConsentLanguages["en"]
	for _, c := range []struct {
		name  string
		setup func(d *campaigns.Definition)
		play  func(h *env) []string
		want  []string
	}{
		{"start state", nil, func(h *env) []string { return nil }, nil},
		{"consent question, hint and declined", func(d *campaigns.Definition) { d.Consent = bi("Mag dat?", "May we?") },
			func(h *env) []string { return append(h.text("nieuws", "ann", "huh"), h.text("nieuws", "ann", "no")...) },
			[]string{en.Hint, "May we?", en.Declined + " " + strings.ReplaceAll(en.Restart, "%s", "NEWS")}},
		{"consent yes", func(d *campaigns.Definition) { d.Consent = bi("Mag dat?", "May we?") },
			func(h *env) []string { return h.text("nieuws", "ann", "ja") }, []string{"Welcome!"}},
		{"invalid", nil, func(h *env) []string { return h.text("nieuws", "ann", "leeftijd") }, []string{"Not a number."}},
		{"fallback of the definition", func(d *campaigns.Definition) { d.Fallback = bi("Wat?", "What?") },
			func(h *env) []string { return h.text("nieuws", "ann", "hallo") }, []string{"What?"}},
		{"fallback built in", nil, func(h *env) []string { return h.text("nieuws", "ann", "hallo") }, []string{engine.DefaultFallback}},
		{"finished of the definition", func(d *campaigns.Definition) { d.Finished = bi("Al gedaan.", "Done already.") },
			func(h *env) []string {
				return append(h.text("nieuws", "ann", "klaar"), h.text("nieuws", "ann", "hoi")...)
			},
			[]string{"Done.", "Done already."}},
		{"finished built in", nil,
			func(h *env) []string {
				return append(h.text("nieuws", "ann", "klaar"), h.text("nieuws", "ann", "hoi")...)
			},
			[]string{"Done.", engine.DefaultFinished}},
		{"opt-out of the definition", func(d *campaigns.Definition) { d.OptOutSay = bi("Afgemeld.", "Unsubscribed.") },
			func(h *env) []string { return h.text("nieuws", "ann", "stop") }, []string{"Unsubscribed."}},
		{"opt-out built in", nil, func(h *env) []string { return h.text("nieuws", "ann", "stop") }, []string{engine.DefaultOptOut}},
		{"round assignment", func(d *campaigns.Definition) {
			d.Rounds = []*campaigns.Round{{Name: "r1", Assignment: bi("Ronde 1!", "Round 1!"), Duration: time.Hour}}
		}, func(h *env) []string {
			if err := h.eng.StartRound(h.ctx, "nieuws", "r1"); err != nil {
				h.t.Fatal(err)
			}
			return h.settle()
		}, []string{"Round 1!"}},
		{"broadcast", nil, func(h *env) []string {
			if _, _, err := h.eng.BroadcastTo(h.ctx, "nieuws", engine.Audience{}, campaigns.Message{Text: bi("Nieuws!", "News!")}); err != nil {
				h.t.Fatal(err)
			}
			return h.settle()
		}, []string{"News!"}},
		{"notify", nil, func(h *env) []string {
			h.text("nieuws", "ann", "meld")
			ns, err := h.eng.Notifications(h.ctx, "nieuws", 10)
			if err != nil || len(ns) != 1 {
				h.t.Fatalf("notifications = %+v, %v", ns, err)
			}
			return []string{ns[0].Text}
		}, []string{"Notice from ann"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := dutchFirst()
			if c.setup != nil {
				c.setup(d)
			}
			h := newEnv(t, d)
			h.receive("nieuws", "ann", engine.Inbound{Kind: engine.KindText, Text: "news", Name: "ann"})
			first := h.settle()
			if p := h.participant("nieuws", "ann"); p.Vars["lang"] != "en" {
				t.Fatalf("lang = %q after joining with NEWS, want en", p.Vars["lang"])
			}
			got := append(first[1:], c.play(h)...)
			if d.Consent.IsZero() {
				wantTexts(t, first[:1], "Welcome!")
			} else {
				wantTexts(t, first[:1], "May we?")
			}
			wantTexts(t, got, c.want...)
		})
	}
}

// TestTemplateInTheParticipantsLanguage: outside the 24-hour window the template goes out in
// the template language that matches the participant's, the first language's otherwise.
func TestTemplateInTheParticipantsLanguage(t *testing.T) {
	d := dutchFirst()
	d.Templates["weekly"] = &campaigns.Template{Key: "weekly", Name: "news_weekly", Language: "nl",
		Languages: map[string]string{"nl": "nl", "en": "en_US"}}
	d.Templates["dutch"] = &campaigns.Template{Key: "dutch", Name: "news_dutch", Language: "nl"}
	h := newEnvWith(t, map[string]time.Duration{"whatsapp": 24 * time.Hour}, d)
	h.receive("nieuws", "ann", engine.Inbound{Kind: engine.KindText, Text: "NEWS", Channel: "whatsapp"})
	h.receive("nieuws", "bob", engine.Inbound{Kind: engine.KindText, Text: "NIEUWS", Channel: "whatsapp"})
	h.settle()
	h.clock.Advance(48 * time.Hour)
	for _, c := range []struct {
		template string
		want     []string
	}{
		{"weekly", []string{"ann news_weekly/en_US News", "bob news_weekly/nl Nieuws"}},
		// Approved in Dutch only: the first language's, for everyone.
		{"dutch", []string{"ann news_dutch/nl News", "bob news_dutch/nl Nieuws"}},
	} {
		if _, _, err := h.eng.BroadcastTo(h.ctx, "nieuws", engine.Audience{}, campaigns.Message{Text: bi("Nieuws", "News"), Template: c.template}); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, o := range h.settleOut() {
			if o.Template == nil {
				t.Fatalf("sent %q without its template outside the window", o.Text)
			}
			got = append(got, o.To+" "+o.Template.Name+"/"+o.Template.Language+" "+o.Text)
		}
		wantTexts(t, got, c.want...)
	}
}

// TestLanguageSetAtJoin: a keyword's language, else the channel's locale, else the first
// language; a language chosen later wins, and a choice that is no language is refused.
func TestLanguageSetAtJoin(t *testing.T) {
	for _, c := range []struct {
		name   string
		in     engine.Inbound
		want   string // the greeting
		wantVa string // lang
	}{
		{"English keyword", engine.Inbound{Kind: engine.KindText, Text: "NEWS"}, "Welcome!", "en"},
		{"Dutch keyword", engine.Inbound{Kind: engine.KindText, Text: "nieuws"}, "Welkom!", "nl"},
		{"keyword before locale", engine.Inbound{Kind: engine.KindText, Text: "NIEUWS", Locale: "en-GB"}, "Welkom!", "nl"},
		{"locale matched to a language", engine.Inbound{Kind: engine.KindJoin, Locale: "en-GB"}, "Welcome!", "en"},
		{"locale the campaign does not speak", engine.Inbound{Kind: engine.KindJoin, Locale: "de-DE"}, "Welkom!", ""},
		{"nothing: the first language", engine.Inbound{Kind: engine.KindJoin}, "Welkom!", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newEnv(t, dutchFirst())
			h.receive("nieuws", "ann", c.in)
			wantTexts(t, h.settle(), c.want)
			if got := h.participant("nieuws", "ann").Vars["lang"]; got != c.wantVa {
				t.Errorf("lang = %q, want %q", got, c.wantVa)
			}
		})
	}
	t.Run("choice wins, and only a language", func(t *testing.T) {
		h := newEnv(t, dutchFirst())
		h.receive("nieuws", "ann", engine.Inbound{Kind: engine.KindJoin, Locale: "en-US"})
		h.settle()
		wantTexts(t, h.text("nieuws", "ann", "taal"), "Language?")
		h.receive("nieuws", "ann", engine.Inbound{Kind: engine.KindChoice, Choice: "fr"})
		wantTexts(t, h.settle(), "Pick a language.")
		h.receive("nieuws", "ann", engine.Inbound{Kind: engine.KindChoice, Choice: "nl"})
		wantTexts(t, h.settle(), "Welkom!")
		// Typing the title of a button is tapping it; the language saved is the id.
		wantTexts(t, h.text("nieuws", "ann", "taal"), "Taal?")
		wantTexts(t, h.text("nieuws", "ann", "english"), "Welcome!")
		if got := h.participant("nieuws", "ann").Vars["lang"]; got != "en" {
			t.Errorf("lang = %q, want en", got)
		}
	})
	t.Run("a keyword starting over sets it again", func(t *testing.T) {
		d := dutchFirst()
		d.Repeat = true
		h := newEnv(t, d)
		h.text("nieuws", "ann", "NEWS")
		wantTexts(t, h.text("nieuws", "ann", "stop"), engine.DefaultOptOut)
		wantTexts(t, h.text("nieuws", "ann", "NIEUWS"), "Welkom!")
		h.text("nieuws", "ann", "stop")
		// START has no language: the one they had stays.
		wantTexts(t, h.text("nieuws", "ann", "START"), "Welkom!")
	})
}

// TestBroadcastToAudience: by state, by variable (lang is the language spoken, the first for
// who never chose), per-language texts, and what a broadcast refuses.
func TestBroadcastToAudience(t *testing.T) {
	d := dutchFirst()
	d.Templates["weekly"] = &campaigns.Template{Key: "weekly", Name: "news_weekly", Language: "nl"}
	h := newEnv(t, d)
	h.text("nieuws", "ann", "NEWS")
	h.text("nieuws", "bob", "NIEUWS")
	h.join("nieuws", "cem") // no language: Dutch
	h.text("nieuws", "dan", "NEWS")
	h.text("nieuws", "dan", "taal")
	for who, topic := range map[string]string{"ann": "sport", "bob": "Sport", "cem": "culture"} {
		p := h.participant("nieuws", who)
		p.Vars["topic"] = topic
		prev := p.Version
		p.Version++
		if err := h.db.Commit(h.ctx, engine.Step{Participant: p, PrevVersion: prev}); err != nil {
			t.Fatal(err)
		}
	}
	news := campaigns.Message{Text: bi("Nieuws", "News")}
	for _, c := range []struct {
		to   engine.Audience
		want []string // who:text, in the order they joined
	}{
		{engine.Audience{}, []string{"ann:News", "bob:Nieuws", "cem:Nieuws", "dan:News"}},
		{engine.Audience{State: "welkom"}, []string{"ann:News", "bob:Nieuws", "cem:Nieuws"}},
		{engine.Audience{Var: "topic", Value: "sport"}, []string{"ann:News", "bob:Nieuws"}},
		{engine.Audience{Var: "lang", Value: "nl"}, []string{"bob:Nieuws", "cem:Nieuws"}},
		{engine.Audience{State: "taal", Var: "lang", Value: "en"}, []string{"dan:News"}},
		{engine.Audience{State: "welkom", Var: "lang", Value: "EN-gb"}, []string{"ann:News"}},
		{engine.Audience{Var: "lang", Value: "de"}, nil},
		{engine.Audience{Var: "topic", Value: "weather"}, nil},
	} {
		_, n, err := h.eng.BroadcastTo(h.ctx, "nieuws", c.to, news)
		if err != nil || n != len(c.want) {
			t.Fatalf("%+v: queued %d, %v; want %d", c.to, n, err, len(c.want))
		}
		var got []string
		for _, o := range h.settleOut() {
			got = append(got, o.To+":"+o.Text)
		}
		wantTexts(t, got, c.want...)
	}
	for _, m := range []campaigns.Message{
		{Text: campaigns.Text{"en": "only English"}},
		{Text: bi("Nieuws", "News"), Template: "wekly"},
		{Template: "weekly"},
	} {
		if _, _, err := h.eng.BroadcastTo(h.ctx, "nieuws", engine.Audience{}, m); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("broadcast %+v: err = %v, want ErrInvalid", m, err)
		}
	}
	// To the English speakers only, an English text is enough: nobody it reaches falls back
	// to the Dutch one.
	for _, value := range []string{"en", "en-GB"} {
		_, n, err := h.eng.BroadcastTo(h.ctx, "nieuws", engine.Audience{Var: "lang", Value: value}, campaigns.Message{Text: campaigns.Text{"en": "only English"}})
		if err != nil || n != 2 {
			t.Fatalf("lang=%s, only English: queued %d, %v; want 2", value, n, err)
		}
		var got []string
		for _, o := range h.settleOut() {
			got = append(got, o.To+":"+o.Text)
		}
		wantTexts(t, got, "ann:only English", "dan:only English")
	}
	if _, _, err := h.eng.BroadcastTo(h.ctx, "nieuws", engine.Audience{Var: "lang", Value: "nl"}, campaigns.Message{Text: campaigns.Text{"en": "only English"}}); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("lang=nl, only English: err = %v, want ErrInvalid", err)
	}
}

// TestBuiltInTextsInTheParticipantsLanguage: what the engine says when the definition does
// not (invalid, unsupported, a collection's progress) is in the participant's language too.
func TestBuiltInTextsInTheParticipantsLanguage(t *testing.T) {
	d := dutchFirst()
	st := d.States["welkom"]
	st.On = append(st.On,
		&campaigns.Transition{Name: "welkom/9", Kind: campaigns.OnText, Keywords: []string{"naam"}, Save: &campaigns.Save{Var: "n", As: "email"}},
		&campaigns.Transition{Name: "welkom/10", Kind: campaigns.OnMedia, Collect: true, Count: 2})
	for _, c := range []struct{ keyword, invalid, unsupported, progress string }{
		{"NIEUWS", "Dat klopt niet helemaal. Probeer het nog eens.", "Dat kan ik hier niet lezen — stuur tekst of een foto.", "Ontvangen (1 van 2)."},
		{"NEWS", engine.DefaultInvalid, engine.Unsupported, "Got it (1 of 2)."},
	} {
		h := newEnv(t, d)
		h.text("nieuws", "ann", c.keyword)
		wantTexts(t, h.text("nieuws", "ann", "naam"), c.invalid)
		h.receive("nieuws", "ann", engine.Inbound{Kind: engine.KindUnsupported, Text: "sticker"})
		wantTexts(t, h.settle(), c.unsupported)
		h.receive("nieuws", "ann", engine.Inbound{Kind: engine.KindMedia, Media: &engine.Media{Kind: "photo", Key: "k1"}})
		wantTexts(t, h.settle(), c.progress)
	}
}

// TestRouteByKeywordOfAnyLanguage: on a number several campaigns share, each language's
// keywords lead a stranger to the campaign.
func TestRouteByKeywordOfAnyLanguage(t *testing.T) {
	other := news()
	other.Keywords = []string{"QUIZ"}
	h := newEnv(t, dutchFirst(), other)
	for text, want := range map[string]string{"NIEUWS": "nieuws", "news": "nieuws", "quiz": "news", "hallo": ""} {
		got, ok, err := h.eng.Route(h.ctx, "whatsapp", "316", text, "")
		if err != nil || got != want || ok != (want != "") {
			t.Errorf("Route(%q) = %q, %v, %v; want %q", text, got, ok, err, want)
		}
	}
}
