package mongo

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
)

type buttonDoc struct {
	ID    string `bson:"id"`
	Title string `bson:"title"`
}

type templateDoc struct {
	Name     string   `bson:"name"`
	Language string   `bson:"language,omitempty"`
	Params   []string `bson:"params,omitempty"`
}

// outboxDoc is one reply. ver is the participant version of the step that queued it (0 for
// replies queued outside a step). A sent reply is also its transcript line: line_id gives it
// its place among the participant's lines, so marking it sent is one update.
type outboxDoc struct {
	ID            int64        `bson:"_id"`
	ParticipantID string       `bson:"participant_id"`
	Campaign      string       `bson:"campaign"`
	Channel       string       `bson:"channel"`
	To            string       `bson:"to"`
	From          string       `bson:"from,omitempty"`
	Agent         string       `bson:"agent,omitempty"`
	Text          string       `bson:"text"`
	Buttons       []buttonDoc  `bson:"buttons,omitempty"`
	MediaURL      string       `bson:"media_url,omitempty"`
	Template      *templateDoc `bson:"template,omitempty"`
	BroadcastID   string       `bson:"broadcast_id,omitempty"`
	DueAt         int64        `bson:"due_at"`
	Status        string       `bson:"status"`
	PlatformID    string       `bson:"platform_id"`
	Error         string       `bson:"error"`
	Attempts      int          `bson:"attempts"`
	Ver           int64        `bson:"ver"`
	LineID        int64        `bson:"line_id,omitempty"`
	SentAt        int64        `bson:"sent_at,omitempty"`
	UpdatedAt     int64        `bson:"updated_at,omitempty"`
	// The platform's latest delivery report, and its rank, which only ever rises.
	Delivery      string `bson:"delivery,omitempty"`
	DeliveryRank  int    `bson:"delivery_rank"`
	DeliveryCode  int    `bson:"delivery_code,omitempty"`
	DeliveryError string `bson:"delivery_error,omitempty"`
	DeliveryAt    int64  `bson:"delivery_at,omitempty"`
	// The last send attempt (AttemptOutbox): in_flight until its outcome is stored.
	AttemptedAt int64  `bson:"attempted_at,omitempty"`
	AttemptedBy string `bson:"attempted_by,omitempty"`
	InFlight    bool   `bson:"in_flight,omitempty"`
	MaybeTwice  bool   `bson:"maybe_twice,omitempty"`
}

func toOutboxDoc(o engine.Outbound, id, ver int64) outboxDoc {
	status := o.Status
	if status == "" {
		status = engine.StatusPending
	}
	doc := outboxDoc{ID: id, ParticipantID: o.ParticipantID, Campaign: o.Campaign, Channel: o.Channel,
		To: o.To, From: o.From, Agent: o.Agent, Text: o.Text, MediaURL: o.MediaURL, BroadcastID: o.BroadcastID, DueAt: ns(o.DueAt),
		Status: status, PlatformID: o.PlatformID, Error: o.Error, Attempts: o.Attempts, Ver: ver}
	for _, b := range o.Buttons {
		doc.Buttons = append(doc.Buttons, buttonDoc{ID: b.ID, Title: b.Title})
	}
	if t := o.Template; t != nil {
		doc.Template = &templateDoc{Name: t.Name, Language: t.Language, Params: t.Params}
	}
	return doc
}

func (doc outboxDoc) outbound() engine.Outbound {
	o := engine.Outbound{ID: doc.ID, ParticipantID: doc.ParticipantID, Campaign: doc.Campaign,
		Channel: doc.Channel, To: doc.To, From: doc.From, Agent: doc.Agent, Text: doc.Text, MediaURL: doc.MediaURL,
		DueAt: fromNS(doc.DueAt), Status: doc.Status, PlatformID: doc.PlatformID, Error: doc.Error,
		Attempts: doc.Attempts, BroadcastID: doc.BroadcastID,
		Delivery: engine.Delivery{Status: doc.Delivery, ErrorCode: doc.DeliveryCode,
			ErrorTitle: doc.DeliveryError, At: fromNS(doc.DeliveryAt)},
		AttemptedAt: fromNS(doc.AttemptedAt), AttemptedBy: doc.AttemptedBy, InFlight: doc.InFlight,
		MaybeTwice: doc.MaybeTwice}
	for _, b := range doc.Buttons {
		o.Buttons = append(o.Buttons, engine.Button{ID: b.ID, Title: b.Title})
	}
	if t := doc.Template; t != nil {
		o.Template = &engine.TemplateCall{Name: t.Name, Language: t.Language, Params: t.Params}
	}
	return o
}

