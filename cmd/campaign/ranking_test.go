package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// TestRankingPageServed: `campaign serve` wires the ranking page and its winners button: two
// web chat players score, the admin sees them ranked and picks the top, and the winner hears
// it in the chat.
func TestRankingPageServed(t *testing.T) {
	srv, clock := startServer(t, t.TempDir(), func(c *Config) {
		c.Campaigns = []string{"../../rehearsal/testdata/contract/ranking-top.yaml"}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	play := func(score, want string) <-chan chatEvent {
		p := newClient(t, srv.URL())
		events := p.events(ctx, "ranking-top")
		if code, body := p.postJSON("/play/ranking-top/join", map[string]string{}); code >= 300 {
			t.Fatalf("join: %d %s", code, body)
		}
		waitReply(t, clock, events, "Your score?")
		if code, body := p.postJSON("/play/ranking-top/messages", map[string]string{"id": "msg-000" + score, "text": score}); code >= 300 {
			t.Fatalf("score: %d %s", code, body)
		}
		waitReply(t, clock, events, want)
		return events
	}
	first := play("4", "you are number 1 of 1")
	second := play("6", "you are number 1 of 2")

	admin := newClient(t, srv.URL())
	if code, _ := admin.login("admin", srv.adminPassword); code != http.StatusSeeOther {
		t.Fatalf("login: %d", code)
	}
	if _, page := admin.do(http.MethodGet, "/dashboard/campaigns/ranking-top", "", nil); !strings.Contains(page, `href="/dashboard/campaigns/ranking-top/ranking"`) {
		t.Error("the campaign page does not link to the ranking")
	}
	code, page := admin.do(http.MethodGet, "/dashboard/campaigns/ranking-top/ranking", "", nil)
	if code != 200 {
		t.Fatalf("ranking page: %d", code)
	}
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(page))
	var values []string
	doc.Find("tr.rank .value").Each(func(_ int, s *goquery.Selection) { values = append(values, s.Text()) })
	if strings.Join(values, " ") != "6 4" {
		t.Errorf("ranked values %q, want 6 then 4", values)
	}
	if code, _ := admin.postForm("/dashboard/campaigns/ranking-top/ranking/winners", url.Values{"csrf": {csrfOf(t, page)}}); code != http.StatusSeeOther {
		t.Fatalf("pick winners: %d", code)
	}
	waitReply(t, clock, second, "You made the top 2!")
	waitReply(t, clock, first, "You made the top 2!")
}
