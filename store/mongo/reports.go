package mongo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/judge"
	"github.com/chatcampaigns/campaign/reports"
)

const (
	colReadMarks  = "read_marks"
	colBroadcasts = "broadcasts"
)

const dayNanos = int64(24 * time.Hour)

// Conversations lists conversations matching f, most recently active first, one page after
// f.Before, reading the participants in the order of an index on their last activity.
func (db *DB) Conversations(ctx context.Context, f reports.ConversationFilter) ([]reports.Conversation, error) {
	filter := bson.D{}
	if f.Campaign != "" {
		filter = append(filter, bson.E{Key: "campaign", Value: f.Campaign})
	}
	if f.State != "" {
		filter = append(filter, bson.E{Key: "state", Value: f.State})
	}
	// The hand-off team is a field of its own (participantDoc.Handoff), with an index.
	switch {
	case f.Team != "":
		filter = append(filter, bson.E{Key: "handoff", Value: f.Team})
	case f.Waiting:
		filter = append(filter, bson.E{Key: "handoff", Value: d("$gt", "")})
	}
	if f.Assignee != "" {
		ids, err := db.assignedTo(ctx, f.Assignee)
		if err != nil {
			return nil, fmt.Errorf("mongo: conversations: %w", err)
		}
		filter = append(filter, bson.E{Key: "_id", Value: d("$in", ids)})
	}
	sort := options.Find().SetSort(d("updated_at", -1, "_id", -1)).SetProjection(d("step", 0))
	var ps []engine.Participant
	// FerretDB v1 has no $elemMatch on fields, so the search reads the window of the most
	// recently active candidates and keeps the matching ones here.
	if f.Search == "" {
		// Unassigned drops the assigned ones of each page read, reading on until the page is
		// full or the window is read.
		before := f.Before
		for read := 0; len(ps) < f.PageSize() && read < reports.SearchWindow; {
			g := filter
			if !before.IsZero() {
				at := ns(before.At)
				g = append(slices.Clone(filter), bson.E{Key: "$or", Value: bson.A{
					d("updated_at", d("$lt", at)), d("updated_at", at, "_id", d("$lt", before.ID))}})
			}
			page, err := db.participants(ctx, g, sort.SetLimit(int64(f.PageSize())))
			if err != nil {
				return nil, fmt.Errorf("mongo: conversations: %w", err)
			}
			read += len(page)
			var last engine.Participant
			if len(page) > 0 {
				last = page[len(page)-1]
			}
			keep, err := db.unassigned(ctx, f, page)
			if err != nil {
				return nil, err
			}
			ps = append(ps, keep[:min(len(keep), f.PageSize()-len(ps))]...)
			if len(page) < f.PageSize() || !f.Unassigned {
				break
			}
			before = reports.CursorOf(last)
		}
	} else {
		if !f.Before.IsZero() {
			at := ns(f.Before.At)
			filter = append(filter, bson.E{Key: "$or", Value: bson.A{
				d("updated_at", d("$lt", at)), d("updated_at", at, "_id", d("$lt", f.Before.ID))}})
		}
		cands, err := db.participants(ctx, filter, sort.SetLimit(reports.SearchWindow))
		if err != nil {
			return nil, fmt.Errorf("mongo: conversations: %w", err)
		}
		if cands, err = db.unassigned(ctx, f, cands); err != nil {
			return nil, err
		}
		ids := make([]string, len(cands))
		for i, p := range cands {
			ids[i] = p.ID
		}
		inLines := map[string]bool{}
		if len(ids) > 0 && f.Search != "" {
			var said []struct {
				P string `bson:"participant_id"`
			}
			err := find(ctx, db.c(colLines), d("participant_id", d("$in", ids),
				"text", d("$regex", regexp.QuoteMeta(f.Search), "$options", "i")),
				options.Find().SetProjection(d("participant_id", 1, "_id", 0)), &said)
			if err != nil {
				return nil, fmt.Errorf("mongo: conversations: search lines: %w", err)
			}
			for _, s := range said {
				inLines[s.P] = true
			}
		}
		for _, p := range cands {
			if len(ps) < f.PageSize() && f.Keeps(p) &&
				(f.Search == "" || inLines[p.ID] || reports.MatchesVars(p, f.Search)) {
				ps = append(ps, p)
			}
		}
	}
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	who, err := db.assignees(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("mongo: conversations: %w", err)
	}
	out := make([]reports.Conversation, len(ps))
	for i, p := range ps {
		out[i].Participant, out[i].Assignee = p, who[p.ID]
		var l lineDoc
		err := db.c(colLines).FindOne(ctx, d("participant_id", p.ID, "direction", string(engine.In)),
			options.FindOne().SetSort(d("_id", -1))).Decode(&l)
		switch {
		case errors.Is(err, mongo.ErrNoDocuments):
		case err != nil:
			return nil, fmt.Errorf("mongo: conversations: last line: %w", convert(err))
		default:
			out[i].Last = engine.Line{ID: l.ID, ParticipantID: p.ID, Direction: engine.In, Text: l.Text, MediaKey: l.MediaKey, At: fromNS(l.At)}
		}
	}
	return out, nil
}

