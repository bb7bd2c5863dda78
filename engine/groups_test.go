package engine_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// groupMaker is a channel that makes groups: it records the requests and sends like the
// recorder does.
type groupMaker struct {
	*recorder
	mu       sync.Mutex
	subjects []string
	fail     error
}

func (g *groupMaker) CreateGroup(_ context.Context, from, subject, description string) (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.fail != nil {
		return "", g.fail
	}
	g.subjects = append(g.subjects, subject)
	return fmt.Sprintf("req-%d", len(g.subjects)), nil
}

func (g *groupMaker) requests() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.subjects...)
}

func groupRace(t *testing.T) (*env, *groupMaker) {
	d := raceDef(2, 3)
	d.Keywords = []string{"ESCAPE"}
	d.Title = "The Great Escape"
	h := newEnv(t, d)
	g := &groupMaker{recorder: h.sent}
	h.eng.Handle("whatsapp", g)
	return h, g
}

// captain writes text one to one on WhatsApp to the business number 1188.
func (h *env) captain(from, wamid, text string) []engine.Outbound {
	h.t.Helper()
	campaign, ok, err := h.eng.Route(h.ctx, "whatsapp", from, text, "1188")
	if err != nil || !ok || campaign != "race" {
		h.t.Fatalf("Route(%q) = %q, %v, %v; want race", text, campaign, ok, err)
	}
	if _, err := h.eng.Receive(h.ctx, engine.Inbound{Channel: "whatsapp", PlatformID: wamid, Campaign: campaign,
		From: from, To: "1188", Kind: engine.KindText, Text: text}); err != nil {
		h.t.Fatalf("Receive: %v", err)
	}
	return h.settleOut()
}

func wantOut(t *testing.T, got []engine.Outbound, to string, texts ...string) {
	t.Helper()
	var all []string
	for _, o := range got {
		if o.To != to {
			t.Errorf("%q went to %s, want %s", o.Text, o.To, to)
		}
		all = append(all, o.Text)
	}
	wantTexts(t, all, texts...)
}

// TestWhatsAppGroupTeam: a captain asks for a group with the keyword and a team name, gets the
// invite link once the platform made it, the team starts when teams.min members joined (the
// captain counts), plays from the group, and a member beyond teams.max hears the team is full.
func TestWhatsAppGroupTeam(t *testing.T) {
	h, g := groupRace(t)
	wantOut(t, h.captain("316111", "wamid.1", "escape  Red Rovers"), "316111", fmt.Sprintf(engine.GroupOnItsWay, "Red Rovers"))
	if got := g.requests(); strings.Join(got, "|") != "Red Rovers" {
		t.Fatalf("groups asked for %q, want one for Red Rovers", got)
	}
	// Redelivered: nothing again. Asked again: told it is on its way.
	if dup, err := h.eng.Receive(h.ctx, engine.Inbound{Channel: "whatsapp", PlatformID: "wamid.1", Campaign: "race",
		From: "316111", Kind: engine.KindText, Text: "escape Red Rovers"}); err != nil || !dup {
		t.Errorf("redelivered request: duplicate %v, %v", dup, err)
	}
	wantOut(t, h.captain("316111", "wamid.2", "ESCAPE Red Rovers"), "316111", fmt.Sprintf(engine.GroupAsked, "Red Rovers"))
	if n := len(g.requests()); n != 1 {
		t.Fatalf("%d groups asked for, want 1", n)
	}
	// No captain is a participant.
	if _, err := h.db.Participant(h.ctx, engine.ParticipantID("race", "whatsapp", "316111")); err == nil {
		t.Error("the captain became a participant")
	}

	const group = "group:120363041234567890"
	if err := h.eng.GroupCreated(h.ctx, "whatsapp", "req-1", group, "https://chat.whatsapp.com/AbC", ""); err != nil {
		t.Fatal(err)
	}
	invite := fmt.Sprintf(engine.GroupInvite, "Red Rovers", "https://chat.whatsapp.com/AbC", "2 to 3 people")
	wantOut(t, h.settleOut(), "316111", invite)
	// Announced twice: once is enough.
	if err := h.eng.GroupCreated(h.ctx, "whatsapp", "req-1", group, "https://chat.whatsapp.com/AbC", ""); err != nil {
		t.Fatal(err)
	}
	wantOut(t, h.settleOut(), "")
	// The captain joins: one member, the team waits for a second.
	if err := h.eng.GroupJoined(h.ctx, "whatsapp", group, []string{"316111"}); err != nil {
		t.Fatal(err)
	}
	wantOut(t, h.settleOut(), "")
	if err := h.eng.GroupJoined(h.ctx, "whatsapp", group, []string{"316222"}); err != nil {
		t.Fatal(err)
	}
	wantOut(t, h.settleOut(), group, "Welcome aboard, team Red Rovers!")
	h.receive("race", group, engine.Inbound{Channel: "whatsapp", Kind: engine.KindText, Text: "are we there yet?"})
	wantOut(t, h.settleOut(), group, "Hold your horses, team Red Rovers.")
	if err := h.eng.GroupJoined(h.ctx, "whatsapp", group, []string{"316333", "316444"}); err != nil {
		t.Fatal(err)
	}
	wantOut(t, h.settleOut(), group, fmt.Sprintf(engine.GroupTeamFull, "2 to 3 people"))
	// The captain asking again gets the link again.
	wantOut(t, h.captain("316111", "wamid.3", "ESCAPE Red Rovers"), "316111", invite)
	// A group the engine did not ask for is left alone.
	if err := h.eng.GroupCreated(h.ctx, "whatsapp", "req-other", "group:999", "https://chat.whatsapp.com/X", ""); err != nil {
		t.Fatal(err)
	}
	if err := h.eng.GroupJoined(h.ctx, "whatsapp", "group:999", []string{"316555"}); err != nil {
		t.Fatal(err)
	}
	wantOut(t, h.settleOut(), "")
}

