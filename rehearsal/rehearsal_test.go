package rehearsal_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/rehearsal"
)

// TestExamples replays every example campaign's rehearsal script: the examples are the
// marketers' templates, so they must keep doing what their scripts say.
func TestExamples(t *testing.T) {
	scripts, _ := filepath.Glob("../campaigns/examples/*.rehearsal")
	defs, _ := filepath.Glob("../campaigns/examples/*.yaml")
	if len(scripts) == 0 || len(scripts) != len(defs) {
		t.Fatalf("%d rehearsal scripts for %d example campaigns; every example needs one", len(scripts), len(defs))
	}
	for _, path := range scripts {
		t.Run(filepath.Base(path), func(t *testing.T) {
			def, probs := campaigns.LoadFile(strings.TrimSuffix(path, ".rehearsal") + ".yaml")
			if def == nil {
				t.Fatalf("definition: %v", probs)
			}
			fails := replay(t, def, path)
			for _, f := range fails {
				t.Error(f)
			}
		})
	}
}

// TestExamplesPlayToday plays every example as someone following the README would: launched
// now, on the real date, the stranger's first message (the script's first action) is greeted,
// not told the campaign is not running, and the whole script still holds. An example with a
// schedule in the past (or the future) fails here.
func TestExamplesPlayToday(t *testing.T) {
	scripts, _ := filepath.Glob("../campaigns/examples/*.rehearsal")
	if len(scripts) == 0 {
		t.Fatal("no example scripts")
	}
	for _, path := range scripts {
		t.Run(filepath.Base(path), func(t *testing.T) {
			def, probs := campaigns.LoadFile(strings.TrimSuffix(path, ".rehearsal") + ".yaml")
			if def == nil {
				t.Fatalf("definition: %v", probs)
			}
			script := mustScript(t, path)
			p, err := rehearsal.NewAt(context.Background(), def, t.TempDir(), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			first := -1
			for i, l := range script.Lines {
				if l.Op == ">" || l.Op == "/" && l.Arg != "" && !strings.HasPrefix(l.Arg, "/team") && !strings.HasPrefix(l.Arg, "/as") {
					first = i
					break
				}
			}
			if first < 0 {
				t.Fatal("the script never has the participant say anything")
			}
			for _, l := range script.Lines[:first] {
				if l.Op != "/" {
					continue
				}
				if _, err := p.Do(context.Background(), l); err != nil {
					t.Fatal(err)
				}
			}
			replies, err := p.Do(context.Background(), script.Lines[first])
			if err != nil {
				t.Fatal(err)
			}
			if len(replies) == 0 {
				t.Fatalf("%s:%d: %s got no reply today", path, script.Lines[first].No, script.Lines[first].Arg)
			}
			for _, r := range replies {
				if refused(r.Text) {
					t.Fatalf("%s:%d: a stranger today is refused: %q", path, script.Lines[first].No, r.Text)
				}
			}
			q, err := rehearsal.NewAt(context.Background(), def, t.TempDir(), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			defer q.Close()
			for _, f := range rehearsal.Run(context.Background(), script, q) {
				t.Error(f)
			}
		})
	}
}

// refused reports whether a reply is one of the engine's "not now" answers.
func refused(text string) bool {
	return text == engine.NotRunning ||
		strings.HasPrefix(text, strings.SplitN(engine.NotStarted, "%", 2)[0]) ||
		strings.HasPrefix(text, strings.SplitN(engine.Ended, "%", 2)[0])
}

func mustScript(t *testing.T, path string) *rehearsal.Script {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	script, err := rehearsal.ParseScript(path, src)
	if err != nil {
		t.Fatal(err)
	}
	return script
}

func replay(t *testing.T, def *campaigns.Definition, path string) []string {
	t.Helper()
	script := mustScript(t, path)
	p, err := rehearsal.New(context.Background(), def, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	return rehearsal.Run(context.Background(), script, p)
}

// TestMismatchesAreReported checks that a script catches what it should: a wrong reply, a
// missing one, an unexpected one and a wrong state, each at its line.
func TestMismatchesAreReported(t *testing.T) {
	def, probs := campaigns.LoadFile("../campaigns/examples/bouncer.yaml")
	if def == nil {
		t.Fatal(probs)
	}
	path := filepath.Join(t.TempDir(), "bad.rehearsal")
	os.WriteFile(path, []byte(`> hi
< Good morning*
> let me in
/photo
< Hmm.*
< Something else
= state door
`), 0o600)
	got := replay(t, def, path)
	want := []string{
		path + `:2: expected "Good morning*"`,
		path + `:4: unexpected reply to ann after line 3: "Talk is cheap. Send me a photo."`,
		path + `:6: expected a reply to ann "Something else", got none`,
		path + `:7: ann is in state "judging", want "door"`,
	}
	if len(got) != len(want) {
		t.Fatalf("failures:\n%s\nwant %d", strings.Join(got, "\n"), len(want))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("failure %d = %q, want prefix %q", i, got[i], want[i])
		}
	}
}

func TestParseScriptErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{"hello\n", "s.rehearsal:1:1: a line starts with > (participant), / (command), < (expected reply), = (assertion), ! (refusal) or # (comment)"},
		{"# ok\n/dance\n", "s.rehearsal:2:1: unknown command /dance"},
	}
	for _, tt := range tests {
		_, err := rehearsal.ParseScript("s.rehearsal", []byte(tt.src))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("ParseScript(%q) = %v, want %q", tt.src, err, tt.want)
		}
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"abc", "abc", true},
		{"abc", "abcd", false},
		{"a*", "abcd", true},
		{"*d", "abcd", true},
		{"a*c*", "abcd", true},
		{"Your code is *.", "Your code is X7.", true},
		{"Your code is *.", "Your code is X7!", false},
		{"a*a", "a", false},
	}
	for _, tt := range tests {
		if got := rehearsal.Match(tt.pattern, tt.s); got != tt.want {
			t.Errorf("Match(%q, %q) = %v", tt.pattern, tt.s, got)
		}
	}
}

