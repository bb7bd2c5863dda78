package mongo

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/chatcampaigns/campaign/broadcast"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

var (
	_ broadcast.Store   = (*DB)(nil)
	_ broadcast.Numbers = (*DB)(nil)
)

// Collections of the paced broadcasts (package broadcast).
const (
	colPaced      = "paced_broadcasts"
	colRecipients = "broadcast_recipients"
)

func init() {
	indexes = append(indexes,
		index{colPaced, bson.D{{Key: "status", Value: 1}, {Key: "at", Value: -1}}, false},
		index{colPaced, bson.D{{Key: "campaign", Value: 1}, {Key: "at", Value: -1}}, false},
		index{colRecipients, bson.D{{Key: "broadcast_id", Value: 1}, {Key: "status", Value: 1}, {Key: "seq", Value: 1}}, false},
		index{colRecipients, bson.D{{Key: "broadcast_id", Value: 1}, {Key: "participant_id", Value: 1}}, true},
		index{colRecipients, bson.D{{Key: "channel", Value: 1}, {Key: "number", Value: 1}, {Key: "template", Value: 1}, {Key: "released_at", Value: 1}}, false},
		index{colRecipients, bson.D{{Key: "channel", Value: 1}, {Key: "address", Value: 1}, {Key: "released_at", Value: 1}}, false},
		index{colRecipients, bson.D{{Key: "releasing", Value: 1}}, false},
	)
}

type pacedDoc struct {
	ID           string `bson:"_id"`
	Campaign     string `bson:"campaign"`
	Status       string `bson:"status"`
	PausedReason string `bson:"paused_reason"`
	Baseline     string `bson:"baseline"`
	Channel      string `bson:"channel"`
	Number       string `bson:"number"`
	// Request and Plan are JSON, as the SQLite store keeps them: one shape to decode.
	Request   string `bson:"request"`
	Plan      string `bson:"plan"`
	At        int64  `bson:"at"`
	UpdatedAt int64  `bson:"updated_at"`
}

func (p pacedDoc) broadcast() (broadcast.Broadcast, error) {
	b := broadcast.Broadcast{ID: p.ID, Status: broadcast.Status(p.Status), PausedReason: p.PausedReason,
		Baseline: broadcast.Quality(p.Baseline), Channel: p.Channel, Number: p.Number, At: fromNS(p.At), UpdatedAt: fromNS(p.UpdatedAt)}
	if err := json.Unmarshal([]byte(p.Request), &b.Request); err != nil {
		return b, fmt.Errorf("decode request: %w", err)
	}
	if err := json.Unmarshal([]byte(p.Plan), &b.Plan); err != nil {
		return b, fmt.Errorf("decode plan: %w", err)
	}
	return b, nil
}

type recipientDoc struct {
	ID            string `bson:"_id"`
	BroadcastID   string `bson:"broadcast_id"`
	Seq           int64  `bson:"seq"`
	ParticipantID string `bson:"participant_id"`
	Channel       string `bson:"channel"`
	Number        string `bson:"number"`
	Address       string `bson:"address"`
	Country       string `bson:"country"`
	Template      bool   `bson:"template"`
	Status        string `bson:"status"`
	Reason        string `bson:"reason"`
	ReleasedAt    int64  `bson:"released_at"`
	OutboxID      int64  `bson:"outbox_id"`
	UpdatedAt     int64  `bson:"updated_at"`
	// Releasing is the outbox row a release still has to insert (the intent, with its id
	// fixed): whoever finds it inserts it, once (Recover).
	Releasing *outboxDoc `bson:"releasing,omitempty"`
}

func recipientID(broadcastID string, seq int64) string {
	return fmt.Sprintf("%s:%012d", broadcastID, seq)
}

func (r recipientDoc) recipient() broadcast.Recipient {
	return broadcast.Recipient{Seq: r.Seq, ParticipantID: r.ParticipantID, Channel: r.Channel, Number: r.Number,
		Address: r.Address, Country: r.Country, Template: r.Template, Status: r.Status, Reason: r.Reason,
		ReleasedAt: fromNS(r.ReleasedAt), OutboxID: r.OutboxID, UpdatedAt: fromNS(r.UpdatedAt)}
}

