package mongo

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/chatcampaigns/campaign/engine"
)

// EraseParticipant deletes everything stored of a participant: their document, transcript,
// entries with their scores, panel seats and recusals, replies, timers, notifications, raw
// inbound events, team membership and group requests. Codes, places and claimed pool codes
// they took stay taken, held by the tombstone (or by nobody). When tombstone is not nil it is
// written first, with the participant's join order, so a ranking keeps its places; the
// participant's own document goes last, so an erase cut short can be run again. It fails
// with errs.ErrNotFound for an unknown id.
func (db *DB) EraseParticipant(ctx context.Context, id string, tombstone *engine.Participant) error {
	fail := func(what string, err error) error {
		return fmt.Errorf("mongo: erase participant %s: %s: %w", id, what, convert(err))
	}
	doc, err := db.participantDoc(ctx, id)
	if err != nil {
		return fail("read", err)
	}
	holder := ""
	if tombstone != nil {
		holder = tombstone.ID
		t := toParticipantDoc(*tombstone, doc.Seq)
		if _, err := db.c(colParticipants).ReplaceOne(ctx, d("_id", t.ID), t, options.Replace().SetUpsert(true)); err != nil {
			return fail("write tombstone", err)
		}
	}
	var entries []entryDoc
	if err := find(ctx, db.c(colEntries), d("participant_id", id), options.Find(), &entries); err != nil {
		return fail("entries", err)
	}
	entryIDs := make([]string, 0, len(entries))
	claimKeys := []string{"participant:" + id}
	for _, e := range entries {
		entryIDs = append(entryIDs, e.ID)
		claimKeys = append(claimKeys, "entry:"+e.ID)
	}
	byEntry := d("entry_id", d("$in", entryIDs))
	byParticipant := d("participant_id", id)
	for _, del := range []struct {
		coll   string
		filter any
	}{
		{colScores, byEntry}, {colSeats, byEntry}, {colRecusals, byEntry},
		{colClaims, d("key", d("$in", claimKeys))},
		{colInbound, byParticipant}, {colLines, byParticipant}, {colOutbox, byParticipant},
		{colRecipients, byParticipant},
		{colTimers, byParticipant}, {colNotifications, byParticipant}, {colEntries, byParticipant},
		{colTeamMembers, d("_id", memberKey(doc.Campaign, doc.Channel, doc.Address))},
		{colGroupRequests, d("campaign", doc.Campaign, "channel", doc.Channel, "captain", doc.Address)},
	} {
		if _, err := db.c(del.coll).DeleteMany(ctx, del.filter); err != nil {
			return fail("delete from "+del.coll, err)
		}
	}
	for _, coll := range []string{colCodes, colPlaces, colCodeClaims} {
		if _, err := db.c(coll).UpdateMany(ctx, byParticipant, d("$set", d("participant_id", holder))); err != nil {
			return fail("hand over "+coll, err)
		}
	}
	if _, err := db.c(colParticipants).DeleteOne(ctx, d("_id", id)); err != nil {
		return fail("delete", err)
	}
	return nil
}
