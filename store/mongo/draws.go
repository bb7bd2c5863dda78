package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/chatcampaigns/campaign/draw"
	"github.com/chatcampaigns/campaign/errs"
)

var _ draw.Store = (*DB)(nil)

// colDraws holds one document per draw; its _id is "<campaign>/<name>" (a campaign id holds no
// "/"), so creating a draw twice is a duplicate key.
const colDraws = "draws"

type drawDoc struct {
	ID             string   `bson:"_id"`
	Campaign       string   `bson:"campaign"`
	Name           string   `bson:"name"`
	Status         string   `bson:"status"`
	Algorithm      string   `bson:"algorithm"`
	Winners        int      `bson:"winners"`
	Eligible       []string `bson:"eligible"`
	EligibleSHA256 string   `bson:"eligible_sha256"`
	Seed           []byte   `bson:"seed"`
	SeedSHA256     string   `bson:"seed_sha256"`
	CommittedBy    string   `bson:"committed_by"`
	CommittedAt    int64    `bson:"committed_at"`
	ClosedBy       string   `bson:"closed_by"`
	ClosedAt       int64    `bson:"closed_at"`
	Drawn          []string `bson:"drawn"`
}

func drawID(campaign, name string) string { return campaign + "/" + name }

func (x drawDoc) record() draw.Record {
	r := draw.Record{Campaign: x.Campaign, Name: x.Name, Status: x.Status, Algorithm: x.Algorithm, Winners: x.Winners,
		Eligible: x.Eligible, EligibleSHA256: x.EligibleSHA256, Seed: x.Seed, SeedSHA256: x.SeedSHA256,
		CommittedBy: x.CommittedBy, CommittedAt: fromNS(x.CommittedAt), ClosedBy: x.ClosedBy, ClosedAt: fromNS(x.ClosedAt)}
	if len(x.Drawn) > 0 {
		r.Drawn = x.Drawn
	}
	if len(r.Eligible) == 0 {
		r.Eligible = nil
	}
	return r
}

// CreateDraw stores a new, open draw.
func (db *DB) CreateDraw(ctx context.Context, r draw.Record) error {
	doc := drawDoc{ID: drawID(r.Campaign, r.Name), Campaign: r.Campaign, Name: r.Name, Status: r.Status, Algorithm: r.Algorithm,
		Winners: r.Winners, Eligible: r.Eligible, EligibleSHA256: r.EligibleSHA256, Seed: r.Seed, SeedSHA256: r.SeedSHA256,
		CommittedBy: r.CommittedBy, CommittedAt: ns(r.CommittedAt), Drawn: []string{}}
	if doc.Eligible == nil {
		doc.Eligible = []string{}
	}
	if _, err := db.c(colDraws).InsertOne(ctx, doc); err != nil {
		return fmt.Errorf("mongo: create draw %s/%s: %w", r.Campaign, r.Name, convert(err))
	}
	return nil
}

// Draw returns one draw.
func (db *DB) Draw(ctx context.Context, campaign, name string) (draw.Record, error) {
	var x drawDoc
	if err := db.c(colDraws).FindOne(ctx, d("_id", drawID(campaign, name))).Decode(&x); err != nil {
		return draw.Record{}, fmt.Errorf("mongo: draw %s/%s: %w", campaign, name, convert(err))
	}
	return x.record(), nil
}

// Draws lists a campaign's draws, oldest commitment first.
func (db *DB) Draws(ctx context.Context, campaign string) ([]draw.Record, error) {
	cur, err := db.c(colDraws).Find(ctx, bson.D{{Key: "campaign", Value: bson.D{{Key: "$eq", Value: campaign}}}},
		options.Find().SetSort(d("committed_at", 1, "name", 1)))
	if err != nil {
		return nil, fmt.Errorf("mongo: draws of %s: %w", campaign, convert(err))
	}
	var docs []drawDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("mongo: draws of %s: %w", campaign, convert(err))
	}
	out := make([]draw.Record, 0, len(docs))
	for _, x := range docs {
		out = append(out, x.record())
	}
	return out, nil
}

// CloseDraw records the winners of an open draw, once: the update matches only while
// closed_at is 0, so of two closings at once one wins.
func (db *DB) CloseDraw(ctx context.Context, campaign, name string, drawn []string, by string, at time.Time) error {
	id := drawID(campaign, name)
	res, err := db.c(colDraws).UpdateOne(ctx, d("_id", id, "closed_at", int64(0)),
		d("$set", d("closed_by", by, "closed_at", ns(at), "drawn", drawn)))
	if err != nil {
		return fmt.Errorf("mongo: close draw %s: %w", id, convert(err))
	}
	if res.MatchedCount == 1 {
		return nil
	}
	err = db.c(colDraws).FindOne(ctx, d("_id", id)).Err()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return fmt.Errorf("mongo: close draw %s: %w", id, errs.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("mongo: close draw %s: %w", id, convert(err))
	}
	return fmt.Errorf("mongo: close draw %s: %w: the draw closed before", id, errs.ErrConflict)
}
