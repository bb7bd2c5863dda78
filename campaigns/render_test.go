package campaigns

import (
	"strings"
	"testing"
)

// TestRenderFallback: {{var|text}} says the text when the variable is empty or unknown, the
// value otherwise.
func TestRenderFallback(t *testing.T) {
	vars := map[string]string{"name": "Ann", "empty": ""}
	for _, c := range []struct{ in, want string }{
		{"Hello {{name|there}}!", "Hello Ann!"},
		{"Hello {{ empty | there }}!", "Hello there!"},
		{"Hello {{nobody|you}}, {{nobody}}.", "Hello you, ."},
		{"{{empty|}}x", "x"},
		{"{{name|a|b}}", "{{name|a|b}}"}, // two bars: no variable, shown as written (validation warns)
	} {
		if got := Render(c.in, vars); got != c.want {
			t.Errorf("Render(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestNameOnTheWebChat: a {{name}} without a fallback warns in a campaign on the web chat,
// where nobody has a name; with one, on WhatsApp only, in a team campaign or as a template
// parameter it does not.
func TestNameOnTheWebChat(t *testing.T) {
	const warning = `{{name}} is empty on the web chat`
	for _, c := range []struct {
		name, src string
		warns     bool
	}{
		{"WebChat", "id: c\nchannels: [webchat]\nstart: a\nstates:\n  a:\n    say: \"Hi {{name}}\"\n    final: true\n", true},
		{"AllChannels", "id: c\nstart: a\nstates:\n  a:\n    say: \"Hi {{name}}\"\n    final: true\n", true},
		{"Fallback", "id: c\nchannels: [webchat]\nstart: a\nstates:\n  a:\n    say: \"Hi {{name|there}}\"\n    final: true\n", false},
		{"WhatsAppOnly", "id: c\nchannels: [whatsapp]\nkeywords: [GO]\nstart: a\nstates:\n  a:\n    say: \"Hi {{name}}\"\n    final: true\n", false},
		{"TemplateParam", "id: c\nchannels: [webchat, whatsapp]\nkeywords: [GO]\ntemplates:\n  t: {name: c_t, language: en, params: [name]}\nstart: a\nstates:\n  a:\n    say: {text: \"Hi {{name|there}}\", template: t}\n    final: true\n", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, probs := Parse("demo.yaml", []byte(c.src))
			var got string
			for _, p := range probs {
				got += p.String() + "\n"
			}
			if strings.Contains(got, warning) != c.warns {
				t.Errorf("warns = %v, want %v; problems:\n%s", !c.warns, c.warns, got)
			}
			if strings.Contains(got, "error") {
				t.Errorf("errors:\n%s", got)
			}
		})
	}
}
