// Package storetest owns the storage contract as executable tests: one conformance suite that
// every store backend runs, so that the engine, the judge and the dashboard can rely on the
// same behaviour whichever database sits underneath. A backend's test is a few lines:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Store { return openFresh(t) })
//	}
//
// Times used by the suite have millisecond precision, the coarsest any backend stores.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/chatcampaigns/campaign/accounts"
	"github.com/chatcampaigns/campaign/engine"
	"github.com/chatcampaigns/campaign/errs"
	"github.com/chatcampaigns/campaign/judge"
)

// Store is everything a backend implements.
type Store interface {
	engine.Store
	judge.Store
	accounts.Accounts
}

// DeliveryRecorder is implemented by backends that keep the platforms' delivery reports.
type DeliveryRecorder interface {
	UpdateDelivery(ctx context.Context, platformID string, d engine.Delivery) error
}

// ClaimExpirer is implemented by backends that delete leases that ran out (every backend
// here; the engine calls it when present).
type ClaimExpirer interface {
	ExpireClaims(ctx context.Context, now time.Time) (int, error)
}

// OutboxLister is implemented by backends that can list a participant's outbox, whatever the
// status of its rows; the suite then also checks what MarkFailed and MarkSent leave behind.
type OutboxLister interface {
	Outbox(ctx context.Context, participantID string) ([]engine.Outbound, error)
}

// UndeliveredLister is the delivery monitor's list (dashboard.Deliveries), checked when a
// store has it.
type UndeliveredLister interface {
	Undelivered(ctx context.Context, campaign string, limit int) ([]engine.Outbound, error)
}

// Run runs the conformance suite. open must return a new, empty store for every call; it
// should register its own cleanup with t.
func Run(t *testing.T, open func(t *testing.T) Store) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"Inbound", inboundTests},
		{"Commit", commitTests},
		{"Outbox", outboxTests},
		{"Judge", judgeTests},
		{"Users", userTests},
		{"UserTeams", teamUserTests},
		{"UserCampaigns", campaignUserTests},
		{"Runtime", runtimeTests},
		{"Claims", claimTests},
		{"Batch", batchTests},
		{"Scores", scoreTests},
		{"Teams", teamTests},
		{"GroupRequests", groupTests},
		{"Codes", codeTests},
		{"Attempts", attemptTests},
		{"AttemptBatch", attemptBatchTests},
		{"Aliases", aliasTests},
		{"Audit", auditTests},
		{"Draws", drawTests},
		{"Judging", judgingTests},
		{"Queues", queueTests},
		{"Reports", reportTests},
		{"Assignments", assignmentTests},
		{"Privacy", privacyTests},
		{"Prices", priceTests},
		{"Broadcasts", broadcastTests},
		{"Numbers", numberTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) { tc.run(t, open(t)) })
			}
		})
	}
}

type test struct {
	name string
	run  func(t *testing.T, s Store)
}

// t0 is the suite's fixed "now"; nothing depends on the wall clock.
var t0 = time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

const campaign = "bouncer"

func inbound(platformID, from, text string) engine.Inbound {
	return engine.Inbound{
		Channel:       "webchat",
		PlatformID:    platformID,
		Campaign:      campaign,
		From:          from,
		Name:          "Name of " + from,
		ParticipantID: engine.ParticipantID(campaign, "webchat", from),
		Kind:          engine.KindText,
		Text:          text,
		At:            t0,
	}
}

// MustSaveInbound stores in and fails the test unless it was new.
func MustSaveInbound(tb testing.TB, s engine.Store, in engine.Inbound) int64 {
	tb.Helper()
	id, dup, err := s.SaveInbound(context.Background(), in)
	if err != nil {
		tb.Fatalf("SaveInbound(%s): %v", in.PlatformID, err)
	}
	if dup {
		tb.Fatalf("SaveInbound(%s): duplicate, want new", in.PlatformID)
	}
	return id
}

// MustCommit commits st and fails the test on error.
func MustCommit(tb testing.TB, s engine.Store, st engine.Step) {
	tb.Helper()
	if err := s.Commit(context.Background(), st); err != nil {
		tb.Fatalf("Commit(%s): %v", st.Participant.ID, err)
	}
}