// unassigned keeps, with f.Unassigned, the participants of ps assigned to nobody; without it,
// all of ps.
func (db *DB) unassigned(ctx context.Context, f reports.ConversationFilter, ps []engine.Participant) ([]engine.Participant, error) {
	if !f.Unassigned || len(ps) == 0 {
		return ps, nil
	}
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	who, err := db.assignees(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("mongo: conversations: %w", err)
	}
	return slices.DeleteFunc(ps, func(p engine.Participant) bool { return who[p.ID] != "" }), nil
}

type readMarkDoc struct {
	ID            string `bson:"_id"`
	User          string `bson:"user"`
	ParticipantID string `bson:"participant_id"`
	SeenAt        int64  `bson:"seen_at"`
}

// MarkRead records that user has read participantID's conversation up to seen; an older mark
// than the stored one changes nothing ($max), so two tabs cannot move it back.
func (db *DB) MarkRead(ctx context.Context, user, participantID string, seen time.Time) error {
	_, err := db.c(colReadMarks).UpdateOne(ctx, d("_id", user+"\x00"+participantID),
		d("$set", d("user", user, "participant_id", participantID), "$max", d("seen_at", ns(seen))),
		options.UpdateOne().SetUpsert(true))
	if mongo.IsDuplicateKeyError(err) { // two first marks at once: the loser updates
		_, err = db.c(colReadMarks).UpdateOne(ctx, d("_id", user+"\x00"+participantID), d("$max", d("seen_at", ns(seen))))
	}
	if err != nil {
		return fmt.Errorf("mongo: mark %s read by %s: %w", participantID, user, convert(err))
	}
	return nil
}

// ReadMarks returns user's read marks on the conversations ids.
func (db *DB) ReadMarks(ctx context.Context, user string, ids []string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	if len(ids) == 0 {
		return out, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = user + "\x00" + id
	}
	var docs []readMarkDoc
	if err := find(ctx, db.c(colReadMarks), d("_id", d("$in", keys)), options.Find(), &docs); err != nil {
		return nil, fmt.Errorf("mongo: read marks of %s: %w", user, err)
	}
	for _, m := range docs {
		out[m.ParticipantID] = fromNS(m.SeenAt)
	}
	return out, nil
}

type broadcastDoc struct {
	ID       string `bson:"_id"`
	Campaign string `bson:"campaign"`
	Text     string `bson:"text"`
	State    string `bson:"state"`
	Var      string `bson:"var"`
	Value    string `bson:"value"`
	Template string `bson:"template"`
	By       string `bson:"by"`
	Queued   int    `bson:"queued"`
	At       int64  `bson:"at"`
}

func (b broadcastDoc) broadcast() reports.Broadcast {
	return reports.Broadcast{ID: b.ID, Campaign: b.Campaign, Text: b.Text,
		Audience: engine.Audience{State: b.State, Var: b.Var, Value: b.Value},
		Template: b.Template, By: b.By, Queued: b.Queued, At: fromNS(b.At)}
}

// SaveBroadcast records a broadcast in the history; saving one id twice keeps the first.
func (db *DB) SaveBroadcast(ctx context.Context, b reports.Broadcast) error {
	doc := broadcastDoc{ID: b.ID, Campaign: b.Campaign, Text: b.Text, State: b.Audience.State, Var: b.Audience.Var,
		Value: b.Audience.Value, Template: b.Template, By: b.By, Queued: b.Queued, At: ns(b.At)}
	_, err := db.c(colBroadcasts).InsertOne(ctx, doc)
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("mongo: save broadcast %s: %w", b.ID, convert(err))
	}
	return nil
}

// Broadcasts lists a campaign's broadcasts, newest first.
func (db *DB) Broadcasts(ctx context.Context, campaign string, limit int) ([]reports.Broadcast, error) {
	opts := options.Find().SetSort(d("at", -1, "_id", -1))
	if limit > 0 {
		opts.SetLimit(int64(limit))
	}
	var docs []broadcastDoc
	if err := find(ctx, db.c(colBroadcasts), d("campaign", campaign), opts, &docs); err != nil {
		return nil, fmt.Errorf("mongo: broadcasts of %s: %w", campaign, err)
	}
	out := make([]reports.Broadcast, len(docs))
	for i, doc := range docs {
		out[i] = doc.broadcast()
	}
	return out, nil
}

