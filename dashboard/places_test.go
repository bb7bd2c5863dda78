package dashboard_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/dashboard"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/store/sqlite"
)

// walkerPID is a participant of the fake conversations who shared a location.
const walkerPID = "walker"

// storePools is dashboard.Pools on the harness's store, as the engine gives it.
type storePools struct{ db *sqlite.DB }

func (s storePools) CodesLeft(ctx context.Context, campaign, pool string) (int, int, error) {
	return s.db.CodesLeft(ctx, campaign, pool)
}

func (s storePools) PlacesTaken(ctx context.Context, campaign, pool string) (int, error) {
	return s.db.PoolTaken(ctx, campaign, pool)
}

// TestCampaignPagePools: the campaign page says how many codes are left in a pool of codes,
// and how many places of a pool with a capacity are taken.
func TestCampaignPagePools(t *testing.T) {
	h := newHarness(t)
	def := &campaigns.Definition{ID: "hunt", Title: "Hunt", Version: "v1", Start: "go", Order: []string{"go"},
		States: map[string]*campaigns.State{"go": {Name: "go", Final: true}},
		Pools: map[string]*campaigns.Pool{
			"prizes":  {Name: "prizes", Codes: []string{"A1", "B2", "C3"}, Capacity: 3},
			"tickets": {Name: "tickets", Capacity: 10},
		}}
	h.camps.list = append(h.camps.list, dashboard.CampaignInfo{Def: def, Status: "live", Counts: map[string]int{}})
	ctx := t.Context()
	if _, err := h.db.AddCodes(ctx, "hunt", "prizes", def.Pools["prizes"].Codes); err != nil {
		t.Fatal(err)
	}
	now := h.clock.Now()
	p := engine.Participant{ID: "p-hunt", Campaign: "hunt", Channel: "webchat", Address: "x", State: "go",
		Vars: map[string]string{}, Version: 1, CreatedAt: now, UpdatedAt: now}
	err := h.db.Commit(ctx, engine.Step{Created: true, Participant: p,
		Claims: []engine.CodeClaim{{Campaign: "hunt", Pool: "prizes", Code: "A1"}},
		Places: []engine.Place{{Campaign: "hunt", Pool: "tickets", Capacity: 10}}})
	if err != nil {
		t.Fatal(err)
	}
	h.MustUser("mod", dashboard.RoleModerator)
	h.MustLogin("mod")
	doc := MustDoc(t, h.Get("/dashboard/campaigns/hunt"))
	if got := doc.Find(`li.pool[data-pool=prizes]`).Text(); got != "prizes: 2 of 3 codes left" {
		t.Errorf("prizes = %q", got)
	}
	if got := doc.Find(`li.pool[data-pool=tickets]`).Text(); got != "tickets: 1 of 10 places taken" {
		t.Errorf("tickets = %q", got)
	}
	if doc := MustDoc(t, h.Get("/dashboard/campaigns/bouncer")); doc.Find("ul.pools").Length() != 0 {
		t.Error("a campaign without pools shows a pools list")
	}
}

// TestMapLinks: a moderator sees where a participant shared their location, and where an
// entry was sent from, on OpenStreetMap.
func TestMapLinks(t *testing.T) {
	h := newHarness(t)
	h.MustUser("mod", dashboard.RoleModerator)
	h.MustLogin("mod")
	const dam = "https://www.openstreetmap.org/?mlat=52.3731&mlon=4.8922#map=17/52.3731/4.8922"
	doc := MustDoc(t, h.Get("/dashboard/campaigns/bouncer/participants/"+walkerPID))
	if href, _ := doc.Find("p.location a.map").Attr("href"); href != dam {
		t.Errorf("last shared location links to %q, want %q", href, dam)
	}
	links := doc.Find(".line a.map")
	if links.Length() != 1 {
		t.Fatalf("%d map links in the transcript, want 1 (the shared location, not a reply or an impossible place)", links.Length())
	}
	if href, _ := links.Attr("href"); href != dam {
		t.Errorf("transcript map link = %q, want %q", href, dam)
	}

	e := h.MustEntry("at the dam")
	at := h.clock.Now().Add(time.Hour)
	in := engine.Inbound{Channel: "whatsapp", PlatformID: "wamid.loc", Campaign: "bouncer", From: "+31600000009",
		ParticipantID: "p-loc", Kind: engine.KindMedia, At: at, Media: &engine.Media{Kind: "photo", Key: "m/loc.jpg"}}
	id, _, err := h.db.SaveInbound(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	located := engine.Entry{ID: "e-loc", Campaign: "bouncer", ParticipantID: "p-loc", State: "door", Kind: "photo",
		MediaKey: "m/loc.jpg", MIME: "image/jpeg", Location: "52.3731,4.8922", CreatedAt: at}
	err = h.db.Commit(t.Context(), engine.Step{InboundID: id, Created: true, Entries: []engine.Entry{located},
		Participant: engine.Participant{ID: "p-loc", Campaign: "bouncer", Channel: "whatsapp", Address: "+31600000009",
			State: "door", Vars: map[string]string{}, Version: 1, CreatedAt: at, UpdatedAt: at}})
	if err != nil {
		t.Fatal(err)
	}
	doc = MustDoc(t, h.Get("/dashboard/entries/e-loc"))
	if href, _ := doc.Find("dd.location a.map").Attr("href"); href != dam {
		t.Errorf("entry map link = %q, want %q", href, dam)
	}
	if doc := MustDoc(t, h.Get("/dashboard/entries/"+url.PathEscape(e.ID))); doc.Find("dd.location").Length() != 0 {
		t.Error("an entry without a location shows one")
	}
	doc = MustDoc(t, h.Get("/dashboard/entries?status=pending"))
	if href, _ := doc.Find(`li.entry[data-id=e-loc] dd.location a.map`).Attr("href"); href != dam {
		t.Errorf("entries list map link = %q, want %q", href, dam)
	}
}