// TestRefusalsAreReported: a refused command fails the script unless a "!" line expects it,
// and a "!" line after a command that was not refused fails too.
func TestRefusalsAreReported(t *testing.T) {
	def, probs := campaigns.LoadFile("testdata/contract/optout-verdict.yaml")
	if def == nil {
		t.Fatal(probs)
	}
	path := filepath.Join(t.TempDir(), "refusals.rehearsal")
	os.WriteFile(path, []byte(`> hi
< Send me a photo.
/photo
< Let me show this to the boss.
! participant opted out
> STOP
< *
/approve
> hello
/verdict winner
! participant has finished
`), 0o600)
	got := replay(t, def, path)
	want := []string{
		path + `:5: expected line 3 to be refused (participant opted out); it was not`,
		path + `:9: line 8 was refused: participant opted out`,
		path + `:11: expected line 10 to be refused: "participant has finished"`,
	}
	if len(got) != len(want) {
		t.Fatalf("failures:\n%s\nwant %d", strings.Join(got, "\n"), len(want))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("failure %d = %q, want prefix %q", i, got[i], want[i])
		}
	}
}

// TestHandbackOutsideHandoffFails: a hand-back of a conversation no human has is a mistake
// in the script (the agent's dashboard offers none), not a silent no-op.
func TestHandbackOutsideHandoffFails(t *testing.T) {
	def, probs := campaigns.LoadFile("testdata/contract/newuser-hospital.yaml")
	if def == nil {
		t.Fatal(probs)
	}
	path := filepath.Join(t.TempDir(), "handback.rehearsal")
	os.WriteFile(path, []byte(`> DESK
< Hello ann*
< What can I help you with?
/handback
`), 0o600)
	got := replay(t, def, path)
	want := path + `:4: /handback: ann is in state "menu", which does not hand off to a human`
	if len(got) != 1 || !strings.HasPrefix(got[0], want) {
		t.Fatalf("failures:\n%s\nwant %q", strings.Join(got, "\n"), want)
	}
}

// TestStrangerOnWhatsAppNeedsKeyword: a campaign only on WhatsApp is joined with its entry
// keyword; a stranger's other text reaches no campaign there, so the rehearsal answers it
// with silence too instead of a welcome WhatsApp would never send.
func TestStrangerOnWhatsAppNeedsKeyword(t *testing.T) {
	def, probs := campaigns.LoadFile("../campaigns/examples/news.yaml")
	if def == nil {
		t.Fatal(probs)
	}
	path := filepath.Join(t.TempDir(), "stranger.rehearsal")
	os.WriteFile(path, []byte(`> hallo
/photo
> NIEUWS
< Welkom bij het stadsnieuws!*
> ja
< Elke vrijdag*
> hallo
< Kies een van de knoppen*
`), 0o600)
	if got := replay(t, def, path); len(got) > 0 {
		t.Fatalf("failures:\n%s", strings.Join(got, "\n"))
	}
}

