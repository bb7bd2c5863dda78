package engine_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
)

const (
	question = "We keep your number for news only. OK?"
	hint     = "Please answer yes or no."
	declined = "No problem, you're not taking part. If you change your mind, send NRCQ ON."
)

func consentNews(langs ...string) *campaigns.Definition {
	d := news()
	d.Consent = txt(question)
	if len(langs) > 0 {
		d.Languages = langs
	}
	return d
}

// TestConsentOnlyYesAgrees: only a yes word (in the campaign's languages) or the yes button
// agrees; a no word or the no button declines; anything else asks again.
func TestConsentOnlyYesAgrees(t *testing.T) {
	for _, tc := range []struct {
		name  string
		langs []string
		in    engine.Inbound
		want  string // the state after the answer
	}{
		{"Question", nil, engine.Inbound{Kind: engine.KindText, Text: "what is this?"}, engine.StateConsent},
		{"Keyword again", nil, engine.Inbound{Kind: engine.KindText, Text: "NRCQ ON"}, engine.StateConsent},
		{"OK", nil, engine.Inbound{Kind: engine.KindText, Text: "OK"}, "subscribed"},
		{"Yes with punctuation", nil, engine.Inbound{Kind: engine.KindText, Text: "  Yes! "}, "subscribed"},
		{"Button title typed", nil, engine.Inbound{Kind: engine.KindText, Text: "yes, i agree"}, "subscribed"},
		{"Yes button", nil, engine.Inbound{Kind: engine.KindChoice, Choice: campaigns.ConsentYesID, Text: "Yes, I agree"}, "subscribed"},
		{"Other button", nil, engine.Inbound{Kind: engine.KindChoice, Choice: "rules", Text: "Rules"}, engine.StateConsent},
		{"Dutch yes in an English campaign", nil, engine.Inbound{Kind: engine.KindText, Text: "ja"}, engine.StateConsent},
		{"Dutch yes in a Dutch campaign", []string{"en", "nl"}, engine.Inbound{Kind: engine.KindText, Text: "Ja"}, "subscribed"},
		{"Portuguese yes", []string{"en", "pt-BR"}, engine.Inbound{Kind: engine.KindText, Text: "sim"}, "subscribed"},
		{"Photo", nil, engine.Inbound{Kind: engine.KindMedia, Media: &engine.Media{Kind: "photo", Key: "k"}}, engine.StateConsent},
		{"No", nil, engine.Inbound{Kind: engine.KindText, Text: "no"}, engine.StateDeclined},
		{"Nee in Dutch", []string{"en", "nl"}, engine.Inbound{Kind: engine.KindText, Text: "Nee, bedankt"}, engine.StateDeclined},
		{"No button", nil, engine.Inbound{Kind: engine.KindChoice, Choice: campaigns.ConsentNoID}, engine.StateDeclined},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newEnv(t, consentNews(tc.langs...))
			h.text("news", "ann", "NRCQ ON")
			h.receive("news", "ann", tc.in)
			got := h.settle()
			p := h.wantState("news", "ann", tc.want)
			switch tc.want {
			case engine.StateConsent:
				if len(got) != 2 || got[1] != question {
					t.Errorf("replies %q, want a hint and the question again", got)
				}
			case engine.StateDeclined:
				if len(got) != 1 || !p.Finished {
					t.Errorf("replies %q, finished %v: want one polite goodbye and a finished participant", got, p.Finished)
				}
			default:
				wantTexts(t, got, "You're subscribed to the news.")
			}
		})
	}
}

func TestConsentAskedWithButtons(t *testing.T) {
	h := newEnv(t, consentNews())
	out := h.receiveOut("news", "ann", engine.Inbound{Kind: engine.KindText, Text: "NRCQ ON"})
	if len(out) != 1 || out[0].Text != question {
		t.Fatalf("sent %+v, want the question", out)
	}
	want := []engine.Button{{ID: campaigns.ConsentYesID, Title: "Yes, I agree"}, {ID: campaigns.ConsentNoID, Title: "No thanks"}}
	if !equalButtons(out[0].Buttons, want) {
		t.Errorf("buttons %+v, want %+v", out[0].Buttons, want)
	}
	wantTexts(t, h.text("news", "ann", "huh?"), hint, question)
	h.wantState("news", "ann", engine.StateConsent)
}

