package campaigns_test

import (
	"os"
	"path/filepath"
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
	files, _ := filepath.Glob("examples/*.yaml")
	if len(defs) != len(files) || len(defs) < 6 {
		t.Fatalf("loaded %d examples of %d files, want one per file", len(defs), len(files))
	}
}

func mustLoad(t *testing.T, path string) *campaigns.Definition {
	t.Helper()
	def, probs := campaigns.LoadFile(path)
	if def == nil || len(probs) > 0 {
		t.Fatalf("%s: %v", path, probs)
	}
	return def
}

func TestBouncerCompiles(t *testing.T) {
	def := mustLoad(t, "examples/bouncer.yaml")
	if def.ID != "bouncer" || def.Start != "door" || def.Persona.Name != "Sven" {
		t.Errorf("got id=%q start=%q persona=%q", def.ID, def.Start, def.Persona.Name)
	}
	if got := def.Persona.Delay(strings.Repeat("x", 1000)); got != 3*time.Second {
		t.Errorf("long reply delay = %s, want capped at 3s", got)
	}
	door := def.States["door"]
	if !door.On[0].MatchMedia("photo") || !door.On[0].MatchMedia("video") || !door.On[0].MatchMedia("audio") || door.On[0].MatchMedia("document") || !door.On[0].Collect || door.On[0].MaxBytes != 16<<20 {
		t.Errorf("door's first transition should collect photos, videos and voice notes (no documents) up to 16MB: %+v", door.On[0])
	}
	if !door.On[1].MatchText("hello") {
		t.Error("door should answer any text")
	}
	if door.Say[0].Template != "try_again" || !strings.Contains(door.Say[0].Text.In("en", "en"), "nobody gets past this door") {
		t.Errorf("door says %+v", door.Say)
	}
	approved := def.States["judging"].On[0]
	if !approved.MatchVerdict("approved") || approved.Take != "guest_list" || approved.TakeFull != "list_full" || !approved.IssueCode || approved.Goto != "guest_list" {
		t.Errorf("approved transition = %+v", approved)
	}
	if def.Pools["guest_list"].Capacity != 100 {
		t.Errorf("pools = %+v", def.Pools)
	}
	if tp := def.Templates["on_the_list"]; tp.Name != "bouncer_on_the_list" || tp.Language != "en" || len(tp.Params) != 1 || tp.Params[0] != "code" {
		t.Errorf("template = %+v", tp)
	}
	if !def.States["guest_list"].Final || !def.RunsOn("whatsapp") || def.RunsOn("telegram") {
		t.Error("guest_list should be final, and the bouncer run on whatsapp and not telegram")
	}
}

func TestRaceCompiles(t *testing.T) {
	def := mustLoad(t, "examples/race.yaml")
	ams, _ := time.LoadLocation("Europe/Amsterdam")
	if def.Teams == nil || def.Teams.MinSize != 2 || def.Teams.MaxSize != 4 || len(def.Rounds) != 3 {
		t.Fatalf("teams %+v rounds %d", def.Teams, len(def.Rounds))
	}
	// Its times count from the launch: unanchored they are no dates yet.
	if !def.FromLaunch() || !def.Rounds[0].Starts.IsZero() || !def.Schedule.End.IsZero() {
		t.Fatalf("race should count from its launch: schedule %+v, round 1 %+v", def.Schedule, def.Rounds[0])
	}
	launch := time.Date(2026, 5, 25, 9, 0, 0, 0, ams)
	day := 24 * time.Hour
	run := def.Anchor(launch)
	r1, r2 := run.Rounds[0], run.Rounds[1]
	if !r1.Starts.Equal(launch.Add(7*day)) || r1.Duration != 4*day || r1.Advance != 20 {
		t.Errorf("round 1 = %+v", r1)
	}
	if !r2.Starts.Equal(launch.Add(14*day)) || r2.Duration != 4*day || !r2.Deadline.IsZero() {
		t.Errorf("round 2 = %+v", r2)
	}
	if !run.Schedule.Open(launch.Add(6*day)) || run.Schedule.Open(launch.Add(7*day)) {
		t.Error("sign-up should be open for the first week only")
	}
	if run.Schedule.Stopped(launch.Add(34*day)) || !run.Schedule.Stopped(launch.Add(35*day)) {
		t.Error("the race should stop answering five weeks after its launch")
	}
	if !def.Rounds[0].Starts.IsZero() || !run.Anchor(launch.Add(day)).Rounds[0].Starts.Equal(launch.Add(8*day)) {
		t.Error("anchoring must leave the definition alone and be repeatable")
	}
	start := def.States["lobby"].On[0]
	if !start.MatchRound("harbour", "started") || start.MatchRound("rooftop", "started") {
		t.Errorf("lobby's round transition = %+v", start)
	}
	finale := def.States["finale"].On[0]
	if finale.Count != 3 || !finale.MatchMedia("video") || !finale.MatchMedia("photo") {
		t.Errorf("finale = %+v", finale)
	}
	if len(def.Keywords) != 1 || def.Consent.IsZero() {
		t.Errorf("keywords %v consent %v", def.Keywords, def.Consent)
	}
}

func TestFridgeCompiles(t *testing.T) {
	def := mustLoad(t, "examples/fridge.yaml")
	if def.Languages[0] != "nl" || def.WhatsAppNumber != "106540352242922" {
		t.Errorf("languages %v number %q", def.Languages, def.WhatsAppNumber)
	}
	welcome := def.States["welcome"].Say[0]
	if welcome.Template != "welcome" || !strings.HasPrefix(welcome.Text.In("en", "nl"), "Hi {{name}}") || !strings.HasPrefix(welcome.Text.In("de", "nl"), "Hoi {{name}}") {
		t.Errorf("welcome = %+v", welcome)
	}
	chef := def.States["with_chef"]
	if chef.Handoff != "chefs" || chef.On[0].Kind != campaigns.OnHandback {
		t.Errorf("with_chef = %+v", chef)
	}
	buttons := def.States["goodbye"].Say[0].Buttons
	if len(buttons) != 2 || buttons[0].ID != "again" || buttons[0].Title["en"] != "Yes, another one" {
		t.Errorf("buttons = %+v", buttons)
	}
	if timeout := def.States["welcome"].On[2]; timeout.Kind != campaigns.OnTimeout || timeout.After != 48*time.Hour {
		t.Errorf("timeout = %+v", timeout)
	}
}

