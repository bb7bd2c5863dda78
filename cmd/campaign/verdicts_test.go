package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/judge"
)

// stateVerdicts reads a state's verdict: transitions from the definition, each verdict once,
// with the state each one leads to.
func stateVerdicts(st *campaigns.State) (vs []string, to map[string]string) {
	to = map[string]string{}
	for _, t := range st.On {
		if t.Kind == campaigns.OnVerdict && !slices.Contains(vs, t.Verdict) {
			vs = append(vs, t.Verdict)
			to[t.Verdict] = t.Goto
		}
	}
	return vs, to
}

// firstCollect is the first state with a collecting transition and the state it leads to.
func firstCollect(def *campaigns.Definition) (from, to string, ok bool) {
	for _, name := range def.Order {
		for _, t := range def.States[name].On {
			if t.Collect && t.Goto != "" {
				return name, t.Goto, true
			}
		}
	}
	return "", "", false
}

// TestQueueFollowsEachExample plays every example's moderation from the dashboard on a real
// server: a participant who just sent an entry waits in the state the collecting transition
// leads to; the queue offers exactly the verdicts that state takes (or Approve and Reject that
// only mark the entry, when it takes none); pressing the queue's approve button (the a key)
// moves the participant as the definition says. Before, the queue offered Approve to a photo
// contest's participant in "entered", which takes no approved verdict, and nothing happened.
func TestQueueFollowsEachExample(t *testing.T) {
	srv, _ := startServer(t, t.TempDir(), func(c *Config) { c.Campaigns = []string{"../../campaigns/examples"} })
	mod := newClient(t, srv.URL())
	if code, _ := mod.login("admin", srv.adminPassword); code != http.StatusSeeOther {
		t.Fatalf("login: %d", code)
	}
	defs := srv.engine.Campaigns()
	if len(defs) < 7 {
		t.Fatalf("%d examples loaded", len(defs))
	}
	for i, def := range defs {
		t.Run(def.ID, func(t *testing.T) {
			from, state, collects := firstCollect(def)
			if !collects {
				// No entries: the participant page alone offers verdicts; see
				// TestParticipantPageFollowsEachExample.
				t.Skipf("%s collects no entries", def.ID)
			}
			pid, entryID := mustWaitingEntry(t, srv, def, from, state, i)
			want, to := stateVerdicts(def.States[state])
			marksOnly := len(want) == 0
			if marksOnly {
				want = []string{campaigns.VerdictApproved, campaigns.VerdictRejected}
			}
			_, page := mod.do(http.MethodGet, "/dashboard/entries", "", nil)
			doc, _ := goquery.NewDocumentFromReader(strings.NewReader(page))
			li := doc.Find(`li.entry[data-id="` + entryID + `"]`)
			if li.Length() != 1 {
				t.Fatalf("entry %s not in the queue", entryID)
			}
			var got []string
			li.Find("button").Each(func(_ int, b *goquery.Selection) {
				class, _ := b.Attr("class")
				got = append(got, strings.TrimPrefix(class[strings.Index(class, "verdict-"):], "verdict-"))
			})
			if !slices.Equal(got, want) {
				t.Fatalf("queue offers %v for state %s, the definition takes %v", got, state, want)
			}
			approve := li.Find("button.approve")
			if approve.Length() != 1 {
				t.Fatalf("no approve button (the a key) among %v", got)
			}
			form := approve.Closest("form")
			action, _ := form.Attr("action")
			values := url.Values{}
			form.Find("input").Each(func(_ int, in *goquery.Selection) {
				n, _ := in.Attr("name")
				v, _ := in.Attr("value")
				values.Set(n, v)
			})
			if code, body := mod.postForm(action, values); code != http.StatusSeeOther {
				t.Fatalf("press %s: %d %s", action, code, body)
			}
			verdict := values.Get("verdict")
			if verdict == "" {
				verdict = campaigns.VerdictApproved
			}
			if e := mustEntry(t, srv, entryID); e.Status != verdict {
				t.Fatalf("entry is %s after pressing %s", e.Status, verdict)
			}
			wantState := state
			if !marksOnly {
				wantState = to[verdict]
			}
			waitState(t, srv, pid, wantState)
		})
	}
}

// TestParticipantPageFollowsEachExample: a participant's page offers the verdicts their state
// takes in every example; the bouncer waiting for the boss is offered approved and rejected,
// not the contest's and race's verdicts it never uses.
func TestParticipantPageFollowsEachExample(t *testing.T) {
	srv, _ := startServer(t, t.TempDir(), func(c *Config) { c.Campaigns = []string{"../../campaigns/examples"} })
	mod := newClient(t, srv.URL())
	if code, _ := mod.login("admin", srv.adminPassword); code != http.StatusSeeOther {
		t.Fatalf("login: %d", code)
	}
	for i, def := range srv.engine.Campaigns() {
		t.Run(def.ID, func(t *testing.T) {
			// The state with the most verdicts, else the start: where moderators act.
			state := def.Start
			for _, name := range def.Order {
				if a, _ := stateVerdicts(def.States[name]); len(a) > len(func() []string { b, _ := stateVerdicts(def.States[state]); return b }()) {
					state = name
				}
			}
			if def.States[state].Final {
				state = def.Start
			}
			pid := mustParticipantIn(t, srv, def, state, 100+i)
			_, page := mod.do(http.MethodGet, "/dashboard/campaigns/"+def.ID+"/participants/"+pid, "", nil)
			doc, _ := goquery.NewDocumentFromReader(strings.NewReader(page))
			var got []string
			doc.Find(`input[name=verdict]`).Each(func(_ int, s *goquery.Selection) { v, _ := s.Attr("value"); got = append(got, v) })
			want, _ := stateVerdicts(def.States[state])
			if !slices.Equal(got, want) {
				t.Fatalf("participant in %s is offered %v, the definition takes %v", state, got, want)
			}
		})
	}
}

