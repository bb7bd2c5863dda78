package main

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/channels/whatsapp/graphtest"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/judge"
)

// raceOnWhatsApp is `campaign serve` with race.yaml and the WhatsApp channel on a fake Graph
// API, its clock starting at graphtest's payload time (the launch).
type raceOnWhatsApp struct {
	t     *testing.T
	srv   *server
	clock *testClock
	graph *graphtest.Server
	seen  int // messages of the Graph API already looked at
}

func startRaceOnWhatsApp(t *testing.T) *raceOnWhatsApp {
	graph := graphtest.New(t)
	clock := &testClock{now: time.Unix(1767611602, 0).UTC()}
	srv, _ := startServer(t, t.TempDir(), func(c *Config) {
		c.Campaigns = []string{"../../campaigns/examples/race.yaml"}
		c.Now = clock.Now
		c.WhatsApp = WhatsAppConfig{APIURL: graph.APIURL, AccessToken: graphtest.Token, AppSecret: waSecret,
			VerifyToken: "verify-me", PhoneNumberID: waNumber}
	})
	return &raceOnWhatsApp{t: t, srv: srv, clock: clock, graph: graph}
}

// post delivers a webhook body, its messages stamped with the clock's time.
func (r *raceOnWhatsApp) post(body []byte) {
	r.t.Helper()
	body = bytes.ReplaceAll(body, []byte(`"timestamp":"1767611520"`),
		[]byte(`"timestamp":"`+strconv.FormatInt(r.clock.Now().Unix(), 10)+`"`))
	if code := postWebhook(r.t, r.srv, waSecret, body); code != 200 {
		r.t.Fatalf("webhook: %d\n%s", code, body)
	}
}

// expect waits for the next n messages to the Graph API and checks each goes to `to` (a
// phone number or a group id) and contains its text.
func (r *raceOnWhatsApp) expect(to string, texts ...string) []graphtest.Message {
	r.t.Helper()
	all := waitSent(r.t, r.clock, r.graph, r.seen+len(texts))
	got := all[r.seen : r.seen+len(texts)]
	r.seen += len(texts)
	for i, m := range got {
		if m.To() != to || !strings.Contains(m.Text(), texts[i]) {
			r.t.Fatalf("message %d: %q to %s, want %q to %s", r.seen-len(texts)+i+1, m.Text(), m.To(), texts[i], to)
		}
	}
	return got
}

// quiet checks that nothing more was sent after a few seconds of the clock.
func (r *raceOnWhatsApp) quiet() {
	r.t.Helper()
	for range 5 {
		r.clock.Advance(time.Second)
		time.Sleep(20 * time.Millisecond)
	}
	var extra []string
	for _, m := range r.graph.Sent()[r.seen:] {
		if m.Type() != "" {
			extra = append(extra, m.Text())
		}
	}
	if len(extra) > 0 {
		r.t.Fatalf("sent %q, want nothing more", extra)
	}
}

// until moves the clock to launch+d, a minute at a time, so the timers due fire in order.
func (r *raceOnWhatsApp) until(launch time.Time, d time.Duration) {
	for r.clock.Now().Before(launch.Add(d)) {
		r.clock.Advance(time.Hour)
		time.Sleep(2 * time.Millisecond)
	}
}