func TestNewsAndPhotoContestCompile(t *testing.T) {
	news := mustLoad(t, "examples/news.yaml")
	if strings.Join(news.Keywords, ",") != "NIEUWS,NEWS" || news.KeywordLanguage("news") != "en" || len(news.OptOut) != 2 || news.OptOut[1] != "NEWS OFF" {
		t.Errorf("news keywords %v opt-out %v", news.Keywords, news.OptOut)
	}
	if !news.States["subscribed"].On[0].MatchText("news ") {
		t.Error("subscribed should recognise NEWS case-insensitively")
	}
	if tm := news.Templates["weekly"]; tm == nil || tm.LanguageFor("en") != "en_US" || tm.LanguageFor("nl") != "nl" {
		t.Errorf("weekly template = %+v", tm)
	}
	pc := mustLoad(t, "examples/photocontest.yaml")
	if pc.Rubric == nil || len(pc.Rubric.Criteria) != 3 || pc.Rubric.ScaleMax != 10 || pc.Rubric.Criteria[0].Weight != 40 {
		t.Fatalf("rubric = %+v", pc.Rubric)
	}
	save := pc.States["ask_age"].On[0].Save
	if save == nil || save.Var != "age" || save.As != "age" || save.Min == nil || *save.Min != 16 || save.Invalid.IsZero() {
		t.Errorf("save = %+v", save)
	}
	if re := pc.States["ask_name"].On[0]; !re.MatchText("Anne-Marie") || re.MatchText("my name is 42") {
		t.Error("the name pattern should take a first name and nothing else")
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

var r = strings.Replace

// TestProblems covers each validation rule with its exact message: want must be one of the
// problems reported, and whether it is a warning decides whether the definition compiles.
// TestNoEchoes: a mistake is reported once, where it is, and not again as a second problem
// elsewhere that only follows from it.
func TestNoEchoes(t *testing.T) {
	quiz := "id: demo\nchannels: [webchat]\nranking: {by: points, top: 3}\nstart: a\nstates:\n" +
		"  a:\n    say: \"Top {{top}}\"\n    on:\n      - text: any\n        add: {points: 1}\n        goto: b\n" +
		"  b:\n    on:\n      - entered: true\n        if: points >= 1\n        goto: c\n      - entered: true\n        goto: c\n" +
		"  c:\n    say: hi\n    on:\n      - verdict: winner\n        end: true\n"
	tests := []struct{ name, src, echo string }{
		{"BadTopIsNoMissingTop", r(quiz, "top: 3", "top: three", 1), "{{top}} needs a ranking with top:"},
		{"BadIfIsNoShadow", r(quiz, "if: points >= 1", "if: points = 1", 1), "never fires"},
		{"UnknownSaveAsHasBounds", r(quiz, "add: {points: 1}", "save: {var: points, as: nummer, min: 1, invalid: x}", 1), "only a number or an age has bounds"},
		{"UnknownSaveAsNeedsNoInvalid", r(quiz, "add: {points: 1}", "save: {var: word, as: choice}", 1), "needs invalid"},
		{"BadRadiusIsNoAnyLocation",
			"id: demo\nstart: a\nstates:\n  a:\n    say: hi\n    on:\n      - location: {lat: 1, lng: 2, radius: 80}\n        end: true\n      - location: {lat: 1, lng: 3, radius: 80m}\n        end: true\n",
			"never fires"},
		{"MisspeltTriggerIsNoMissingTrigger", r(quiz, "- text: any\n        add", "- txt: any\n        add", 1), "needs a trigger"},
		{"FinalFalseIsStuck", "id: demo\nstart: a\nstates:\n  a:\n    say: hi\n    final: false\n", "must be true or false"},
		{"BadFinalIsNoStuckState", "id: demo\nstart: a\nstates:\n  a:\n    say: hi\n    final: ture\n", "is not final"},
		{"MisspeltTemplateIsNoUnused",
			"id: demo\nchannels: [webchat]\ntemplates: {winner: {name: quiz_winner}}\nstart: a\nstates:\n  a:\n    say: {text: hi, template: winer}\n    final: true\n",
			"is declared but no message uses it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, probs := campaigns.Parse("demo.yaml", []byte(tt.src))
			if !probs.HasErrors() {
				t.Fatalf("want the mistake reported, got %v", probs)
			}
			for _, p := range probs {
				if strings.Contains(p.Msg, tt.echo) {
					t.Errorf("echo of the mistake: %s\n(all: %v)", p, probs)
				}
			}
		})
	}
}

// TestLocationProblemsInOneRun: a location missing its lat is also checked for the rest, so a
// radius without a unit is not left for the next run.
func TestLocationProblemsInOneRun(t *testing.T) {
	src := "id: demo\nstart: a\nstates:\n  a:\n    say: hi\n    on:\n" +
		"      - location: {latitude: 53.1, lng: 5.4, radius: 100}\n        end: true\n"
	_, probs := campaigns.Parse("demo.yaml", []byte(src))
	for _, want := range []string{
		`demo.yaml:7:19: location needs lat, lng and radius: the centre and how far from it counts (like {lat: 52.37, lng: 4.89, radius: 200m})`,
		`demo.yaml:7:54: location radius "100" needs a unit: write it like 200m or 1.5km`,
	} {
		if !strings.Contains(probs.Error(), want) {
			t.Errorf("want the problem\n  %s\ngot\n  %s", want, strings.ReplaceAll(probs.Error(), "\n", "\n  "))
		}
	}
}

// TestBadButtonKeepsGraphChecks: a button written wrong leaves the offered buttons unknown,
// which silences the choice check only: an unreachable state is still reported in that run.
func TestBadButtonKeepsGraphChecks(t *testing.T) {
	src := "id: demo\nstart: a\nstates:\n  a:\n    say: {text: hi, buttons: [Ja, Nee]}\n    on:\n" +
		"      - choice: ja\n        end: true\n  lost:\n    say: bye\n    final: true\n"
	_, probs := campaigns.Parse("demo.yaml", []byte(src))
	want := `demo.yaml:9:3: warning: state "lost" cannot be reached from the start state "a"`
	hint := `demo.yaml:5:31: button 1 must be {id, title}, like {id: ja, title: Ja}: the id is what a choice transition matches, the title what the participant sees`
	if !strings.Contains(probs.Error(), want) || !strings.Contains(probs.Error(), hint) {
		t.Errorf("want the button error and\n  %s\ngot\n  %s", want, strings.ReplaceAll(probs.Error(), "\n", "\n  "))
	}
}

// TestLanguagesNotAList: languages: nl, en is one mistake with its fix, not one for every
// text in nl.
func TestLanguagesNotAList(t *testing.T) {
	src := "id: demo\nlanguages: nl, en\nfallback: {nl: \"Wat?\", en: \"What?\"}\nstart: a\nstates:\n" +
		"  a:\n    say: {nl: Hoi, en: Hi}\n    final: true\n"
	_, probs := campaigns.Parse("demo.yaml", []byte(src))
	want := `demo.yaml:2:12: languages "nl, en" must be a list: write languages: [nl, en]`
	if len(probs) != 1 || probs[0].String() != want {
		t.Errorf("got\n  %s\nwant the one problem\n  %s", strings.ReplaceAll(probs.Error(), "\n", "\n  "), want)
	}
	src = strings.Replace(src, "languages: nl, en", "languages: [Dutch, English]", 1)
	_, probs = campaigns.Parse("demo.yaml", []byte(src))
	for _, p := range probs {
		if !strings.Contains(p.Msg, "must be a code like") {
			t.Errorf("echo of the bad languages: %s", p)
		}
	}
}

// TestUnknownVariableAtItsColumn: an unknown {{variable}} is pointed at where it is in the
// text, so two in one text are two places.
func TestUnknownVariableAtItsColumn(t *testing.T) {
	src := "id: demo\nstart: a\nstates:\n  a:\n    say: \"Hi {{nmae}}, you are {{rnak}}\"\n    final: true\n"
	_, probs := campaigns.Parse("demo.yaml", []byte(src))
	for _, want := range []string{"demo.yaml:5:14: {{nmae}} is never set", "demo.yaml:5:32: {{rnak}} is never set"} {
		if !strings.Contains(probs.Error(), want) {
			t.Errorf("want %s\ngot\n  %s", want, strings.ReplaceAll(probs.Error(), "\n", "\n  "))
		}
	}
}

// TestLoopWithoutWayOutOnce: a loop of several states is one problem, reported once at its
// first state and naming the others, not once for every state of it.
func TestLoopWithoutWayOutOnce(t *testing.T) {
	src := "id: demo\nstart: a\nstates:\n" +
		"  a:\n    say: hi\n    on:\n      - text: any\n        goto: b\n" +
		"  b:\n    say: hi\n    on:\n      - text: any\n        goto: c\n" +
		"  c:\n    say: hi\n    on:\n      - text: any\n        goto: a\n"
	_, probs := campaigns.Parse("demo.yaml", []byte(src))
	want := `demo.yaml:4:3: warning: state "a" has no way out: every path from it loops back without reaching a final state or an end: true (nor do "b" and "c", linked to it)`
	if len(probs) != 1 || probs[0].String() != want {
		t.Errorf("got\n  %s\nwant the one problem\n  %s", strings.ReplaceAll(probs.Error(), "\n", "\n  "), want)
	}
}

func TestProblems(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		// The file.
		{"BadYAML", "id: [", "demo.yaml:1:1: not valid YAML: did not find expected node content"},
		{"Empty", "", "demo.yaml:1:1: the file is empty; a definition needs at least id, start and states"},
		{"TooLarge", valid + "# " + strings.Repeat("x", campaigns.MaxFileSize),
			"demo.yaml:1:1: file is 1048703 bytes; a definition may be at most 1048576"},
		{"AliasRefused", r(valid, "say: hi", "say: &x hi", 1) + "  c:\n    say: *x\n    final: true\n",
			"demo.yaml:13:10: aliases (*name) are not allowed in a definition; write the value out"},
		{"AliasBombRefused", "a: &a [x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n",
			"demo.yaml:2:8: aliases (*name) are not allowed in a definition; write the value out"},
		{"TooManyItems", "keywords: [" + strings.Repeat("k, ", 1000) + "k]\n" + valid,
			"demo.yaml:1:11: 1001 items in one list or mapping; a definition never needs more than 1000"},
		{"TooDeep", "x: " + strings.Repeat("[", 70) + strings.Repeat("]", 70) + "\n" + valid,
			"demo.yaml:1:67: nested more than 64 levels deep; a definition never needs that"},
		{"SecondDocument", valid + "---\nid: other\n", "demo.yaml:12:1: a second document (after ---): a file holds one campaign"},
		{"NotAMapping", "- id: demo\n", "demo.yaml:1:1: the definition must be a mapping of keys to values"},

		// Keys.
		{"UnknownTopLevelKeySuggests", r(valid, "start: a", "start: a\ntitel: x", 1),
			"demo.yaml:3:1: unknown key \"titel\" in the definition; did you mean \"title\"?"},
		{"UnknownTransitionKeySuggests", r(valid, "goto: b", "gotoo: b", 1),
			"demo.yaml:8:9: unknown key \"gotoo\" in state \"a\" transition 1; did you mean \"goto\"?"},
		{"UnknownStateKeySuggests", r(valid, "    final: true", "    finale: true", 1),
			"demo.yaml:11:5: unknown key \"finale\" in state \"b\"; did you mean \"final\"?"},
		{"MissingID", r(valid, "id: demo\n", "", 1), "demo.yaml:1:1: missing required key \"id\""},
		{"EmptyID", r(valid, "id: demo", "id:", 1), "demo.yaml:1:4: id is empty"},
		{"BadID", r(valid, "id: demo", "id: Demo Campaign", 1),
			"demo.yaml:1:5: id \"Demo Campaign\" must be lower-case letters, digits, - and _ (it appears in URLs)"},
		{"MissingStart", r(valid, "start: a\n", "", 1), "demo.yaml:1:1: missing required key \"start\""},
		{"StatesEmpty", "id: demo\nstart: a\nstates: {}\n",
			"demo.yaml:3:9: states must be a mapping of state names to states, with at least one state"},

		// Campaign settings.
		{"BadLanguage", "languages: [English]\n" + valid, "demo.yaml:1:13: language \"English\" must be a code like en, nl or pt-BR"},
		{"UnknownChannel", "channels: [whatsap]\n" + valid,
			"demo.yaml:1:12: unknown channel \"whatsap\"; use webchat, whatsapp, telegram, messenger; did you mean \"whatsapp\"?"},
		{"PhoneNumberID", "whatsapp: {phone_number_id: +31 6 1234}\n" + valid,
			"demo.yaml:1:29: whatsapp phone_number_id \"+31 6 1234\" must be digits only: it is the id Meta shows for the number, not the number itself"},
		{"PhoneNumberWithoutWhatsApp", "channels: [webchat]\nwhatsapp: {phone_number_id: 123}\n" + valid,
			"demo.yaml:2:12: warning: whatsapp phone_number_id is set, but channels does not include whatsapp"},
		{"BadTimezone", "schedule: {timezone: Europe/Amsterdm}\n" + valid,
			"demo.yaml:1:22: schedule timezone \"Europe/Amsterdm\" is not a time zone (write it like Europe/Amsterdam or UTC)"},
		{"BadDate", "schedule: {start: 2025-13-01}\n" + valid,
			"demo.yaml:1:19: schedule start: \"2025-13-01\" is not a date (write it like 2025-06-01 or 2025-06-01 18:00) or a time after launch (like 7d or 36h)"},
		{"ScheduleEndsBeforeStart", "schedule: {start: 2025-06-02, end: 2025-06-01}\n" + valid,
			"demo.yaml:1:36: schedule ends (2025-06-01 00:00) before it starts (2025-06-02 00:00)"},
		{"ScheduleAfterLaunchEndsBeforeStart", "schedule: {start: 2d, end: 1d}\n" + valid,
			"demo.yaml:1:28: schedule ends (1d after launch) before it starts (2d after launch)"},
		{"ScheduleMixesDateAndLaunch", "schedule: {start: 2030-01-01, end: 10m}\n" + valid,
			"demo.yaml:1:36: warning: schedule end (10m after launch) counts from the launch but start (2030-01-01 00:00) is a date: launched long before the start, it would end before it opens (write both as dates, or both as times after launch)"},
		{"HardStopWithoutEnd", "schedule: {hard_stop: 2025-06-02}\n" + valid,
			"demo.yaml:1:12: schedule hard_stop needs an end: it is when those who joined before the end stop being answered"},
		{"HardStopBeforeEnd", "schedule: {end: 10d, hard_stop: 9d}\n" + valid,
			"demo.yaml:1:33: schedule hard_stop (9d after launch) is before the schedule ends (10d after launch)"},
		{"RoundAfterHardStop", "schedule: {end: 7d, hard_stop: 14d}\nrounds: [{name: one, starts: 10d, duration: 5d}]\n" + valid,
			"demo.yaml:2:10: warning: round \"one\" closes (15d after launch) after the campaign's schedule hard_stop (14d after launch)"},
		{"RoundStartsBeforePreviousAfterLaunch", "rounds: [{name: one, starts: 7d, duration: 4d}, {name: two, starts: 10d, duration: 1d}]\n" + valid,
			"demo.yaml:1:69: round \"two\" starts before the previous round's deadline (11d after launch)"},
		{"KeywordTwice", "keywords: [JOIN, join]\n" + valid, "demo.yaml:1:18: entry keyword \"join\" is listed twice"},
		{"KeywordIsOptOut", "keywords: [STOP]\n" + valid, "demo.yaml:1:12: entry keyword \"STOP\" is an opt-out word; nobody could join with it"},
		{"KeywordIsOwnOptOut", "opt_out: [QUIT]\nkeywords: [quit]\n" + valid, "demo.yaml:2:12: entry keyword \"quit\" is an opt-out word; nobody could join with it"},
		{"RejoinTwice", "rejoin: [AGAIN, again]\n" + valid, "demo.yaml:1:17: rejoin word \"again\" is listed twice"},
		{"RejoinIsOptOut", "rejoin: [stop]\n" + valid, "demo.yaml:1:10: rejoin word \"stop\" is an opt-out word; nobody could come back with it"},
		{"OptOutTakesDefaultRejoin", "opt_out: [START]\n" + valid,
			"demo.yaml:1:10: opt-out word \"START\" is the default rejoin word; set rejoin: to the word that brings an opted-out participant back"},
		{"RepeatNotBoolean", "repeat: sometimes\n" + valid, "demo.yaml:1:9: repeat must be true or false"},
		{"FinishedNotAText", "finished: [a, b]\n" + valid, "demo.yaml:1:11: finished must be a text, or a mapping of language to text"},
		{"StateFinishedNeedsFirstLanguage", "languages: [en, nl]\n" + r(valid, "    say: hi\n", "    say: {en: hi, nl: hoi}\n    finished: {nl: klaar}\n", 1),
			"demo.yaml:7:15: finished of state \"a\" has no en text; en is the first language, the one everyone falls back to"},
		{"BadDuration", r(valid, "start: a", "start: a\npersona:\n  delay:\n    min: soon", 1),
			"demo.yaml:5:10: delay min: \"soon\" is not a duration (write it like 800ms, 2s, 1h30m or 2d)"},
		{"DelayMaxBelowMin", r(valid, "start: a", "start: a\npersona: {delay: {min: 2s, max: 1s}}", 1),
			"demo.yaml:3:33: delay max (1s) is shorter than delay min (2s)"},
		{"RetentionNegative", "retention_days: -1\n" + valid, "demo.yaml:1:17: retention_days must be a whole number of at least 0, not \"-1\""},
		{"PoolWithoutCapacity", "pools: {guest_list: {}}\n" + valid, "demo.yaml:1:21: pool \"guest_list\" needs a capacity: how many places it has (or codes: the codes it hands out)"},
		{"PoolUnused", "pools: {guest_list: {capacity: 10}}\n" + valid,
			"demo.yaml:1:9: warning: pool \"guest_list\" is declared but no transition takes from it"},
		{"TeamsMaxBelowMin", "teams: {min: 4, max: 2}\n" + valid, "demo.yaml:1:22: teams max (2) is smaller than teams min (4)"},
		{"TeamsBeyondAWhatsAppGroup", "teams: {min: 2, max: 12}\n" + valid,
			"demo.yaml:1:22: teams max (12): a WhatsApp group holds at most 8 members (channels includes whatsapp)"},
		{"TeamsWithoutMaxOnWhatsApp", "channels: [whatsapp]\nteams: {min: 9}\n" + valid,
			"demo.yaml:2:14: teams min (9): a WhatsApp group holds at most 8 members (channels includes whatsapp)"},
		{"ButtonsInAWhatsAppGroup", "teams: {max: 4}\n" + r(valid, "    say: hi\n", "    say:\n      text: hi\n      buttons: [{id: yes, title: Yes}]\n", 1),
			"demo.yaml:8:16: warning: buttons: a WhatsApp group gets no buttons; its members get the titles as lines of text and type one to choose (channels includes whatsapp)"},
		{"RoundNeedsDeadline", "rounds: [{name: one}]\n" + valid, "demo.yaml:1:10: round \"one\" needs a deadline (a date) or a duration (like 3d)"},
		{"RoundBothDeadlineAndDuration", "rounds: [{name: one, deadline: 2025-06-01, duration: 2d}]\n" + valid,
			"demo.yaml:1:44: round \"one\" has both deadline and duration; give one"},
		{"RoundDeadlineBeforeStart", "rounds: [{name: one, starts: 2025-06-05, deadline: 2025-06-01}]\n" + valid,
			"demo.yaml:1:52: round \"one\"'s deadline (2025-06-01 00:00) is not after it starts (2025-06-05 00:00)"},
		{"RubricWeights", "rubric: {criteria: [{name: a, weight: 0.5}, {name: b, weight: 0.4}]}\n" + valid,
			"demo.yaml:1:20: criterion weights add up to 0.9; they must add up to 1 (or 100)"},
		{"RubricSomeWeights", "rubric: {criteria: [{name: a, weight: 0.5}, {name: b}]}\n" + valid,
			"demo.yaml:1:20: give every criterion a weight, or none (then they count the same)"},
		{"TemplateBadName", "templates: {goodbye: {name: Demo Goodbye}}\n" + r(valid, "say: bye", "say: {text: bye, template: goodbye}", 1),
			"demo.yaml:1:29: template \"goodbye\" name \"Demo Goodbye\" must be the name registered with WhatsApp: lower-case letters, digits and _"},
		{"TemplateBadCategory", "templates: {goodbye: {name: demo_goodbye, category: promo}}\n" + r(valid, "say: bye", "say: {text: bye, template: goodbye}", 1),
			"demo.yaml:1:53: template \"goodbye\" category \"promo\" must be one of marketing, utility, authentication: the category Meta approved it in"},
		{"TemplateEmptyCategory", "templates: {goodbye: {name: demo_goodbye, category: \"\"}}\n" + r(valid, "say: bye", "say: {text: bye, template: goodbye}", 1),
			"demo.yaml:1:53: template \"goodbye\" category is empty"},
		{"TemplateUnused", "templates: {goodbye: {name: demo_goodbye}}\n" + valid,
			"demo.yaml:1:13: warning: template \"goodbye\" is declared but no message uses it; one for broadcasts says broadcast: true"},
		{"TemplateUndeclared", r(valid, "say: bye", "say: {text: bye, template: goodbye}", 1),
			"demo.yaml:10:32: template \"goodbye\" is not declared under templates:"},
		{"TemplateParamUnset", "templates: {goodbye: {name: demo_goodbye, params: [prize]}}\n" + r(valid, "say: bye", "say: {text: bye, template: goodbye}", 1),
			"demo.yaml:1:52: {{prize}} is never set; known variables: name, persona"},

		// States and the graph.
		{"UndefinedStart", r(valid, "start: a", "start: door", 1), "demo.yaml:2:8: start state \"door\" is not defined"},
		{"GotoUndefinedSuggests", r(valid, "goto: b", "goto: bb", 1), "demo.yaml:8:15: goto: state \"bb\" is not defined; did you mean \"b\"?"},
		{"StuckState", r(valid, "    final: true\n", "", 1),
			"demo.yaml:10:5: state \"b\" has no transitions (on:) and is not final: a participant would be stuck there"},
		{"FinalWithTransitions", r(valid, "    say: hi\n", "    say: hi\n    final: true\n", 1),
			"demo.yaml:7:5: state \"a\" is final, so it cannot have transitions"},
		{"UnreachableIsWarning", valid + "  c:\n    final: true\n", "demo.yaml:12:3: warning: state \"c\" cannot be reached from the start state \"a\""},
		{"LoopWithoutWayOut", r(valid, "  b:\n    say: bye\n    final: true\n", "  b:\n    say: bye\n    on:\n      - text: any\n        goto: a\n", 1),
			"demo.yaml:4:3: warning: state \"a\" has no way out: every path from it loops back without reaching a final state or an end: true (nor does \"b\", linked to it)"},
		{"HandoffWithoutHandback", r(valid, "    say: hi\n", "    say: hi\n    handoff: chefs\n", 1),
			"demo.yaml:7:5: state \"a\" hands off to \"chefs\" but has no handback transition: the conversation would never come back"},
		{"HandbackWithoutHandoff", r(valid, "text: [yes, ja]", "handback: true", 1), "demo.yaml:7:9: handback: state \"a\" does not hand off (add handoff: TEAM to it)"},

		// Triggers.
		{"NoTrigger", r(valid, "text: [yes, ja]", "say: what", 1),
			"demo.yaml:7:9: state \"a\" transition 1 needs a trigger: one of text, regex, media, choice, location, after, verdict, round, handback, optout, entered"},
		{"TwoTriggers", r(valid, "text: [yes, ja]", "text: any\n        media: photo", 1),
			"demo.yaml:8:9: state \"a\" transition 1 has two triggers (text and media); use one transition for each"},
		{"BadRegex", r(valid, "text: [yes, ja]", "regex: \"(\"", 1),
			"demo.yaml:7:16: regex \"(\" does not compile: error parsing regexp: missing closing ): `(`"},
		{"UnknownMediaKind", r(valid, "text: [yes, ja]", "media: foto", 1),
			"demo.yaml:7:16: unknown media kind \"foto\"; use one of photo, video, audio, document; did you mean \"photo\"?"},
		{"CountWithoutMedia", r(valid, "goto: b", "count: 2\n        goto: b", 1), "demo.yaml:8:9: count: only a media transition counts or sizes what is sent"},
		{"BadSize", r(r(valid, "goto: b", "max_size: 16 megs\n        goto: b", 1), "text: [yes, ja]", "media: photo", 1),
			"demo.yaml:8:19: max_size: \"16 megs\" is not a size (write it like 500KB, 16MB or 1GB)"},
		{"UnknownVerdict", r(valid, "text: [yes, ja]", "verdict: aproved", 1),
			"demo.yaml:7:18: unknown verdict \"aproved\"; use one of approved, rejected, shortlisted, winner, eliminated, advanced; did you mean \"approved\"?"},
		{"AfterZero", r(valid, "text: [yes, ja]", "after: 0s", 1), "demo.yaml:7:16: after must be longer than 0"},
		{"LocationFalse", r(valid, "text: [yes, ja]", "location: false", 1), "demo.yaml:7:19: location: write location: true, or leave the key out"},
		{"RoundTriggerWithoutRounds", r(valid, "text: [yes, ja]", "round: started", 1), "demo.yaml:7:9: round: no rounds are declared (add rounds: at the top level)"},
		{"RoundUndeclared", "rounds: [{name: one, duration: 2d}]\n" + r(valid, "text: [yes, ja]", "round: {name: two, event: started}", 1),
			"demo.yaml:8:23: round \"two\" is not declared under rounds:"},
		{"RoundEventUnknown", "rounds: [{name: one, duration: 2d}]\n" + r(valid, "text: [yes, ja]", "round: begun", 1),
			"demo.yaml:8:16: unknown round event \"begun\"; use started or deadline"},
		{"ChoiceNotOffered", r(r(valid, "say: hi", "say: {text: hi, buttons: [{id: yes, title: Yes}]}", 1), "text: [yes, ja]", "choice: yess", 1),
			"demo.yaml:7:9: warning: choice \"yess\" is not a button offered in state \"a\" (buttons: yes); did you mean \"yes\"?"},
		{"ChoiceNoButtons", r(valid, "text: [yes, ja]", "choice: yes", 1),
			"demo.yaml:7:9: warning: choice \"yes\": no message in or on the way into state \"a\" offers buttons"},
		{"ShadowedByAnyText", r(valid, "        goto: b\n", "        goto: b\n      - text: any\n        say: what?\n      - text: no\n        say: ok\n", 1),
			"demo.yaml:11:9: warning: never fires: transition 2 of state \"a\" already answers any text"},
		{"DuplicateVerdict", r(valid, "        goto: b\n", "        goto: b\n      - verdict: approved\n        goto: b\n      - verdict: approved\n        goto: b\n", 1),
			"demo.yaml:11:9: warning: never fires: transition 2 of state \"a\" already answers the verdict approved"},
		{"KeywordTriggerIsOptOut", r(valid, "text: [yes, ja]", "text: [yes, stop]", 1),
			"demo.yaml:7:9: warning: never fires for \"stop\": it is an opt-out word, which always ends the participation (use optout: true to answer it)"},

		// Actions.
		{"CollectWithoutMedia", r(valid, "goto: b", "collect: true\n        goto: b", 1),
			"demo.yaml:8:9: collect: only a media transition has something to collect as an entry"},
		{"TakeUndeclaredPool", r(valid, "goto: b", "take: guests\n        full: b\n        goto: b", 1),
			"demo.yaml:8:15: take: pool \"guests\" is not declared (add pools: at the top level)"},
		{"TakeMisspelledPool", "pools: {guest_list: {capacity: 10}}\n" + r(valid, "goto: b", "take: guestlist\n        full: b\n        goto: b", 1),
			"demo.yaml:9:15: take: pool \"guestlist\" is not declared under pools:; did you mean \"guest_list\"?"},
		{"TakeWithoutFull", "pools: {guest_list: {capacity: 10}}\n" + r(valid, "goto: b", "take: guest_list\n        goto: b", 1),
			"demo.yaml:9:9: take needs full: the state to go to when the pool \"guest_list\" has no places left"},
		{"FullUndefined", "pools: {guest_list: {capacity: 10}}\n" + r(valid, "goto: b", "take: guest_list\n        full: ful\n        goto: b", 1),
			"demo.yaml:10:15: full: state \"ful\" is not defined"},
		{"SaveLangFromChoice", "languages: [nl, en]\n" + r(valid, "text: [yes, ja]\n        goto: b", "choice: [nl, english]\n        save: {var: lang}\n        goto: b", 1),
			"demo.yaml:8:9: save var \"lang\": choice \"english\" is not one of languages (nl, en), so who taps it hears the invalid text; give each language's button its code as id"},
		{"SaveLangFromText", "languages: [nl, en]\n" + r(valid, "text: [yes, ja]\n        goto: b", "text: any\n        save: {var: lang}\n        goto: b", 1),
			"demo.yaml:8:9: warning: save var \"lang\" from a text takes only a code of languages (nl, en) and answers anything else with the invalid text; offer a button per language with its code as id"},
		{"LangKeywordsUnknownLanguage", "languages: [nl, en]\nkeywords: {nl: [NIEUWS], de: [NACHRICHTEN]}\n" + valid,
			"demo.yaml:2:26: keywords: \"de\" is not a language of languages (nl, en); write keywords as a list, or by language like keywords: {nl: [WORD]}"},
		{"LangKeywordsEmpty", "keywords: {}\n" + valid, "demo.yaml:1:11: keywords is empty"},
		{"LangKeywordsTwiceAcrossLanguages", "languages: [nl, en]\nkeywords: {nl: [NEWS], en: [news]}\n" + valid,
			"demo.yaml:2:29: entry keyword \"news\" is listed twice"},
		{"LangTemplateUnknownLanguage", "languages: [nl, en]\ntemplates: {hi: {name: hi, language: {nl: nl, fr: fr}}}\n" + r(valid, "say: bye", "say: {text: {nl: doei, en: bye}, template: hi}", 1),
			"demo.yaml:2:47: template \"hi\" language: \"fr\" is not a language of languages (nl, en)"},
		{"LangTemplateBadCode", "languages: [nl, en]\ntemplates: {hi: {name: hi, language: {nl: nl, en: en-US}}}\n" + r(valid, "say: bye", "say: {text: {nl: doei, en: bye}, template: hi}", 1),
			"demo.yaml:2:51: template \"hi\" language \"en-US\" must be a WhatsApp language code like nl, en or en_US"},
		{"LangTemplateNoFirstLanguage", "languages: [nl, en]\ntemplates: {hi: {name: hi, language: {en: en_US}}}\n" + r(valid, "say: bye", "say: {text: {nl: doei, en: bye}, template: hi}", 1),
			"demo.yaml:2:38: template \"hi\" language has no nl; nl is the first language, the one everyone falls back to"},
		{"LangTemplateEmpty", "templates: {hi: {name: hi, language: {}}}\n" + r(valid, "say: bye", "say: {text: bye, template: hi}", 1),
			"demo.yaml:1:38: template \"hi\" language is empty"},
		{"SaveShorthand", r(valid, "goto: b", "save: answer\n        goto: b", 1), "demo.yaml:8:15: save must be a mapping like save: {var: answer}, not a single value"},
		{"SaveReserved", r(valid, "goto: b", "save: {var: code}\n        goto: b", 1), "demo.yaml:8:21: save var \"code\" is set by the engine; choose another name"},
		{"SaveNeedsInvalid", r(valid, "goto: b", "save: {var: age, as: age, min: 16}\n        goto: b", 1),
			"demo.yaml:8:15: save as age needs invalid: what to say when the answer is not a valid age"},
		{"SaveUnknownKind", r(valid, "goto: b", "save: {var: mail, as: e-mail, invalid: no}\n        goto: b", 1),
			"demo.yaml:8:31: save as \"e-mail\": use one of text, number, email, phone, date, age; did you mean \"email\"?"},
		{"SaveBoundsOnText", r(valid, "goto: b", "save: {var: x, min: 1}\n        goto: b", 1), "demo.yaml:8:24: save min: only a number or an age has bounds"},
		{"SaveOnMedia", r(r(valid, "goto: b", "save: {var: x}\n        goto: b", 1), "text: [yes, ja]", "media: photo", 1),
			"demo.yaml:8:9: save: only a text, regex or choice transition has an answer to save"},
		{"GotoAndEnd", r(valid, "goto: b", "goto: b\n        end: true", 1), "demo.yaml:9:9: a transition cannot both goto and end; an end is a goto to nowhere"},
		{"OptOutGotoNonFinal", r(valid, "  b:\n    say: bye\n    final: true\n", "  b:\n    say: bye\n    on:\n      - optout: true\n        goto: a\n", 1),
			"demo.yaml:13:15: an optout transition can only goto a final state: opting out always ends the participation"},

		// Messages and texts.
		{"UnknownLanguageInText", r(valid, "say: bye", "say: {en: bye, fr: salut}", 1),
			"demo.yaml:10:20: say of state \"b\": language \"fr\" is not in languages (en)"},
		{"MissingLanguageIsWarning", "languages: [en, nl]\n" + r(valid, "say: bye", "say: {en: bye}", 1),
			"demo.yaml:11:10: warning: say of state \"b\" has no nl text; participants who speak nl get the en text"},
		{"PlainTextWithTwoLanguages", "languages: [nl, en]\n" + valid,
			"demo.yaml:6:10: warning: say of state \"a\" is only in nl; write it as a mapping of language to text with en too, or participants who speak en get the nl text"},
		{"MissingFallbackLanguage", "languages: [en, nl]\n" + r(r(valid, "say: bye", "say: {nl: doei}", 1), "say: hi", "say: {en: hi, nl: hoi}", 1),
			"demo.yaml:11:10: say of state \"b\" has no en text; en is the first language, the one everyone falls back to"},
		{"MessageNeedsText", r(valid, "say: hi", "say: {buttons: [{id: a, title: A}]}", 1), "demo.yaml:5:10: say of state \"a\" needs text or media"},
		{"MessageMixesLanguage", r(valid, "say: hi", "say: {en: hi, buttons: [{id: a, title: A}]}", 1),
			"demo.yaml:5:11: say of state \"a\" mixes a language (en) with message keys; put the languages under text:"},
		{"FourButtonsWarn", r(valid, "say: hi", "say: {text: hi, buttons: [{id: a, title: A}, {id: b, title: B}, {id: c, title: C}, {id: d, title: D}]}", 1),
			"demo.yaml:5:30: warning: 4 buttons: WhatsApp shows more than 3 as a list behind one extra tap"},
		{"ElevenButtons", r(valid, "say: hi", "say: {text: hi, buttons: [{id: a, title: A}, {id: b, title: B}, {id: c, title: C}, {id: d, title: D}, {id: e, title: E}, {id: f, title: F}, {id: g, title: G}, {id: h, title: H}, {id: i, title: I}, {id: j, title: J}, {id: k, title: K}]}", 1),
			"demo.yaml:5:30: 11 buttons; a message can offer at most 10 (WhatsApp's limit for a list)"},
		{"ButtonTitleTooLong", r(valid, "say: hi", "say: {text: hi, buttons: [{id: a, title: Absolutely yes please}]}", 1),
			"demo.yaml:5:46: button title \"Absolutely yes please\" is 21 characters; WhatsApp allows at most 20"},
		{"ButtonIDTwice", r(valid, "say: hi", "say: {text: hi, buttons: [{id: a, title: A}, {id: a, title: B}]}", 1),
			"demo.yaml:5:55: button id \"a\" appears twice in one message"},
		{"StrayBraces", r(valid, "say: bye", "say: \"bye {{first name}}\"", 1),
			"demo.yaml:10:10: warning: \"bye {{first name}}\" has braces that are not a variable like {{name}}; participants would see them as written"},

		// Variables.
		{"UnsetVariable", r(valid, "say: bye", "say: \"bye {{prize}}\"", 1), "demo.yaml:10:15: {{prize}} is never set; known variables: name, persona"},
		{"UnsetVariableSuggests", r(valid, "say: bye", "say: \"bye {{frist_name}}\"", 1) + "",
			"demo.yaml:10:15: {{frist_name}} is never set; known variables: name, persona"},
		{"SavedVariableIsKnown", r(r(valid, "goto: b", "save: {var: first_name}\n        goto: b", 1), "say: bye", "say: \"bye {{first_nam}}\"", 1),
			"demo.yaml:11:15: {{first_nam}} is never set; known variables: name, persona, first_name; did you mean \"first_name\"?"},
		{"CodeNeverIssued", r(valid, "say: bye", "say: \"code {{code}}\"", 1), "demo.yaml:10:16: {{code}} is never set: no transition has issue_code: true or takes from a pool of codes"},
		{"PlacesLeftWithoutPool", r(valid, "say: bye", "say: \"{{places_left}} left\"", 1), "demo.yaml:10:11: {{places_left}} needs a pool (add pools: at the top level)"},
		{"PlacesLeftWithTwoPools", "pools: {a: {capacity: 1}, b: {capacity: 2}}\n" + r(valid, "say: bye", "say: \"{{places_left}} left\"", 1),
			"demo.yaml:11:11: {{places_left}} is ambiguous with 2 pools; it can only be used with one"},
		{"TeamWithoutTeams", r(valid, "say: bye", "say: \"bye {{team}}\"", 1), "demo.yaml:10:15: {{team}} needs teams (add teams: at the top level)"},
		{"RoundVarWithoutRounds", r(valid, "say: bye", "say: \"bye {{round}}\"", 1), "demo.yaml:10:15: {{round}} needs rounds (add rounds: at the top level)"},

		// WhatsApp's 24-hour window.
		{"ReminderOver24hNeedsTemplate", "channels: [whatsapp]\n" + r(valid, "        goto: b\n", "        goto: b\n      - after: 2d\n        say: still there?\n", 1),
			"demo.yaml:11:14: this message goes out 2d after state \"a\" is entered, more than 24 hours after the participant's last message, when WhatsApp delivers only templates: add template: KEY (declared under templates:)"},
		{"TimeoutEntryNeedsTemplate", "channels: [whatsapp]\n" + r(valid, "text: [yes, ja]", "after: 24h", 1),
			"demo.yaml:11:10: this message is said on entering state \"b\" 1d after state \"a\" is entered, more than 24 hours after the participant's last message, when WhatsApp delivers only templates: add template: KEY (declared under templates:)"},
		{"VerdictMessageWithoutTemplate", "channels: [whatsapp]\n" + r(valid, "text: [yes, ja]", "verdict: approved", 1),
			"demo.yaml:11:10: warning: this message is said on entering state \"b\" on a verdict, which can come more than 24 hours after the participant's last message, when WhatsApp delivers only templates: add template: KEY (declared under templates:)"},
		{"RoundMessageWithoutTemplate", "rounds: [{name: one, duration: 2d}]\n" + r(valid, "text: [yes, ja]", "round: deadline\n        say: time is up", 1),
			"demo.yaml:9:14: warning: this message answers a round event, which can come more than 24 hours after the participant's last message, when WhatsApp delivers only templates: add template: KEY (declared under templates:)"},
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
			if !probs.HasErrors() && def == nil {
				t.Error("a definition with only warnings must compile")
			}
			if strings.Contains(tt.want, ": warning: ") == probs.HasErrors() && len(probs) == 1 {
				t.Errorf("severity: got %v", probs)
			}
		})
	}
}

