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
> NRCQ ON
< Welkom bij NRC Q!*
> hallo
< Dit nummer leest niet mee.*
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
	os.WriteFile(path, []byte(`> NRCQ ON
< Welkom bij NRC Q!*
/broadcast Het nieuws van vandaag
/broadcast subscribed Het nieuws van vandaag
< Het nieuws van vandaag
`), 0o600)
	got := replay(t, def, path)
	want := path + `:3: no state "Het" in this campaign (its states: subscribed)`
	if len(got) != 1 || got[0] != want {
		t.Errorf("failures:\n%s\nwant only %s", strings.Join(got, "\n"), want)
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
		path + `:8: unknown assertion "handof" (known: = state NAME, = handoff TEAM)`,
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