func TestConsentRecorded(t *testing.T) {
	t.Run("Typed", func(t *testing.T) {
		h := newEnv(t, consentNews())
		h.text("news", "ann", "NRCQ ON")
		at := h.clock.Now()
		h.text("news", "ann", " Ok ")
		c := engine.ConsentOf(h.participant("news", "ann"))
		want := engine.Consent{Answer: "yes", By: `text "Ok"`, Channel: "test", Version: consentNews().ConsentVersion("en"), At: at.Truncate(time.Second)}
		if c != want {
			t.Errorf("consent %+v, want %+v", c, want)
		}
		if got, err := h.eng.Consent(h.ctx, h.participant("news", "ann").ID); err != nil || got != want {
			t.Errorf("Engine.Consent = %+v, %v", got, err)
		}
		if !strings.HasSuffix(c.Version, "@news-v1") || len(c.Version) != len("12345678@news-v1") {
			t.Errorf("version %q, want a short hash of the text @ the definition version", c.Version)
		}
	})
	t.Run("Button", func(t *testing.T) {
		h := newEnv(t, consentNews())
		h.text("news", "ann", "NRCQ ON")
		h.receive("news", "ann", engine.Inbound{Kind: engine.KindChoice, Choice: campaigns.ConsentYesID, Text: "Yes, I agree", Channel: "test"})
		h.settle()
		if c := engine.ConsentOf(h.participant("news", "ann")); c.Answer != "yes" || c.By != `button "Yes, I agree"` {
			t.Errorf("consent %+v, want a yes by button", c)
		}
	})
	t.Run("DeclineIsRecordedToo", func(t *testing.T) {
		h := newEnv(t, consentNews())
		h.text("news", "ann", "NRCQ ON")
		h.text("news", "ann", "nope")
		if c := engine.ConsentOf(h.participant("news", "ann")); c.Answer != "no" || c.By != `text "nope"` {
			t.Errorf("consent %+v, want a no by text", c)
		}
	})
	t.Run("VersionFollowsTheText", func(t *testing.T) {
		a, b := consentNews(), consentNews()
		b.Consent = txt("Another text.")
		if a.ConsentVersion("en") == b.ConsentVersion("en") {
			t.Error("two consent texts have one version")
		}
	})
}