func TestNoProblemWhenTheRuleIsMet(t *testing.T) {
	for name, src := range map[string]string{
		"ReminderUnder24h":   "channels: [whatsapp]\n" + r(valid, "        goto: b\n", "        goto: b\n      - after: 2h\n        say: still there?\n", 1),
		"VerdictOnWebchat":   "channels: [webchat]\n" + r(valid, "text: [yes, ja]", "verdict: approved", 1),
		"VerdictOnTemplate":  "templates: {bye: {name: demo_bye}}\n" + r(r(valid, "text: [yes, ja]", "verdict: approved", 1), "say: bye", "say: {text: bye, template: bye}", 1),
		"BroadcastTemplate":  "templates: {weekly: {name: demo_weekly, broadcast: true}}\n" + valid,
		"RestingStateIsFine": r(valid, "        goto: b\n", "        goto: b\n      - text: any\n        say: still here\n", 1),
		"WeightsOf100":       "rubric: {criteria: [{name: a, weight: 60}, {name: b, weight: 40}]}\n" + valid,
		"NoWeights":          "rubric: {criteria: [{name: a}, {name: b}, {name: c}]}\n" + valid,
		"DaysAndHours":       "channels: [webchat]\n" + r(valid, "        goto: b\n", "        goto: b\n      - after: 1d12h\n        goto: b\n", 1),
		"ContractKeys":       "repeat: true\nrejoin: [AGAIN]\nopt_out: [START]\nfinished: Done.\n" + r(valid, "    say: bye\n", "    say: bye\n    finished: You had your go.\n", 1),
	} {
		t.Run(name, func(t *testing.T) {
			def, probs := campaigns.Parse("demo.yaml", []byte(src))
			if def == nil || len(probs) > 0 {
				t.Errorf("want no problem, got %v", probs)
			}
		})
	}
}

