package mongo

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/chatcampaigns/campaign/judge"
)

var _ judge.Scores = (*DB)(nil)

// colScores holds one document per judge and entry: the judge's whole scorecard, so a
// re-scoring replaces it in one single-document write.
const colScores = "scores"

// scoreDoc is a scorecard. Its _id is "<campaign>/<entry>/<judge>": the _id index then finds a
// campaign's scorecards (and an entry's) by prefix range, with no index of its own to create.
// Campaign ids cannot hold a "/", and the range is narrowed by the exact fields as well, so an
// entry id or judge name holding one cannot reach another's scorecard.
type scoreDoc struct {
	ID       string `bson:"_id"`
	Campaign string `bson:"campaign"`
	EntryID  string `bson:"entry_id"`
	Judge    string `bson:"judge"`
	// Scores are pairs rather than a subdocument, so a criterion name is never a field name.
	Scores []scorePair `bson:"scores"`
	At     int64       `bson:"at"`
	// Given is when the judge first scored the entry (0 in documents older than the field:
	// At counts then).
	Given int64 `bson:"given,omitempty"`
}

type scorePair struct {
	Criterion string `bson:"c"`
	Score     int    `bson:"s"`
}

// SaveScorecard stores c, replacing the scorecard c.Judge gave the entry before.
func (db *DB) SaveScorecard(ctx context.Context, c judge.Scorecard) error {
	doc := scoreDoc{ID: c.Campaign + "/" + c.EntryID + "/" + c.Judge, Campaign: c.Campaign,
		EntryID: c.EntryID, Judge: c.Judge, At: ns(c.At), Scores: []scorePair{}}
	for name, v := range c.Scores {
		doc.Scores = append(doc.Scores, scorePair{Criterion: name, Score: v})
	}
	sort.Slice(doc.Scores, func(i, j int) bool { return doc.Scores[i].Criterion < doc.Scores[j].Criterion })
	// The first score's time survives a change: a score lock counts from it. Only the judge
	// changes their own scorecard, so reading it first races with nobody else.
	doc.Given = doc.At
	var old scoreDoc
	switch err := db.c(colScores).FindOne(ctx, d("_id", doc.ID), options.FindOne().SetProjection(d("at", 1, "given", 1))).Decode(&old); {
	case err == nil && old.Given != 0:
		doc.Given = old.Given
	case err == nil:
		doc.Given = old.At
	case !errors.Is(err, mongo.ErrNoDocuments):
		return fmt.Errorf("mongo: save scores of %s on %s: %w", c.Judge, c.EntryID, convert(err))
	}
	var err error
	// Two saves of a new scorecard at once can both try to insert it; the loser replaces.
	for range 2 {
		_, err = db.c(colScores).ReplaceOne(ctx, d("_id", doc.ID), doc, options.Replace().SetUpsert(true))
		if !mongo.IsDuplicateKeyError(err) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("mongo: save scores of %s on %s: %w", c.Judge, c.EntryID, convert(err))
	}
	return nil
}

// Scorecards returns the scorecards of a campaign, or of one of its entries, ordered by entry
// id, then judge.
func (db *DB) Scorecards(ctx context.Context, campaign, entryID string) ([]judge.Scorecard, error) {
	// "0" follows "/" in byte order, so [prefix+"/", prefix+"0") is every id under prefix.
	prefix := campaign
	filter := d("campaign", campaign)
	if entryID != "" {
		prefix += "/" + entryID
		filter = append(filter, bson.E{Key: "entry_id", Value: entryID})
	}
	filter = append(bson.D{{Key: "_id", Value: d("$gte", prefix+"/", "$lt", prefix+"0")}}, filter...)
	var docs []scoreDoc
	if err := find(ctx, db.c(colScores), filter, options.Find(), &docs); err != nil {
		return nil, fmt.Errorf("mongo: scorecards of %s: %w", campaign, err)
	}
	sort.Slice(docs, func(i, j int) bool {
		if docs[i].EntryID != docs[j].EntryID {
			return docs[i].EntryID < docs[j].EntryID
		}
		return docs[i].Judge < docs[j].Judge
	})
	out := make([]judge.Scorecard, 0, len(docs))
	for _, doc := range docs {
		c := judge.Scorecard{Campaign: doc.Campaign, EntryID: doc.EntryID, Judge: doc.Judge,
			Scores: make(map[string]int, len(doc.Scores)), At: fromNS(doc.At), Given: fromNS(doc.Given)}
		if doc.Given == 0 {
			c.Given = c.At
		}
		for _, p := range doc.Scores {
			c.Scores[p.Criterion] = p.Score
		}
		out = append(out, c)
	}
	return out, nil
}
