package mongo

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

type mediaDoc struct {
	Kind     string `bson:"kind"`
	Key      string `bson:"key"`
	ThumbKey string `bson:"thumb_key,omitempty"`
	MIME     string `bson:"mime,omitempty"`
	Size     int64  `bson:"size,omitempty"`
}

type locationDoc struct {
	Lat     float64 `bson:"lat"`
	Lng     float64 `bson:"lng"`
	Name    string  `bson:"name,omitempty"`
	Address string  `bson:"address,omitempty"`
}

// inboundDoc is a stored event. dedupe is channel and platform id joined, unique; an event
// without a platform id gets a key no identified event can have (it starts with \x01, which no
// channel name does), so it is never anyone's duplicate.
type inboundDoc struct {
	ID            int64        `bson:"_id"`
	Dedupe        string       `bson:"dedupe"`
	Channel       string       `bson:"channel"`
	PlatformID    string       `bson:"platform_id"`
	Campaign      string       `bson:"campaign"`
	From          string       `bson:"from"`
	Name          string       `bson:"name"`
	ParticipantID string       `bson:"participant_id"`
	Kind          string       `bson:"kind"`
	Text          string       `bson:"text"`
	Media         *mediaDoc    `bson:"media,omitempty"`
	Verdict       string       `bson:"verdict,omitempty"`
	EntryID       string       `bson:"entry_id,omitempty"`
	Choice        string       `bson:"choice,omitempty"`
	Location      *locationDoc `bson:"location,omitempty"`
	ReplyTo       string       `bson:"reply_to,omitempty"`
	Timer         string       `bson:"timer,omitempty"`
	Seq           int64        `bson:"seq,omitempty"`
	Round         string       `bson:"round,omitempty"`
	RoundEvent    string       `bson:"round_event,omitempty"`
	Agent         string       `bson:"agent,omitempty"`
	Locale        string       `bson:"locale,omitempty"`
	To            string       `bson:"to,omitempty"`
	At            int64        `bson:"at"`
	Processed     bool         `bson:"processed"`
	SkipReason    string       `bson:"skip_reason,omitempty"`
	// Step is the intent of a step answering a stranger, whose only owner is the event.
	Step *strangerStep `bson:"step,omitempty"`
}

func dedupeKey(channel, platformID string, id int64) string {
	if platformID == "" {
		return "\x01" + strconv.FormatInt(id, 10)
	}
	return channel + "\x00" + platformID
}

func toInboundDoc(id int64, in engine.Inbound) inboundDoc {
	doc := inboundDoc{ID: id, Dedupe: dedupeKey(in.Channel, in.PlatformID, id), Channel: in.Channel,
		PlatformID: in.PlatformID, Campaign: in.Campaign, From: in.From, Name: in.Name,
		ParticipantID: in.ParticipantID, Kind: string(in.Kind), Text: in.Text, Verdict: in.Verdict,
		EntryID: in.EntryID, Choice: in.Choice, ReplyTo: in.ReplyTo, Timer: in.Timer, Seq: in.Seq,
		Round: in.Round, RoundEvent: in.RoundEvent, Agent: in.Agent, Locale: in.Locale, To: in.To, At: ns(in.At)}
	if m := in.Media; m != nil {
		doc.Media = &mediaDoc{Kind: m.Kind, Key: m.Key, ThumbKey: m.ThumbKey, MIME: m.MIME, Size: m.Size}
	}
	if l := in.Location; l != nil {
		doc.Location = &locationDoc{Lat: l.Latitude, Lng: l.Longitude, Name: l.Name, Address: l.Address}
	}
	return doc
}

func (doc inboundDoc) stored() engine.StoredInbound {
	in := engine.Inbound{Channel: doc.Channel, PlatformID: doc.PlatformID, Campaign: doc.Campaign,
		From: doc.From, Name: doc.Name, ParticipantID: doc.ParticipantID, Kind: engine.Kind(doc.Kind),
		Text: doc.Text, Verdict: doc.Verdict, EntryID: doc.EntryID, Choice: doc.Choice,
		ReplyTo: doc.ReplyTo, Timer: doc.Timer, Seq: doc.Seq, Round: doc.Round,
		RoundEvent: doc.RoundEvent, Agent: doc.Agent, Locale: doc.Locale, To: doc.To, At: fromNS(doc.At)}
	if m := doc.Media; m != nil {
		in.Media = &engine.Media{Kind: m.Kind, Key: m.Key, ThumbKey: m.ThumbKey, MIME: m.MIME, Size: m.Size}
	}
	if l := doc.Location; l != nil {
		in.Location = &engine.Location{Latitude: l.Lat, Longitude: l.Lng, Name: l.Name, Address: l.Address}
	}
	return engine.StoredInbound{ID: doc.ID, Inbound: in}
}

// insertInbound stores doc unless its dedupe key is taken, and then returns the id of the
// event stored first. A taken _id means an earlier attempt at the same intent stored doc
// itself, which counts as new.
func (db *DB) insertInbound(ctx context.Context, doc inboundDoc) (id int64, duplicate bool, err error) {
	_, err = db.c(colInbound).InsertOne(ctx, doc)
	if err == nil {
		return doc.ID, false, nil
	}
	if !mongo.IsDuplicateKeyError(err) {
		return 0, false, err
	}
	var first struct {
		ID int64 `bson:"_id"`
	}
	err = db.c(colInbound).FindOne(ctx, d("dedupe", doc.Dedupe),
		options.FindOne().SetProjection(d("_id", 1))).Decode(&first)
	if err != nil {
		return 0, false, err
	}
	return first.ID, first.ID != doc.ID, nil
}