// TestWhatsAppGroupJoinedAfterTheRoundStarted: a group whose members join after the round
// started is greeted and gets the round's assignment (the first message its members can read).
func TestWhatsAppGroupJoinedAfterTheRoundStarted(t *testing.T) {
	h, _ := groupRace(t)
	h.captain("316111", "wamid.1", "ESCAPE Blue")
	if err := h.eng.GroupCreated(h.ctx, "whatsapp", "req-1", "group:1", "https://chat.whatsapp.com/B", ""); err != nil {
		t.Fatal(err)
	}
	h.settle()
	if err := h.eng.StartRound(h.ctx, "race", "harbour"); err != nil {
		t.Fatal(err)
	}
	wantOut(t, h.settleOut(), "") // no team playing yet
	h.wait(time.Hour)
	if err := h.eng.GroupJoined(h.ctx, "whatsapp", "group:1", []string{"316222"}); err != nil {
		t.Fatal(err)
	}
	wantOut(t, h.settleOut(), "group:1", "Welcome aboard, team Blue!", "Round harbour is on.", "Round one: a photo at the water.")
}

func TestWhatsAppGroupRefusals(t *testing.T) {
	t.Run("KeywordWithoutName", func(t *testing.T) {
		h, g := groupRace(t)
		wantOut(t, h.captain("316111", "wamid.1", "escape"), "316111", fmt.Sprintf(engine.GroupNameFirst, "ESCAPE", "ESCAPE"))
		if n := len(g.requests()); n != 0 {
			t.Errorf("%d groups asked for", n)
		}
	})
	t.Run("NameWithControlCharacters", func(t *testing.T) {
		h, _ := groupRace(t)
		wantOut(t, h.captain("316111", "wamid.1", "ESCAPE Red\u202eX"), "316111", "The team name contains characters that could not be read.")
	})
	t.Run("NumberMayNotMakeGroups", func(t *testing.T) {
		h, g := groupRace(t)
		g.fail = fmt.Errorf("whatsapp: 131215 not eligible: %w", errs.ErrInvalid)
		wantOut(t, h.captain("316111", "wamid.1", "ESCAPE Red"), "316111", engine.GroupFailed)
	})
	t.Run("TransientFailureIsRedelivered", func(t *testing.T) {
		h, g := groupRace(t)
		g.fail = fmt.Errorf("whatsapp: 503")
		if _, err := h.eng.Receive(h.ctx, engine.Inbound{Channel: "whatsapp", PlatformID: "wamid.1", Campaign: "race",
			From: "316111", Kind: engine.KindText, Text: "ESCAPE Red"}); err == nil {
			t.Fatal("a failed group request was acknowledged; the platform would not deliver it again")
		}
	})
	t.Run("PlatformCouldNotMakeIt", func(t *testing.T) {
		h, _ := groupRace(t)
		h.captain("316111", "wamid.1", "ESCAPE Red")
		if err := h.eng.GroupCreated(h.ctx, "whatsapp", "req-1", "", "", "131215: not eligible"); err != nil {
			t.Fatal(err)
		}
		wantOut(t, h.settleOut(), "316111", engine.GroupFailed)
		// Asking again makes a new request.
		wantOut(t, h.captain("316111", "wamid.2", "ESCAPE Red"), "316111", fmt.Sprintf(engine.GroupOnItsWay, "Red"))
	})
	t.Run("NotRunning", func(t *testing.T) {
		h, g := groupRace(t)
		d, _ := h.eng.Campaign("race")
		d.Schedule.End = t0.Add(-time.Hour)
		got := h.captain("316111", "wamid.1", "ESCAPE Red")
		if len(got) != 1 || !strings.HasPrefix(got[0].Text, "Sorry, this campaign has ended") || len(g.requests()) != 0 {
			t.Errorf("after sign-up: %+v, %d requests", got, len(g.requests()))
		}
	})
}
