package mongo

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

// ParticipantsAt returns the participants writing from address on channel, in any campaign,
// most recently updated first.
func (db *DB) ParticipantsAt(ctx context.Context, channel, address string) ([]engine.Participant, error) {
	ps, err := db.participants(ctx, d("channel", channel, "address", address),
		options.Find().SetSort(d("updated_at", -1, "seq", -1)))
	if err != nil {
		return nil, fmt.Errorf("mongo: participants at %s/%s: %w", channel, address, err)
	}
	return ps, nil
}

// Participants lists participants matching f in the order they joined.
func (db *DB) Participants(ctx context.Context, f engine.ParticipantFilter) ([]engine.Participant, error) {
	filter := bson.D{}
	if f.Campaign != "" {
		filter = append(filter, bson.E{Key: "campaign", Value: f.Campaign})
	}
	if f.State != "" {
		filter = append(filter, bson.E{Key: "state", Value: f.State})
	}
	if f.Unfinished {
		filter = append(filter, bson.E{Key: "finished", Value: false})
	}
	if !f.WroteSince.IsZero() {
		filter = append(filter, bson.E{Key: "last_inbound_at", Value: d("$gte", ns(f.WroteSince))})
	}
	opts := options.Find().SetSort(d("created_at", 1, "seq", 1))
	if f.Limit > 0 {
		opts.SetLimit(int64(f.Limit))
	}
	ps, err := db.participants(ctx, filter, opts)
	if err != nil {
		return nil, fmt.Errorf("mongo: list participants: %w", err)
	}
	return ps, nil
}

// participants lists participants as their last commit left them; an unfinished step's effects
// (replies, lines) may still be being written, but the participant's fields are final.
func (db *DB) participants(ctx context.Context, filter bson.D, opts *options.FindOptionsBuilder) ([]engine.Participant, error) {
	var docs []participantDoc
	if err := find(ctx, db.c(colParticipants), filter, opts.SetProjection(d("step", 0)), &docs); err != nil {
		return nil, err
	}
	out := make([]engine.Participant, len(docs))
	for i, doc := range docs {
		out[i] = doc.participant()
	}
	return out, nil
}

// StateCounts returns how many participants of a campaign are in each state.
func (db *DB) StateCounts(ctx context.Context, campaign string) (map[string]int, error) {
	out := map[string]int{}
	if err := db.countBy(ctx, colParticipants, d("campaign", campaign), "$state", out); err != nil {
		return nil, fmt.Errorf("mongo: state counts of %s: %w", campaign, err)
	}
	return out, nil
}

// countBy sets in out how many documents of the collection coll that match have each value
// of the string field (a path such as "$state").
func (db *DB) countBy(ctx context.Context, coll string, match bson.D, field string, out map[string]int) error {
	cur, err := db.c(coll).Aggregate(ctx, mongo.Pipeline{
		d("$match", match),
		d("$group", d("_id", field, "n", d("$sum", 1))),
	})
	if err != nil {
		return convert(err)
	}
	var groups []struct {
		ID string `bson:"_id"`
		N  int    `bson:"n"`
	}
	if err := cur.All(ctx, &groups); err != nil {
		return convert(err)
	}
	for _, g := range groups {
		out[g.ID] = g.N
	}
	return nil
}

// PoolTaken returns how many places of a pool are taken, the places held by steps still being
// committed included; a pool never used has none taken.
func (db *DB) PoolTaken(ctx context.Context, campaign, pool string) (int, error) {
	n, err := db.c(colPlaces).CountDocuments(ctx, d("campaign", campaign, "pool", pool))
	if err != nil {
		return 0, fmt.Errorf("mongo: pool %s/%s: %w", campaign, pool, convert(err))
	}
	return int(n), nil
}

// timerDoc is a timer. A fired or cancelled timer stays as a tombstone (active false): its key
// stays taken, so a late writer finishing an old step cannot bring it back. firing holds the
// events of a timer being fired (the intent of StoreEvents).
type timerDoc struct {
	ID            int64        `bson:"_id"`
	Key           string       `bson:"key"`
	Campaign      string       `bson:"campaign"`
	ParticipantID string       `bson:"participant_id"`
	Transition    string       `bson:"transition"`
	Seq           int64        `bson:"seq"`
	Round         string       `bson:"round"`
	RoundEvent    string       `bson:"round_event"`
	DueAt         int64        `bson:"due_at"`
	Ver           int64        `bson:"ver"`
	Active        bool         `bson:"active"`
	Firing        []inboundDoc `bson:"firing,omitempty"`
}