// StartBroadcast stores a paced broadcast and its recipients: the recipients first, the
// broadcast last, so a broadcast that is found has all its recipients.
func (db *DB) StartBroadcast(ctx context.Context, b broadcast.Broadcast, rs []broadcast.Recipient) error {
	req, err := json.Marshal(b.Request)
	if err != nil {
		return fmt.Errorf("mongo: start broadcast %s: %w", b.ID, err)
	}
	plan, err := json.Marshal(b.Plan)
	if err != nil {
		return fmt.Errorf("mongo: start broadcast %s: %w", b.ID, err)
	}
	if n, err := db.c(colPaced).CountDocuments(ctx, d("_id", b.ID)); err != nil || n > 0 {
		if err == nil {
			err = errs.ErrConflict
		}
		return fmt.Errorf("mongo: start broadcast %s: %w", b.ID, convert(err))
	}
	const chunk = 1000
	for start := 0; start < len(rs); start += chunk {
		docs := make([]any, 0, chunk)
		for i, r := range rs[start:min(start+chunk, len(rs))] {
			seq := int64(start + i + 1)
			docs = append(docs, recipientDoc{ID: recipientID(b.ID, seq), BroadcastID: b.ID, Seq: seq, ParticipantID: r.ParticipantID,
				Channel: r.Channel, Number: r.Number, Address: r.Address, Country: r.Country, Template: r.Template,
				Status: r.Status, Reason: r.Reason, ReleasedAt: ns(r.ReleasedAt), OutboxID: r.OutboxID, UpdatedAt: ns(r.UpdatedAt)})
		}
		if _, err := db.c(colRecipients).InsertMany(ctx, docs); err != nil {
			return fmt.Errorf("mongo: start broadcast %s: %w", b.ID, convert(err))
		}
	}
	doc := pacedDoc{ID: b.ID, Campaign: b.Request.Campaign, Status: string(b.Status), PausedReason: b.PausedReason,
		Baseline: string(b.Baseline), Channel: b.Channel, Number: b.Number, Request: string(req), Plan: string(plan),
		At: ns(b.At), UpdatedAt: ns(b.UpdatedAt)}
	if _, err := db.c(colPaced).InsertOne(ctx, doc); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			err = errs.ErrConflict
		}
		return fmt.Errorf("mongo: start broadcast %s: %w", b.ID, convert(err))
	}
	return nil
}

// UpdateBroadcast stores a broadcast's status, paused reason, baseline and time.
func (db *DB) UpdateBroadcast(ctx context.Context, b broadcast.Broadcast) error {
	res, err := db.c(colPaced).UpdateOne(ctx, d("_id", b.ID), d("$set", d("status", string(b.Status),
		"paused_reason", b.PausedReason, "baseline", string(b.Baseline), "updated_at", ns(b.UpdatedAt))))
	if err == nil && res.MatchedCount == 0 {
		err = errs.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("mongo: update broadcast %s: %w", b.ID, convert(err))
	}
	return nil
}

// PacedBroadcast returns one paced broadcast; errs.ErrNotFound for an unknown one.
func (db *DB) PacedBroadcast(ctx context.Context, id string) (broadcast.Broadcast, error) {
	var doc pacedDoc
	if err := db.c(colPaced).FindOne(ctx, d("_id", id)).Decode(&doc); err != nil {
		return broadcast.Broadcast{}, fmt.Errorf("mongo: broadcast %s: %w", id, convert(err))
	}
	b, err := doc.broadcast()
	if err != nil {
		return broadcast.Broadcast{}, fmt.Errorf("mongo: broadcast %s: %w", id, err)
	}
	return b, nil
}

// PacedBroadcasts lists paced broadcasts newest first, of a campaign and in a status when given.
func (db *DB) PacedBroadcasts(ctx context.Context, campaign string, status broadcast.Status, limit int) ([]broadcast.Broadcast, error) {
	filter := bson.D{}
	if campaign != "" {
		filter = append(filter, bson.E{Key: "campaign", Value: campaign})
	}
	if status != "" {
		filter = append(filter, bson.E{Key: "status", Value: string(status)})
	}
	opts := options.Find().SetSort(d("at", -1, "_id", -1))
	if limit > 0 {
		opts.SetLimit(int64(limit))
	}
	var docs []pacedDoc
	if err := find(ctx, db.c(colPaced), filter, opts, &docs); err != nil {
		return nil, fmt.Errorf("mongo: broadcasts: %w", err)
	}
	out := make([]broadcast.Broadcast, 0, len(docs))
	for _, doc := range docs {
		b, err := doc.broadcast()
		if err != nil {
			return nil, fmt.Errorf("mongo: broadcast %s: %w", doc.ID, err)
		}
		out = append(out, b)
	}
	return out, nil
}

