package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/broadcast"
	"github.com/chatcampaigns/campaign/errs"
)

// NumberStore is what a backend keeps of the sending numbers' health and of people's
// marketing preferences (issue 16): the facts a channel read or was told last, one row per
// channel and number, and each person's latest answer about marketing messages.
type NumberStore interface {
	SaveNumberHealth(ctx context.Context, h broadcast.NumberHealth) error
	NumberHealth(ctx context.Context, channel, number string) (broadcast.NumberHealth, error)
	NumberHealths(ctx context.Context) ([]broadcast.NumberHealth, error)
	SavePreference(ctx context.Context, p broadcast.Preference) error
	StoppedMarketing(ctx context.Context, channel string, addresses []string) (map[string]bool, error)
}

func numbers(t *testing.T, s Store) NumberStore {
	t.Helper()
	n, ok := s.(NumberStore)
	if !ok {
		t.Fatal("the store keeps no number health (both stores must: broadcasts depend on it)")
	}
	return n
}

func health(number string, limit int, q broadcast.Quality, d time.Duration) broadcast.NumberHealth {
	return broadcast.NumberHealth{Channel: "whatsapp", Number: number, Display: "+31 6 1234 " + number,
		Limit: limit, Throughput: 80, Quality: q, Status: "CONNECTED", CheckedAt: at(d)}
}

