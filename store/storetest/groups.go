package storetest

import (
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

var groupTests = []test{
	{"SaveFindAndReplace", func(t *testing.T, s Store) {
		ctx := t.Context()
		r := engine.GroupRequest{Channel: "whatsapp", RequestID: "req-1", Campaign: campaign, Captain: "31611111111",
			MessageID: "wamid.A", Number: "1188", Name: "Red Rovers", CreatedAt: t0}
		noErr(t, "SaveGroupRequest", s.SaveGroupRequest(ctx, r))
		got, err := s.GroupRequest(ctx, "whatsapp", "req-1")
		noErr(t, "GroupRequest", err)
		equal(t, "GroupRequest", got, r)
		got, err = s.CaptainRequest(ctx, campaign, "whatsapp", "31611111111")
		noErr(t, "CaptainRequest", err)
		equal(t, "CaptainRequest", got, r)

		r.Group, r.InviteLink = "group:1203", "https://chat.whatsapp.com/AbC"
		noErr(t, "SaveGroupRequest again", s.SaveGroupRequest(ctx, r))
		got, err = s.GroupRequest(ctx, "whatsapp", "req-1")
		noErr(t, "GroupRequest after the group was made", err)
		equal(t, "GroupRequest after the group was made", got, r)

		_, err = s.GroupRequest(ctx, "whatsapp", "req-2")
		wantErr(t, "GroupRequest(unknown)", err, errs.ErrNotFound)
		_, err = s.GroupRequest(ctx, "telegram", "req-1")
		wantErr(t, "GroupRequest(other channel)", err, errs.ErrNotFound)
		_, err = s.CaptainRequest(ctx, campaign, "whatsapp", "31622222222")
		wantErr(t, "CaptainRequest(stranger)", err, errs.ErrNotFound)
		_, err = s.CaptainRequest(ctx, "other", "whatsapp", "31611111111")
		wantErr(t, "CaptainRequest(other campaign)", err, errs.ErrNotFound)
	}},
	{"CaptainRequestIsTheLatest", func(t *testing.T, s Store) {
		ctx := t.Context()
		first := engine.GroupRequest{Channel: "whatsapp", RequestID: "req-1", Campaign: campaign, Captain: "316",
			Name: "Red", Error: "131215", CreatedAt: t0}
		second := first
		second.RequestID, second.Error, second.CreatedAt = "req-0", "", t0.Add(time.Minute)
		noErr(t, "SaveGroupRequest(first)", s.SaveGroupRequest(ctx, first))
		noErr(t, "SaveGroupRequest(second)", s.SaveGroupRequest(ctx, second))
		got, err := s.CaptainRequest(ctx, campaign, "whatsapp", "316")
		noErr(t, "CaptainRequest", err)
		equal(t, "CaptainRequest", got, second)
	}},
}
