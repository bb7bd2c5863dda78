package engine_test

import (
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
)

func parseDef(t *testing.T, src string) *campaigns.Definition {
	t.Helper()
	d, probs := campaigns.Parse("numbers.yaml", []byte(src))
	if d == nil || len(probs) > 0 {
		t.Fatalf("parse: %v", probs)
	}
	return d
}

// tally counts right answers with add:, tries the transitions of a state in file order past
// a false if:, branches on entering a state (entered:) and on a timer.
const tally = `id: tally
start: q
states:
  q:
    say: "Score {{points}}. Two plus two?"
    on:
      - text: "4"
        if: points >= 2
        add: {points: 1, rounds: 1}
        say: "Right again, {{points}}!"
        goto: end
      - text: "4"
        add: {points: 1.5, rounds: 1}
        set: {medal: bronze}
        say: "Right: {{points}}."
        goto: q
      - text: any
        add: {points: -1, rounds: 1}
        goto: q
      - after: 20s
        if: points > 0
        say: "Time! You keep {{points}}."
        goto: end
      - after: 20s
        say: "Time, and no points."
        goto: end
  end:
    say: "Totting up {{rounds}} rounds."
    on:
      - entered: true
        if: points >= 4 and medal == Bronze
        goto: top
      - entered: true
        if: points >= 0
        goto: rest
      - entered: true
        goto: below
  top:
    say: "Top with {{points}}!"
    final: true
  rest:
    say: "Done with {{points}}."
    final: true
  below:
    say: "Below zero: {{points}}."
    final: true
`

func TestAddAndConditions(t *testing.T) {
	h := newEnv(t, parseDef(t, tally))
	wantTexts(t, h.text("tally", "ann", "hi"), "Score 0. Two plus two?")
	wantTexts(t, h.text("tally", "ann", "4"), "Right: 1.5.", "Score 1.5. Two plus two?")
	wantTexts(t, h.text("tally", "ann", "5"), "Score 0.5. Two plus two?")
	wantTexts(t, h.text("tally", "ann", "4"), "Right: 2.", "Score 2. Two plus two?")
	// points >= 2 now holds: the first transition answers.
	wantTexts(t, h.text("tally", "ann", "4"), "Right again, 3!", "Totting up 4 rounds.", "Done with 3.")
	p := h.wantState("tally", "ann", "rest")
	if p.Vars["points"] != "3" || p.Vars["rounds"] != "4" || p.Vars["medal"] != "bronze" {
		t.Errorf("vars = %v", p.Vars)
	}
}

func TestEnteredBranchTakesTheFirstThatHolds(t *testing.T) {
	h := newEnv(t, parseDef(t, tally))
	h.text("tally", "bob", "hi")
	h.text("tally", "bob", "4")
	h.text("tally", "bob", "4")
	wantTexts(t, h.text("tally", "bob", "4"), "Right again, 4!", "Totting up 3 rounds.", "Top with 4!")
	h.wantState("tally", "bob", "top")

	h.text("tally", "cy", "hi")
	wantTexts(t, h.text("tally", "cy", "no idea"), "Score -1. Two plus two?")
	wantTexts(t, h.wait(25*time.Second), "Time, and no points.", "Totting up 1 rounds.", "Below zero: -1.")
	h.wantState("tally", "cy", "below")
}

func TestConditionOnATimer(t *testing.T) {
	h := newEnv(t, parseDef(t, tally))
	h.text("tally", "ann", "hi")
	h.text("tally", "ann", "4")
	// The first 20s transition holds (points 1.5 > 0); the second never fires as well.
	wantTexts(t, h.wait(25*time.Second), "Time! You keep 1.5.", "Totting up 1 rounds.", "Done with 1.5.")
	wantTexts(t, h.wait(time.Minute))
	h.wantState("tally", "ann", "rest")
}