// TestBroadcastToUnknownState: a /broadcast to a state the campaign does not have is refused
// with the states it has, not sent to nobody in silence (a typo, or the text taken for the
// state as in "/broadcast Het nieuws", looked like a broadcast that reached no one).
func TestBroadcastToUnknownState(t *testing.T) {
	def, probs := campaigns.LoadFile("../campaigns/examples/news.yaml")
	if def == nil {
		t.Fatal(probs)
	}
	path := filepath.Join(t.TempDir(), "broadcast.rehearsal")
	os.WriteFile(path, []byte(`> NIEUWS
< Welkom bij het stadsnieuws!*
> ja
< Elke vrijdag*
/broadcast Het nieuws van vandaag
/broadcast topic Het nieuws van vandaag
< Het nieuws van vandaag
`), 0o600)
	got := replay(t, def, path)
	want := path + `:5: no state "Het" in this campaign (its states: topic, confirm, subscribed)`
	if len(got) != 1 || got[0] != want {
		t.Errorf("failures:\n%s\nwant only %s", strings.Join(got, "\n"), want)
	}
}

// TestBroadcastNamesWhatExists: a /broadcast naming a template the campaign lacks, or a text
// in a language it does not speak, stops the script with what it has.
func TestBroadcastNamesWhatExists(t *testing.T) {
	def, probs := campaigns.LoadFile("testdata/contract/lang-broadcast.yaml")
	if def == nil {
		t.Fatal(probs)
	}
	path := filepath.Join(t.TempDir(), "broadcast.rehearsal")
	os.WriteFile(path, []byte(`> NEWSLETTER
< Which topic?
/broadcast topic template updates Hello
/broadcast topic nl: Hallo | fr: Salut
/broadcast topic topic=sport
`), 0o600)
	got := replay(t, def, path)
	want := []string{
		path + `:3: no template "updates" under templates: (its templates: update)`,
		path + `:4: /broadcast: "fr: Salut" is not LANG: TEXT with a language of the campaign (nl, en)`,
		path + `:5: usage: /broadcast STATE [VAR=VALUE] [template KEY] TEXT (to every participant in STATE, or in every step with *; TEXT may be "nl: … | en: …")`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("failures:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestButtonMismatchesAreReported: a line with [Title] groups must match the buttons (or list
// rows) exactly, in order; one without brackets checks the text only, and [] expects none.
func TestButtonMismatchesAreReported(t *testing.T) {
	def, probs := campaigns.LoadFile("testdata/contract/media-buttons.yaml")
	if def == nil {
		t.Fatal(probs)
	}
	path := filepath.Join(t.TempDir(), "buttons.rehearsal")
	os.WriteFile(path, []byte(`> hi
< Photo, video or voice note? [Photo] [Voice note] [Video]
/choose photo
< Which day suits you? [Monday] [Tuesday]
> friday
< Friday it is. [Yes]
/as bob
> hi
< Photo, video or voice note?
/choose video
< Which day suits you? []
`), 0o600)
	got := replay(t, def, path)
	want := []string{
		path + `:2: expected "Photo, video or voice note? [Photo] [Voice note] [Video]"` + "\n\tgot      " + `"Photo, video or voice note? [Photo] [Video] [Voice note]"`,
		path + `:4: expected "Which day suits you? [Monday] [Tuesday]"` + "\n\tgot      " + `"Which day suits you? [Monday] [Tuesday] [Wednesday] [Thursday] [Friday]"`,
		path + `:6: expected "Friday it is. [Yes]"` + "\n\tgot      " + `"Friday it is."`,
		path + `:11: expected "Which day suits you? []"` + "\n\tgot      " + `"Which day suits you? [Monday] [Tuesday] [Wednesday] [Thursday] [Friday]"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("failures:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestTemplateMismatchesAreReported: once the 24-hour window closed on WhatsApp a reply goes
// out as its template, and a text line against it says so (naming the template line to write);
// a template line against a text, a wrong parameter and a reply that could not be sent at all
// (no template) are reported too.
func TestTemplateMismatchesAreReported(t *testing.T) {
	src := `id: c
channels: [whatsapp]
keywords: [GO]
templates:
  later: {name: c_later, language: en, params: [name]}
start: a
states:
  a:
    say: "Hi."
    on:
      - after: 2d
        say: {text: "Still there, {{name}}?", template: later}
        goto: b
  b:
    on:
      - verdict: winner
        say: "Bye."
        end: true
`
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "c.yaml"), []byte(src), 0o600)
	def, probs := campaigns.LoadFile(filepath.Join(dir, "c.yaml"))
	if def == nil {
		t.Fatal(probs)
	}
	path := filepath.Join(dir, "c.rehearsal")
	os.WriteFile(path, []byte(`> GO
< template later ann
/wait 2d
< Still there, ann?
/verdict winner
< Bye.
/as bob
> GO
< Hi.
/wait 2d
< template later carl
/as cy
> GO
< Hi.
/wait 2d
< template later cy
/verdict winner
`), 0o600)
	got := replay(t, def, path)
	want := []string{
		path + `:2: expected template later, got a text (the window was open): "Hi."`,
		path + `:4: expected "Still there, ann?", but a template was sent (the 24-hour window had closed): "template later ann"; expect it with < template later ann`,
		path + `:6: expected "Bye."; the reply "Bye." was not sent: outside the 24-hour window and no template (give the message a template: KEY)`,
		path + `:11: expected "template later carl"` + "\n\tgot      " + `"template later bob"`,
		path + `:17: unexpected reply to cy after line 17, not sent (outside the 24-hour window and no template): "Bye."`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("failures:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestWaitUntil: /wait until reads its time in the campaign's time zone, refuses to go back
// and says which times it takes.
func TestWaitUntil(t *testing.T) {
	def, probs := campaigns.LoadFile("testdata/contract/media-timezone.yaml")
	if def == nil {
		t.Fatal(probs)
	}
	p, err := rehearsal.New(context.Background(), def, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ams, _ := time.LoadLocation("Europe/Amsterdam")
	if want := time.Date(2026, 3, 2, 8, 0, 0, 0, ams); !p.Now().Equal(want) {
		t.Errorf("rehearsal starts at %v, want %v", p.Now(), want)
	}
	tests := []struct{ arg, want, err string }{
		{"2026-03-02 09:30", "2026-03-02 09:30:00 CET", ""},
		{"09:45", "2026-03-02 09:45:00 CET", ""},
		{"09:00", "2026-03-03 09:00:00 CET", ""}, // a time alone is its next occurrence
		{"2026-03-02 10:00", "", `/wait until 2026-03-02 10:00: the rehearsal is already at 2026-03-03 09:00 CET; time only moves forward`},
		{"tomorrow", "", `/wait until: "tomorrow" is not a time like 2026-03-01 09:00 or 09:00 (read in Europe/Amsterdam)`},
		{"2026-03-29 12:00:00", "2026-03-29 12:00:00 CEST", ""},
	}
	for _, tt := range tests {
		_, err := p.Do(context.Background(), rehearsal.Line{Op: "/", Arg: "/wait until " + tt.arg})
		switch {
		case tt.err != "":
			if err == nil || err.Error() != tt.err {
				t.Errorf("/wait until %s: err %v, want %q", tt.arg, err, tt.err)
			}
		case err != nil:
			t.Errorf("/wait until %s: %v", tt.arg, err)
		case p.Now().In(ams).Format("2006-01-02 15:04:05 MST") != tt.want:
			t.Errorf("/wait until %s: clock at %s, want %s", tt.arg, p.Now().In(ams).Format("2006-01-02 15:04:05 MST"), tt.want)
		}
	}
}

// TestHandoffAssertion: `= handoff TEAM` checks which team has the conversation (- : the bot).
func TestHandoffAssertion(t *testing.T) {
	def, probs := campaigns.LoadFile("../campaigns/examples/desk.yaml")
	if def == nil {
		t.Fatal(probs)
	}
	path := filepath.Join(t.TempDir(), "handoff.rehearsal")
	os.WriteFile(path, []byte(`> hi
< Hello ann*
= handoff billing
/choose appointments
< I'm passing you*
= handoff billing
= handoff appointments
= handof appointments
`), 0o600)
	got := replay(t, def, path)
	want := []string{
		path + `:3: ann is handed to "-", want "billing" (- is the bot)`,
		path + `:6: ann is handed to "appointments", want "billing" (- is the bot)`,
		path + `:8: unknown assertion "handof" (known: = state NAME, = rank N, = handoff TEAM)`,
	}
	if len(got) != len(want) {
		t.Fatalf("failures:\n%s\nwant %d", strings.Join(got, "\n"), len(want))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("failure %d = %q, want prefix %q", i, got[i], want[i])
		}
	}
}