// TestRaceOnWhatsAppGroups plays race.yaml through `campaign serve` on WhatsApp groups: two
// captains get their team's group, Red's members join during sign-up and Blue's after the first
// round started (Blue gets that round's assignment when it starts), Red's photo from the group
// becomes the team's entry, Blue misses the deadline and is out, and the jury's verdict moves
// Red on to round two.
func TestRaceOnWhatsAppGroups(t *testing.T) {
	r := startRaceOnWhatsApp(t)
	launch := r.clock.Now()
	const (
		rita, ray  = "31611110001", "31611110002"
		bo, bea    = "31622220001", "31622220002"
		redGroup   = "120363000000000001"
		blueGroup  = "120363000000000002"
		redInvite  = "https://chat.whatsapp.com/RedRovers1"
		blueInvite = "https://chat.whatsapp.com/BlueBirds2"
	)

	// The captains ask; each gets a group request and, once WhatsApp made it, the invite link.
	r.post(graphtest.TextWebhook(waNumber, rita, "Rita", "wamid.rita.1", "ESCAPE Red Rovers"))
	r.expect("+"+rita, "A group for team Red Rovers is being made")
	r.post(graphtest.TextWebhook(waNumber, bo, "Bo", "wamid.bo.1", "escape Blue Birds"))
	r.expect("+"+bo, "A group for team Blue Birds is being made")
	groups := r.graph.Groups()
	if len(groups) != 2 || groups[0].Subject != "Red Rovers" || groups[1].Subject != "Blue Birds" ||
		groups[0].PhoneNumberID != waNumber || groups[0].Mode != "auto_approve" {
		t.Fatalf("group requests %+v, want Red Rovers and Blue Birds from %s", groups, waNumber)
	}
	r.post(graphtest.GroupCreatedWebhook(waNumber, groups[0].RequestID, redGroup, "Red Rovers", redInvite))
	r.expect("+"+rita, "Here is the group of team Red Rovers: "+redInvite)
	r.post(graphtest.GroupCreatedWebhook(waNumber, groups[1].RequestID, blueGroup, "Blue Birds", blueInvite))
	r.expect("+"+bo, "Here is the group of team Blue Birds: "+blueInvite)

	// Red's crew joins during sign-up: with two members the team starts, consent first.
	r.post(graphtest.GroupJoinedWebhook(waNumber, redGroup, rita, ray))
	r.expect(redGroup, "Ahoy! Before your team joins the race")
	r.post(graphtest.GroupTextWebhook(waNumber, redGroup, ray, "Ray", "wamid.ray.1", "OK"))
	r.expect(redGroup, "Welcome aboard, team Red Rovers!")
	// Blue's captain joins alone: one member of two, nothing yet.
	r.post(graphtest.GroupJoinedWebhook(waNumber, blueGroup, bo))
	r.quiet()

	// The group writes the day before the round, so its 24-hour window is open at the start.
	r.until(launch, 6*24*time.Hour+12*time.Hour)
	r.post(graphtest.GroupTextWebhook(waNumber, redGroup, rita, "Rita", "wamid.rita.2", "are we there yet?"))
	r.expect(redGroup, "Hold your horses")
	r.until(launch, 7*24*time.Hour+time.Hour)
	r.expect(redGroup, "Round harbour is on.", "Round one, the harbour: send one photo")

	// Blue's second member joins after the round started: the team starts and is brought into
	// the round.
	r.post(graphtest.GroupJoinedWebhook(waNumber, blueGroup, bea))
	r.expect(blueGroup, "Ahoy! Before your team joins the race")
	r.post(graphtest.GroupTextWebhook(waNumber, blueGroup, bea, "Bea", "wamid.bea.1", "ok"))
	r.expect(blueGroup, "Welcome aboard, team Blue Birds!", "Round harbour is on.", "Round one, the harbour: send one photo")

	// Red's photo, sent by any member in the group, is the team's entry.
	photo := testPNG(t)
	r.graph.AddMedia("media-red-1", "image/png", photo)
	r.post(graphtest.GroupImageWebhook(waNumber, redGroup, ray, "Ray", "wamid.ray.2", "media-red-1", "image/png", photo, "at the harbour"))
	r.expect(redGroup, "Photo received!")
	judges := &judge.Service{Store: r.srv.db, Wake: r.srv.engine.Wake, Now: r.clock.Now}
	entries, err := judges.Entries(context.Background(), judge.Filter{Status: judge.StatusPending})
	if err != nil || len(entries) != 1 {
		t.Fatalf("entries = %+v, %v; want Red's photo", entries, err)
	}
	if red := engine.ParticipantID("race", "whatsapp", "group:"+redGroup); entries[0].ParticipantID != red || entries[0].Caption != "at the harbour" {
		t.Errorf("entry %+v, want Red's team (%s) with the caption", entries[0], red)
	}

	// The deadline, four days after the start: Blue sent nothing and is out. Blue wrote within
	// the day, Red too (a member's thanks), so the texts go out as they are.
	r.until(launch, 10*24*time.Hour+12*time.Hour)
	r.post(graphtest.GroupTextWebhook(waNumber, blueGroup, bo, "Bo", "wamid.bo.2", "still looking for water"))
	r.expect(blueGroup, "Captain Nova only reads photos and videos during a round")
	r.until(launch, 11*24*time.Hour+time.Hour)
	r.expect(blueGroup, "Time's up and your team sent no photo", "Thanks for racing, team Blue Birds")

	// The jury advances Red: the verdict reaches the group. Red's window is closed by now, so
	// the approved template tells them there is news.
	if err := judges.Decide(context.Background(), judge.Decision{EntryID: entries[0].ID, Verdict: "advanced", By: "jury"}); err != nil {
		t.Fatal(err)
	}
	got := waitSent(t, r.clock, r.graph, r.seen+1)[r.seen]
	r.seen++
	if got.To() != redGroup || got.Type() != "template" || !strings.Contains(string(got.Raw), `"name":"race_news"`) ||
		!strings.Contains(string(got.Raw), "Red Rovers") || !strings.Contains(string(got.Raw), `"recipient_type":"group"`) {
		t.Errorf("verdict to Red: %s, want the race_news template to the group with the team's name", got.Raw)
	}
	r.quiet()
}