// TestSaveLanguage: a participant's language is chosen by saving it, the only way a
// campaign in two languages can speak the second one.
func TestSaveLanguage(t *testing.T) {
	src := `id: demo
languages: [nl, en]
start: a
states:
  a:
    say:
      text: {nl: "Welke taal? / Which language?", en: "Welke taal? / Which language?"}
      buttons:
        - {id: nl, title: {nl: Nederlands, en: Nederlands}}
        - {id: en, title: {nl: English, en: English}}
    on:
      - choice: [nl, en]
        save: {var: lang}
        goto: b
  b:
    say: {nl: Doei, en: Bye}
    final: true
`
	def, probs := campaigns.Parse("demo.yaml", []byte(src))
	if def == nil || len(probs) > 0 {
		t.Fatalf("want no problem, got %v", probs)
	}
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadPathsAcrossCampaigns(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string // with DIR for the folder; empty: no problem
	}{
		{"SameIDTwice", map[string]string{"a.yaml": valid, "b.yaml": valid},
			"DIR/b.yaml:1:5: campaign id \"demo\" is already used by DIR/a.yaml:1:5"},
		{"SameKeywordTwice", map[string]string{
			"a.yaml": "keywords: [JOIN]\n" + valid,
			"b.yaml": "keywords: [join]\n" + r(valid, "id: demo", "id: other", 1)},
			"DIR/b.yaml:1:12: entry keyword \"join\" is also an entry keyword of campaign \"demo\" (DIR/a.yaml:1:12): both would answer it on the same number"},
		// Route takes an entry keyword before a rejoin word: one campaign's way back that is
		// another's keyword takes who left the first into the second.
		{"KeywordIsAnothersRejoinWord", map[string]string{
			"a.yaml": "keywords: [JOIN]\nrejoin: [BACK]\n" + valid,
			"b.yaml": "keywords: [back]\n" + r(valid, "id: demo", "id: other", 1)},
			"DIR/b.yaml:1:12: warning: entry keyword \"back\" is a rejoin word of campaign \"demo\" (DIR/a.yaml:2:10): who left \"demo\" and sends it to come back joins \"other\" instead"},
		{"RejoinWordIsAnothersKeyword", map[string]string{
			"a.yaml": "keywords: [BACK]\n" + valid,
			"b.yaml": "keywords: [JOIN]\nrejoin: [Back]\n" + r(valid, "id: demo", "id: other", 1)},
			"DIR/b.yaml:2:10: warning: rejoin word \"Back\" is an entry keyword of campaign \"demo\" (DIR/a.yaml:1:12): who left \"other\" and sends it to come back joins \"demo\" instead"},
		{"KeywordIsAnothersDefaultRejoinWord", map[string]string{
			"a.yaml": "keywords: [JOIN]\n" + valid,
			"b.yaml": "keywords: [START]\n" + r(valid, "id: demo", "id: other", 1)},
			"DIR/b.yaml:1:12: warning: entry keyword \"START\" is the default rejoin word of campaign \"demo\" (DIR/a.yaml:2:5): who left \"demo\" and sends it to come back joins \"other\" instead; give \"demo\" a rejoin: of its own"},
		{"SameKeywordOnOtherNumbers", map[string]string{
			"a.yaml": "whatsapp: {phone_number_id: 1}\nkeywords: [JOIN]\n" + valid,
			"b.yaml": "whatsapp: {phone_number_id: 2}\nkeywords: [JOIN]\n" + r(valid, "id: demo", "id: other", 1)}, ""},
		{"SameKeywordOnOtherChannels", map[string]string{
			"a.yaml": "channels: [telegram]\nkeywords: [JOIN]\n" + valid,
			"b.yaml": "channels: [whatsapp]\nkeywords: [JOIN]\n" + r(valid, "id: demo", "id: other", 1)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, tt.files)
			_, probs := campaigns.LoadPaths([]string{dir})
			want := strings.ReplaceAll(tt.want, "DIR", dir)
			if want == "" {
				if len(probs) > 0 {
					t.Errorf("want no problem, got %v", probs)
				}
				return
			}
			if len(probs) != 1 || probs[0].String() != want {
				t.Errorf("got %v\nwant %s", probs, want)
			}
		})
	}
}

