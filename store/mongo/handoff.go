package mongo

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// handoffFilled marks, in the counters collection, a database whose participants all carry
// the handoff field.
const handoffFilled = "schema:handoff"

// fillHandoff gives the participants written before the handoff field existed their field,
// once per database: the team queues are then read from its index (reports.go). Each
// process starting before the mark is set does the same idempotent writes.
func (db *DB) fillHandoff(ctx context.Context) error {
	err := db.c(colCounters).FindOne(ctx, d("_id", handoffFilled)).Err()
	if err == nil {
		return nil
	}
	if !errIsNotFound(err) {
		return fmt.Errorf("hand-off field: %w", convert(err))
	}
	cur, err := db.c(colParticipants).Find(ctx, d("handoff", d("$exists", false)), options.Find().SetProjection(d("vars", 1)))
	if err != nil {
		return fmt.Errorf("hand-off field: %w", convert(err))
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var doc struct {
			ID   string `bson:"_id"`
			Vars []kv   `bson:"vars"`
		}
		if err := cur.Decode(&doc); err != nil {
			return fmt.Errorf("hand-off field: %w", err)
		}
		team := ""
		for _, v := range doc.Vars {
			if v.K == "handoff" {
				team = v.V
			}
		}
		if _, err := db.c(colParticipants).UpdateOne(ctx, d("_id", doc.ID, "handoff", d("$exists", false)),
			d("$set", d("handoff", team))); err != nil {
			return fmt.Errorf("hand-off field of %s: %w", doc.ID, convert(err))
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("hand-off field: %w", convert(err))
	}
	_, err = db.c(colCounters).UpdateOne(ctx, bson.D{{Key: "_id", Value: handoffFilled}},
		d("$set", d("done", true)), options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("hand-off field: %w", convert(err))
	}
	return nil
}
