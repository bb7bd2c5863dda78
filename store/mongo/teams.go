package mongo

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// A team is one document with its members; a member's membership is a second document,
// keyed by campaign, channel and member, so that the unique _id keeps a member in one team.
// Without transactions the two are written one after the other: the membership first, the
// team second. A membership whose team does not list the member is what a crash or a lost race
// left behind; it counts as no membership and is taken over by the member's next team.

type teamDoc struct {
	ID        string   `bson:"_id"`
	Campaign  string   `bson:"campaign"`
	Channel   string   `bson:"channel"`
	Name      string   `bson:"name"`
	NameKey   string   `bson:"name_key"`
	Code      string   `bson:"code"`
	Members   []string `bson:"members"`
	Size      int      `bson:"size"`
	CreatedAt int64    `bson:"created_at"`
}

func (t teamDoc) team() engine.Team {
	return engine.Team{ID: t.ID, Campaign: t.Campaign, Channel: t.Channel, Name: t.Name, Code: t.Code,
		Members: t.Members, CreatedAt: fromNS(t.CreatedAt)}
}

type memberDoc struct {
	ID   string `bson:"_id"`
	Team string `bson:"team"`
}

func memberKey(campaign, channel, member string) string {
	return campaign + "\x00" + channel + "\x00" + member
}

// CreateTeam stores a new team with its first member, or nothing (see engine.TeamStore).
func (db *DB) CreateTeam(ctx context.Context, t engine.Team) error {
	if t.ID == "" || t.Campaign == "" || t.Code == "" || len(t.Members) != 1 {
		return fmt.Errorf("mongo: create team: %w: want an id, a campaign, a code and one member", errs.ErrInvalid)
	}
	member := t.Members[0]
	key := memberKey(t.Campaign, t.Channel, member)
	if err := db.claimMembership(ctx, key, member, t.ID); err != nil {
		return fmt.Errorf("mongo: create team %q in %s: %w", t.Name, t.Campaign, err)
	}
	_, err := db.c(colTeams).InsertOne(ctx, teamDoc{ID: t.ID, Campaign: t.Campaign, Channel: t.Channel,
		Name: t.Name, NameKey: engine.TeamNameKey(t.Name), Code: t.Code, Members: []string{member}, Size: 1,
		CreatedAt: ns(t.CreatedAt)})
	if err != nil {
		db.dropMembership(ctx, key, t.ID)
		if mongo.IsDuplicateKeyError(err) {
			err = engine.ErrTeamNameTaken
			n, cerr := db.c(colTeams).CountDocuments(ctx, d("campaign", t.Campaign, "code", t.Code))
			if cerr == nil && n > 0 {
				err = engine.ErrTeamCodeTaken
			}
		}
		return fmt.Errorf("mongo: create team %q in %s: %w", t.Name, t.Campaign, convert(err))
	}
	return nil
}

// claimMembership makes the member's membership document name team, failing with
// engine.ErrInTeam when it names another team that lists the member.
func (db *DB) claimMembership(ctx context.Context, key, member, team string) error {
	_, err := db.c(colTeamMembers).InsertOne(ctx, memberDoc{ID: key, Team: team})
	if err == nil || !mongo.IsDuplicateKeyError(err) {
		return convert(err)
	}
	var cur memberDoc
	if err := db.c(colTeamMembers).FindOne(ctx, d("_id", key)).Decode(&cur); err != nil {
		return convert(err)
	}
	if cur.Team == team {
		return nil
	}
	n, err := db.c(colTeams).CountDocuments(ctx, d("_id", cur.Team, "members", member))
	if err != nil {
		return convert(err)
	}
	if n > 0 {
		return engine.ErrInTeam
	}
	// Left behind: take it over, unless someone else just did.
	res, err := db.c(colTeamMembers).UpdateOne(ctx, d("_id", key, "team", cur.Team), d("$set", d("team", team)))
	if err != nil {
		return convert(err)
	}
	if res.MatchedCount == 0 {
		return engine.ErrInTeam
	}
	return nil
}

// dropMembership undoes claimMembership after the team write failed. Failing to is harmless:
// a membership its team does not confirm counts as none.
func (db *DB) dropMembership(ctx context.Context, key, team string) {
	db.c(colTeamMembers).DeleteOne(context.WithoutCancel(ctx), d("_id", key, "team", team))
}

