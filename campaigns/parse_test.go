package campaigns_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
)

func TestExamplesValidate(t *testing.T) {
	defs, probs := campaigns.LoadPaths([]string{"examples"})
	if len(probs) > 0 {
		t.Fatalf("examples have problems:\n%s", probs.Error())
	}
	if len(defs) == 0 {
		t.Fatal("no examples loaded")
	}
}

func TestBouncerCompiles(t *testing.T) {
	def, probs := campaigns.LoadFile("examples/bouncer.yaml")
	if def == nil {
		t.Fatalf("bouncer: %v", probs)
	}
	if def.ID != "bouncer" || def.Start != "door" || def.Persona.Name != "Sven" {
		t.Errorf("got id=%q start=%q persona=%q", def.ID, def.Start, def.Persona.Name)
	}
	if got := def.Persona.Delay(strings.Repeat("x", 1000)); got != 3*time.Second {
		t.Errorf("long reply delay = %s, want capped at 3s", got)
	}
	door := def.States["door"]
	if !door.On[0].MatchMedia("photo") || door.On[0].MatchMedia("video") || !door.On[0].Collect {
		t.Errorf("door's first transition should collect photos only: %+v", door.On[0])
	}
	if !door.On[1].MatchText("hello") {
		t.Error("door should answer any text")
	}
	if !def.States["guest_list"].Final {
		t.Error("guest_list should be final")
	}
}

// valid is the smallest definition every problem case below starts from.
const valid = `id: demo
start: a
states:
  a:
    say: hi
    on:
      - text: [yes, ja]
        goto: b
  b:
    say: bye
    final: true
`

func TestProblems(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string // the exact first problem
	}{
		{"UnknownTopLevelKeySuggests", strings.Replace(valid, "start: a", "start: a\ntitel: x", 1),
			"demo.yaml:3:1: unknown key \"titel\" in the definition; did you mean \"title\"?"},
		{"UnknownTransitionKeySuggests", strings.Replace(valid, "goto: b", "gotoo: b", 1),
			"demo.yaml:8:9: unknown key \"gotoo\" in state \"a\" transition 1; did you mean \"goto\"?"},
		{"MissingStart", strings.Replace(valid, "start: a\n", "", 1),
			"demo.yaml:1:1: missing required key \"start\""},
		{"UndefinedStart", strings.Replace(valid, "start: a", "start: door", 1),
			"demo.yaml:2:8: start state \"door\" is not defined"},
		{"GotoUndefinedSuggests", strings.Replace(valid, "goto: b", "goto: bb", 1),
			"demo.yaml:8:15: goto: state \"bb\" is not defined; did you mean \"b\"?"},
		{"BadRegex", strings.Replace(valid, "text: [yes, ja]", "regex: \"(\"", 1),
			"demo.yaml:7:16: regex \"(\" does not compile: error parsing regexp: missing closing ): `(`"},
		{"BadDuration", strings.Replace(valid, "start: a", "start: a\npersona:\n  delay:\n    min: soon", 1),
			"demo.yaml:5:10: delay min: \"soon\" is not a duration (write it like 800ms, 2s or 1h30m)"},
		{"NoTrigger", strings.Replace(valid, "text: [yes, ja]", "say: what", 1),
			"demo.yaml:7:9: state \"a\" transition 1 needs a trigger: one of text, regex, media or verdict"},
		{"TwoTriggers", strings.Replace(valid, "text: [yes, ja]", "text: any\n        media: photo", 1),
			"demo.yaml:8:9: state \"a\" transition 1 has two triggers (text and media); use one transition for each"},
		{"UnknownMediaKind", strings.Replace(valid, "text: [yes, ja]", "media: foto", 1),
			"demo.yaml:7:16: unknown media kind \"foto\"; use one of photo, video, audio, document; did you mean \"photo\"?"},
		{"UnknownVerdict", strings.Replace(valid, "text: [yes, ja]", "verdict: aproved", 1),
			"demo.yaml:7:18: unknown verdict \"aproved\"; use approved or rejected; did you mean \"approved\"?"},
		{"CollectWithoutMedia", strings.Replace(valid, "goto: b", "collect: true\n        goto: b", 1),
			"demo.yaml:8:9: collect: only a media transition has something to collect as an entry"},
		{"StuckState", strings.Replace(valid, "    final: true\n", "", 1),
			"demo.yaml:10:5: state \"b\" has no transitions (on:) and is not final: a participant would be stuck there"},
		{"FinalWithTransitions", strings.Replace(valid, "    say: hi\n", "    say: hi\n    final: true\n", 1),
			"demo.yaml:7:5: state \"a\" is final, so it cannot have transitions"},
		{"UnsetVariable", strings.Replace(valid, "say: bye", "say: \"bye {{prize}}\"", 1),
			"demo.yaml:10:10: state \"b\" uses {{prize}}, which is never set (known: name, code, persona)"},
		{"CodeNeverIssued", strings.Replace(valid, "say: bye", "say: \"code {{code}}\"", 1),
			"demo.yaml:10:10: state \"b\" says {{code}}, but no transition has issue_code: true"},
		{"UnreachableIsWarning", valid + "  c:\n    final: true\n",
			"demo.yaml:12:3: warning: state \"c\" cannot be reached from the start state \"a\""},
		{"AliasRefused", strings.Replace(valid, "say: hi", "say: &x hi", 1) + "  c:\n    say: *x\n    final: true\n",
			"demo.yaml:13:10: aliases (*name) are not allowed in a definition; write the value out"},
		{"BadYAML", "id: [", "demo.yaml:1:1: not valid YAML: did not find expected node content"},
		{"Empty", "", "demo.yaml:1:1: the file is empty; a definition needs at least id, start and states"},
		{"BadID", strings.Replace(valid, "id: demo", "id: Demo Campaign", 1),
			"demo.yaml:1:5: id \"Demo Campaign\" must be lower-case letters, digits, - and _ (it appears in URLs)"},
		{"TooLarge", valid + "# " + strings.Repeat("x", campaigns.MaxFileSize),
			"demo.yaml:1:1: file is 1048703 bytes; a definition may be at most 1048576"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def, probs := campaigns.Parse("demo.yaml", []byte(tt.src))
			if len(probs) == 0 {
				t.Fatalf("no problem reported; want %q", tt.want)
			}
			if got := probs[0].String(); got != tt.want {
				t.Errorf("first problem:\n got %s\nwant %s\n(all: %v)", got, tt.want, probs)
			}
			if probs.HasErrors() && def != nil {
				t.Error("a definition with errors must not compile")
			}
		})
	}
}

func TestRender(t *testing.T) {
	got := campaigns.Render("Hi {{ name }}, code {{code}}{{missing}}.", map[string]string{"name": "Ann", "code": "X7"})
	if got != "Hi Ann, code X7." {
		t.Errorf("Render = %q", got)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(valid))
	f.Add([]byte("a: &a [*a, *a]\n"))
	f.Add([]byte("id: x\nstates: {a: {on: [{text: any, goto: a}]}}\nstart: a\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		def, probs := campaigns.Parse("fuzz.yaml", src)
		if def == nil && len(probs) == 0 {
			t.Fatal("no definition and no problem")
		}
		for _, p := range probs {
			if p.Line < 1 || p.Col < 1 {
				t.Fatalf("problem without a position: %v", p)
			}
		}
	})
}