// TestLoadPathsEmptyFolder: a folder without definitions is a mistake (a wrong path), not a
// silent success.
func TestLoadPathsEmptyFolder(t *testing.T) {
	dir := t.TempDir()
	_, probs := campaigns.LoadPaths([]string{dir})
	want := dir + ":1:1: no campaign definitions (*.yaml or *.yml files) in this folder"
	if len(probs) != 1 || probs[0].String() != want {
		t.Errorf("got %v\nwant %s", probs, want)
	}
}

func TestLoadFileRefusesHugeFiles(t *testing.T) {
	dir := writeFiles(t, map[string]string{"big.yaml": valid + "# " + strings.Repeat("x", campaigns.MaxFileSize)})
	def, probs := campaigns.LoadFile(filepath.Join(dir, "big.yaml"))
	if def != nil || len(probs) != 1 || !strings.HasSuffix(probs[0].Msg, "a definition may be at most 1048576") {
		t.Errorf("got %v", probs)
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
	f.Add([]byte("id: x\nstart: a\nstates: {a: {on: [{text: any, add: {p: 1}, goto: b}]}, b: {on: [{entered: true, if: p >= 1 and (q == 'x' or p < 3), goto: a}, {entered: true, set: {q: x}, end: true}]}}\n"))
	for _, name := range []string{"bouncer", "race", "fridge", "news", "photocontest", "quiz"} {
		if src, err := os.ReadFile("examples/" + name + ".yaml"); err == nil {
			f.Add(src)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		def, probs := campaigns.Parse("fuzz.yaml", src)
		if def == nil && len(probs) == 0 {
			t.Fatal("no definition and no problem")
		}
		if def != nil && probs.HasErrors() {
			t.Fatal("a definition with errors")
		}
		for _, p := range probs {
			if p.Line < 1 || p.Col < 1 {
				t.Fatalf("problem without a position: %v", p)
			}
		}
		if def != nil {
			// Whatever compiles must draw.
			campaigns.Mermaid(def, map[string]int{def.Start: 1})
			campaigns.DOT(def, nil)
		}
	})
}

func TestCheckSchedule(t *testing.T) {
	src := func(schedule string) string {
		return "id: demo\nschedule: " + schedule + "\nstart: a\nstates:\n  a:\n    say: hi\n    final: true\n"
	}
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct{ name, schedule, want string }{
		{"Over", "{end: 2025-09-01, timezone: Europe/Amsterdam}",
			"demo.yaml:2:17: warning: the schedule is over: it ended on Monday 1 September 2025, 00:00 (Europe/Amsterdam), so nobody new can join (move schedule end, or write it as a time after launch like 30d)"},
		{"EndsLater", "{end: 2027-01-01}", ""},
		{"AfterLaunch", "{end: 30d}", ""},
		{"NoEnd", "{start: 2025-01-01}", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def, probs := campaigns.Parse("demo.yaml", []byte(src(tt.schedule)))
			if def == nil {
				t.Fatal(probs)
			}
			got := campaigns.CheckSchedule(def, now).Error()
			if got != tt.want {
				t.Errorf("CheckSchedule = %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestLanguageSources: keywords and templates by language, and the language of a code from
// outside (a browser's, a saved answer).
func TestLanguageSources(t *testing.T) {
	src := `id: demo
languages: [nl, en]
keywords:
  nl: [NIEUWS, "NIEUWS AAN"]
  en: NEWS
templates:
  weekly: {name: news_weekly, language: {nl: nl, en: en_US}}
  plain: {name: news_plain, language: nl}
start: a
states:
  a:
    say: {text: {nl: Hoi, en: Hi}, template: weekly}
    on:
      - text: x
        say: {text: {nl: Doei, en: Bye}, template: plain}
        goto: b
  b:
    say: {nl: Doei, en: Bye}
    final: true
`
	def, probs := campaigns.Parse("demo.yaml", []byte(src))
	if def == nil || len(probs) > 0 {
		t.Fatalf("want no problem, got %v", probs)
	}
	if got := strings.Join(def.Keywords, ","); got != "NIEUWS,NIEUWS AAN,NEWS" {
		t.Errorf("keywords = %s, want every language's", got)
	}
	for kw, want := range map[string]string{"nieuws": "nl", " Nieuws  aan ": "nl", "news": "en", "hello": ""} {
		if got := def.KeywordLanguage(kw); got != want {
			t.Errorf("KeywordLanguage(%q) = %q, want %q", kw, got, want)
		}
	}
	if def.KeywordIn("en") != "NEWS" || def.KeywordIn("nl") != "NIEUWS" {
		t.Errorf("KeywordIn en, nl = %q, %q", def.KeywordIn("en"), def.KeywordIn("nl"))
	}
	w, p := def.Templates["weekly"], def.Templates["plain"]
	for _, c := range []struct {
		tm         *campaigns.Template
		lang, want string
	}{
		{w, "en", "en_US"}, {w, "nl", "nl"}, {w, "", "nl"}, {w, "de", "nl"}, {p, "en", "nl"},
	} {
		if got := c.tm.LanguageFor(c.lang); got != c.want {
			t.Errorf("template %s for %q = %q, want %q", c.tm.Key, c.lang, got, c.want)
		}
	}
	for code, want := range map[string]string{"nl": "nl", "nl-BE": "nl", "EN": "en", "en_GB": "en", "de-DE": "", "": ""} {
		if got := def.MatchLanguage(code); got != want {
			t.Errorf("MatchLanguage(%q) = %q, want %q", code, got, want)
		}
	}
	list, _ := campaigns.Parse("demo.yaml", []byte(strings.Replace(src, "keywords:\n  nl: [NIEUWS, \"NIEUWS AAN\"]\n  en: NEWS\n", "keywords: [NIEUWS]\n", 1)))
	if list == nil || list.KeywordLanguage("NIEUWS") != "" || len(list.Keywords) != 1 {
		t.Errorf("a keyword list has no language: %+v", list)
	}
	pt := &campaigns.Definition{Languages: []string{"pt-BR", "en"}}
	if got := pt.MatchLanguage("pt"); got != "pt-BR" {
		t.Errorf("MatchLanguage(pt) on pt-BR = %q", got)
	}
}
