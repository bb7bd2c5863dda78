package dashboard_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/chatcampaigns/campaign/errs"
)

// fakeRounds records the rounds started and closed by hand; it knows the round harbour only.
type fakeRounds struct {
	mu    sync.Mutex
	calls []string
}

func (f *fakeRounds) act(campaign, round, what string) error {
	if round != "harbour" {
		return fmt.Errorf("fake: round %s of %s: %w", round, campaign, errs.ErrNotFound)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, what+" "+campaign+"/"+round)
	return nil
}

func (f *fakeRounds) StartRound(_ context.Context, campaign, round string) error {
	return f.act(campaign, round, "start")
}

func (f *fakeRounds) CloseRound(_ context.Context, campaign, round string) error {
	return f.act(campaign, round, "close")
}

func (f *fakeRounds) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// TestRoundsByHand: an admin starts and closes a race's round from the campaign page (the
// example race's rounds start a week after launch; without this a new user's team waited in
// the lobby); moderators and judges see no such buttons and are refused; an unknown round is
// a 404; a post without the CSRF token is refused.
func TestRoundsByHand(t *testing.T) {
	h := newHarness(t)
	page := "/dashboard/campaigns/race"
	h.MustUser("mod", "moderator")
	h.MustLogin("mod")
	if doc := MustDoc(t, h.Get(page)); doc.Find(".round-start").Length() != 0 {
		t.Error("a moderator is offered Start now")
	}
	wantStatus(t, h.Submit(page+"/rounds/harbour/start", url.Values{}), http.StatusForbidden)

	h.MustUser("ada", "admin")
	h.MustLogin("ada")
	doc := MustDoc(t, h.Get(page))
	if got := doc.Find(`.round-controls li[data-round="harbour"]`).Text(); !strings.Contains(got, "harbour") || !strings.Contains(got, "has no start date") {
		t.Errorf("round controls %q", got)
	}
	wantStatus(t, h.Post(page+"/rounds/harbour/start", url.Values{}), http.StatusForbidden) // no CSRF token
	resp := h.Submit(page+"/rounds/harbour/start", url.Values{})
	wantStatus(t, resp, http.StatusSeeOther)
	if flash := MustDoc(t, h.Follow(resp)).Find(".flash").Text(); !strings.Contains(flash, "Round harbour started") {
		t.Errorf("flash %q", flash)
	}
	wantStatus(t, h.Submit(page+"/rounds/harbour/close", url.Values{}), http.StatusSeeOther)
	wantStatus(t, h.Submit(page+"/rounds/nope/start", url.Values{}), http.StatusNotFound)
	if got, want := h.rounds.Calls(), []string{"start race/harbour", "close race/harbour"}; !slices.Equal(got, want) {
		t.Errorf("rounds acted on %q, want %q", got, want)
	}
}
