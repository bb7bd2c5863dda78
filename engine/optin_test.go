package engine_test

import (
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
)

// TestOptInOpensNoWindow: when the brand writes first to someone who opted in on its website,
// the greeting must go out as the template (the participant has not written, so WhatsApp
// accepts nothing else); once they answer, replies are free text again.
func TestOptInOpensNoWindow(t *testing.T) {
	d := def("fridge").state("welcome", "Hi {{name}}, send a photo of your fridge.",
		onText("", "A photo please.")).
		with(func(d *campaigns.Definition) {
			d.Templates["welcome"] = &campaigns.Template{Key: "welcome", Name: "fridge_welcome", Language: "en", Params: []string{"name"}}
			d.States["welcome"].Say[0].Template = "welcome"
		}).build()
	h := newEnvWith(t, map[string]time.Duration{"whatsapp": 24 * time.Hour}, d)
	h.receive("fridge", "31612345678", engine.Inbound{Kind: engine.KindOptIn, Channel: "whatsapp", Name: "Ann"})
	out := h.settleOut()
	if len(out) != 1 || out[0].Template == nil || out[0].Template.Name != "fridge_welcome" || out[0].Template.Params[0] != "Ann" {
		t.Fatalf("greeting after an opt-in = %+v, want the template with the name", out)
	}
	h.receive("fridge", "31612345678", engine.Inbound{Kind: engine.KindText, Channel: "whatsapp", Text: "hello?"})
	out = h.settleOut()
	if len(out) != 1 || out[0].Template != nil || out[0].Text != "A photo please." {
		t.Fatalf("reply after the participant wrote = %+v, want free text", out)
	}
	// A second opt-in of the same number changes nothing.
	h.receive("fridge", "31612345678", engine.Inbound{Kind: engine.KindOptIn, Channel: "whatsapp", Name: "Ann"})
	if out := h.settleOut(); len(out) != 0 {
		t.Errorf("second opt-in sent %+v", out)
	}
}

// TestOptInAgainAfterOptingOut: filling in the brand's form again is a way back for someone
// who opted out: the brand writes first again.
func TestOptInAgainAfterOptingOut(t *testing.T) {
	d := def("fridge").state("welcome", "Send a photo of your fridge.", onText("", "A photo please.")).build()
	h := newEnv(t, d)
	h.receive("fridge", "ann", engine.Inbound{Kind: engine.KindOptIn})
	wantTexts(t, h.settle(), "Send a photo of your fridge.")
	wantTexts(t, h.text("fridge", "ann", "STOP"), engine.DefaultOptOut)
	h.receive("fridge", "ann", engine.Inbound{Kind: engine.KindOptIn})
	wantTexts(t, h.settle(), "Send a photo of your fridge.")
	h.wantState("fridge", "ann", "welcome")
}
