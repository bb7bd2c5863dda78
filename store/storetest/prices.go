package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/pricing"
)

// PriceStore is implemented by backends that keep the brand's price table (every backend
// here; the dashboard's prices page and the broadcast plan use it).
type PriceStore interface {
	SavePriceTable(ctx context.Context, s pricing.Source) error
	PriceTable(ctx context.Context) (pricing.Source, error)
}

func priceStore(t *testing.T, s Store) PriceStore {
	t.Helper()
	p, ok := s.(PriceStore)
	if !ok {
		t.Fatalf("%T keeps no price table", s)
	}
	return p
}

var priceTests = []test{
	{"NoneSaved", func(t *testing.T, s Store) {
		_, err := priceStore(t, s).PriceTable(t.Context())
		wantErr(t, "PriceTable before any save", err, errs.ErrNotFound)
	}},
	{"LatestWinsAsWritten", func(t *testing.T, s Store) {
		ctx, ps := t.Context(), priceStore(t, s)
		first := pricing.Source{Text: "currency,EUR\nNL,marketing,0.1\n", By: "ann", At: at(time.Minute)}
		noErr(t, "save first", ps.SavePriceTable(ctx, first))
		got, err := ps.PriceTable(ctx)
		noErr(t, "PriceTable", err)
		equal(t, "first table", got, first)
		// The admin's comments and spacing come back as written.
		second := pricing.Source{Text: "# our rates, 2026\ncurrency, USD\n\nUS,marketing,0.025\n", By: "bob", At: at(time.Hour)}
		noErr(t, "save second", ps.SavePriceTable(ctx, second))
		got, err = ps.PriceTable(ctx)
		noErr(t, "PriceTable", err)
		equal(t, "second table", got, second)
	}},
}
