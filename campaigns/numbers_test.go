package campaigns_test

import (
	"strings"
	"testing"

	"github.com/chatcampaigns/campaign/campaigns"
)

// counting is a small quiz that counts with add: and branches with if:, the base of the
// number and condition tests below.
const counting = `id: demo
start: q
states:
  q:
    say: "Two plus two?"
    on:
      - text: "4"
        add: {points: 1}
        goto: tally
      - text: any
        goto: tally
  tally:
    say: "You have {{points}} points."
    on:
      - entered: true
        if: points >= 1
        goto: won
      - entered: true
        goto: lost
  won:
    say: won
    final: true
  lost:
    say: lost
    final: true
`

func TestNumberProblems(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"AddNotANumber", r(counting, "add: {points: 1}", "add: {points: one}", 1),
			`demo.yaml:8:23: add: points must be a number, like 1 or -2, not "one"`},
		{"AddHexFloat", r(counting, "add: {points: 1}", "add: {points: 0x1p4}", 1),
			`demo.yaml:8:23: add: points must be a number, like 1 or -2, not "0x1p4"`},
		{"AddNotAMapping", r(counting, "add: {points: 1}", "add: points", 1),
			`demo.yaml:8:14: add must be a mapping of variables to numbers, like add: {points: 1}`},
		{"AddBadName", r(counting, "add: {points: 1}", "add: {Points: 1}", 1),
			`demo.yaml:8:15: add var "Points" must be lower-case letters, digits and _ (it is used as {{Points}})`},
		{"AddEngineVar", r(counting, "add: {points: 1}", "add: {points: 1, code: 1}", 1),
			`demo.yaml:8:26: add var "code" is set by the engine; choose another name`},
		{"AddHandoffVar", r(counting, "add: {points: 1}", "add: {points: 1, handoff: 1}", 1),
			`demo.yaml:8:26: add var "handoff" is set by the engine; choose another name`},
		{"AddToName", r(counting, "add: {points: 1}", "add: {points: 1, name: 1}", 1),
			`demo.yaml:8:26: add var "name" holds a text; only a number can be added to`},
		{"AddTwice", r(counting, "add: {points: 1}", "add: {points: 1, points: 2}", 1),
			`demo.yaml:8:26: add: points is listed twice`},
		{"SetEngineVar", r(counting, "add: {points: 1}", "add: {points: 1}\n        set: {place: x}", 1),
			`demo.yaml:9:15: set var "place" is set by the engine; choose another name`},
		{"SetSenderVar", r(counting, "add: {points: 1}", "add: {points: 1}\n        set: {wa_number: x}", 1),
			`demo.yaml:9:15: set var "wa_number" is set by the engine; choose another name`},
		{"SetNoValue", r(counting, "add: {points: 1}", "add: {points: 1}\n        set: {level: }", 1),
			`demo.yaml:9:22: set: level needs a value (a number or a text)`},
		{"SetNotAMapping", r(counting, "add: {points: 1}", "add: {points: 1}\n        set: level", 1),
			`demo.yaml:9:14: set must be a mapping of variables to values, like set: {level: 2}`},
		{"SetLangNotALanguage", r(counting, "add: {points: 1}", "add: {points: 1}\n        set: {lang: fr}", 1),
			`demo.yaml:9:21: set: lang "fr" is not one of languages (en)`},
		{"NumberAndText", r(counting, "add: {points: 1}", "add: {points: 1}\n        set: {points: lots}", 1),
			`demo.yaml:8:15: points is counted with add: but also holds a text (set: points: "lots"); a variable holds a number or a text`},
		{"SaveEngineVar", r(counting, "add: {points: 1}", "save: {var: lat}", 1),
			`demo.yaml:8:21: save var "lat" is set by the engine; choose another name`},

		{"IfNeverSet", r(counting, "if: points >= 1", "if: pionts >= 1", 1),
			`demo.yaml:16:13: if: pionts is never set: give it a value with add:, set: or save:; did you mean "points"?`},
		{"IfSecondComparisonNeverSet", r(counting, "if: points >= 1", "if: points >= 1 and streak_length > 0", 1),
			`demo.yaml:16:29: if: streak_length is never set: give it a value with add:, set: or save:`},
		{"IfNumberWithText", r(counting, "if: points >= 1", "if: points == lots", 1),
			`demo.yaml:16:13: if: points is a number (add: counts it); compare it with a number, not "lots"`},
		{"IfOrderText", r(counting, "if: points >= 1", "if: name > \"b\"", 1),
			`demo.yaml:16:13: if: > compares numbers; "b" is a text (texts compare with == or !=)`},
		{"IfUnknownOperator", r(counting, "if: points >= 1", "if: points => 1", 1),
			`demo.yaml:16:20: if "points => 1": unknown operator "=>"; use one of == != < <= > >=`},
		{"IfSingleEquals", r(counting, "if: points >= 1", "if: points = 1", 1),
			`demo.yaml:16:20: if "points = 1": unknown operator "="; to compare, write ==`},
		{"IfMissingValue", r(counting, "if: points >= 1", "if: points >=", 1),
			`demo.yaml:16:22: if "points >=": >= needs a number or a text after it`},
		{"IfAmpersands", r(counting, "if: points >= 1", "if: points >= 1 && points < 5", 1),
			`demo.yaml:16:25: if "points >= 1 && points < 5": write and instead of &&`},
		{"IfTrailing", r(counting, "if: points >= 1", "if: points >= 1 2", 1),
			`demo.yaml:16:25: if "points >= 1 2": "2" follows a complete comparison; join comparisons with and / or`},
		{"IfQuoted", r(counting, "if: points >= 1", "if: \"pionts >= 1\"", 1),
			`demo.yaml:16:14: if: pionts is never set: give it a value with add:, set: or save:; did you mean "points"?`},
		{"IfLangNotALanguage", "languages: [nl, en]\n" + r(r(counting, "if: points >= 1", "if: lang == fr", 1), `say: "Two plus two?"`, `say: {nl: "Twee plus twee?", en: "Two plus two?"}`, 1),
			`demo.yaml:17:13: if: lang "fr" is not one of languages (nl, en), so this never holds`},
		{"IfLangTypo", "languages: [nl, en]\n" + r(counting, "if: points >= 1", "if: points >= 1 and lang != nll", 1),
			`demo.yaml:17:29: if: lang "nll" is not one of languages (nl, en), so this always holds; did you mean "nl"?`},
		{"IfRankWithoutRanking", r(counting, "if: points >= 1", "if: rank <= 3", 1),
			`demo.yaml:16:13: if: {{rank}} needs a ranking (add ranking: at the top level)`},
		{"IfTopWithoutTop", "ranking: {by: points}\n" + r(counting, "if: points >= 1", "if: top == 3", 1),
			`demo.yaml:17:13: if: {{top}} needs a ranking with top: (how many win)`},
		{"IfUnicodeOperator", r(counting, "if: points >= 1", "if: points ≥ 1", 1),
			`demo.yaml:16:20: if "points ≥ 1": write >= instead of ≥`},
		{"IfCurlyQuotes", r(counting, "if: points >= 1", "if: name == “Ann”", 1),
			`demo.yaml:16:21: if "name == “Ann”": quote a text with straight quotes, like "Ann", not “ and ”`},
		{"IfDecimalComma", r(counting, "if: points >= 1", "if: points >= 2,5", 1),
			`demo.yaml:16:24: if "points >= 2,5": write a decimal number with a point, like 2.5`},
		{"SetOverwritesSave", r(counting, "add: {points: 1}", "save: {var: guess}\n        set: {guess: none}", 1),
			`demo.yaml:7:9: warning: set: guess overwrites the answer save: stores in guess in the same transition (set runs after save)`},
		{"IfEmpty", r(counting, "if: points >= 1", "if: \"\"", 1),
			`demo.yaml:16:13: if is empty`},

		{"EnteredLoop", r(r(counting, "goto: won", "goto: tally", 1), "      - entered: true\n        goto: lost\n", "", 1),
			`demo.yaml:17:15: entered transitions go round in a loop (tally → tally): a participant would never stop moving; give one of them another trigger`},
		{"EnteredLoopOverTwo", r(r(counting, "goto: won", "goto: again", 1), "  won:\n", "  again:\n    on:\n      - entered: true\n        goto: tally\n  won:\n", 1),
			`demo.yaml:23:15: entered transitions go round in a loop (tally → again → tally): a participant would never stop moving; give one of them another trigger`},
		{"EnteredAfterADayNeedsTemplate", "channels: [whatsapp]\n" + r(counting, "      - text: any\n        goto: tally\n", "      - text: any\n        goto: tally\n      - after: 2d\n        goto: tally\n", 1),
			`demo.yaml:24:10: this message is said on entering state "tally" 2d after state "q" is entered, more than 24 hours after the participant's last message, when WhatsApp delivers only templates: add template: KEY (declared under templates:)`},
		{"EnteredAllConditional", r(counting, "      - entered: true\n        goto: lost\n", "      - entered: true\n        if: points < 1\n        goto: lost\n", 1),
			`demo.yaml:12:3: warning: state "tally": when none of its entered conditions holds, the participant stays here and nothing else moves them on; give the last entered transition no if:`},
		{"EnteredNotTrue", r(counting, "entered: true", "entered: soon", 1),
			`demo.yaml:15:18: entered: write entered: true, or leave the key out`},
		{"EnteredNoSave", r(counting, "if: points >= 1", "save: {var: x}", 1),
			`demo.yaml:16:9: save: only a text, regex or choice transition has an answer to save`},
		{"ConditionalDoesNotShadow", r(counting, "      - text: any\n", "      - text: \"4\"\n", 1),
			`demo.yaml:10:9: warning: never fires: transition 1 of state "q" already answers the text "4"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def, probs := campaigns.Parse("demo.yaml", []byte(tt.src))
			found := false
			for _, p := range probs {
				found = found || p.String() == tt.want
			}
			if !found {
				t.Errorf("want the problem\n  %s\ngot\n  %s", tt.want, strings.ReplaceAll(probs.Error(), "\n", "\n  "))
			}
			if probs.HasErrors() && def != nil {
				t.Error("a definition with errors must not compile")
			}
		})
	}
}

// TestWrongConditionShadowsNothing: a transition whose if: has an error still has a condition,
// so the next transition answering the same is no "never fires" (one error, not two problems).
func TestWrongConditionShadowsNothing(t *testing.T) {
	for name, src := range map[string]string{
		"Text":    r(counting, "      - text: any\n        goto: tally\n", "      - text: any\n        if: pionts => 1\n        goto: tally\n      - text: any\n        goto: tally\n", 1),
		"Entered": r(counting, "if: points >= 1", "if: points => 1", 1),
	} {
		t.Run(name, func(t *testing.T) {
			_, probs := campaigns.Parse("demo.yaml", []byte(src))
			for _, p := range probs {
				if strings.Contains(p.String(), "never fires") || strings.Contains(p.String(), "entered conditions") {
					t.Errorf("a follow-up problem of the wrong if: %s\nall:\n%s", p, probs.Error())
				}
			}
			if !probs.HasErrors() {
				t.Error("the wrong if: is no error")
			}
		})
	}
}

func TestNumbersValidate(t *testing.T) {
	for name, src := range map[string]string{
		"Counting":           counting,
		"NegativeAndFloat":   r(counting, "add: {points: 1}", "add: {points: -0.5, tries: 1}", 1),
		"SetNumberAndText":   r(counting, "add: {points: 1}", "add: {points: 1}\n        set: {level: 2, medal: gold}", 1),
		"TextCondition":      r(r(counting, "add: {points: 1}", "add: {points: 1}\n        set: {medal: gold}", 1), "if: points >= 1", "if: medal == gold or medal == \"silver medal\"", 1),
		"LangCondition":      r(counting, "if: points >= 1", "if: lang == en and (points > 0 or name != 'x')", 1),
		"SavedNumberCompare": r(r(counting, "      - text: any\n", "      - regex: \"^[0-9]+$\"\n        save: {var: guess, as: number, invalid: a number please}\n        goto: tally\n      - text: any\n", 1), "if: points >= 1", "if: guess == 4 or points > 0", 1),
		"ConditionalTimer": r(counting, "      - text: any\n        goto: tally\n",
			"      - text: any\n        goto: tally\n      - after: 20s\n        if: points > 0\n        goto: won\n      - after: 20s\n        goto: lost\n", 1),
	} {
		t.Run(name, func(t *testing.T) {
			def, probs := campaigns.Parse("demo.yaml", []byte(src))
			if def == nil || len(probs) > 0 {
				t.Fatalf("got %v", probs)
			}
		})
	}
	def, _ := campaigns.Parse("demo.yaml", []byte(r(counting, "add: {points: 1}", "add: {points: 1}\n        set: {level: 2, medal: gold}", 1)))
	if got := strings.Join(def.Numbers, ","); got != "level,points" {
		t.Errorf("Numbers = %q, want level,points", got)
	}
	tr := def.States["q"].On[0]
	if tr.Add["points"] != 1 || tr.Set["level"] != "2" || tr.Set["medal"] != "gold" {
		t.Errorf("add %v set %v", tr.Add, tr.Set)
	}
	if c := def.States["tally"].On[0].If; c == nil || c.String() != "points >= 1" {
		t.Errorf("if = %v", c)
	}
}

func TestConditionEval(t *testing.T) {
	vars := map[string]string{"points": "3", "medal": "Gold", "half": "2.5", "word": "abc",
		"typed_inf": "Infinity", "typed_nan": "NaN", "typed_hex": "0x10"}
	get := func(n string) (string, bool) { v, ok := vars[n]; return v, ok }
	tests := []struct {
		src  string
		want bool
	}{
		{"points >= 3", true},
		{"points > 3", false},
		{"points == 3.0", true},
		{"points != 3", false},
		{"points < 4", true},
		{"points <= 2", false},
		{"half > 2", true},
		{"unset == 0", true},
		{"unset < 1", true},
		{"unset >= -1", true},
		{"medal == gold", true},
		{"medal == \"gold\"", true},
		{"medal != 'Gold'", false},
		{"unset == \"\"", true},
		{"word == 1", false},
		{"word != 1", true},
		{"word > 1", false},
		// A text a participant typed is a number only as people write one.
		{"typed_inf > 1", false},
		{"typed_inf != 1", true},
		{"typed_nan != 1", true},
		{"typed_hex == 16", false},
		{"typed_hex > 1", false},
		{"typed_hex != 16", true},
		{"points > 5 or medal == gold", true},
		{"points > 5 or medal == gold and half < 1", false},
		{"(points > 5 or medal == gold) and half < 3", true},
		{"points >= 3 AND medal == gold", true},
	}
	for _, tt := range tests {
		c, err := campaigns.ParseCondition(tt.src)
		if err != nil {
			t.Errorf("%s: %v", tt.src, err)
			continue
		}
		if got := c.Eval(get); got != tt.want {
			t.Errorf("%s = %v, want %v", tt.src, got, tt.want)
		}
	}
}

func TestAddNumber(t *testing.T) {
	tests := []struct {
		value string
		add   float64
		want  string
	}{
		{"", 1, "1"},
		{"2", 1, "3"},
		{"3", -5, "-2"},
		{"0.1", 0.2, "0.3"},
		{"1.5", 1.5, "3"},
		{"text", 1, "1"},
		{"1", -1, "0"},
	}
	for _, tt := range tests {
		if got := campaigns.AddNumber(tt.value, tt.add); got != tt.want {
			t.Errorf("AddNumber(%q, %g) = %q, want %q", tt.value, tt.add, got, tt.want)
		}
	}
}

func FuzzCondition(f *testing.F) {
	for _, s := range []string{"points >= 3", "a == b or (c < 1 and d != 'x')", "x = 1", "((", "a == \"", "-", "a >= -1.5e3", "and or", "a==1and b==2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		c, err := campaigns.ParseCondition(src)
		if err != nil {
			ce, ok := err.(*campaigns.ConditionError)
			if !ok || ce.Offset < 0 || ce.Offset > len(src) {
				t.Fatalf("%q: error %v without a position in the source", src, err)
			}
			return
		}
		c.Eval(func(string) (string, bool) { return "1", true })
		// What parses writes back to a condition that parses the same.
		again, err := campaigns.ParseCondition(c.String())
		if err != nil || again.String() != c.String() {
			t.Fatalf("%q → %q → %v %v", src, c.String(), again, err)
		}
	})
}
