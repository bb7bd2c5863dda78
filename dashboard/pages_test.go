package dashboard_test

import (
	"context"
	"encoding/csv"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/chatcampaigns/campaign/dashboard"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/judge"
	"github.com/chatcampaigns/campaign/store/sqlite"
)

// storeConversations reads participants and transcripts from the store, as the engine does.
type storeConversations struct {
	*fakeConversations
	db *sqlite.DB
}

func (s storeConversations) Participant(ctx context.Context, id string) (engine.Participant, error) {
	return s.db.Participant(ctx, id)
}

func (s storeConversations) Transcript(ctx context.Context, id string) ([]engine.Line, error) {
	return s.db.Transcript(ctx, id)
}

// talker commits a participant of bouncer who wrote text at the harness's clock plus d, with
// vars, on channel.
func (h *harness) talker(id, channel, state, text string, d time.Duration, vars map[string]string) {
	h.t.Helper()
	at := h.clock.Now().Add(d)
	if vars == nil {
		vars = map[string]string{}
	}
	err := h.db.Commit(context.Background(), engine.Step{Created: true, Participant: engine.Participant{
		ID: id, Campaign: "bouncer", Channel: channel, Address: "+" + id, State: state,
		Vars: vars, Version: 1, CreatedAt: at, UpdatedAt: at, LastInboundAt: at,
	}, Lines: []engine.Line{{ParticipantID: id, Direction: engine.In, Text: text, At: at}}})
	if err != nil {
		h.t.Fatalf("commit %s: %v", id, err)
	}
}

func rowsOf(t *testing.T, h *harness, path, sel string) []string {
	t.Helper()
	resp := h.Get(path)
	wantStatus(t, resp, http.StatusOK)
	doc := MustDoc(t, resp)
	var out []string
	for _, n := range doc.Find(sel).Nodes {
		for _, a := range n.Attr {
			if a.Key == "data-participant" {
				out = append(out, a.Val)
			}
		}
	}
	return out
}