func TestConditionOnAVerdict(t *testing.T) {
	d := parseDef(t, `id: judged
channels: [webchat]
start: wait
states:
  wait:
    say: "Send a photo."
    on:
      - media: photo
        collect: true
        add: {photos: 1}
        say: "Got it."
      - verdict: approved
        if: photos >= 2
        say: "Approved, and you sent {{photos}}: bonus!"
        goto: done
      - verdict: approved
        say: "Approved."
        goto: done
  done:
    final: true
`)
	h := newEnv(t, d)
	h.text("judged", "ann", "hi")
	h.receive("judged", "ann", engine.Inbound{Kind: engine.KindMedia, Media: &engine.Media{Kind: "photo", Key: "k1", MIME: "image/jpeg"}})
	wantTexts(t, h.settle(), "Got it.")
	h.receive("judged", "ann", engine.Inbound{Kind: engine.KindVerdict, Verdict: "approved"})
	wantTexts(t, h.settle(), "Approved.")

	h.text("judged", "bob", "hi")
	for _, k := range []string{"k2", "k3"} {
		h.receive("judged", "bob", engine.Inbound{Kind: engine.KindMedia, Media: &engine.Media{Kind: "photo", Key: k, MIME: "image/jpeg"}})
		wantTexts(t, h.settle(), "Got it.")
	}
	h.receive("judged", "bob", engine.Inbound{Kind: engine.KindVerdict, Verdict: "approved"})
	wantTexts(t, h.settle(), "Approved, and you sent 2: bonus!")
}

func TestEnteredMovesAreCapped(t *testing.T) {
	// Validation refuses a loop of entered transitions; one built by hand must not spin.
	a := &campaigns.Transition{Name: "a.1", Kind: campaigns.OnEntered, Add: map[string]float64{"n": 1}, Goto: "b"}
	b := &campaigns.Transition{Name: "b.1", Kind: campaigns.OnEntered, Add: map[string]float64{"n": 1}, Goto: "a"}
	d := def("spin").state("a", "", a).state("b", "", b).build()
	d.Numbers = []string{"n"}
	h := newEnv(t, d)
	h.text("spin", "ann", "hi")
	p := h.participant("spin", "ann")
	if p.Vars["n"] != "32" {
		t.Errorf("n = %q, want 32 moves", p.Vars["n"])
	}
}

func TestNumberNeverAddedShowsZero(t *testing.T) {
	d := parseDef(t, `id: zero
start: a
templates:
  score: {name: score, params: [points]}
channels: [whatsapp]
states:
  a:
    say: {text: "You have {{points}} points.", template: score}
    on:
      - text: more
        add: {points: 1}
        goto: a
      - text: done
        end: true
`)
	h := newEnv(t, d)
	h.receive("zero", "ann", engine.Inbound{Kind: engine.KindText, Text: "hi", Channel: "whatsapp"})
	out := h.settleOut()
	if len(out) != 1 || out[0].Text != "You have 0 points." {
		t.Fatalf("got %+v", out)
	}
}

func TestTimerWhoseConditionFailsStays(t *testing.T) {
	d := parseDef(t, `id: hint
channels: [webchat]
start: puzzle
states:
  puzzle:
    say: "Riddle: what has keys but no locks?"
    on:
      - text: piano
        goto: solved
      - text: any
        add: {tries: 1}
        say: "No."
      - after: 1m
        if: tries >= 2
        say: "Hint: it makes music."
      - optout: true
        if: tries > 0
        say: "Bye, and it was a piano."
      - optout: true
        say: "Bye."
  solved:
    say: "Yes!"
    final: true
`)
	h := newEnv(t, d)
	h.text("hint", "ann", "hi")
	wantTexts(t, h.wait(2*time.Minute))
	h.wantState("hint", "ann", "puzzle")

	h.text("hint", "bob", "hi")
	h.text("hint", "bob", "a door")
	h.text("hint", "bob", "a map")
	wantTexts(t, h.wait(2*time.Minute), "Hint: it makes music.")
	wantTexts(t, h.text("hint", "bob", "stop"), "Bye, and it was a piano.")
	h.text("hint", "cy", "hi")
	wantTexts(t, h.text("hint", "cy", "stop"), "Bye.")
}
