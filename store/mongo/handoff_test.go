package mongo_test

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/chatcampaigns/campaign/reports"
	"github.com/chatcampaigns/campaign/store/mongo"
)

// TestHandoffFieldFilledAtOpen: participants stored before the handoff field existed kept the
// team only in vars; opened by this release, the one handed off is in the team's queue.
func TestHandoffFieldFilledAtOpen(t *testing.T) {
	ctx := t.Context()
	first := MustOpen(t)
	people := client.Database(first.Name()).Collection("participants")
	for _, doc := range []bson.D{
		{{Key: "_id", Value: "p1"}, {Key: "campaign", Value: "c"}, {Key: "state", Value: "desk"}, {Key: "version", Value: int64(1)},
			{Key: "vars", Value: bson.A{bson.D{{Key: "k", Value: "handoff"}, {Key: "v", Value: "chefs"}}}}, {Key: "updated_at", Value: int64(2)}},
		{{Key: "_id", Value: "p2"}, {Key: "campaign", Value: "c"}, {Key: "state", Value: "door"}, {Key: "version", Value: int64(1)},
			{Key: "vars", Value: bson.A{bson.D{{Key: "k", Value: "name"}, {Key: "v", Value: "Bob"}}}}, {Key: "updated_at", Value: int64(1)}},
	} {
		if _, err := people.InsertOne(ctx, doc); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := client.Database(first.Name()).Collection("counters").DeleteOne(ctx, bson.D{{Key: "_id", Value: "schema:handoff"}}); err != nil {
		t.Fatal(err)
	}
	db, err := mongo.New(ctx, client, first.Name())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []reports.ConversationFilter{{Waiting: true}, {Team: "chefs"}} {
		got, err := db.Conversations(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Participant.ID != "p1" {
			t.Errorf("%+v: %d conversations (%+v), want p1 alone", f, len(got), got)
		}
	}
}
