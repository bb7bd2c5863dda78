package campaigns_test

import (
	"testing"

	"github.com/chatcampaigns/campaign/campaigns"
)

// TestTemplateCategory: a template is priced by the category Meta approved it in; one that
// does not say is a marketing template, the dearest, so a plan never underestimates.
func TestTemplateCategory(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"{name: demo_weekly, broadcast: true}", campaigns.CategoryMarketing},
		{"{name: demo_weekly, broadcast: true, category: utility}", campaigns.CategoryUtility},
		{"{name: demo_weekly, broadcast: true, category: authentication}", campaigns.CategoryAuthentication},
		{"{name: demo_weekly, broadcast: true, category: marketing}", campaigns.CategoryMarketing},
	} {
		def, probs := campaigns.Parse("demo.yaml", []byte("templates: {weekly: "+tc.yaml+"}\n"+valid))
		if def == nil || len(probs) > 0 {
			t.Fatalf("%s: %v", tc.yaml, probs)
		}
		if got := def.Templates["weekly"].Category; got != tc.want {
			t.Errorf("%s: category %q, want %q", tc.yaml, got, tc.want)
		}
	}
}
