package engine

import (
	"testing"

	"github.com/chatcampaigns/campaign/campaigns"
)

// A template parameter naming a number variable not added yet is 0, as in a text.
func TestTemplateParamNumberShowsZero(t *testing.T) {
	def := &campaigns.Definition{ID: "zero", Languages: []string{"en"}, Numbers: []string{"points"},
		Templates: map[string]*campaigns.Template{"score": {Key: "score", Name: "score", Language: "en", Params: []string{"points", "name"}}}}
	e := &Engine{}
	p := &Participant{Vars: map[string]string{}}
	out := e.render(def, p, campaigns.Message{Text: campaigns.Text{"en": "x"}, Template: "score"}, func(s string) string { return s })
	if out.Template == nil || len(out.Template.Params) != 2 || out.Template.Params[0] != "0" || out.Template.Params[1] != "" {
		t.Fatalf("template = %+v", out.Template)
	}
}