func TestConsentDeclined(t *testing.T) {
	t.Run("PoliteAndFinished", func(t *testing.T) {
		h := newEnv(t, consentNews())
		h.text("news", "ann", "NRCQ ON")
		wantTexts(t, h.text("news", "ann", "No"), declined)
		if p := h.wantState("news", "ann", engine.StateDeclined); !p.Finished {
			t.Error("declined participant not finished")
		}
	})
	t.Run("LaterTextsHearHowToStartAgain", func(t *testing.T) {
		h := newEnv(t, consentNews())
		h.text("news", "ann", "NRCQ ON")
		h.text("news", "ann", "no")
		wantTexts(t, h.text("news", "ann", "hello"), declined)
		wantTexts(t, h.text("news", "ann", "yes"), declined)
		h.wantState("news", "ann", engine.StateDeclined)
	})
	t.Run("KeywordAsksAgain", func(t *testing.T) {
		h := newEnv(t, consentNews())
		h.text("news", "ann", "NRCQ ON")
		h.text("news", "ann", "no")
		wantTexts(t, h.text("news", "ann", "nrcq on"), question)
		p := h.wantState("news", "ann", engine.StateConsent)
		if p.Finished || p.Vars[engine.VarConsent] != "" {
			t.Errorf("restarted participant finished=%v consent=%q", p.Finished, p.Vars[engine.VarConsent])
		}
		wantTexts(t, h.text("news", "ann", "yes"), "You're subscribed to the news.")
	})
	t.Run("NoKeywordsAnyMessageAsksAgain", func(t *testing.T) {
		d := def("quiz").state("q1", "First question.", onText("", "Right.", "a")).build()
		d.Consent = txt(question)
		h := newEnv(t, d)
		h.join("quiz", "ann")
		wantTexts(t, h.text("quiz", "ann", "no"), "No problem, you're not taking part.")
		wantTexts(t, h.join("quiz", "ann"))
		wantTexts(t, h.text("quiz", "ann", "hi again"), question)
	})
	t.Run("NewOptInAsksAgain", func(t *testing.T) {
		h := newEnv(t, consentNews())
		h.receive("news", "ann", engine.Inbound{Kind: engine.KindOptIn})
		wantTexts(t, h.settle(), question)
		h.text("news", "ann", "no")
		h.receive("news", "ann", engine.Inbound{Kind: engine.KindOptIn})
		wantTexts(t, h.settle(), question)
		h.wantState("news", "ann", engine.StateConsent)
	})
	t.Run("NothingElseReachesThem", func(t *testing.T) {
		h := newEnv(t, consentNews())
		h.text("news", "ann", "NRCQ ON")
		h.text("news", "ann", "no")
		h.receive("news", "ann", engine.Inbound{Kind: engine.KindVerdict, Verdict: campaigns.VerdictWinner})
		wantTexts(t, h.settle())
	})
	t.Run("OptOutStillWorks", func(t *testing.T) {
		h := newEnv(t, consentNews())
		h.text("news", "ann", "NRCQ ON")
		h.text("news", "ann", "no")
		wantTexts(t, h.text("news", "ann", "STOP"), engine.DefaultOptOut)
		h.wantState("news", "ann", engine.StateOptedOut)
	})
}

func TestConsentReloadAnswersNothing(t *testing.T) {
	d := def("quiz").state("q1", "First question.", onText("", "Right.", "a")).build()
	d.Consent = txt(question)
	h := newEnv(t, d)
	wantTexts(t, h.join("quiz", "ann"), question)
	h.receive("quiz", "ann", engine.Inbound{Kind: engine.KindJoin, PlatformID: "reload"})
	wantTexts(t, h.settle())
	h.wantState("quiz", "ann", engine.StateConsent)
}

func TestConsentDefinitionWords(t *testing.T) {
	d := consentNews("nl")
	d.Consent = campaigns.Text{"nl": "Mogen we je foto tonen?"}
	d.States["subscribed"].Say = []campaigns.Message{{Text: campaigns.Text{"nl": "Je bent aangemeld."}}}
	d.ConsentAnswers = campaigns.ConsentAnswers{
		Yes: []string{"Doe maar"}, No: []string{"Laat maar"},
		Declined:  campaigns.Text{"nl": "Jammer! Tot ziens."},
		YesButton: campaigns.Text{"nl": "Prima"}, Hint: campaigns.Text{"nl": "Ja of nee?"},
	}
	h := newEnv(t, d)
	out := h.receiveOut("news", "ann", engine.Inbound{Kind: engine.KindText, Text: "NRCQ ON"})
	if len(out) != 1 || len(out[0].Buttons) != 2 || out[0].Buttons[0].Title != "Prima" || out[0].Buttons[1].Title != "Nee, bedankt" {
		t.Fatalf("sent %+v, want the buttons Prima and Nee, bedankt", out)
	}
	wantTexts(t, h.text("news", "ann", "wat?"), "Ja of nee?", "Mogen we je foto tonen?")
	wantTexts(t, h.text("news", "ann", "laat maar"), "Jammer! Tot ziens.")
	h.text("news", "ann", "NRCQ ON")
	wantTexts(t, h.text("news", "ann", "DOE MAAR"), "Je bent aangemeld.")
}

