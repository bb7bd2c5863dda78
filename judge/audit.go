package judge

import (
	"context"
	"time"
)

// The kinds of judging events an Auditor hears of.
const (
	// EventClaim: By took the lease on an entry (Detail: until when, RFC 3339).
	EventClaim = "claim"
	// EventRelease: By gave the lease up, or it ended with their decision (Detail: "released"
	// or "decided").
	EventRelease = "release"
	// EventScore: By saved their scores on an entry (Detail: the raw scores, criterion=score,
	// in the rubric's order, joined by "; ").
	EventScore = "score"
	// EventConflict: By declared a conflict of interest on an entry (Detail: their reason).
	EventConflict = "conflict"
	// EventAbstain: By abstained from scoring an entry (Detail: their reason).
	EventAbstain = "abstain"
	// EventAssign: Judge was given a seat on an entry's panel (By is empty: the balancing did
	// it; Detail: "seat N", or "replaces NAME" after a conflict).
	EventAssign = "assign"
)

// Event is one judging action, as the audit trail records it.
type Event struct {
	Kind     string
	Campaign string
	EntryID  string
	// By is the user who acted; empty for what the service did by itself (an assignment).
	By string
	// Judge is whom an assignment seated; empty for the other kinds.
	Judge  string
	Detail string
	At     time.Time
}

// Auditor hears of every judging event after it took effect. It must not block for long:
// it runs inside the request that caused the event. Record has no error to return because the
// action stands either way; an Auditor that cannot write logs the loss itself.
type Auditor interface {
	Record(ctx context.Context, e Event)
}

// NopAuditor records nothing; it is what a Service without an Auditor uses.
type NopAuditor struct{}

// Record does nothing.
func (NopAuditor) Record(context.Context, Event) {}

func (s *Service) audit(ctx context.Context, e Event) {
	if e.At.IsZero() {
		e.At = s.now()
	}
	if s.Audit != nil {
		s.Audit.Record(ctx, e)
	}
}