// DueOutbox returns up to limit pending replies due at or before now, in queue order (all when
// limit <= 0), each with its participant's LastInboundAt. A reply queued after one to the same
// participant that waits to be tried again is left out: it goes out after that one
// (engine.Store). Those are found by a second query over the participants of the first's
// rows (no $lookup, which FerretDB v1 lacks).
func (db *DB) DueOutbox(ctx context.Context, now time.Time, limit int) ([]engine.Outbound, error) {
	opts := options.Find().SetSort(d("_id", 1))
	if limit > 0 {
		opts.SetLimit(int64(limit))
	}
	out, err := db.outbox(ctx, d("status", engine.StatusPending, "due_at", d("$lte", ns(now))), opts)
	if err == nil {
		out, err = db.inOrder(ctx, out, now)
	}
	if err != nil {
		return nil, fmt.Errorf("mongo: due outbox: %w", err)
	}
	return out, nil
}

// DueOutboxIDs lists the ids of the replies DueOutbox would return before it drops those a
// retried reply holds up, oldest first, at most limit (0: all): what the sender claims. One
// read of the outbox's ids, where DueOutbox also reads the participants and the retried
// replies (engine.dueIDReader).
func (db *DB) DueOutboxIDs(ctx context.Context, now time.Time, limit int) ([]int64, error) {
	opts := options.Find().SetSort(d("_id", 1)).SetProjection(d("_id", 1))
	if limit > 0 {
		opts.SetLimit(int64(limit))
	}
	var docs []struct {
		ID int64 `bson:"_id"`
	}
	if err := find(ctx, db.c(colOutbox), d("status", engine.StatusPending, "due_at", d("$lte", ns(now))), opts, &docs); err != nil {
		return nil, fmt.Errorf("mongo: due outbox ids: %w", err)
	}
	ids := make([]int64, len(docs))
	for i, doc := range docs {
		ids[i] = doc.ID
	}
	return ids, nil
}

// inOrder drops from due the replies queued after a reply to the same participant that waits
// out its backoff (pending, tried before, not due at now).
func (db *DB) inOrder(ctx context.Context, due []engine.Outbound, now time.Time) ([]engine.Outbound, error) {
	var ids []string
	for _, o := range due {
		if o.ParticipantID != "" && !slices.Contains(ids, o.ParticipantID) {
			ids = append(ids, o.ParticipantID)
		}
	}
	if len(ids) == 0 {
		return due, nil
	}
	var waiting []struct {
		ID            int64  `bson:"_id"`
		ParticipantID string `bson:"participant_id"`
	}
	err := find(ctx, db.c(colOutbox), d("participant_id", d("$in", ids), "status", engine.StatusPending,
		"attempts", d("$gt", 0), "due_at", d("$gt", ns(now))), options.Find().SetProjection(d("participant_id", 1)), &waiting)
	if err != nil || len(waiting) == 0 {
		return due, err
	}
	first := map[string]int64{}
	for _, w := range waiting {
		if f, ok := first[w.ParticipantID]; !ok || w.ID < f {
			first[w.ParticipantID] = w.ID
		}
	}
	kept := due[:0]
	for _, o := range due {
		if f, ok := first[o.ParticipantID]; !ok || o.ID < f {
			kept = append(kept, o)
		}
	}
	return kept, nil
}

// Outbox returns every reply queued for a participant, whatever its status, in queue order.
func (db *DB) Outbox(ctx context.Context, participantID string) ([]engine.Outbound, error) {
	out, err := db.outbox(ctx, d("participant_id", participantID), options.Find().SetSort(d("_id", 1)))
	if err != nil {
		return nil, fmt.Errorf("mongo: outbox of %s: %w", participantID, err)
	}
	return out, nil
}