// TestTypedButtonTitle: typing the title of a button the participant was offered in their
// state is tapping it.
func TestTypedButtonTitle(t *testing.T) {
	rules := &campaigns.Transition{Kind: campaigns.OnChoice, Choices: []string{"rules"}, Say: says("Rule 1: have fun.")}
	enter := &campaigns.Transition{Kind: campaigns.OnChoice, Choices: []string{"enter"}, Goto: "photo"}
	back := &campaigns.Transition{Kind: campaigns.OnChoice, Choices: []string{"back"}, Goto: "welcome"}
	d := def("contest").
		state("welcome", "", rules, enter).
		state("photo", "Send your photo.", back,
			&campaigns.Transition{Kind: campaigns.OnText, AnyText: true, Say: says("A photo, please.")}).
		build()
	d.States["welcome"].Say = []campaigns.Message{{Text: txt("Tap below for the rules."), Buttons: []campaigns.Button{
		{ID: "rules", Title: txt("Contest rules")}, {ID: "enter", Title: txt("Take part")}}}}
	// The button back is offered on the way in, by the transition into photo.
	enter.Say = []campaigns.Message{{Text: txt("Great."), Buttons: []campaigns.Button{{ID: "back", Title: txt("Back to start")}}}}

	for _, tc := range []struct {
		name  string
		texts []string
		want  []string
		state string
	}{
		{"Title", []string{"Contest rules"}, []string{"Rule 1: have fun."}, "welcome"},
		{"AnyCaseTrimmed", []string{"  contest RULES "}, []string{"Rule 1: have fun."}, "welcome"},
		{"NotATitle", []string{"rules please"}, []string{engine.DefaultFallback}, "welcome"},
		{"ButtonID", []string{"rules"}, []string{engine.DefaultFallback}, "welcome"},
		{"GotoButton", []string{"take part"}, []string{"Great.", "Send your photo."}, "photo"},
		{"OfferedOnTheWayIn", []string{"take part", "Back to start"}, []string{"Tap below for the rules."}, "welcome"},
		{"NotOfferedHere", []string{"take part", "Contest rules"}, []string{"A photo, please."}, "photo"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newEnv(t, d)
			h.join("contest", "ann")
			var got []string
			for _, s := range tc.texts {
				got = h.text("contest", "ann", s)
			}
			wantTexts(t, got, tc.want...)
			h.wantState("contest", "ann", tc.state)
		})
	}
}

func TestOffered(t *testing.T) {
	d := def("contest").
		state("welcome", "", &campaigns.Transition{Kind: campaigns.OnChoice, Choices: []string{"enter"}, Goto: "done"}).
		final("done", "Bye.").build()
	d.States["welcome"].Say = []campaigns.Message{{Text: txt("Hi {{name}}."), Buttons: []campaigns.Button{
		{ID: "enter", Title: txt("Go {{name}}")}}}}
	d.Consent = txt(question)
	h := newEnv(t, d)
	h.receive("contest", "ann", engine.Inbound{Kind: engine.KindJoin, Name: "Ann"})
	h.settle()
	offered := func() []engine.Button {
		bs, err := h.eng.Offered(h.ctx, h.participant("contest", "ann").ID)
		if err != nil {
			t.Fatal(err)
		}
		return bs
	}
	if bs := offered(); len(bs) != 2 || bs[0].ID != campaigns.ConsentYesID {
		t.Errorf("asked for consent: offered %+v", bs)
	}
	h.text("contest", "ann", "yes")
	if bs := offered(); !equalButtons(bs, []engine.Button{{ID: "enter", Title: "Go Ann"}}) {
		t.Errorf("in welcome: offered %+v", bs)
	}
	h.text("contest", "ann", "go ann")
	if bs := offered(); len(bs) != 0 {
		t.Errorf("finished: offered %+v", bs)
	}
}

func (h *env) receiveOut(campaign, from string, in engine.Inbound) []engine.Outbound {
	h.t.Helper()
	h.receive(campaign, from, in)
	return h.settleOut()
}

func equalButtons(a, b []engine.Button) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
