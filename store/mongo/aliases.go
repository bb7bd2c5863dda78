package mongo

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/chatcampaigns/campaign/errs"
)

// An alias is one document keyed by channel and alias; its _id makes it unique.

type aliasDoc struct {
	ID      string `bson:"_id"`
	Address string `bson:"address"`
}

// SetAlias records that alias stands for address on channel; the latest call wins.
func (db *DB) SetAlias(ctx context.Context, channel, alias, address string) error {
	if channel == "" || alias == "" || address == "" {
		return fmt.Errorf("mongo: set alias: %w: want a channel, an alias and an address", errs.ErrInvalid)
	}
	id := channel + "\x00" + alias
	set := d("$set", d("address", address))
	_, err := db.c(colChatAliases).UpdateOne(ctx, d("_id", id), set, options.UpdateOne().SetUpsert(true))
	if mongo.IsDuplicateKeyError(err) {
		// Two upserts at once: the other inserted; this one now updates.
		_, err = db.c(colChatAliases).UpdateOne(ctx, d("_id", id), set)
	}
	if err != nil {
		return fmt.Errorf("mongo: set alias %s/%s: %w", channel, alias, convert(err))
	}
	return nil
}

// Alias returns what alias stands for on channel, or an error wrapping errs.ErrNotFound.
func (db *DB) Alias(ctx context.Context, channel, alias string) (string, error) {
	var doc aliasDoc
	err := db.c(colChatAliases).FindOne(ctx, d("_id", channel+"\x00"+alias)).Decode(&doc)
	if err != nil {
		return "", fmt.Errorf("mongo: alias %s/%s: %w", channel, alias, convert(err))
	}
	return doc.Address, nil
}