// MustJoin stores a join event from `from` and commits the step creating its participant at
// version 1 with one greeting queued, due at t0+1s (its LastReplyDue). It returns the
// participant as stored.
func MustJoin(tb testing.TB, s engine.Store, from string) engine.Participant {
	tb.Helper()
	in := inbound("join-"+from, from, "")
	in.Kind = engine.KindJoin
	id := MustSaveInbound(tb, s, in)
	p := engine.Participant{
		ID: in.ParticipantID, Campaign: campaign, Channel: in.Channel, Address: from,
		State: "door", Vars: map[string]string{"name": in.Name}, Version: 1, DefVersion: "v1",
		LastReplyDue: at(time.Second), CreatedAt: t0, UpdatedAt: t0,
	}
	MustCommit(tb, s, engine.Step{
		InboundID: id, Participant: p, Created: true,
		Outbox: []engine.Outbound{outbound(p, "Welcome", time.Second)},
	})
	return p
}

func outbound(p engine.Participant, text string, due time.Duration) engine.Outbound {
	return engine.Outbound{
		ParticipantID: p.ID, Campaign: p.Campaign, Channel: p.Channel, To: p.Address,
		Text: text, DueAt: at(due), Status: engine.StatusPending,
	}
}

// next returns p as the engine would after one more step.
func next(p engine.Participant, state string, d time.Duration) engine.Participant {
	vars := map[string]string{}
	for k, v := range p.Vars {
		vars[k] = v
	}
	p.Vars = vars
	p.State = state
	p.Version++
	p.UpdatedAt = at(d)
	return p
}

func wantErr(tb testing.TB, what string, err, kind error) {
	tb.Helper()
	if !errors.Is(err, kind) {
		tb.Fatalf("%s: err = %v, want %v", what, err, kind)
	}
}

func noErr(tb testing.TB, what string, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
}

// equal compares after putting every time in UTC, since backends may hand times back in
// another location.
func equal(tb testing.TB, what string, got, want any) {
	tb.Helper()
	g, w := utc(reflect.ValueOf(got)), utc(reflect.ValueOf(want))
	if !reflect.DeepEqual(g.Interface(), w.Interface()) {
		tb.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

var timeType = reflect.TypeFor[time.Time]()

func utc(v reflect.Value) reflect.Value {
	if !v.IsValid() {
		return v
	}
	if v.Type() == timeType {
		t := v.Interface().(time.Time)
		if t.IsZero() {
			return reflect.ValueOf(time.Time{})
		}
		return reflect.ValueOf(t.UTC())
	}
	switch v.Kind() {
	case reflect.Struct:
		out := reflect.New(v.Type()).Elem()
		out.Set(v)
		for i := range v.NumField() {
			if out.Field(i).CanSet() {
				out.Field(i).Set(utc(v.Field(i)))
			}
		}
		return out
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			out.Index(i).Set(utc(v.Index(i)))
		}
		return out
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type().Elem())
		out.Elem().Set(utc(v.Elem()))
		return out
	}
	return v
}

func pending(tb testing.TB, s engine.Store) []engine.StoredInbound {
	tb.Helper()
	got, err := s.PendingInbound(context.Background(), 0)
	noErr(tb, "PendingInbound", err)
	return got
}

func pendingIDs(tb testing.TB, s engine.Store) []int64 {
	tb.Helper()
	var ids []int64
	for _, in := range pending(tb, s) {
		ids = append(ids, in.ID)
	}
	return ids
}

func due(tb testing.TB, s engine.Store, now time.Time) []engine.Outbound {
	tb.Helper()
	got, err := s.DueOutbox(context.Background(), now, 0)
	noErr(tb, "DueOutbox", err)
	return got
}

func texts[T any](xs []T, text func(T) string) []string {
	out := []string{}
	for _, x := range xs {
		out = append(out, text(x))
	}
	return out
}

func lineTexts(tb testing.TB, s engine.Store, participantID string) []string {
	tb.Helper()
	lines, err := s.Transcript(context.Background(), participantID)
	noErr(tb, "Transcript", err)
	return texts(lines, func(l engine.Line) string { return fmt.Sprintf("%s:%s", l.Direction, l.Text) })
}

func outTexts(out []engine.Outbound) []string {
	return texts(out, func(o engine.Outbound) string { return o.Text })
}

func isNotFound(err error) bool { return errors.Is(err, errs.ErrNotFound) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