// SaveInbound stores an event durably. A second event with the same Channel and PlatformID
// stores nothing and reports duplicate=true with the first event's id; an event without a
// PlatformID is never a duplicate. The event is written with the server's default write
// concern: on a replica set, point the URI at w=majority for it to survive a fail-over.
func (db *DB) SaveInbound(ctx context.Context, in engine.Inbound) (int64, bool, error) {
	id, err := db.next(ctx, 1)
	if err != nil {
		return 0, false, fmt.Errorf("mongo: save inbound %s/%s: %w", in.Channel, in.PlatformID, err)
	}
	id, dup, err := db.insertInbound(ctx, toInboundDoc(id, in))
	if err != nil {
		return 0, false, fmt.Errorf("mongo: save inbound %s/%s: %w", in.Channel, in.PlatformID, convert(err))
	}
	return id, dup, nil
}

// PendingInbound returns up to limit unprocessed events in id order (all when limit <= 0).
func (db *DB) PendingInbound(ctx context.Context, limit int) ([]engine.StoredInbound, error) {
	return db.PendingInboundExcept(ctx, nil, limit)
}

// PendingInboundExcept is PendingInbound without the events of the except campaigns.
func (db *DB) PendingInboundExcept(ctx context.Context, except []string, limit int) ([]engine.StoredInbound, error) {
	filter := d("processed", false)
	if len(except) > 0 {
		filter = append(filter, bson.E{Key: "campaign", Value: d("$nin", except)})
	}
	opts := options.Find().SetSort(d("_id", 1))
	if limit > 0 {
		opts.SetLimit(int64(limit))
	}
	var docs []inboundDoc
	if err := find(ctx, db.c(colInbound), filter, opts, &docs); err != nil {
		return nil, fmt.Errorf("mongo: pending inbound: %w", err)
	}
	out := make([]engine.StoredInbound, len(docs))
	for i, doc := range docs {
		out[i] = doc.stored()
	}
	return out, nil
}

func find(ctx context.Context, c *mongo.Collection, filter bson.D, opts *options.FindOptionsBuilder, into any) error {
	cur, err := c.Find(ctx, filter, opts)
	if err != nil {
		return convert(err)
	}
	return convert(cur.All(ctx, into))
}

// markProcessed consumes an event once; a second consumer gets errs.ErrConflict.
func (db *DB) markProcessed(ctx context.Context, id int64, reason string) error {
	set := d("processed", true)
	if reason != "" {
		set = append(set, bson.E{Key: "skip_reason", Value: reason})
	}
	res, err := db.c(colInbound).UpdateOne(ctx, d("_id", id, "processed", false), d("$set", set))
	if err != nil {
		return err
	}
	if res.MatchedCount == 1 {
		return nil
	}
	n, err := db.c(colInbound).CountDocuments(ctx, d("_id", id))
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("inbound %d: %w", id, errs.ErrNotFound)
	}
	return fmt.Errorf("inbound %d: %w", id, engine.ErrProcessed)
}

// SkipInbound marks an event processed without other effects, recording why. It returns
// errs.ErrNotFound for an unknown event and engine.ErrProcessed (an errs.ErrConflict) for one
// already processed.
func (db *DB) SkipInbound(ctx context.Context, id int64, reason string) error {
	if err := db.markProcessed(ctx, id, reason); err != nil {
		return fmt.Errorf("mongo: skip inbound %d: %w", id, convert(err))
	}
	return nil
}

// StoreEvents stores events (duplicates ignored) and, when timerID is not 0, retires that timer.
// The timer is claimed first, in one update that also records the events to store, so exactly
// one caller wins it and a crash after the claim is finished by Recover. It fails with
// errs.ErrNotFound, storing nothing, when the timer is gone (fired or cancelled).
func (db *DB) StoreEvents(ctx context.Context, timerID int64, events []engine.Inbound) (int, error) {
	first, err := db.next(ctx, len(events))
	if err != nil {
		return 0, fmt.Errorf("mongo: store events: %w", err)
	}
	docs := make([]inboundDoc, len(events))
	for i, in := range events {
		docs[i] = toInboundDoc(first+int64(i), in)
	}
	if timerID != 0 {
		res, err := db.c(colTimers).UpdateOne(ctx, d("_id", timerID, "active", true),
			d("$set", d("active", false, "firing", docs)))
		if err != nil {
			return 0, fmt.Errorf("mongo: store events of timer %d: %w", timerID, convert(err))
		}
		if res.MatchedCount == 0 {
			return 0, fmt.Errorf("mongo: store events: timer %d: %w", timerID, errs.ErrNotFound)
		}
	}
	n, err := db.storeAll(ctx, docs)
	if err != nil {
		return 0, fmt.Errorf("mongo: store events: %w", convert(err))
	}
	if timerID != 0 {
		if _, err := db.c(colTimers).UpdateOne(ctx, d("_id", timerID), d("$unset", d("firing", ""))); err != nil {
			return n, fmt.Errorf("mongo: store events of timer %d: %w", timerID, convert(err))
		}
	}
	return n, nil
}

func (db *DB) storeAll(ctx context.Context, docs []inboundDoc) (int, error) {
	n := 0
	for _, doc := range docs {
		_, dup, err := db.insertInbound(ctx, doc)
		if err != nil {
			return n, err
		}
		if !dup {
			n++
		}
	}
	return n, nil
}

// errIsNotFound reports whether a FindOne found nothing.
func errIsNotFound(err error) bool { return errors.Is(err, mongo.ErrNoDocuments) }