// BroadcastRecipientList returns a page of a broadcast's recipients in Seq order.
func (db *DB) BroadcastRecipientList(ctx context.Context, id, status string, after int64, limit int) ([]broadcast.Recipient, error) {
	filter := d("broadcast_id", id)
	if status != "" {
		filter = append(filter, bson.E{Key: "status", Value: status})
	}
	filter = append(filter, bson.E{Key: "seq", Value: d("$gt", after)})
	opts := options.Find().SetSort(d("seq", 1))
	if limit > 0 {
		opts.SetLimit(int64(limit))
	}
	var docs []recipientDoc
	if err := find(ctx, db.c(colRecipients), filter, opts, &docs); err != nil {
		return nil, fmt.Errorf("mongo: recipients of broadcast %s: %w", id, err)
	}
	out := make([]broadcast.Recipient, len(docs))
	for i, doc := range docs {
		out[i] = doc.recipient()
	}
	return out, nil
}

// RecipientsOf returns the broadcast's recipients among the participants given.
func (db *DB) RecipientsOf(ctx context.Context, id string, participantIDs []string) ([]broadcast.Recipient, error) {
	var out []broadcast.Recipient
	for start := 0; start < len(participantIDs); start += 500 {
		var docs []recipientDoc
		filter := d("broadcast_id", id, "participant_id", d("$in", participantIDs[start:min(start+500, len(participantIDs))]))
		if err := find(ctx, db.c(colRecipients), filter, options.Find().SetSort(d("seq", 1)), &docs); err != nil {
			return nil, fmt.Errorf("mongo: recipients of broadcast %s: %w", id, err)
		}
		for _, doc := range docs {
			out = append(out, doc.recipient())
		}
	}
	slices.SortFunc(out, func(a, b broadcast.Recipient) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, nil
}

// ReleaseRecipients settles waiting recipients and queues their messages. Each recipient's
// update is conditional on its still waiting and records the outbox row it releases (id
// fixed in advance) as an intent; the rows are inserted next and the intents cleared. A
// crash in between leaves intents that Recover finishes: a message is queued once.
func (db *DB) ReleaseRecipients(ctx context.Context, id string, rs []broadcast.Recipient, out []engine.Outbound) (int, error) {
	if len(out) != len(rs) {
		return 0, fmt.Errorf("mongo: release recipients of %s: %w: %d messages for %d recipients", id, errs.ErrInvalid, len(out), len(rs))
	}
	messages := 0
	for _, o := range out {
		if o.Channel != "" {
			messages++
		}
	}
	next, err := db.next(ctx, messages)
	if err != nil {
		return 0, fmt.Errorf("mongo: release recipients of %s: %w", id, err)
	}
	settled := 0
	var rows []any
	var ids []string
	for i, r := range rs {
		set := d("status", r.Status, "reason", r.Reason, "template", r.Template, "number", r.Number,
			"released_at", ns(r.ReleasedAt), "updated_at", ns(r.UpdatedAt))
		var row *outboxDoc
		if out[i].Channel != "" {
			doc := toOutboxDoc(out[i], next, 0)
			row = &doc
			set = append(set, bson.E{Key: "outbox_id", Value: next}, bson.E{Key: "releasing", Value: doc})
			next++
		}
		rid := recipientID(id, r.Seq)
		res, err := db.c(colRecipients).UpdateOne(ctx, d("_id", rid, "status", broadcast.RecipientWaiting), d("$set", set))
		if err != nil {
			return settled, fmt.Errorf("mongo: release recipients of %s: %w", id, convert(err))
		}
		if res.MatchedCount == 0 {
			continue
		}
		settled++
		if row != nil {
			rows, ids = append(rows, *row), append(ids, rid)
		}
	}
	if err := db.finishReleases(ctx, rows, ids); err != nil {
		return settled, fmt.Errorf("mongo: release recipients of %s: %w", id, err)
	}
	return settled, nil
}

// finishReleases inserts released outbox rows (those inserted before are left as they are)
// and clears their recipients' intents.
func (db *DB) finishReleases(ctx context.Context, rows []any, ids []string) error {
	if len(rows) == 0 {
		return nil
	}
	_, err := db.c(colOutbox).InsertMany(ctx, rows, options.InsertMany().SetOrdered(false))
	if err != nil && !onlyDuplicates(err) {
		return convert(err)
	}
	_, err = db.c(colRecipients).UpdateMany(ctx, d("_id", d("$in", ids)), d("$unset", d("releasing", "")))
	return convert(err)
}

// onlyDuplicates reports whether a bulk insert failed only on rows that exist already.
func onlyDuplicates(err error) bool {
	var bw mongo.BulkWriteException
	if !errors.As(err, &bw) || bw.WriteConcernError != nil {
		return mongo.IsDuplicateKeyError(err)
	}
	for _, we := range bw.WriteErrors {
		if we.Code != 11000 {
			return false
		}
	}
	return true
}

// recoverReleases finishes the releases a crashed process left half done.
func (db *DB) recoverReleases(ctx context.Context) error {
	var docs []recipientDoc
	if err := find(ctx, db.c(colRecipients), d("releasing", d("$exists", true)), nil, &docs); err != nil {
		return fmt.Errorf("recover broadcast releases: %w", err)
	}
	rows := make([]any, 0, len(docs))
	ids := make([]string, 0, len(docs))
	for _, r := range docs {
		if r.Releasing != nil {
			rows, ids = append(rows, *r.Releasing), append(ids, r.ID)
		}
	}
	if err := db.finishReleases(ctx, rows, ids); err != nil {
		return fmt.Errorf("recover broadcast releases: %w", err)
	}
	return nil
}

// FailRecipient records a released recipient's refusal.
func (db *DB) FailRecipient(ctx context.Context, id, participantID, reason string, at time.Time) error {
	res, err := db.c(colRecipients).UpdateOne(ctx, d("broadcast_id", id, "participant_id", participantID),
		d("$set", d("status", broadcast.RecipientFailed, "reason", reason, "updated_at", ns(at))))
	if err == nil && res.MatchedCount == 0 {
		err = errs.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("mongo: fail recipient of %s: %w", id, convert(err))
	}
	return nil
}

// ReachedOutsideWindow counts the unique addresses a number sent a broadcast's template to
// since since.
func (db *DB) ReachedOutsideWindow(ctx context.Context, channel, number string, since time.Time) (int, error) {
	filter := d("channel", channel, "number", number, "template", true, "released_at", d("$gte", max(ns(since), 1)))
	res := db.c(colRecipients).Distinct(ctx, "address", filter)
	var addrs []string
	if err := res.Decode(&addrs); err != nil {
		return 0, fmt.Errorf("mongo: reached on %s: %w", number, convert(err))
	}
	return len(addrs), nil
}

// ReleasedTo counts the broadcast messages released to each address since since.
func (db *DB) ReleasedTo(ctx context.Context, channel string, addresses []string, since time.Time) (map[string]int, error) {
	out := map[string]int{}
	for start := 0; start < len(addresses); start += 500 {
		match := d("channel", channel, "address", d("$in", addresses[start:min(start+500, len(addresses))]),
			"released_at", d("$gte", max(ns(since), 1)))
		if err := db.countBy(ctx, colRecipients, match, "$address", out); err != nil {
			return nil, fmt.Errorf("mongo: broadcasts released on %s: %w", channel, err)
		}
	}
	return out, nil
}

// RefusedSince reports the addresses whose broadcast message failed with reason since since.
func (db *DB) RefusedSince(ctx context.Context, channel string, addresses []string, reason string, since time.Time) (map[string]bool, error) {
	out := map[string]bool{}
	for start := 0; start < len(addresses); start += 500 {
		var docs []recipientDoc
		filter := d("channel", channel, "address", d("$in", addresses[start:min(start+500, len(addresses))]),
			"status", broadcast.RecipientFailed, "reason", reason, "updated_at", d("$gte", ns(since)))
		if err := find(ctx, db.c(colRecipients), filter, options.Find().SetProjection(d("address", 1)), &docs); err != nil {
			return nil, fmt.Errorf("mongo: refusals on %s: %w", channel, err)
		}
		for _, r := range docs {
			out[r.Address] = true
		}
	}
	return out, nil
}

// AddNotification stores a notification that concerns no participant (a paused broadcast).
func (db *DB) AddNotification(ctx context.Context, n engine.Notification) error {
	id, err := db.next(ctx, 1)
	if err == nil {
		_, err = db.c(colNotifications).InsertOne(ctx, noteDoc{ID: id, Campaign: n.Campaign, ParticipantID: n.ParticipantID,
			Text: n.Text, At: ns(n.At)})
	}
	if err != nil {
		return fmt.Errorf("mongo: add notification: %w", convert(err))
	}
	return nil
}