func (db *DB) outbox(ctx context.Context, filter bson.D, opts *options.FindOptionsBuilder) ([]engine.Outbound, error) {
	var docs []outboxDoc
	if err := find(ctx, db.c(colOutbox), filter, opts, &docs); err != nil {
		return nil, err
	}
	var ids []string
	for _, doc := range docs {
		if doc.ParticipantID != "" && !slices.Contains(ids, doc.ParticipantID) {
			ids = append(ids, doc.ParticipantID)
		}
	}
	lastIn := map[string]int64{}
	optedOut := map[string]bool{}
	if len(ids) > 0 {
		var ps []struct {
			ID     string `bson:"_id"`
			LastIn int64  `bson:"last_inbound_at"`
			State  string `bson:"state"`
		}
		err := find(ctx, db.c(colParticipants), d("_id", d("$in", ids)),
			options.Find().SetProjection(d("last_inbound_at", 1, "state", 1)), &ps)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			lastIn[p.ID] = p.LastIn
			optedOut[p.ID] = p.State == engine.StateOptedOut
		}
	}
	out := make([]engine.Outbound, len(docs))
	for i, doc := range docs {
		out[i] = doc.outbound()
		out[i].LastInboundAt = fromNS(lastIn[doc.ParticipantID])
		out[i].OptedOut = optedOut[doc.ParticipantID]
	}
	return out, nil
}

// finishOutbound moves a reply out of pending in one update, closing the attempt in flight, or
// counting one when none was recorded (AttemptOutbox). A reply already sent cannot be marked
// again (errs.ErrConflict): it is in the transcript and must stay as it went out.
func (db *DB) finishOutbound(ctx context.Context, id int64, set bson.D) error {
	matched, err := db.closeAttempt(ctx, d("_id", id, "status", d("$ne", engine.StatusSent)), set)
	if err != nil || matched {
		return err
	}
	n, err := db.c(colOutbox).CountDocuments(ctx, d("_id", id))
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("reply %d: %w", id, errs.ErrNotFound)
	}
	return fmt.Errorf("%w: already sent", errs.ErrConflict)
}

// closeAttempt applies set to the reply filter matches and closes its attempt in flight; a
// reply with none in flight (its outcome stored without an attempt recorded: a cancellation,
// a reply with no sender) counts one attempt instead. Two conditional updates rather than one
// with an expression, which FerretDB v1 lacks; the common case, a recorded attempt, takes
// the first. It reports whether a reply matched.
func (db *DB) closeAttempt(ctx context.Context, filter, set bson.D) (bool, error) {
	inFlight := append(slices.Clone(filter), bson.E{Key: "in_flight", Value: true})
	res, err := db.c(colOutbox).UpdateOne(ctx, inFlight, d("$set", append(slices.Clone(set), bson.E{Key: "in_flight", Value: false})))
	if err != nil || res.MatchedCount == 1 {
		return err == nil, err
	}
	res, err = db.c(colOutbox).UpdateOne(ctx, filter, d("$set", set, "$inc", d("attempts", 1)))
	if err != nil {
		return false, err
	}
	return res.MatchedCount == 1, nil
}

// AttemptOutbox records an attempt at sending a pending reply before it is sent: one more
// attempt, when and by whom, in flight until its outcome is stored; a reply in flight already
// may have reached the platform and is marked maybe_twice (engine.Store). Two conditional
// single-document updates, each atomic, rather than one with an expression (FerretDB v1 has
// none); the common case, a reply not in flight, takes the first.
func (db *DB) AttemptOutbox(ctx context.Context, id int64, owner string, at time.Time) error {
	set := d("attempted_at", ns(at), "attempted_by", owner, "in_flight", true)
	res, err := db.c(colOutbox).UpdateOne(ctx, d("_id", id, "status", engine.StatusPending, "in_flight", d("$ne", true)),
		d("$set", set, "$inc", d("attempts", 1)))
	if err == nil && res.MatchedCount == 0 {
		res, err = db.c(colOutbox).UpdateOne(ctx, d("_id", id, "status", engine.StatusPending, "in_flight", true),
			d("$set", append(set, bson.E{Key: "maybe_twice", Value: true}), "$inc", d("attempts", 1)))
	}
	if err == nil && res.MatchedCount == 0 {
		var doc outboxDoc
		err = db.c(colOutbox).FindOne(ctx, d("_id", id), options.FindOne().SetProjection(d("status", 1))).Decode(&doc)
		if err == nil {
			err = fmt.Errorf("%w: reply is %s, not pending", errs.ErrConflict, doc.Status)
		}
	}
	if err != nil {
		return fmt.Errorf("mongo: attempt outbox %d: %w", id, convert(err))
	}
	return nil
}

