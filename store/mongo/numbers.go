package mongo

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/chatcampaigns/campaign/broadcast"
	"github.com/chatcampaigns/campaign/errs"
)

// Number health and marketing preferences (issue 16): one document per channel and number,
// and one per channel and address, each keyed by the pair in _id. A save replaces the document
// only when its time is not older than the kept one's: the filter asks for an older or equal
// time, and when a newer document exists the upsert's insert meets its _id and is dropped.
const (
	colNumberHealth = "number_health"
	colPreferences  = "marketing_preferences"
)

type numberHealthDoc struct {
	ID         string `bson:"_id"`
	Channel    string `bson:"channel"`
	Number     string `bson:"number"`
	Display    string `bson:"display"`
	Limit      int    `bson:"limit"`
	Throughput int    `bson:"throughput"`
	Quality    string `bson:"quality"`
	Status     string `bson:"status"`
	Event      string `bson:"event"`
	CheckedAt  int64  `bson:"checked_at"`
}

func (x numberHealthDoc) health() broadcast.NumberHealth {
	return broadcast.NumberHealth{Channel: x.Channel, Number: x.Number, Display: x.Display, Limit: x.Limit,
		Throughput: x.Throughput, Quality: broadcast.Quality(x.Quality), Status: x.Status, Event: x.Event,
		CheckedAt: fromNS(x.CheckedAt)}
}

type preferenceDoc struct {
	ID      string `bson:"_id"`
	Channel string `bson:"channel"`
	Address string `bson:"address"`
	Stop    bool   `bson:"stop"`
	Source  string `bson:"source"`
	At      int64  `bson:"at"`
}

// upsertNewer writes doc under id unless the kept document's timeKey is later than at.
func (db *DB) upsertNewer(ctx context.Context, coll, id, timeKey string, at int64, doc any) error {
	filter := d("_id", id)
	filter = append(filter, bson.E{Key: timeKey, Value: d("$lte", at)})
	_, err := db.c(coll).ReplaceOne(ctx, filter, doc, options.Replace().SetUpsert(true))
	if mongo.IsDuplicateKeyError(err) {
		// A document with a later time is kept (or another process inserted at this moment):
		// ask again without the upsert, which changes nothing when the kept one is newer.
		_, err = db.c(coll).ReplaceOne(ctx, filter, doc)
	}
	return err
}

// SaveNumberHealth keeps h as what is known of its channel's number; the facts with the
// latest CheckedAt win, so a read that was slower than a webhook does not undo it.
func (db *DB) SaveNumberHealth(ctx context.Context, h broadcast.NumberHealth) error {
	if h.Channel == "" || h.Number == "" {
		return fmt.Errorf("mongo: save number health: %w: want a channel and a number", errs.ErrInvalid)
	}
	id := h.Channel + "\x00" + h.Number
	doc := numberHealthDoc{ID: id, Channel: h.Channel, Number: h.Number, Display: h.Display, Limit: h.Limit,
		Throughput: h.Throughput, Quality: string(h.Quality), Status: h.Status, Event: h.Event, CheckedAt: ns(h.CheckedAt)}
	if err := db.upsertNewer(ctx, colNumberHealth, id, "checked_at", doc.CheckedAt, doc); err != nil {
		return fmt.Errorf("mongo: save number health %s/%s: %w", h.Channel, h.Number, convert(err))
	}
	return nil
}

// NumberHealth returns what is known of number on channel, or an error wrapping
// errs.ErrNotFound when nothing was ever saved for it.
func (db *DB) NumberHealth(ctx context.Context, channel, number string) (broadcast.NumberHealth, error) {
	var doc numberHealthDoc
	if err := db.c(colNumberHealth).FindOne(ctx, d("_id", channel+"\x00"+number)).Decode(&doc); err != nil {
		return broadcast.NumberHealth{}, fmt.Errorf("mongo: number health %s/%s: %w", channel, number, convert(err))
	}
	return doc.health(), nil
}

// NumberHealths returns every number's health, by channel and number.
func (db *DB) NumberHealths(ctx context.Context) ([]broadcast.NumberHealth, error) {
	cur, err := db.c(colNumberHealth).Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "channel", Value: 1}, {Key: "number", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("mongo: number healths: %w", convert(err))
	}
	var docs []numberHealthDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("mongo: number healths: %w", convert(err))
	}
	var out []broadcast.NumberHealth
	for _, x := range docs {
		out = append(out, x.health())
	}
	return out, nil
}

// SavePreference keeps p as the person's answer about marketing on its channel, unless an
// answer given later (At) is already kept: the platform does not promise webhooks in order.
func (db *DB) SavePreference(ctx context.Context, p broadcast.Preference) error {
	if p.Channel == "" || p.Address == "" {
		return fmt.Errorf("mongo: save preference: %w: want a channel and an address", errs.ErrInvalid)
	}
	id := p.Channel + "\x00" + p.Address
	doc := preferenceDoc{ID: id, Channel: p.Channel, Address: p.Address, Stop: p.StopMarketing, Source: p.Source, At: ns(p.At)}
	if err := db.upsertNewer(ctx, colPreferences, id, "at", doc.At, doc); err != nil {
		return fmt.Errorf("mongo: save preference %s/%s: %w", p.Channel, p.Address, convert(err))
	}
	return nil
}

// stoppedBatch bounds the ids of one $in: a broadcast asks about tens of thousands at once.
const stoppedBatch = 1000

// StoppedMarketing returns, of addresses on channel, those whose latest answer is a stop
// (each true); the others are absent.
func (db *DB) StoppedMarketing(ctx context.Context, channel string, addresses []string) (map[string]bool, error) {
	out := make(map[string]bool)
	for start := 0; start < len(addresses); start += stoppedBatch {
		batch := addresses[start:min(start+stoppedBatch, len(addresses))]
		ids := make([]string, len(batch))
		for i, a := range batch {
			ids[i] = channel + "\x00" + a
		}
		cur, err := db.c(colPreferences).Find(ctx, bson.D{{Key: "_id", Value: d("$in", ids)}, {Key: "stop", Value: true}},
			options.Find().SetProjection(d("address", 1)))
		if err != nil {
			return nil, fmt.Errorf("mongo: stopped marketing: %w", convert(err))
		}
		var docs []preferenceDoc
		if err := cur.All(ctx, &docs); err != nil {
			return nil, fmt.Errorf("mongo: stopped marketing: %w", convert(err))
		}
		for _, x := range docs {
			out[x.Address] = true
		}
	}
	return out, nil
}
