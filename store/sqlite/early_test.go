package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/store/storetest"
)

// A report kept for a reply not recorded yet outlives a restart: the next process records the
// send (a reply in flight at a stop is sent and recorded after the start) and applies it.
func TestEarlyDeliveryKeptAcrossARestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "campaign.db")
	db := MustOpen(t, path)
	p := storetest.MustJoin(t, db, "u1")
	due, err := db.DueOutbox(ctx, time.Now().Add(time.Hour), 0)
	if err != nil || len(due) != 1 {
		t.Fatalf("DueOutbox = %v, %v; want the welcome", due, err)
	}
	read := engine.Delivery{Status: "read", At: time.Unix(100, 0)}
	if err := db.UpdateDelivery(ctx, "wamid.r1", read); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = MustOpen(t, path)
	if err := db.MarkSent(ctx, due[0].ID, "wamid.r1", time.Unix(99, 0)); err != nil {
		t.Fatal(err)
	}
	out, err := db.Outbox(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := out[0].Delivery; got.Status != read.Status || !got.At.Equal(read.At) {
		t.Errorf("delivery after the restart = %+v, want %+v", out[0].Delivery, read)
	}
}