// MaybeTwice returns a campaign's newest replies that were sent again after an attempt whose
// outcome was never stored (a process died while sending): the participant may have received
// them twice.
func (db *DB) MaybeTwice(ctx context.Context, campaign string, limit int) ([]engine.Outbound, error) {
	opts := options.Find().SetSort(d("_id", -1))
	if limit > 0 {
		opts.SetLimit(int64(limit))
	}
	out, err := db.outbox(ctx, d("campaign", campaign, "maybe_twice", true), opts)
	if err != nil {
		return nil, fmt.Errorf("mongo: maybe sent twice of %s: %w", campaign, err)
	}
	return out, nil
}

// MarkSent records a delivered reply, which puts it in the participant's transcript. It
// returns errs.ErrNotFound for an unknown reply and errs.ErrConflict for one already sent.
func (db *DB) MarkSent(ctx context.Context, id int64, platformID string, at time.Time) error {
	line, err := db.next(ctx, 1)
	if err == nil {
		err = db.finishOutbound(ctx, id, d("status", engine.StatusSent, "platform_id", platformID,
			"error", "", "sent_at", ns(at), "updated_at", ns(at), "line_id", line))
	}
	if err == nil {
		// After the record: a report kept from now on finds the reply by its id.
		err = db.applyEarly(ctx, id, platformID)
	}
	if err != nil {
		return fmt.Errorf("mongo: mark outbox %d sent: %w", id, convert(err))
	}
	return nil
}

// MarkFailed records a reply that could not be delivered. It returns errs.ErrNotFound for an
// unknown reply and errs.ErrConflict for one already sent.
func (db *DB) MarkFailed(ctx context.Context, id int64, reason string, at time.Time) error {
	err := db.finishOutbound(ctx, id, d("status", engine.StatusFailed, "error", reason, "updated_at", ns(at)))
	if err != nil {
		return fmt.Errorf("mongo: mark outbox %d failed: %w", id, convert(err))
	}
	return nil
}

// MarkCancelled records a reply that will not be sent. Errors as MarkFailed.
func (db *DB) MarkCancelled(ctx context.Context, id int64, reason string, at time.Time) error {
	err := db.finishOutbound(ctx, id, d("status", engine.StatusCancelled, "error", reason, "updated_at", ns(at)))
	if err != nil {
		return fmt.Errorf("mongo: mark outbox %d cancelled: %w", id, convert(err))
	}
	return nil
}