// JoinTeam adds member to the team with code unless it has max members (see engine.TeamStore).
func (db *DB) JoinTeam(ctx context.Context, campaign, channel, code, member string, max int) (engine.Team, error) {
	var t teamDoc
	if err := db.c(colTeams).FindOne(ctx, d("campaign", campaign, "code", code)).Decode(&t); err != nil {
		return engine.Team{}, fmt.Errorf("mongo: join team %s in %s: %w", code, campaign, convert(err))
	}
	if slices.Contains(t.Members, member) {
		return t.team(), nil
	}
	if max > 0 && t.Size >= max {
		return engine.Team{}, fmt.Errorf("mongo: join team %s in %s: %w", code, campaign, engine.ErrTeamFull)
	}
	key := memberKey(campaign, channel, member)
	if err := db.claimMembership(ctx, key, member, t.ID); err != nil {
		return engine.Team{}, fmt.Errorf("mongo: join team %s in %s: %w", code, campaign, err)
	}
	filter := d("_id", t.ID, "members", d("$ne", member))
	if max > 0 {
		filter = append(filter, bson.E{Key: "size", Value: d("$lt", max)})
	}
	err := db.c(colTeams).FindOneAndUpdate(ctx, filter,
		d("$push", d("members", member), "$inc", d("size", 1)),
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&t)
	if errors.Is(err, mongo.ErrNoDocuments) {
		// Full meanwhile, or the member's other tab got in first.
		if err := db.c(colTeams).FindOne(ctx, d("_id", t.ID)).Decode(&t); err != nil {
			return engine.Team{}, fmt.Errorf("mongo: join team %s in %s: %w", code, campaign, convert(err))
		}
		if slices.Contains(t.Members, member) {
			return t.team(), nil
		}
		db.dropMembership(ctx, key, t.ID)
		return engine.Team{}, fmt.Errorf("mongo: join team %s in %s: %w", code, campaign, engine.ErrTeamFull)
	}
	if err != nil {
		db.dropMembership(ctx, key, t.ID)
		return engine.Team{}, fmt.Errorf("mongo: join team %s in %s: %w", code, campaign, convert(err))
	}
	return t.team(), nil
}

// TeamOf returns member's team in campaign on channel: the team their membership names, if it
// lists them.
func (db *DB) TeamOf(ctx context.Context, campaign, channel, member string) (engine.Team, error) {
	var m memberDoc
	err := db.c(colTeamMembers).FindOne(ctx, d("_id", memberKey(campaign, channel, member))).Decode(&m)
	if err != nil {
		return engine.Team{}, fmt.Errorf("mongo: team of %s in %s: %w", member, campaign, convert(err))
	}
	var t teamDoc
	err = db.c(colTeams).FindOne(ctx, d("_id", m.Team, "members", member)).Decode(&t)
	if err != nil {
		return engine.Team{}, fmt.Errorf("mongo: team of %s in %s: %w", member, campaign, convert(err))
	}
	return t.team(), nil
}

type roundMarkDoc struct {
	ID       string `bson:"_id"`
	Campaign string `bson:"campaign"`
	Round    string `bson:"round"`
	Event    string `bson:"event"`
	At       int64  `bson:"at"`
}

// MarkRound records a round event, keeping the later time for one marked before.
func (db *DB) MarkRound(ctx context.Context, m engine.RoundMark) error {
	id := m.Campaign + "\x00" + m.Round + "\x00" + m.Event
	_, err := db.c(colRoundMarks).UpdateOne(ctx, d("_id", id),
		d("$set", d("campaign", m.Campaign, "round", m.Round, "event", m.Event), "$max", d("at", ns(m.At))),
		options.UpdateOne().SetUpsert(true))
	if mongo.IsDuplicateKeyError(err) {
		// Two upserts at once: the other inserted; this one now updates.
		_, err = db.c(colRoundMarks).UpdateOne(ctx, d("_id", id), d("$max", d("at", ns(m.At))))
	}
	if err != nil {
		return fmt.Errorf("mongo: mark round %s %s of %s: %w", m.Round, m.Event, m.Campaign, convert(err))
	}
	return nil
}

// RoundMarks returns a campaign's round marks, oldest first.
func (db *DB) RoundMarks(ctx context.Context, campaign string) ([]engine.RoundMark, error) {
	var docs []roundMarkDoc
	err := find(ctx, db.c(colRoundMarks), d("campaign", campaign), options.Find().SetSort(d("at", 1, "round", 1, "event", 1)), &docs)
	if err != nil {
		return nil, fmt.Errorf("mongo: round marks of %s: %w", campaign, err)
	}
	out := make([]engine.RoundMark, len(docs))
	for i, m := range docs {
		out[i] = engine.RoundMark{Campaign: m.Campaign, Round: m.Round, Event: m.Event, At: fromNS(m.At)}
	}
	return out, nil
}
