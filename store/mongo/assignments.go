package mongo

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/chatcampaigns/campaign/reports"
)

const colAssignments = "assignments"

// assignmentDoc is one conversation's assignee, keyed by the participant's id.
type assignmentDoc struct {
	ID       string `bson:"_id"`
	Campaign string `bson:"campaign"`
	User     string `bson:"user"`
	By       string `bson:"by"`
	At       int64  `bson:"at"`
	// ParticipantID repeats the key, so an erase deletes the assignment with the participant's
	// other documents.
	ParticipantID string `bson:"participant_id"`
}

// Assign assigns a conversation to a.User, or to nobody when a.User is empty. The campaign is
// the participant's own; an unknown participant fails with errs.ErrNotFound.
func (db *DB) Assign(ctx context.Context, a reports.Assignment) error {
	var p participantDoc
	err := db.c(colParticipants).FindOne(ctx, d("_id", a.ParticipantID), options.FindOne().SetProjection(d("campaign", 1))).Decode(&p)
	if err != nil {
		return fmt.Errorf("mongo: assign %s: %w", a.ParticipantID, convert(err))
	}
	if a.User == "" {
		if _, err := db.c(colAssignments).DeleteOne(ctx, d("_id", a.ParticipantID)); err != nil {
			return fmt.Errorf("mongo: unassign %s: %w", a.ParticipantID, convert(err))
		}
		return nil
	}
	doc := assignmentDoc{ID: a.ParticipantID, Campaign: p.Campaign, User: a.User, By: a.By, At: ns(a.At), ParticipantID: a.ParticipantID}
	if _, err := db.c(colAssignments).ReplaceOne(ctx, d("_id", doc.ID), doc, options.Replace().SetUpsert(true)); err != nil {
		return fmt.Errorf("mongo: assign %s to %s: %w", a.ParticipantID, a.User, convert(err))
	}
	return nil
}

// Assignment returns whom a conversation is assigned to; the zero Assignment (with the
// participant's id) when nobody.
func (db *DB) Assignment(ctx context.Context, participantID string) (reports.Assignment, error) {
	var doc assignmentDoc
	err := db.c(colAssignments).FindOne(ctx, d("_id", participantID)).Decode(&doc)
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return reports.Assignment{ParticipantID: participantID}, nil
	case err != nil:
		return reports.Assignment{}, fmt.Errorf("mongo: assignment of %s: %w", participantID, convert(err))
	}
	return reports.Assignment{ParticipantID: participantID, Campaign: doc.Campaign, User: doc.User, By: doc.By, At: fromNS(doc.At)}, nil
}

// assignees returns the assignee of each of the conversations ids that has one.
func (db *DB) assignees(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	if len(ids) == 0 {
		return out, nil
	}
	var docs []assignmentDoc
	if err := find(ctx, db.c(colAssignments), d("_id", d("$in", ids)), options.Find(), &docs); err != nil {
		return nil, fmt.Errorf("mongo: assignees: %w", err)
	}
	for _, a := range docs {
		out[a.ID] = a.User
	}
	return out, nil
}

// assignedTo lists the conversations assigned to user (by the index on user).
func (db *DB) assignedTo(ctx context.Context, user string) ([]string, error) {
	var docs []assignmentDoc
	if err := find(ctx, db.c(colAssignments), d("user", user), options.Find().SetProjection(d("_id", 1)), &docs); err != nil {
		return nil, fmt.Errorf("mongo: assigned to %s: %w", user, err)
	}
	ids := make([]string, len(docs))
	for i, a := range docs {
		ids[i] = a.ID
	}
	return ids, nil
}

// RoundCounts counts a campaign's participants by the last round that started for them and
// whether they finished, for each of rounds in their order (a round nobody got to is left
// out). It reads the campaign's participants that have a round variable (FerretDB cannot
// index a variable's value).
func (db *DB) RoundCounts(ctx context.Context, campaign string, rounds []string) ([]reports.RoundCount, error) {
	var docs []struct {
		Vars     []kv `bson:"vars"`
		Finished bool `bson:"finished"`
	}
	err := find(ctx, db.c(colParticipants), d("campaign", campaign, "vars.k", "round"),
		options.Find().SetProjection(d("vars", 1, "finished", 1)), &docs)
	if err != nil {
		return nil, fmt.Errorf("mongo: round counts of %s: %w", campaign, err)
	}
	byRound := map[string]*reports.RoundCount{}
	for _, doc := range docs {
		round := ""
		for _, v := range doc.Vars {
			if v.K == "round" {
				round = v.V
			}
		}
		if round == "" {
			continue
		}
		rc := byRound[round]
		if rc == nil {
			rc = &reports.RoundCount{Round: round}
			byRound[round] = rc
		}
		if doc.Finished {
			rc.Out++
		} else {
			rc.Playing++
		}
	}
	var out []reports.RoundCount
	for _, name := range rounds {
		if rc := byRound[name]; rc != nil {
			out = append(out, *rc)
		}
	}
	return out, nil
}