// Broadcast returns one broadcast of the history, or an error wrapping errs.ErrNotFound.
func (db *DB) Broadcast(ctx context.Context, id string) (reports.Broadcast, error) {
	var doc broadcastDoc
	if err := db.c(colBroadcasts).FindOne(ctx, d("_id", id)).Decode(&doc); err != nil {
		return reports.Broadcast{}, fmt.Errorf("mongo: broadcast %s: %w", id, convert(err))
	}
	return doc.broadcast(), nil
}

// BroadcastRecipients lists a broadcast's replies in the order they were queued, the page
// after the reply with id after.
func (db *DB) BroadcastRecipients(ctx context.Context, id string, after int64, limit int) ([]engine.Outbound, error) {
	opts := options.Find().SetSort(d("_id", 1))
	if limit > 0 {
		opts.SetLimit(int64(limit))
	}
	out, err := db.outbox(ctx, d("broadcast_id", id, "_id", d("$gt", after)), opts)
	if err != nil {
		return nil, fmt.Errorf("mongo: recipients of broadcast %s: %w", id, err)
	}
	return out, nil
}

// shownStatus is how far a reply got, as DeliveryCounts says it.
func shownStatus(status, delivery string) string {
	if status == engine.StatusSent && delivery != "" {
		return delivery
	}
	return status
}

// DeliveryByChannel counts a campaign's replies by channel and how far they got.
func (db *DB) DeliveryByChannel(ctx context.Context, campaign string) (map[string]map[string]int, error) {
	cur, err := db.c(colOutbox).Aggregate(ctx, mongo.Pipeline{
		d("$match", d("campaign", campaign)),
		d("$group", d("_id", d("channel", "$channel", "status", "$status", "delivery", "$delivery"), "n", d("$sum", 1))),
	})
	if err != nil {
		return nil, fmt.Errorf("mongo: delivery by channel of %s: %w", campaign, convert(err))
	}
	var groups []struct {
		ID struct {
			Channel  string `bson:"channel"`
			Status   string `bson:"status"`
			Delivery string `bson:"delivery"`
		} `bson:"_id"`
		N int `bson:"n"`
	}
	if err := cur.All(ctx, &groups); err != nil {
		return nil, fmt.Errorf("mongo: delivery by channel of %s: %w", campaign, convert(err))
	}
	out := map[string]map[string]int{}
	for _, g := range groups {
		if out[g.ID.Channel] == nil {
			out[g.ID.Channel] = map[string]int{}
		}
		out[g.ID.Channel][shownStatus(g.ID.Status, g.ID.Delivery)] += g.N
	}
	return out, nil
}

// DeliveryDays counts a campaign's replies due since since by UTC day and how far they got.
// The days are counted here rather than in the pipeline: FerretDB v1 lacks the date and
// arithmetic operators a $group by day would need.
func (db *DB) DeliveryDays(ctx context.Context, campaign string, since, until time.Time) ([]reports.DayCount, error) {
	due := d("$gte", ns(since))
	if !until.IsZero() {
		due = append(due, bson.E{Key: "$lt", Value: ns(until)})
	}
	cur, err := db.c(colOutbox).Find(ctx, d("campaign", campaign, "due_at", due),
		options.Find().SetProjection(d("due_at", 1, "status", 1, "delivery", 1)))
	if err != nil {
		return nil, fmt.Errorf("mongo: delivery days of %s: %w", campaign, convert(err))
	}
	defer cur.Close(ctx)
	type key struct {
		day int64
		st  string
	}
	counts := map[key]int{}
	for cur.Next(ctx) {
		var o struct {
			Due      int64  `bson:"due_at"`
			Status   string `bson:"status"`
			Delivery string `bson:"delivery"`
		}
		if err := cur.Decode(&o); err != nil {
			return nil, fmt.Errorf("mongo: delivery days of %s: %w", campaign, convert(err))
		}
		counts[key{o.Due / dayNanos, shownStatus(o.Status, o.Delivery)}]++
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("mongo: delivery days of %s: %w", campaign, convert(err))
	}
	out := make([]reports.DayCount, 0, len(counts))
	for k, n := range counts {
		out = append(out, reports.DayCount{Day: time.Unix(0, k.day*dayNanos).UTC(), Key: k.st, N: n})
	}
	slices.SortFunc(out, func(a, b reports.DayCount) int {
		if c := a.Day.Compare(b.Day); c != 0 {
			return c
		}
		if a.Key < b.Key {
			return -1
		}
		if a.Key > b.Key {
			return 1
		}
		return 0
	})
	return out, nil
}

