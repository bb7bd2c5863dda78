package mongo

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/judge"
)

// entryDoc is an entry with its moderation state. seq orders entries created in the same
// instant in the order they were collected. Event is the verdict's engine event while it is
// being stored (the intent of Decide).
type entryDoc struct {
	ID            string      `bson:"_id"`
	Seq           int64       `bson:"seq"`
	Campaign      string      `bson:"campaign"`
	ParticipantID string      `bson:"participant_id"`
	State         string      `bson:"state"`
	Kind          string      `bson:"kind"`
	MediaKey      string      `bson:"media_key"`
	ThumbKey      string      `bson:"thumb_key"`
	MIME          string      `bson:"mime"`
	Caption       string      `bson:"caption"`
	Location      string      `bson:"location,omitempty"`
	CreatedAt     int64       `bson:"created_at"`
	Status        string      `bson:"status"`
	DecidedBy     string      `bson:"decided_by"`
	DecidedAt     int64       `bson:"decided_at"`
	Reason        string      `bson:"reason"`
	Event         *inboundDoc `bson:"event,omitempty"`
}

func toEntryDoc(e engine.Entry, seq int64) entryDoc {
	return entryDoc{ID: e.ID, Seq: seq, Campaign: e.Campaign, ParticipantID: e.ParticipantID,
		State: e.State, Kind: e.Kind, MediaKey: e.MediaKey, ThumbKey: e.ThumbKey, MIME: e.MIME,
		Caption: e.Caption, Location: e.Location, CreatedAt: ns(e.CreatedAt), Status: judge.StatusPending}
}

func (doc entryDoc) entry() judge.Entry {
	return judge.Entry{
		Entry: engine.Entry{ID: doc.ID, Campaign: doc.Campaign, ParticipantID: doc.ParticipantID,
			State: doc.State, Kind: doc.Kind, MediaKey: doc.MediaKey, ThumbKey: doc.ThumbKey,
			MIME: doc.MIME, Caption: doc.Caption, Location: doc.Location, CreatedAt: fromNS(doc.CreatedAt)},
		Status: doc.Status, DecidedBy: doc.DecidedBy, DecidedAt: fromNS(doc.DecidedAt), Reason: doc.Reason,
	}
}

// Entries lists entries matching f, newest first (all matches when f.Limit <= 0).
func (db *DB) Entries(ctx context.Context, f judge.Filter) ([]judge.Entry, error) {
	filter := bson.D{}
	if f.Campaign != "" {
		filter = append(filter, bson.E{Key: "campaign", Value: f.Campaign})
	}
	if f.Status != "" {
		filter = append(filter, bson.E{Key: "status", Value: f.Status})
	}
	opts := options.Find().SetSort(d("created_at", -1, "seq", -1)).SetProjection(d("event", 0))
	if f.Limit > 0 {
		opts.SetLimit(int64(f.Limit))
	}
	var docs []entryDoc
	if err := find(ctx, db.c(colEntries), filter, opts, &docs); err != nil {
		return nil, fmt.Errorf("mongo: list entries: %w", err)
	}
	out := make([]judge.Entry, len(docs))
	for i, doc := range docs {
		out[i] = doc.entry()
	}
	return out, nil
}

// Entry returns one entry, or an error wrapping errs.ErrNotFound.
func (db *DB) Entry(ctx context.Context, id string) (judge.Entry, error) {
	var doc entryDoc
	if err := db.c(colEntries).FindOne(ctx, d("_id", id)).Decode(&doc); err != nil {
		return judge.Entry{}, fmt.Errorf("mongo: entry %s: %w", id, convert(err))
	}
	return doc.entry(), nil
}

// Decide records d on a pending entry and stores ev as an inbound event. The verdict and the
// event (with its id fixed) are written to the entry in one update, which is what decides;
// the event is then stored from there, by this call or, after a crash, by Recover. It fails
// with errs.ErrNotFound for an unknown entry and errs.ErrConflict for one already decided,
// and then changes nothing. ev follows SaveInbound's dedupe rule.
func (db *DB) Decide(ctx context.Context, dec judge.Decision, ev engine.Inbound) error {
	err := db.decide(ctx, dec, ev)
	if err != nil {
		return fmt.Errorf("mongo: decide entry %s: %w", dec.EntryID, convert(err))
	}
	return nil
}

// colDecisions holds one marker per decided entry, _id the entry's id. Inserting it is what
// decides between two moderators deciding at once: an insert is atomic on every server this
// store runs on, while FerretDB v1's conditional update of the entry reads, then writes by
// _id, and could let both through. The marker carries the whole decision, so whoever finds
// it with the entry still pending (the winner crashed, or is still writing) finishes it the
// same way.
const colDecisions = "decisions"

type decisionDoc struct {
	ID      string     `bson:"_id"`
	Verdict string     `bson:"verdict"`
	By      string     `bson:"by"`
	Reason  string     `bson:"reason"`
	At      int64      `bson:"at"`
	Event   inboundDoc `bson:"event"`
}

func (db *DB) decide(ctx context.Context, dec judge.Decision, ev engine.Inbound) error {
	var cur entryDoc
	err := db.c(colEntries).FindOne(ctx, d("_id", dec.EntryID),
		options.FindOne().SetProjection(d("status", 1, "decided_by", 1))).Decode(&cur)
	if err != nil {
		return err
	}
	if cur.Status != judge.StatusPending {
		return fmt.Errorf("%w: already %s by %s", errs.ErrConflict, cur.Status, cur.DecidedBy)
	}
	id, err := db.next(ctx, 1)
	if err != nil {
		return err
	}
	m := decisionDoc{ID: dec.EntryID, Verdict: dec.Verdict, By: dec.By, Reason: dec.Reason, At: ns(dec.At), Event: toInboundDoc(id, ev)}
	if _, err := db.c(colDecisions).InsertOne(ctx, m); mongo.IsDuplicateKeyError(err) {
		var won decisionDoc
		if err := db.c(colDecisions).FindOne(ctx, d("_id", dec.EntryID)).Decode(&won); err != nil {
			return err
		}
		if err := db.applyDecision(ctx, won); err != nil {
			return err
		}
		return fmt.Errorf("%w: already %s by %s", errs.ErrConflict, won.Verdict, won.By)
	} else if err != nil {
		return err
	}
	return db.applyDecision(ctx, m)
}

// applyDecision writes a decision's marker to its entry and stores its event; doing it twice
// does it once.
func (db *DB) applyDecision(ctx context.Context, m decisionDoc) error {
	_, err := db.c(colEntries).UpdateOne(ctx, d("_id", m.ID, "status", judge.StatusPending),
		d("$set", d("status", m.Verdict, "decided_by", m.By, "decided_at", m.At,
			"reason", m.Reason, "event", m.Event)))
	if err != nil {
		return err
	}
	var cur entryDoc
	if err := db.c(colEntries).FindOne(ctx, d("_id", m.ID), options.FindOne().SetProjection(d("event", 1))).Decode(&cur); err != nil {
		return err
	}
	if cur.Event == nil || cur.Event.ID != m.Event.ID {
		return nil // finished already
	}
	return db.finishVerdict(ctx, m.ID, m.Event)
}

func (db *DB) finishVerdict(ctx context.Context, entryID string, ev inboundDoc) error {
	if _, _, err := db.insertInbound(ctx, ev); err != nil {
		return fmt.Errorf("store verdict event: %w", err)
	}
	_, err := db.c(colEntries).UpdateOne(ctx, d("_id", entryID, "event._id", ev.ID), d("$unset", d("event", "")))
	return err
}
