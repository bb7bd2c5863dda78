package storetest

import (
	"context"
	"testing"

	"github.com/chatcampaigns/campaign/errs"
)

// AliasStore is implemented by backends that keep the other names a channel knows an address
// by (a Telegram group's supergroup id).
type AliasStore interface {
	SetAlias(ctx context.Context, channel, alias, address string) error
	Alias(ctx context.Context, channel, alias string) (string, error)
}

var aliasTests = []test{
	{"SetAndFind", func(t *testing.T, s Store) {
		a, ok := s.(AliasStore)
		if !ok {
			t.Skip("the store keeps no aliases")
		}
		ctx := t.Context()
		_, err := a.Alias(ctx, "telegram", "-1001987654321")
		wantErr(t, "Alias before SetAlias", err, errs.ErrNotFound)
		noErr(t, "SetAlias", a.SetAlias(ctx, "telegram", "-1001987654321", "-4001"))
		noErr(t, "SetAlias again", a.SetAlias(ctx, "telegram", "-1001987654321", "-4001"))
		got, err := a.Alias(ctx, "telegram", "-1001987654321")
		noErr(t, "Alias", err)
		equal(t, "Alias", got, "-4001")
		_, err = a.Alias(ctx, "whatsapp", "-1001987654321")
		wantErr(t, "Alias on another channel", err, errs.ErrNotFound)
		noErr(t, "SetAlias to another address", a.SetAlias(ctx, "telegram", "-1001987654321", "-4002"))
		got, err = a.Alias(ctx, "telegram", "-1001987654321")
		noErr(t, "Alias after the second SetAlias", err)
		equal(t, "Alias after the second SetAlias", got, "-4002")
		wantErr(t, "SetAlias without an address", a.SetAlias(ctx, "telegram", "x", ""), errs.ErrInvalid)
	}},
}