var numberTests = []test{
	{"HealthLatestWins", func(t *testing.T, s Store) {
		n, ctx := numbers(t, s), t.Context()
		_, err := n.NumberHealth(ctx, "whatsapp", "1001")
		wantErr(t, "NumberHealth before any save", err, errs.ErrNotFound)
		first := health("1001", 2000, broadcast.QualityGreen, 0)
		noErr(t, "SaveNumberHealth", n.SaveNumberHealth(ctx, first))
		got, err := n.NumberHealth(ctx, "whatsapp", "1001")
		noErr(t, "NumberHealth", err)
		equal(t, "NumberHealth", got, first)

		later := health("1001", 10000, broadcast.QualityYellow, time.Hour)
		later.Event, later.Status, later.Throughput = "FLAGGED", "FLAGGED", 1000
		noErr(t, "SaveNumberHealth later", n.SaveNumberHealth(ctx, later))
		got, err = n.NumberHealth(ctx, "whatsapp", "1001")
		noErr(t, "NumberHealth after the later save", err)
		equal(t, "NumberHealth after the later save", got, later)

		// A read that began before the webhook but was saved after it is older news.
		stale := health("1001", 250, broadcast.QualityGreen, time.Minute)
		noErr(t, "SaveNumberHealth of older facts", n.SaveNumberHealth(ctx, stale))
		got, err = n.NumberHealth(ctx, "whatsapp", "1001")
		noErr(t, "NumberHealth after older facts", err)
		equal(t, "NumberHealth after older facts", got, later)
	}},
	{"HealthUnlimitedAndUnknown", func(t *testing.T, s Store) {
		n, ctx := numbers(t, s), t.Context()
		unlimited := health("2002", broadcast.Unlimited, broadcast.QualityGreen, 0)
		unknown := broadcast.NumberHealth{Channel: "whatsapp", Number: "3003", CheckedAt: at(0)}
		noErr(t, "save unlimited", n.SaveNumberHealth(ctx, unlimited))
		noErr(t, "save unknown", n.SaveNumberHealth(ctx, unknown))
		got, err := n.NumberHealth(ctx, "whatsapp", "2002")
		noErr(t, "NumberHealth unlimited", err)
		equal(t, "unlimited", got.Limit, broadcast.Unlimited)
		got, err = n.NumberHealth(ctx, "whatsapp", "3003")
		noErr(t, "NumberHealth unknown", err)
		equal(t, "unknown", got, unknown)
	}},
	{"HealthsListsEveryNumber", func(t *testing.T, s Store) {
		n, ctx := numbers(t, s), t.Context()
		all, err := n.NumberHealths(ctx)
		noErr(t, "NumberHealths of an empty store", err)
		equal(t, "NumberHealths of an empty store", len(all), 0)
		b := health("1002", 2000, broadcast.QualityGreen, 0)
		a := health("1001", 250, broadcast.QualityRed, 0)
		other := health("1001", 1000, broadcast.QualityGreen, 0)
		other.Channel = "messenger"
		for _, h := range []broadcast.NumberHealth{b, a, other, health("1002", 2000, broadcast.QualityGreen, time.Second)} {
			noErr(t, "SaveNumberHealth "+h.Channel+"/"+h.Number, n.SaveNumberHealth(ctx, h))
		}
		b.CheckedAt = at(time.Second)
		all, err = n.NumberHealths(ctx)
		noErr(t, "NumberHealths", err)
		// By channel, then number: the dashboard lists them in this order.
		equal(t, "NumberHealths", all, []broadcast.NumberHealth{other, a, b})
		_, err = n.NumberHealth(ctx, "telegram", "1001")
		wantErr(t, "NumberHealth on another channel", err, errs.ErrNotFound)
	}},
	{"HealthRefusesNoNumber", func(t *testing.T, s Store) {
		n, ctx := numbers(t, s), t.Context()
		wantErr(t, "SaveNumberHealth without a number", n.SaveNumberHealth(ctx, broadcast.NumberHealth{Channel: "whatsapp"}), errs.ErrInvalid)
		wantErr(t, "SaveNumberHealth without a channel", n.SaveNumberHealth(ctx, broadcast.NumberHealth{Number: "1"}), errs.ErrInvalid)
	}},
	{"StoppedMarketing", func(t *testing.T, s Store) {
		n, ctx := numbers(t, s), t.Context()
		pref := func(channel, address string, stop bool, d time.Duration) broadcast.Preference {
			return broadcast.Preference{Channel: channel, Address: address, StopMarketing: stop, Source: "user_preferences", At: at(d)}
		}
		got, err := n.StoppedMarketing(ctx, "whatsapp", nil)
		noErr(t, "StoppedMarketing of nobody", err)
		equal(t, "StoppedMarketing of nobody", len(got), 0)
		// More addresses than one query's parameters allow, to see the store splits the list.
		var many []string
		for i := range 1200 {
			many = append(many, fmt.Sprintf("31600%06d", i))
		}
		for _, p := range []broadcast.Preference{
			pref("whatsapp", many[0], true, 0),
			pref("whatsapp", many[1], true, 0),
			pref("whatsapp", many[1], false, time.Hour), // resumed after the stop
			pref("whatsapp", many[2], false, 0),
			pref("whatsapp", many[3], false, 0),
			pref("whatsapp", many[3], true, time.Hour), // stopped again
			pref("whatsapp", many[1150], true, 0),
			pref("messenger", many[4], true, 0), // another channel's stop
			// A webhook delivered late: older than what is known, so it changes nothing.
			pref("whatsapp", many[1], true, time.Minute),
			pref("whatsapp", many[3], false, time.Minute),
		} {
			noErr(t, "SavePreference "+p.Address, n.SavePreference(ctx, p))
		}
		got, err = n.StoppedMarketing(ctx, "whatsapp", many)
		noErr(t, "StoppedMarketing", err)
		equal(t, "StoppedMarketing", got, map[string]bool{many[0]: true, many[3]: true, many[1150]: true})
		got, err = n.StoppedMarketing(ctx, "messenger", many[:10])
		noErr(t, "StoppedMarketing on messenger", err)
		equal(t, "StoppedMarketing on messenger", got, map[string]bool{many[4]: true})
		got, err = n.StoppedMarketing(ctx, "telegram", many[:10])
		noErr(t, "StoppedMarketing on telegram", err)
		equal(t, "StoppedMarketing on telegram", len(got), 0)
		wantErr(t, "SavePreference without an address", n.SavePreference(ctx, broadcast.Preference{Channel: "whatsapp"}), errs.ErrInvalid)
	}},
}