// Transcript returns a participant's lines in the order they were written: the lines steps
// wrote, and the replies marked sent. An unknown participant has an empty transcript.
func (db *DB) Transcript(ctx context.Context, participantID string) ([]engine.Line, error) {
	var lines []lineDoc
	err := find(ctx, db.c(colLines), d("participant_id", participantID), options.Find().SetSort(d("_id", 1)), &lines)
	if err != nil {
		return nil, fmt.Errorf("mongo: transcript of %s: %w", participantID, err)
	}
	var sent []outboxDoc
	err = find(ctx, db.c(colOutbox), d("participant_id", participantID, "status", engine.StatusSent),
		options.Find().SetProjection(d("line_id", 1, "text", 1, "sent_at", 1)), &sent)
	if err != nil {
		return nil, fmt.Errorf("mongo: transcript of %s: %w", participantID, err)
	}
	out := make([]engine.Line, 0, len(lines)+len(sent))
	for _, l := range lines {
		out = append(out, engine.Line{ID: l.ID, ParticipantID: participantID,
			Direction: engine.Direction(l.Direction), Text: l.Text, MediaKey: l.MediaKey, At: fromNS(l.At)})
	}
	for _, o := range sent {
		out = append(out, engine.Line{ID: o.LineID, ParticipantID: participantID, Direction: engine.Out,
			Text: o.Text, At: fromNS(o.SentAt)})
	}
	slices.SortFunc(out, func(a, b engine.Line) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// Enqueue queues replies outside any step. Each row is a single-document insert, so a crash
// part-way leaves the first rows queued; the caller's retry queues the rest (and the first
// again: broadcasts are queued by the engine with their own progress).
func (db *DB) Enqueue(ctx context.Context, out []engine.Outbound) error {
	first, err := db.next(ctx, len(out))
	if err == nil {
		docs := make([]any, len(out))
		for i, o := range out {
			docs[i] = toOutboxDoc(o, first+int64(i), 0)
		}
		_, err = db.c(colOutbox).InsertMany(ctx, docs)
	}
	if err != nil {
		return fmt.Errorf("mongo: enqueue %d replies: %w", len(out), convert(err))
	}
	return nil
}

// BroadcastReport counts a broadcast's replies by status; errs.ErrNotFound if it has none.
func (db *DB) BroadcastReport(ctx context.Context, id string) (engine.BroadcastReport, error) {
	cur, err := db.c(colOutbox).Aggregate(ctx, mongo.Pipeline{
		d("$match", d("broadcast_id", id)),
		d("$group", d("_id", d("campaign", "$campaign", "status", "$status"), "n", d("$sum", 1))),
	})
	if err != nil {
		return engine.BroadcastReport{}, fmt.Errorf("mongo: broadcast %s: %w", id, convert(err))
	}
	var groups []struct {
		ID struct {
			Campaign string `bson:"campaign"`
			Status   string `bson:"status"`
		} `bson:"_id"`
		N int `bson:"n"`
	}
	if err := cur.All(ctx, &groups); err != nil {
		return engine.BroadcastReport{}, fmt.Errorf("mongo: broadcast %s: %w", id, convert(err))
	}
	r := engine.BroadcastReport{ID: id}
	for _, g := range groups {
		r.Campaign = g.ID.Campaign
		switch g.ID.Status {
		case engine.StatusPending:
			r.Pending += g.N
		case engine.StatusSent:
			r.Sent += g.N
		case engine.StatusFailed:
			r.Failed += g.N
		case engine.StatusCancelled:
			r.Cancelled += g.N
		}
		r.Total += g.N
	}
	if r.Total == 0 {
		return engine.BroadcastReport{}, fmt.Errorf("mongo: broadcast %s: %w", id, errs.ErrNotFound)
	}
	return r, nil
}

// UpdateDelivery records a platform's delivery report on the reply it sent as platformID. A
// report that would downgrade the recorded one (a late "delivered" after "read") changes
// nothing. The rank check and the write are one update, so reports processed at once by two
// servers settle on the higher. A report for a message no reply has (yet) is kept for
// earlyKeep: the platform may report on a reply before its sender recorded it as sent
// (MarkSent applies it then); reports on messages sent by other systems sharing the number
// are dropped when they expire.
func (db *DB) UpdateDelivery(ctx context.Context, platformID string, dl engine.Delivery) error {
	rank := engine.DeliveryRank(dl.Status)
	if platformID == "" || rank == 0 {
		return nil
	}
	if err := db.updateDelivery(ctx, platformID, rank, dl); err != nil {
		return fmt.Errorf("mongo: delivery of %s: %w", platformID, convert(err))
	}
	return nil
}

// updateDelivery is UpdateDelivery of a report it takes (rank > 0).
func (db *DB) updateDelivery(ctx context.Context, platformID string, rank int, dl engine.Delivery) error {
	filter, set := d("platform_id", platformID, "delivery_rank", d("$lt", rank)), d("$set", deliverySet(dl, rank))
	res, err := db.c(colOutbox).UpdateMany(ctx, filter, set)
	if err != nil || res.MatchedCount > 0 {
		return err
	}
	n, err := db.c(colOutbox).CountDocuments(ctx, d("platform_id", platformID), options.Count().SetLimit(1))
	if err != nil || n > 0 {
		return err // n > 0: recorded already, with this report or a later one
	}
	if err := db.keepEarly(ctx, platformID, rank, dl, time.Now()); err != nil {
		return err
	}
	// The reply may have been recorded, and found nothing kept, between the count and the
	// keep: asked again, one of the two sees the other.
	res, err = db.c(colOutbox).UpdateMany(ctx, filter, set)
	if err != nil || res.MatchedCount == 0 {
		return err
	}
	_, err = db.c(colEarly).DeleteOne(ctx, d("_id", platformID))
	return err
}

func deliverySet(dl engine.Delivery, rank int) bson.D {
	return d("delivery", dl.Status, "delivery_rank", rank, "delivery_code", dl.ErrorCode,
		"delivery_error", dl.ErrorTitle, "delivery_at", ns(dl.At))
}

// colEarly holds the delivery reports on messages no reply had when they came, by the
// platform's message id.
const colEarly = "early_deliveries"

// earlyKeep is how long a report on a message no reply has is kept for the reply's record.
const earlyKeep = time.Hour

// keepEarly keeps a report on a message no reply has yet (the highest of those on it), and
// drops those kept past earlyKeep.
func (db *DB) keepEarly(ctx context.Context, platformID string, rank int, dl engine.Delivery, now time.Time) error {
	if _, err := db.c(colEarly).DeleteMany(ctx, d("received_at", d("$lt", ns(now.Add(-earlyKeep))))); err != nil {
		return fmt.Errorf("expire early reports: %w", err)
	}
	_, err := db.c(colEarly).UpdateOne(ctx, d("_id", platformID, "delivery_rank", d("$lt", rank)),
		d("$set", append(deliverySet(dl, rank), bson.E{Key: "received_at", Value: ns(now)})),
		options.UpdateOne().SetUpsert(true))
	if mongo.IsDuplicateKeyError(err) {
		return nil // a higher report is kept already
	}
	if err != nil {
		return fmt.Errorf("keep early report: %w", err)
	}
	return nil
}

// applyEarly moves a report kept for platformID (keepEarly) onto reply id, just recorded as
// sent with it.
func (db *DB) applyEarly(ctx context.Context, id int64, platformID string) error {
	if platformID == "" {
		return nil
	}
	var e struct {
		Delivery string `bson:"delivery"`
		Rank     int    `bson:"delivery_rank"`
		Code     int    `bson:"delivery_code"`
		Error    string `bson:"delivery_error"`
		At       int64  `bson:"delivery_at"`
	}
	err := db.c(colEarly).FindOneAndDelete(ctx, d("_id", platformID)).Decode(&e)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("take early report: %w", err)
	}
	kept := engine.Delivery{Status: e.Delivery, ErrorCode: e.Code, ErrorTitle: e.Error, At: fromNS(e.At)}
	_, err = db.c(colOutbox).UpdateOne(ctx, d("_id", id, "delivery_rank", d("$lt", e.Rank)), d("$set", deliverySet(kept, e.Rank)))
	if err != nil {
		return fmt.Errorf("apply early report: %w", err)
	}
	return nil
}

// DeliveryCounts counts a campaign's replies by how far they got: pending, cancelled, failed
// (refused by us or reported by the platform), sent (accepted, no report yet), delivered,
// read and played.
func (db *DB) DeliveryCounts(ctx context.Context, campaign string) (map[string]int, error) {
	cur, err := db.c(colOutbox).Aggregate(ctx, mongo.Pipeline{
		d("$match", d("campaign", campaign)),
		d("$group", d("_id", d("status", "$status", "delivery", "$delivery"), "n", d("$sum", 1))),
	})
	if err != nil {
		return nil, fmt.Errorf("mongo: delivery counts of %s: %w", campaign, convert(err))
	}
	var groups []struct {
		ID struct {
			Status   string `bson:"status"`
			Delivery string `bson:"delivery"`
		} `bson:"_id"`
		N int `bson:"n"`
	}
	if err := cur.All(ctx, &groups); err != nil {
		return nil, fmt.Errorf("mongo: delivery counts of %s: %w", campaign, convert(err))
	}
	out := map[string]int{}
	for _, g := range groups {
		st := g.ID.Status
		if st == engine.StatusSent && g.ID.Delivery != "" {
			st = g.ID.Delivery
		}
		out[st] += g.N
	}
	return out, nil
}

// Undelivered returns a campaign's newest replies that did not reach their participant: refused
// before sending (a closed window, a permanent platform error), reported failed afterwards, or
// held back (cancelled) because the participant opted out.
func (db *DB) Undelivered(ctx context.Context, campaign string, limit int) ([]engine.Outbound, error) {
	opts := options.Find().SetSort(d("_id", -1))
	if limit > 0 {
		opts.SetLimit(int64(limit))
	}
	out, err := db.outbox(ctx, d("campaign", campaign,
		"$or", bson.A{d("status", engine.StatusFailed), d("status", engine.StatusCancelled), d("delivery", engine.StatusFailed)}), opts)
	if err != nil {
		return nil, fmt.Errorf("mongo: undelivered of %s: %w", campaign, err)
	}
	return out, nil
}