func toTimerDoc(t engine.Timer, id, ver int64) timerDoc {
	return timerDoc{ID: id, Key: t.Key, Campaign: t.Campaign, ParticipantID: t.ParticipantID,
		Transition: t.Transition, Seq: t.Seq, Round: t.Round, RoundEvent: t.RoundEvent,
		DueAt: ns(t.DueAt), Ver: ver, Active: true}
}

// SaveTimer stores a timer unless one with the same key exists, or existed and fired or was
// cancelled.
func (db *DB) SaveTimer(ctx context.Context, t engine.Timer) error {
	if t.Key == "" {
		return fmt.Errorf("mongo: save timer: %w: no key", errs.ErrInvalid)
	}
	id, err := db.next(ctx, 1)
	if err == nil {
		err = insertAll(ctx, db.c(colTimers), []any{toTimerDoc(t, id, 0)})
	}
	if err != nil {
		return fmt.Errorf("mongo: save timer %s: %w", t.Key, convert(err))
	}
	return nil
}

// DueTimers returns up to limit active timers due at or before now, earliest first (all when
// limit <= 0).
func (db *DB) DueTimers(ctx context.Context, now time.Time, limit int) ([]engine.Timer, error) {
	opts := options.Find().SetSort(d("due_at", 1, "_id", 1))
	if limit > 0 {
		opts.SetLimit(int64(limit))
	}
	var docs []timerDoc
	if err := find(ctx, db.c(colTimers), d("active", true, "due_at", d("$lte", ns(now))), opts, &docs); err != nil {
		return nil, fmt.Errorf("mongo: due timers: %w", err)
	}
	out := make([]engine.Timer, len(docs))
	for i, t := range docs {
		out[i] = engine.Timer{ID: t.ID, Key: t.Key, Campaign: t.Campaign, ParticipantID: t.ParticipantID,
			Transition: t.Transition, Seq: t.Seq, Round: t.Round, RoundEvent: t.RoundEvent, DueAt: fromNS(t.DueAt)}
	}
	return out, nil
}

// Notifications returns up to limit notifications, newest first (all when limit <= 0).
func (db *DB) Notifications(ctx context.Context, campaign string, limit int) ([]engine.Notification, error) {
	filter := bson.D{}
	if campaign != "" {
		filter = append(filter, bson.E{Key: "campaign", Value: campaign})
	}
	opts := options.Find().SetSort(d("_id", -1))
	if limit > 0 {
		opts.SetLimit(int64(limit))
	}
	var docs []noteDoc
	if err := find(ctx, db.c(colNotifications), filter, opts, &docs); err != nil {
		return nil, fmt.Errorf("mongo: notifications: %w", err)
	}
	out := make([]engine.Notification, len(docs))
	for i, n := range docs {
		out[i] = engine.Notification{ID: n.ID, Campaign: n.Campaign, ParticipantID: n.ParticipantID,
			Text: n.Text, At: fromNS(n.At)}
	}
	return out, nil
}

type versionDoc struct {
	ID      string `bson:"id"`
	Version string `bson:"version"`
	File    string `bson:"file"`
	Source  []byte `bson:"source"`
	At      int64  `bson:"at"`
	Seq     int64  `bson:"seq"`
}

type statusDoc struct {
	ID        string `bson:"_id"`
	Status    string `bson:"status"`
	UpdatedAt int64  `bson:"updated_at"`
	// LaunchedAt is when the campaign was first stored (0 in documents older than the field).
	LaunchedAt int64 `bson:"launched_at"`
}

// fileDoc is what was last loaded from one definition file, keyed by its path.
type fileDoc struct {
	Path    string `bson:"_id"`
	ID      string `bson:"id"`
	Version string `bson:"version"`
	Hash    string `bson:"hash"`
	At      int64  `bson:"at"`
}

// SaveCampaign stores a definition version and sets the campaign's status. Saving a version
// stored before keeps its source and moves its At, so launching an older version again makes
// it the latest. The two documents are written one after the other: a crash between them
// leaves the version stored with the previous status, and the launch is simply repeated.
func (db *DB) SaveCampaign(ctx context.Context, r engine.CampaignRecord) error {
	if r.ID == "" || r.Version == "" || r.Status == "" {
		return fmt.Errorf("mongo: save campaign: %w: id, version and status are required", errs.ErrInvalid)
	}
	if r.Source == nil {
		r.Source = []byte{}
	}
	err := db.saveCampaign(ctx, r)
	if err != nil {
		return fmt.Errorf("mongo: save campaign %s/%s: %w", r.ID, r.Version, convert(err))
	}
	return nil
}

