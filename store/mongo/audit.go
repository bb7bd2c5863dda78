package mongo

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/chatcampaigns/campaign/audit"
)

var _ audit.Store = (*DB)(nil)

// colAudit is the audit trail: one document per event, inserted and never updated or deleted
// (no method of this store does either). Its _id comes from the one id sequence, so ids
// increase in the order events were recorded.
const colAudit = "audit"

type auditDoc struct {
	ID            int64  `bson:"_id"`
	At            int64  `bson:"at"`
	Actor         string `bson:"actor"`
	Action        string `bson:"action"`
	Campaign      string `bson:"campaign"`
	ParticipantID string `bson:"participant_id"`
	EntryID       string `bson:"entry_id"`
	Subject       string `bson:"subject"`
	Detail        string `bson:"detail"`
}

// AppendAudit adds e to the trail with the next id.
func (db *DB) AppendAudit(ctx context.Context, e audit.Event) (int64, error) {
	id, err := db.next(ctx, 1)
	if err != nil {
		return 0, fmt.Errorf("mongo: append audit %s: %w", e.Action, err)
	}
	doc := auditDoc{ID: id, At: ns(e.At), Actor: e.Actor, Action: e.Action, Campaign: e.Campaign,
		ParticipantID: e.ParticipantID, EntryID: e.EntryID, Subject: e.Subject, Detail: e.Detail}
	if _, err := db.c(colAudit).InsertOne(ctx, doc); err != nil {
		return 0, fmt.Errorf("mongo: append audit %s: %w", e.Action, convert(err))
	}
	return id, nil
}

// AuditEvents returns the events matching q, oldest first.
func (db *DB) AuditEvents(ctx context.Context, q audit.Query) ([]audit.Event, error) {
	filter := bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: q.AfterID}}}}
	for _, f := range []struct{ key, v string }{{"campaign", q.Campaign}, {"participant_id", q.ParticipantID}, {"entry_id", q.EntryID}} {
		if f.v != "" {
			// Values are compared as strings ($eq), never read as operators.
			filter = append(filter, bson.E{Key: f.key, Value: bson.D{{Key: "$eq", Value: f.v}}})
		}
	}
	limit := q.Limit
	if limit <= 0 {
		limit = audit.DefaultLimit
	}
	cur, err := db.c(colAudit).Find(ctx, filter, options.Find().SetSort(d("_id", 1)).SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("mongo: audit events: %w", convert(err))
	}
	var docs []auditDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("mongo: audit events: %w", convert(err))
	}
	out := make([]audit.Event, 0, len(docs))
	for _, x := range docs {
		out = append(out, audit.Event{ID: x.ID, At: fromNS(x.At), Actor: x.Actor, Action: x.Action, Campaign: x.Campaign,
			ParticipantID: x.ParticipantID, EntryID: x.EntryID, Subject: x.Subject, Detail: x.Detail})
	}
	return out, nil
}