// TestInboxListsFiltersSearchesAndMarksRead: the inbox lists conversations most recently
// active first, filters by state, waiting for a human and team, searches names, answers and
// messages, pages with a cursor, and marks a conversation unread until the user opens it.
func TestInboxListsFiltersSearchesAndMarksRead(t *testing.T) {
	h := newHarness(t)
	h.talker("ann", "whatsapp", "door", "Let me in please", time.Minute, map[string]string{"name": "Ann"})
	h.talker("bob", "webchat", "in", "my fridge is empty", 2*time.Minute, map[string]string{"name": "Bob", "handoff": "chefs"})
	h.talker("cy", "whatsapp", "door", "hello", 3*time.Minute, map[string]string{"name": "Cy", "city": "Utrecht", "handoff": "support"})
	h.MustUser("mod", "moderator")
	h.MustLogin("mod")
	for _, tc := range []struct {
		name, query string
		want        []string
	}{
		{"All", "", []string{"cy", "bob", "ann"}},
		{"State", "?campaign=bouncer&state=door", []string{"cy", "ann"}},
		{"Waiting", "?waiting=1", []string{"cy", "bob"}},
		{"Team", "?team=chefs", []string{"bob"}},
		{"SearchMessage", "?q=FRIDGE", []string{"bob"}},
		{"SearchAnswer", "?q=utrecht", []string{"cy"}},
		{"SearchName", "?q=ann", []string{"ann"}},
	} {
		got := rowsOf(t, h, "/dashboard/inbox"+tc.query, "tr.conversation")
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: rows %v, want %v", tc.name, got, tc.want)
		}
	}
	if got := rowsOf(t, h, "/dashboard/inbox?team=nobody", "tr.conversation"); len(got) != 0 {
		t.Errorf("team nobody: %v", got)
	}
	resp := h.Get("/dashboard/inbox?before=garbage")
	wantStatus(t, resp, http.StatusBadRequest)

	doc := MustDoc(t, h.Get("/dashboard/inbox"))
	if n := doc.Find("tr.conversation.unread").Length(); n != 3 {
		t.Fatalf("%d unread, want 3", n)
	}
	if got := doc.Find("tr.conversation").First().Find(".snippet").Text(); got != "hello" {
		t.Errorf("last message = %q", got)
	}
	// Opening a conversation reads it, for this user only. (The harness's conversations are
	// fakes; this dashboard reads them from the store.)
	judges := &judge.Service{Store: h.db, Scores: h.db, Now: h.clock.Now}
	d, err := dashboard.New(dashboard.Config{Judge: judges, Users: h.users, Media: h.media, Campaigns: h.camps,
		Conversations: storeConversations{h.convs, h.db}, Reports: h.db, Now: h.clock.Now,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h.app = fiber.New()
	d.Mount(h.app)
	wantStatus(t, h.Get("/dashboard/campaigns/bouncer/participants/ann"), http.StatusOK)
	doc = MustDoc(t, h.Get("/dashboard/inbox"))
	if doc.Find(`tr.conversation[data-participant="ann"]`).HasClass("unread") {
		t.Error("ann is still unread after opening her conversation")
	}
	if n := doc.Find("tr.conversation.unread").Length(); n != 2 {
		t.Errorf("%d unread after opening one, want 2", n)
	}
}

// TestInboxPagesWithACursor: a long inbox is read a page at a time, the next page continuing
// after the last row of the one before.
func TestInboxPagesWithACursor(t *testing.T) {
	h := newHarness(t)
	for i := range 55 {
		id := "p" + string(rune('a'+i/26)) + string(rune('a'+i%26))
		h.talker(id, "whatsapp", "door", "hi", time.Duration(i)*time.Second, nil)
	}
	h.MustUser("mod", "moderator")
	h.MustLogin("mod")
	resp := h.Get("/dashboard/inbox")
	doc := MustDoc(t, resp)
	first := doc.Find("tr.conversation").Length()
	next, ok := doc.Find("a.next").Attr("href")
	if first != 50 || !ok {
		t.Fatalf("first page: %d rows, next %q", first, next)
	}
	doc = MustDoc(t, h.Get(next))
	if n := doc.Find("tr.conversation").Length(); n != 5 {
		t.Errorf("second page: %d rows, want 5", n)
	}
	if doc.Find("a.next").Length() != 0 {
		t.Error("the last page links to a next one")
	}
	if _, live := doc.Find("#inbox-list").Attr("data-live"); live {
		t.Error("an older page refreshes itself (only the newest should)")
	}
}

// TestParticipantsOfAState: a box of the flow diagram links to the list of the participants
// in its state.
func TestParticipantsOfAState(t *testing.T) {
	h := newHarness(t)
	h.talker("ann", "whatsapp", "door", "hi", time.Minute, map[string]string{"name": "Ann"})
	h.talker("bob", "whatsapp", "in", "hi", 2*time.Minute, nil)
	h.MustUser("mod", "moderator")
	h.MustLogin("mod")
	doc := MustDoc(t, h.Get("/dashboard/campaigns/bouncer"))
	href, ok := doc.Find(`svg.flow-diagram a[data-state="door"]`).Attr("href")
	if !ok || href != "/dashboard/campaigns/bouncer/participants?state=door" {
		t.Fatalf("door's box links to %q", href)
	}
	if got := doc.Find(`svg.flow-diagram a[data-state="door"] .state-count`).Text(); got != "3 participants" {
		t.Errorf("door's box says %q (the fake counts 3)", got)
	}
	got := rowsOf(t, h, href, "tr.participant")
	if strings.Join(got, ",") != "ann" {
		t.Errorf("participants in door: %v", got)
	}
	wantStatus(t, h.Get("/dashboard/campaigns/bouncer/participants?state=nowhere"), http.StatusNotFound)
}

// TestDeliveryMonitorIsTrueForEveryChannel: the web chat has no delivery reports, so its
// sent replies are said to be sent, as far as can be known, and never "undelivered" or
// "delivered 0"; WhatsApp's are counted by its reports.
func TestDeliveryMonitorIsTrueForEveryChannel(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.talker("web", "webchat", "door", "hi", 0, nil)
	h.talker("wa", "whatsapp", "door", "hi", 0, nil)
	now := h.clock.Now()
	var out []engine.Outbound
	for _, p := range []string{"web", "web", "wa", "wa"} {
		ch := "webchat"
		if p == "wa" {
			ch = "whatsapp"
		}
		out = append(out, engine.Outbound{ParticipantID: p, Campaign: "bouncer", Channel: ch, To: "+" + p, Text: "Hello " + p, DueAt: now})
	}
	if err := h.db.Enqueue(ctx, out); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"web", "wa"} {
		got, err := h.db.Outbox(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		for i, o := range got {
			if err := h.db.MarkSent(ctx, o.ID, "id-"+p+string(rune('0'+i)), now); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := h.db.UpdateDelivery(ctx, "id-wa0", engine.Delivery{Status: "delivered", At: now}); err != nil {
		t.Fatal(err)
	}
	h.MustUser("mod", "moderator")
	h.MustLogin("mod")
	doc := MustDoc(t, h.Get("/dashboard/campaigns/bouncer/deliveries"))
	web := doc.Find(`.channel[data-channel="webchat"]`)
	if got := web.Find(".no-receipts").Text(); !strings.Contains(got, "2 sent") || !strings.Contains(got, "not counted as undelivered") {
		t.Errorf("web chat says %q", got)
	}
	wa := doc.Find(`.channel[data-channel="whatsapp"]`)
	if got := wa.Text(); !strings.Contains(got, "1 of 2 sent replies reported delivered") || !strings.Contains(got, "1 sent without a report yet") {
		t.Errorf("WhatsApp says %q", strings.Join(strings.Fields(got), " "))
	}
	if body := doc.Text(); strings.Contains(body, "reached its participant") {
		t.Error("the monitor claims every reply reached its participant")
	}
}

// TestBroadcastHistory: a broadcast sent from the dashboard is in the campaign's history with
// its text, audience and progress, and its page lists the recipients.
func TestBroadcastHistory(t *testing.T) {
	h := newHarness(t)
	h.MustUser("boss", "admin")
	h.MustLogin("boss")
	wantStatus(t, h.Get("/dashboard/campaigns/bouncer"), http.StatusOK)
	resp := h.Submit("/dashboard/campaigns/bouncer/broadcast", url.Values{"state": {"door"}, "text": {"Doors open at nine"}})
	wantStatus(t, resp, http.StatusSeeOther)
	doc := MustDoc(t, h.Get("/dashboard/campaigns/bouncer/broadcasts"))
	row := doc.Find("tr.broadcast")
	if row.Length() != 1 {
		t.Fatalf("%d broadcasts in the history, want 1", row.Length())
	}
	for _, want := range []string{"Doors open at nine", "everyone in door", "boss", "66%"} {
		if !strings.Contains(row.Text(), want) {
			t.Errorf("history row %q lacks %q", strings.Join(strings.Fields(row.Text()), " "), want)
		}
	}
	href, _ := row.Find("a").Attr("href")
	doc = MustDoc(t, h.Get(href))
	if got := doc.Find(".broadcast-sent .audience").Text(); got != "everyone in door" {
		t.Errorf("broadcast page audience %q", got)
	}
}

// TestExportsStreamCSV: an admin downloads a campaign's participants as CSV without phone
// numbers, with formulas defused; a moderator may not.
func TestExportsStreamCSV(t *testing.T) {
	h := newHarness(t)
	h.talker("ann", "whatsapp", "door", "hi", time.Minute, map[string]string{"name": "=HYPERLINK(\"x\")"})
	h.MustUser("mod", "moderator")
	h.MustLogin("mod")
	wantStatus(t, h.Get("/dashboard/campaigns/bouncer/export/participants.csv"), http.StatusForbidden)
	h.MustUser("boss", "admin")
	h.MustLogin("boss")
	resp := h.Get("/dashboard/campaigns/bouncer/export/participants.csv")
	wantStatus(t, resp, http.StatusOK)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("Content-Type %q", ct)
	}
	body := MustBody(t, resp)
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("parse %q: %v", body, err)
	}
	if len(rows) != 2 || rows[0][0] != "participant" || rows[1][0] != "ann" {
		t.Fatalf("rows %q", rows)
	}
	if strings.Contains(body, "+ann") {
		t.Error("the export holds the participant's address")
	}
	if !strings.Contains(body, `'=HYPERLINK`) {
		t.Errorf("the formula is not defused: %q", body)
	}
	for _, f := range []string{"entries.csv", "scores.csv"} {
		wantStatus(t, h.Get("/dashboard/campaigns/bouncer/export/"+f), http.StatusOK)
	}
	wantStatus(t, h.Get("/dashboard/campaigns/bouncer/export/passwords.csv"), http.StatusNotFound)
}

// TestWebChatCampaignShowsNoDeliveredColumn: where no channel reports deliveries, the counts
// leave out delivered, read and played instead of showing "delivered 0".
func TestWebChatCampaignShowsNoDeliveredColumn(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.talker("web", "webchat", "door", "hi", 0, nil)
	if err := h.db.Enqueue(ctx, []engine.Outbound{{ParticipantID: "web", Campaign: "bouncer", Channel: "webchat", To: "+web", Text: "Hello", DueAt: h.clock.Now()}}); err != nil {
		t.Fatal(err)
	}
	out, err := h.db.Outbox(ctx, "web")
	if err != nil || len(out) != 1 {
		t.Fatalf("outbox %v %v", out, err)
	}
	if err := h.db.MarkSent(ctx, out[0].ID, "w1", h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	h.MustUser("mod", "moderator")
	h.MustLogin("mod")
	doc := MustDoc(t, h.Get("/dashboard/campaigns/bouncer/deliveries"))
	if n := doc.Find(".count-delivered, .count-read, .count-played").Length(); n != 0 {
		t.Errorf("%d delivered/read/played counts shown for a web chat campaign", n)
	}
	if got := doc.Find(".count-sent").Text(); got != "1" {
		t.Errorf("sent = %q, want 1", got)
	}
}

// TestOverviewChartsAreAtMostAMinuteOld: the per-day series are counted again once a minute;
// the counts per state are read on every view.
func TestOverviewChartsAreAtMostAMinuteOld(t *testing.T) {
	h := newHarness(t)
	h.MustUser("mod", "moderator")
	h.MustLogin("mod")
	received := func() string {
		return MustDoc(t, h.Get("/dashboard/campaigns/bouncer")).Find(".entries-received").Text()
	}
	h.MustEntry("first")
	if got := received(); got != "1" {
		t.Fatalf("entries received = %q, want 1", got)
	}
	h.MustEntry("second")
	if got := received(); got != "1" {
		t.Errorf("within the minute: %q, want the cached 1", got)
	}
	h.clock.Advance(time.Minute)
	if got := received(); got != "2" {
		t.Errorf("a minute later: %q, want 2", got)
	}
}
