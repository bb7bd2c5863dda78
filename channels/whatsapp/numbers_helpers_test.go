package whatsapp_test

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/chatcampaigns/campaign/broadcast"
	"github.com/chatcampaigns/campaign/channels/channeltest"
	"github.com/chatcampaigns/campaign/errs"
)

// fakeNumbers keeps number health and preferences in memory, as the stores do (the facts
// with the latest time win), and records each save as "health" or "preference" for the
// conformance golden files.
type fakeNumbers struct {
	mu     sync.Mutex
	health map[string]broadcast.NumberHealth
	prefs  map[string]broadcast.Preference
	err    error
	rec    *channeltest.Recorder
}

func newFakeNumbers(rec *channeltest.Recorder) *fakeNumbers {
	return &fakeNumbers{health: map[string]broadcast.NumberHealth{}, prefs: map[string]broadcast.Preference{}, rec: rec}
}

func (f *fakeNumbers) SaveNumberHealth(_ context.Context, h broadcast.NumberHealth) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	key := h.Channel + "/" + h.Number
	if old, ok := f.health[key]; ok && h.CheckedAt.Before(old.CheckedAt) {
		return nil
	}
	f.health[key] = h
	if f.rec != nil {
		f.rec.Record("health", h)
	}
	return nil
}

// seed keeps h without recording it: what an earlier read left.
func (f *fakeNumbers) seed(h broadcast.NumberHealth) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.health[h.Channel+"/"+h.Number] = h
}

func (f *fakeNumbers) NumberHealth(_ context.Context, channel, number string) (broadcast.NumberHealth, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h, ok := f.health[channel+"/"+number]
	if !ok {
		return h, fmt.Errorf("fake: number %s/%s: %w", channel, number, errs.ErrNotFound)
	}
	return h, nil
}

func (f *fakeNumbers) NumberHealths(context.Context) ([]broadcast.NumberHealth, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []broadcast.NumberHealth
	for _, h := range f.health {
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out, nil
}

func (f *fakeNumbers) SavePreference(_ context.Context, p broadcast.Preference) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	key := p.Channel + "/" + p.Address
	if old, ok := f.prefs[key]; ok && p.At.Before(old.At) {
		return nil
	}
	f.prefs[key] = p
	if f.rec != nil {
		f.rec.Record("preference", p)
	}
	return nil
}

func (f *fakeNumbers) get(number string) (broadcast.NumberHealth, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h, ok := f.health["whatsapp/"+number]
	return h, ok
}
