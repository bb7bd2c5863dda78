package mongo

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/chatcampaigns/campaign/pricing"
)

const colSettings = "settings"

// priceTableID is the price table's document in the settings collection.
const priceTableID = "price_table"

type priceTableDoc struct {
	ID   string `bson:"_id"`
	Text string `bson:"text"`
	By   string `bson:"by"`
	At   int64  `bson:"at"`
}

// SavePriceTable replaces the stored price table.
func (db *DB) SavePriceTable(ctx context.Context, s pricing.Source) error {
	doc := priceTableDoc{ID: priceTableID, Text: s.Text, By: s.By, At: ns(s.At)}
	_, err := db.c(colSettings).ReplaceOne(ctx, d("_id", priceTableID), doc, options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("mongo: save the price table: %w", convert(err))
	}
	return nil
}

// PriceTable returns the stored price table, or an error wrapping errs.ErrNotFound.
func (db *DB) PriceTable(ctx context.Context) (pricing.Source, error) {
	var doc priceTableDoc
	if err := db.c(colSettings).FindOne(ctx, d("_id", priceTableID)).Decode(&doc); err != nil {
		return pricing.Source{}, fmt.Errorf("mongo: the price table: %w", convert(err))
	}
	return pricing.Source{Text: doc.Text, By: doc.By, At: fromNS(doc.At)}, nil
}