// mustParticipantIn stores a participant of def in state, with a line of transcript (the page
// shows participants who wrote), as the engine would have left them.
func mustParticipantIn(t *testing.T, srv *server, def *campaigns.Definition, state string, n int) string {
	t.Helper()
	ctx := context.Background()
	from := fmt.Sprintf("visitor-%d", n)
	pid := engine.ParticipantID(def.ID, "webchat", from)
	err := srv.db.Commit(ctx, engine.Step{Created: true,
		Participant: engine.Participant{ID: pid, Campaign: def.ID, Channel: "webchat", Address: from, State: state,
			Vars: map[string]string{"first_name": "Ann", "team": "Gulls", "name": "Ann"}, Version: 1, Entered: 1, DefVersion: def.Version,
			CreatedAt: srv.now(), UpdatedAt: srv.now(), LastInboundAt: srv.now()},
		Lines: []engine.Line{{ParticipantID: pid, Direction: engine.In, Text: "hello", At: srv.now()}}})
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// mustWaitingEntry stores a participant of def in state with a pending entry collected in
// from, as the collecting transition leaves them.
func mustWaitingEntry(t *testing.T, srv *server, def *campaigns.Definition, from, state string, n int) (pid, entryID string) {
	t.Helper()
	ctx := context.Background()
	addr := fmt.Sprintf("player-%d", n)
	pid = engine.ParticipantID(def.ID, "webchat", addr)
	entryID = fmt.Sprintf("%s-%d", pid, n)
	err := srv.db.Commit(ctx, engine.Step{Created: true,
		Participant: engine.Participant{ID: pid, Campaign: def.ID, Channel: "webchat", Address: addr, State: state,
			Vars: map[string]string{"first_name": "Ann", "team": "Gulls", "entry": entryID}, Version: 1, Entered: 1,
			DefVersion: def.Version, CreatedAt: srv.now(), UpdatedAt: srv.now(), LastInboundAt: srv.now()},
		Lines: []engine.Line{{ParticipantID: pid, Direction: engine.In, MediaKey: "media/" + entryID + ".jpg", At: srv.now()}},
		Entries: []engine.Entry{{ID: entryID, Campaign: def.ID, ParticipantID: pid, State: from, Kind: "photo",
			MediaKey: "media/" + entryID + ".jpg", MIME: "image/jpeg", CreatedAt: srv.now()}}})
	if err != nil {
		t.Fatal(err)
	}
	return pid, entryID
}

func mustEntry(t *testing.T, srv *server, id string) judge.Entry {
	t.Helper()
	e, err := srv.db.Entry(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// waitState waits for the engine to move the participant into state.
func waitState(t *testing.T, srv *server, pid, state string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		p, err := srv.db.Participant(context.Background(), pid)
		if err != nil {
			t.Fatal(err)
		}
		if p.State == state {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("participant is in %s, want %s", p.State, state)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestShortlistFromParticipantPageDecidesTheEntry: shortlisting a photo contest participant on
// their page, while their photo waits in the queue, gives the verdict on that photo, so it
// leaves the queue; before, the photo stayed pending and its Approve moved nothing once they
// were shortlisted.
func TestShortlistFromParticipantPageDecidesTheEntry(t *testing.T) {
	srv, _ := startServer(t, t.TempDir(), func(c *Config) { c.Campaigns = []string{"../../campaigns/examples/photocontest.yaml"} })
	mod := newClient(t, srv.URL())
	if code, _ := mod.login("admin", srv.adminPassword); code != http.StatusSeeOther {
		t.Fatalf("login: %d", code)
	}
	def, _ := srv.engine.Campaign("photocontest")
	pid, entryID := mustWaitingEntry(t, srv, def, "ask_photo", "entered", 1)
	path := "/dashboard/campaigns/photocontest/participants/" + pid
	_, page := mod.do(http.MethodGet, path, "", nil)
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(page))
	key, _ := doc.Find(`input[name=key]`).First().Attr("value")
	if code, body := mod.postForm(path+"/verdict", url.Values{"csrf": {csrfOf(t, page)}, "verdict": {campaigns.VerdictShortlisted}, "key": {key}}); code != http.StatusSeeOther {
		t.Fatalf("shortlist: %d %s", code, body)
	}
	if e := mustEntry(t, srv, entryID); e.Status != campaigns.VerdictShortlisted || e.DecidedBy != "admin" {
		t.Fatalf("entry after shortlisting its participant: %s by %q", e.Status, e.DecidedBy)
	}
	waitState(t, srv, pid, "shortlisted")
	_, page = mod.do(http.MethodGet, path, "", nil)
	doc, _ = goquery.NewDocumentFromReader(strings.NewReader(page))
	var got []string
	doc.Find(`input[name=verdict]`).Each(func(_ int, s *goquery.Selection) { v, _ := s.Attr("value"); got = append(got, v) })
	if want := []string{campaigns.VerdictWinner, campaigns.VerdictRejected}; !slices.Equal(got, want) {
		t.Errorf("shortlisted participant offered %v, want %v", got, want)
	}
	if !strings.Contains(doc.Find(".audit-history").Text(), "shortlisted") {
		t.Error("the participant's history does not show the shortlisting")
	}
}
