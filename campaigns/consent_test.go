package campaigns_test

import (
	"strings"
	"testing"

	"github.com/chatcampaigns/campaign/campaigns"
)

func TestConsentForms(t *testing.T) {
	t.Run("PlainText", func(t *testing.T) {
		def, probs := campaigns.Parse("demo.yaml", []byte("consent: Reply OK to agree.\n"+valid))
		if def == nil || len(probs) > 0 {
			t.Fatalf("problems %v", probs)
		}
		if def.Consent["en"] != "Reply OK to agree." {
			t.Errorf("consent %v", def.Consent)
		}
		if yes, _ := def.ConsentReply("Okay!"); !yes {
			t.Error("okay is no yes")
		}
		if yes, no := def.ConsentReply("what is this?"); yes || no {
			t.Error("a question answered consent")
		}
	})
	t.Run("Long", func(t *testing.T) {
		src := `languages: [nl, en]
keywords: [FOTO]
consent:
  text: {nl: "Mogen we je foto tonen?", en: "May we show your photo?"}
  yes: [doe maar]
  no: [laat maar]
  yes_button: {nl: "Ja, prima", en: "Yes, fine"}
  declined: {nl: "Jammer.", en: "Pity."}
  hint: {nl: "Ja of nee?", en: "Yes or no?"}
` + valid
		src = strings.Replace(src, "say: hi", "say: {nl: hoi, en: hi}", 1)
		src = strings.Replace(src, "say: bye", "say: {nl: doei, en: bye}", 1)
		def, probs := campaigns.Parse("demo.yaml", []byte(src))
		if def == nil || len(probs) > 0 {
			t.Fatalf("problems %v", probs)
		}
		if def.Consent["en"] != "May we show your photo?" {
			t.Errorf("consent %v", def.Consent)
		}
		for _, tc := range []struct {
			text    string
			yes, no bool
		}{{"Doe maar", true, false}, {"ja", true, false}, {"yes", true, false}, {"laat maar!", false, true}, {"Nee", false, true}, {"oui", false, false}} {
			if yes, no := def.ConsentReply(tc.text); yes != tc.yes || no != tc.no {
				t.Errorf("%q: yes %v no %v, want %v %v", tc.text, yes, no, tc.yes, tc.no)
			}
		}
		m := def.ConsentMessage()
		if m.Buttons[0].Title["en"] != "Yes, fine" || m.Buttons[1].Title["nl"] != "Nee, bedankt" || m.Buttons[1].Title["en"] != "No thanks" {
			t.Errorf("buttons %+v", m.Buttons)
		}
		if got := def.ConsentDeclined(); got["nl"] != "Jammer." {
			t.Errorf("declined %v", got)
		}
	})
	t.Run("ByLanguage", func(t *testing.T) {
		// "no" is Norwegian here, not the no words.
		src := "languages: [en, no]\nconsent: {en: \"OK?\", no: \"Greit?\"}\n" + strings.Replace(strings.Replace(valid, "say: hi", "say: {en: hi, no: hei}", 1), "say: bye", "say: {en: bye, no: ha det}", 1)
		def, probs := campaigns.Parse("demo.yaml", []byte(src))
		if def == nil {
			t.Fatalf("problems %v", probs)
		}
		if def.Consent["no"] != "Greit?" || def.Consent["en"] != "OK?" {
			t.Errorf("consent %v", def.Consent)
		}
	})
	t.Run("DefaultDeclinedNamesTheKeyword", func(t *testing.T) {
		def, _ := campaigns.Parse("demo.yaml", []byte("keywords: [SUMMER]\nconsent: OK?\n"+valid))
		if got := def.ConsentDeclined()["en"]; got != "No problem, you're not taking part. If you change your mind, send SUMMER." {
			t.Errorf("declined %q", got)
		}
	})
}

func TestConsentProblems(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"NoText", "consent:\n  yes: [fine]\n" + valid,
			"demo.yaml:2:3: consent needs text: the question the participant answers yes or no to"},
		{"UnknownKey", "consent:\n  text: OK?\n  yess: [fine]\n" + valid,
			`demo.yaml:3:3: unknown key "yess" in consent; did you mean "yes"?`},
		{"YesAndNo", "consent:\n  text: OK?\n  yes: [fine]\n  no: [Fine!]\n" + valid,
			`demo.yaml:3:9: consent word "fine" is both a yes and a no`},
		{"OptOutWord", "consent:\n  text: OK?\n  no: [stop]\n" + valid,
			`demo.yaml:3:8: consent word "stop" is an opt-out word; an opt-out word always opts out`},
		{"LongButton", "consent:\n  text: OK?\n  yes_button: Yes I agree to all of this\n" + valid,
			`demo.yaml:3:15: button title "Yes I agree to all of this" is 26 characters; WhatsApp allows at most 20`},
		{"NoBuiltinWords", "languages: [it]\nconsent: Va bene\n" + valid,
			`demo.yaml:2:1: warning: consent: there are no built-in yes and no words for "it"; only the English ones and the buttons agree (add yours under consent yes: and no:)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, probs := campaigns.Parse("demo.yaml", []byte(tc.src))
			found := false
			for _, p := range probs {
				found = found || p.String() == tc.want
			}
			if !found {
				t.Errorf("want the problem\n  %s\ngot\n  %s", tc.want, strings.ReplaceAll(probs.Error(), "\n", "\n  "))
			}
		})
	}
}
