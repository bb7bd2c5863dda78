package mongo_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/chatcampaigns/campaign/broadcast"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/store/mongo"
)

// TestReleaseFinishedAfterACrash: a process that died between marking a recipient released
// and inserting its outbox row leaves the row on the recipient; Recover inserts it, once.
func TestReleaseFinishedAfterACrash(t *testing.T) {
	ctx := context.Background()
	name := fmt.Sprintf("campaign_release_%d_%d", os.Getpid(), dbs.Add(1))
	db, err := mongo.New(ctx, client, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Database(name).Drop(context.Background()) })
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	p := engine.Participant{ID: "p1", Campaign: "news", Channel: "whatsapp", Address: "+31600000001", State: "subscribed",
		Vars: map[string]string{}, Version: 1, CreatedAt: t0, UpdatedAt: t0}
	if err := db.Commit(ctx, engine.Step{Participant: p, Created: true}); err != nil {
		t.Fatal(err)
	}
	b := broadcast.Broadcast{ID: "b1", Request: broadcast.Request{Campaign: "news"}, Status: broadcast.StatusRunning, At: t0, UpdatedAt: t0}
	r := broadcast.Recipient{Seq: 1, ParticipantID: p.ID, Channel: "whatsapp", Address: p.Address, Status: broadcast.RecipientWaiting}
	if err := db.StartBroadcast(ctx, b, []broadcast.Recipient{r}); err != nil {
		t.Fatal(err)
	}
	r.Status, r.ReleasedAt = broadcast.RecipientReleased, t0
	out := engine.Outbound{ParticipantID: p.ID, Campaign: "news", Channel: "whatsapp", To: p.Address, Text: "News", DueAt: t0, BroadcastID: "b1"}
	if _, err := db.ReleaseRecipients(ctx, "b1", []broadcast.Recipient{r}, []engine.Outbound{out}); err != nil {
		t.Fatal(err)
	}
	// The crash: the outbox row never made it, the intent is still on the recipient.
	outbox, recipients := client.Database(name).Collection("outbox"), client.Database(name).Collection("broadcast_recipients")
	var row bson.M
	if err := outbox.FindOne(ctx, bson.D{{Key: "broadcast_id", Value: "b1"}}).Decode(&row); err != nil {
		t.Fatal(err)
	}
	if _, err := outbox.DeleteOne(ctx, bson.D{{Key: "_id", Value: row["_id"]}}); err != nil {
		t.Fatal(err)
	}
	if _, err := recipients.UpdateOne(ctx, bson.D{{Key: "broadcast_id", Value: "b1"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "releasing", Value: row}}}}); err != nil {
		t.Fatal(err)
	}
	for range 2 { // finishing twice queues it once
		if err := db.Recover(ctx); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := db.BroadcastReport(ctx, "b1")
	if err != nil || rep.Pending != 1 || rep.Total != 1 {
		t.Fatalf("broadcast report after Recover = %+v, %v; want the one reply pending", rep, err)
	}
	if n, _ := recipients.CountDocuments(ctx, bson.D{{Key: "releasing", Value: bson.D{{Key: "$exists", Value: true}}}}); n != 0 {
		t.Errorf("%d intents left after Recover", n)
	}
}