// EntryDays counts a campaign's entries received and decided since since by UTC day, with
// the mean wait of the decided ones.
func (db *DB) EntryDays(ctx context.Context, campaign string, since, until time.Time) ([]reports.EntryDay, error) {
	end := int64(math.MaxInt64)
	if !until.IsZero() {
		end = ns(until)
	}
	in := func(t int64) bool { return t >= ns(since) && t < end }
	byDay := map[int64]*reports.EntryDay{}
	get := func(day int64) *reports.EntryDay {
		if e := byDay[day]; e != nil {
			return e
		}
		e := &reports.EntryDay{Day: time.Unix(0, day*dayNanos).UTC()}
		byDay[day] = e
		return e
	}
	waits := map[int64]time.Duration{}
	cur, err := db.c(colEntries).Find(ctx, d("campaign", campaign, "$or", bson.A{
		d("created_at", d("$gte", ns(since))), d("decided_at", d("$gte", ns(since)))}),
		options.Find().SetProjection(d("created_at", 1, "decided_at", 1)))
	if err != nil {
		return nil, fmt.Errorf("mongo: entry days of %s: %w", campaign, convert(err))
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var e struct {
			Created int64 `bson:"created_at"`
			Decided int64 `bson:"decided_at"`
		}
		if err := cur.Decode(&e); err != nil {
			return nil, fmt.Errorf("mongo: entry days of %s: %w", campaign, convert(err))
		}
		if in(e.Created) {
			get(e.Created/dayNanos).Received++
		}
		if e.Decided > 0 && in(e.Decided) {
			day := e.Decided / dayNanos
			get(day).Decided++
			waits[day] += time.Duration(e.Decided - e.Created)
		}
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("mongo: entry days of %s: %w", campaign, convert(err))
	}
	out := make([]reports.EntryDay, 0, len(byDay))
	for day, e := range byDay {
		if e.Decided > 0 {
			e.Wait = waits[day] / time.Duration(e.Decided)
		}
		out = append(out, *e)
	}
	slices.SortFunc(out, func(a, b reports.EntryDay) int { return a.Day.Compare(b.Day) })
	return out, nil
}

// each streams the documents of a cursor to fn one at a time: an export never holds a whole
// collection.
func each[T any](ctx context.Context, c *mongo.Collection, filter bson.D, opts *options.FindOptionsBuilder, fn func(T) error) error {
	cur, err := c.Find(ctx, filter, opts.SetBatchSize(500))
	if err != nil {
		return convert(err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var doc T
		if err := cur.Decode(&doc); err != nil {
			return convert(err)
		}
		if err := fn(doc); err != nil {
			return err
		}
	}
	return convert(cur.Err())
}

// EachParticipant calls fn with each participant of campaign in the order they joined.
func (db *DB) EachParticipant(ctx context.Context, campaign string, fn func(engine.Participant) error) error {
	err := each(ctx, db.c(colParticipants), d("campaign", campaign),
		options.Find().SetSort(d("created_at", 1, "seq", 1)).SetProjection(d("step", 0)),
		func(doc participantDoc) error { return fn(doc.participant()) })
	if err != nil {
		return fmt.Errorf("mongo: export participants of %s: %w", campaign, err)
	}
	return nil
}

// EachEntry calls fn with each entry of campaign, oldest first.
func (db *DB) EachEntry(ctx context.Context, campaign string, fn func(judge.Entry) error) error {
	err := each(ctx, db.c(colEntries), d("campaign", campaign),
		options.Find().SetSort(d("created_at", 1, "seq", 1)).SetProjection(d("event", 0)),
		func(doc entryDoc) error { return fn(doc.entry()) })
	if err != nil {
		return fmt.Errorf("mongo: export entries of %s: %w", campaign, err)
	}
	return nil
}

// EachScore calls fn with each score given in campaign, by entry, judge and criterion.
func (db *DB) EachScore(ctx context.Context, campaign string, fn func(reports.ScoreRow) error) error {
	err := each(ctx, db.c(colScores), d("campaign", campaign), options.Find().SetSort(d("_id", 1)),
		func(doc scoreDoc) error {
			for _, s := range doc.Scores {
				if err := fn(reports.ScoreRow{EntryID: doc.EntryID, Judge: doc.Judge, Criterion: s.Criterion, Score: s.Score, At: fromNS(doc.At)}); err != nil {
					return err
				}
			}
			return nil
		})
	if err != nil {
		return fmt.Errorf("mongo: export scores of %s: %w", campaign, err)
	}
	return nil
}

// ParticipantEntries lists a participant's entries, oldest first.
func (db *DB) ParticipantEntries(ctx context.Context, participantID string) ([]judge.Entry, error) {
	var docs []entryDoc
	err := find(ctx, db.c(colEntries), d("participant_id", participantID),
		options.Find().SetSort(d("created_at", 1, "seq", 1)).SetProjection(d("event", 0)), &docs)
	if err != nil {
		return nil, fmt.Errorf("mongo: entries of %s: %w", participantID, err)
	}
	out := make([]judge.Entry, len(docs))
	for i, doc := range docs {
		out[i] = doc.entry()
	}
	return out, nil
}
