package storetest

import (
	"context"
	"testing"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

var inboundTests = []test{
	{"SaveInboundRoundTrips", func(t *testing.T, s Store) {
		in := inbound("wamid.1", "31600000001", "hello Sven")
		in.Kind = engine.KindMedia
		in.Media = &engine.Media{Kind: "photo", Key: "m/1.jpg", ThumbKey: "t/1.jpg", MIME: "image/jpeg", Size: 12345}
		id := MustSaveInbound(t, s, in)
		equal(t, "PendingInbound", pending(t, s), []engine.StoredInbound{{ID: id, Inbound: in}})
	}},
	{"SaveInboundDedupes", func(t *testing.T, s Store) {
		first := inbound("wamid.1", "31600000001", "first")
		id := MustSaveInbound(t, s, first)
		again := inbound("wamid.1", "31600000001", "retried webhook, other text")
		id2, dup, err := s.SaveInbound(t.Context(), again)
		noErr(t, "second SaveInbound", err)
		if !dup {
			t.Fatal("second SaveInbound: duplicate = false, want true")
		}
		if id2 != id {
			t.Errorf("second SaveInbound: id = %d, want the first event's %d", id2, id)
		}
		equal(t, "PendingInbound", pending(t, s), []engine.StoredInbound{{ID: id, Inbound: first}})
	}},
	{"SaveInboundDedupesAfterProcessing", func(t *testing.T, s Store) {
		in := inbound("wamid.1", "31600000001", "hi")
		id := MustSaveInbound(t, s, in)
		noErr(t, "SkipInbound", s.SkipInbound(t.Context(), id, "test"))
		_, dup, err := s.SaveInbound(t.Context(), in)
		noErr(t, "SaveInbound", err)
		if !dup {
			t.Fatal("a retried webhook for a processed event must be a duplicate")
		}
		equal(t, "pending", len(pending(t, s)), 0)
	}},
	{"SaveInboundKeysOnChannelAndPlatformID", func(t *testing.T, s Store) {
		a := inbound("42", "u1", "on webchat")
		b := inbound("42", "u1", "on telegram")
		b.Channel = "telegram"
		c := inbound("43", "u1", "other id")
		for _, in := range []engine.Inbound{a, b, c} {
			MustSaveInbound(t, s, in)
		}
		equal(t, "pending", len(pending(t, s)), 3)
	}},
	{"SaveInboundWithoutPlatformIDNeverDedupes", func(t *testing.T, s Store) {
		in := inbound("", "u1", "no id")
		MustSaveInbound(t, s, in)
		MustSaveInbound(t, s, in)
		equal(t, "pending", len(pending(t, s)), 2)
	}},
	{"PendingInboundIsOldestFirstAndLimited", func(t *testing.T, s Store) {
		var ids []int64
		for _, pid := range []string{"a", "b", "c", "d"} {
			ids = append(ids, MustSaveInbound(t, s, inbound(pid, "u1", pid)))
		}
		for i := 1; i < len(ids); i++ {
			if ids[i] <= ids[i-1] {
				t.Fatalf("ids %v do not increase in storage order", ids)
			}
		}
		for _, tc := range []struct {
			limit int
			want  []int64
		}{{0, ids}, {2, ids[:2]}, {10, ids}} {
			got, err := s.PendingInbound(t.Context(), tc.limit)
			noErr(t, "PendingInbound", err)
			var gotIDs []int64
			for _, in := range got {
				gotIDs = append(gotIDs, in.ID)
			}
			equal(t, "PendingInbound ids", gotIDs, tc.want)
		}
	}},
	{"SkipInboundRemovesFromPending", func(t *testing.T, s Store) {
		a := MustSaveInbound(t, s, inbound("a", "u1", "a"))
		b := MustSaveInbound(t, s, inbound("b", "u1", "b"))
		noErr(t, "SkipInbound", s.SkipInbound(t.Context(), a, "campaign not loaded"))
		equal(t, "pending ids", pendingIDs(t, s), []int64{b})
	}},
	{"SkipInboundTwiceConflicts", func(t *testing.T, s Store) {
		a := MustSaveInbound(t, s, inbound("a", "u1", "a"))
		noErr(t, "SkipInbound", s.SkipInbound(t.Context(), a, "one"))
		wantErr(t, "second SkipInbound", s.SkipInbound(t.Context(), a, "two"), errs.ErrConflict)
	}},
	{"SkipInboundUnknownIsNotFound", func(t *testing.T, s Store) {
		wantErr(t, "SkipInbound", s.SkipInbound(context.Background(), 987654, "x"), errs.ErrNotFound)
	}},
}
