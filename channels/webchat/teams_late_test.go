package webchat_test

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
)

// lateRace signs teams up for a day; the first round starts when sign-up closes.
const lateRace = `id: race
title: The Race
channels: [webchat]
persona:
  name: Captain Nova
schedule:
  end: 1d
  hard_stop: 10d
teams:
  min: 2
  max: 2
rounds:
  - name: harbour
    assignment: "Round one: a photo of your team at the water."
    starts: 1d
    duration: 2d
start: lobby
states:
  lobby:
    say: "Welcome aboard, team {{team}}!"
    on:
      - round: {name: harbour, event: started}
        goto: harbour
      - text: any
        say: "Hold your horses, team {{team}}."
  harbour:
    say: "Round {{round}} is on."
    on:
      - media: photo
        goto: done
  done:
    say: "Photo received, team {{team}}."
    final: true
`

// TestTeamCompletedAfterSignUpPlaysTheRound: on the web chat, a team formed during sign-up
// whose second member joins after sign-up closed, when the first round runs, is greeted, gets
// the round's assignment and can play; the page says nothing of the campaign having ended.
func TestTeamCompletedAfterSignUpPlaysTheRound(t *testing.T) {
	h := mustTeamHarnessOf(t, lateRace, nil)
	base := h.MustServe(t)
	if err := h.eng.Restore(t.Context()); err != nil {
		t.Fatal(err)
	}
	ann, bob := h.browser(t), h.browser(t)
	if resp := h.Do(t, teamPost(ann, url.Values{"action": {"form"}, "name": {"Red"}})); resp.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("form team: %d", resp.StatusCode)
	}
	doc := h.page(t, h.Do(t, withBrowser(httptest.NewRequest("GET", "/play/race", nil), ann)))
	code := doc.Find("#team-code").Text()

	h.clock.Advance(25 * time.Hour)
	if _, err := h.eng.FireDueTimers(t.Context()); err != nil {
		t.Fatal(err)
	}
	h.settle(t)
	if resp := h.Do(t, teamPost(bob, url.Values{"action": {"join"}, "code": {code}})); resp.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("join team after sign-up: %d", resp.StatusCode)
	}
	h.settle(t)
	doc = h.page(t, h.Do(t, withBrowser(httptest.NewRequest("GET", "/play/race", nil), bob)))
	if n := doc.Find("#notice").Text(); n != "" {
		t.Errorf("the page says %q to a team that plays", n)
	}
	var said []string
	for _, ev := range MustStreamOf(t, base, "race", bob).UntilReady(t) {
		said = append(said, ev.Text)
	}
	want := "Welcome aboard, team Red!|Round harbour is on.|Round one: a photo of your team at the water."
	if strings.Join(said, "|") != want {
		t.Errorf("the team's conversation %q, want %q", said, want)
	}
}
