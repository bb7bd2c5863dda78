package mongo

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/chatcampaigns/campaign/engine"
)

// groupRequestDoc is a captain's request for a group chat, keyed by channel and request id.
type groupRequestDoc struct {
	ID         string `bson:"_id"`
	Channel    string `bson:"channel"`
	RequestID  string `bson:"request_id"`
	Campaign   string `bson:"campaign"`
	Captain    string `bson:"captain"`
	MessageID  string `bson:"message_id"`
	Number     string `bson:"number"`
	Name       string `bson:"name"`
	Group      string `bson:"group_id"`
	InviteLink string `bson:"invite_link"`
	Error      string `bson:"error"`
	CreatedAt  int64  `bson:"created_at"`
}

func (g groupRequestDoc) request() engine.GroupRequest {
	return engine.GroupRequest{Channel: g.Channel, RequestID: g.RequestID, Campaign: g.Campaign, Captain: g.Captain,
		MessageID: g.MessageID, Number: g.Number, Name: g.Name, Group: g.Group, InviteLink: g.InviteLink,
		Error: g.Error, CreatedAt: fromNS(g.CreatedAt)}
}

// SaveGroupRequest stores a captain's request, replacing one with its channel and request id.
func (db *DB) SaveGroupRequest(ctx context.Context, r engine.GroupRequest) error {
	doc := groupRequestDoc{ID: r.Channel + "\x00" + r.RequestID, Channel: r.Channel, RequestID: r.RequestID,
		Campaign: r.Campaign, Captain: r.Captain, MessageID: r.MessageID, Number: r.Number, Name: r.Name,
		Group: r.Group, InviteLink: r.InviteLink, Error: r.Error, CreatedAt: ns(r.CreatedAt)}
	_, err := db.c(colGroupRequests).ReplaceOne(ctx, d("_id", doc.ID), doc, options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("mongo: save group request %s: %w", r.RequestID, convert(err))
	}
	return nil
}

// GroupRequest returns the request channel knows as requestID.
func (db *DB) GroupRequest(ctx context.Context, channel, requestID string) (engine.GroupRequest, error) {
	var g groupRequestDoc
	if err := db.c(colGroupRequests).FindOne(ctx, d("_id", channel+"\x00"+requestID)).Decode(&g); err != nil {
		return engine.GroupRequest{}, fmt.Errorf("mongo: group request %s: %w", requestID, convert(err))
	}
	return g.request(), nil
}

// CaptainRequest returns the latest request of a captain.
func (db *DB) CaptainRequest(ctx context.Context, campaign, channel, captain string) (engine.GroupRequest, error) {
	var g groupRequestDoc
	err := db.c(colGroupRequests).FindOne(ctx, d("campaign", campaign, "channel", channel, "captain", captain),
		options.FindOne().SetSort(d("created_at", -1, "request_id", -1))).Decode(&g)
	if err != nil {
		return engine.GroupRequest{}, fmt.Errorf("mongo: group request of %s in %s: %w", captain, campaign, convert(err))
	}
	return g.request(), nil
}