func (db *DB) saveCampaign(ctx context.Context, r engine.CampaignRecord) error {
	seq, err := db.next(ctx, 1)
	if err != nil {
		return err
	}
	_, err = db.c(colVersions).UpdateOne(ctx, d("id", r.ID, "version", r.Version),
		d("$set", d("at", ns(r.At)), "$setOnInsert", d("file", r.File, "source", r.Source, "seq", seq)),
		options.UpdateOne().SetUpsert(true))
	if mongo.IsDuplicateKeyError(err) {
		// Two launches of a new version at once: one inserted it, this one moves its At.
		_, err = db.c(colVersions).UpdateOne(ctx, d("id", r.ID, "version", r.Version), d("$set", d("at", ns(r.At))))
	}
	if err != nil {
		return err
	}
	_, err = db.c(colStatus).UpdateOne(ctx, d("_id", r.ID),
		d("$set", d("status", r.Status, "updated_at", ns(r.At)), "$setOnInsert", d("launched_at", ns(r.At))),
		options.UpdateOne().SetUpsert(true))
	if err != nil || r.Path == "" {
		return err
	}
	_, err = db.c(colFiles).UpdateOne(ctx, d("_id", r.Path),
		d("$set", d("id", r.ID, "version", r.Version, "hash", r.Hash, "at", ns(r.At))), options.UpdateOne().SetUpsert(true))
	return err
}

// LoadedFile returns the version last stored from the file at path.
func (db *DB) LoadedFile(ctx context.Context, path string) (engine.CampaignRecord, error) {
	var f fileDoc
	if err := db.c(colFiles).FindOne(ctx, d("_id", path)).Decode(&f); err != nil {
		return engine.CampaignRecord{}, fmt.Errorf("mongo: loaded file %s: %w", path, convert(err))
	}
	r := engine.CampaignRecord{ID: f.ID, Version: f.Version, Path: f.Path, Hash: f.Hash, At: fromNS(f.At)}
	var st statusDoc
	err := db.c(colStatus).FindOne(ctx, d("_id", f.ID)).Decode(&st)
	switch {
	case err == nil:
		r.Launched = launchedAt(st)
	case !errIsNotFound(err):
		return engine.CampaignRecord{}, fmt.Errorf("mongo: loaded file %s: %w", path, convert(err))
	}
	return r, nil
}

func launchedAt(st statusDoc) time.Time {
	if st.LaunchedAt == 0 {
		return time.Time{}
	}
	return fromNS(st.LaunchedAt)
}

// SetCampaignStatus sets a stored campaign's status; errs.ErrNotFound for an unknown one.
func (db *DB) SetCampaignStatus(ctx context.Context, id, status string, at time.Time) error {
	res, err := db.c(colStatus).UpdateOne(ctx, d("_id", id), d("$set", d("status", status, "updated_at", ns(at))))
	if err == nil && res.MatchedCount == 0 {
		err = errs.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("mongo: set status of campaign %s: %w", id, convert(err))
	}
	return nil
}

// Campaigns returns each campaign's latest version and the older versions unfinished
// participants still play, oldest first per campaign.
func (db *DB) Campaigns(ctx context.Context) ([]engine.CampaignRecord, error) {
	var versions []versionDoc
	if err := find(ctx, db.c(colVersions), bson.D{}, nil, &versions); err != nil {
		return nil, fmt.Errorf("mongo: campaigns: %w", err)
	}
	var statuses []statusDoc
	if err := find(ctx, db.c(colStatus), bson.D{}, nil, &statuses); err != nil {
		return nil, fmt.Errorf("mongo: campaigns: %w", err)
	}
	status := map[string]statusDoc{}
	for _, s := range statuses {
		status[s.ID] = s
	}
	slices.SortFunc(versions, func(a, b versionDoc) int {
		return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.At, b.At), cmp.Compare(a.Seq, b.Seq))
	})
	var out []engine.CampaignRecord
	for i, v := range versions {
		latest := i == len(versions)-1 || versions[i+1].ID != v.ID
		if !latest {
			n, err := db.c(colParticipants).CountDocuments(ctx,
				d("campaign", v.ID, "def_version", v.Version, "finished", false), options.Count().SetLimit(1))
			if err != nil {
				return nil, fmt.Errorf("mongo: campaigns: %w", convert(err))
			}
			if n == 0 {
				continue
			}
		}
		out = append(out, engine.CampaignRecord{ID: v.ID, Version: v.Version, File: v.File,
			Source: v.Source, Status: status[v.ID].Status, At: fromNS(v.At), Launched: launchedAt(status[v.ID])})
	}
	return out, nil
}
