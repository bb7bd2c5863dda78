package judge

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/chatcampaigns/campaign/errs"
)

// DefaultLease is how long a moderator holds an entry they opened when Service.LeaseFor is
// zero: long enough to look at a video and type a reason, short enough that an entry left
// open in a tab returns to the queue before the shift is over.
const DefaultLease = 10 * time.Minute

// Leases is what claims need from persistence: the store's leases (engine.Store has the
// first two), on keys of their own ("entry:ID") so they never meet the engine's.
type Leases interface {
	// Claim takes leases on keys for owner until until: a key is won when nobody holds it,
	// its lease ran out by now, or owner holds it already (renewed). It returns the keys won.
	Claim(ctx context.Context, owner string, keys []string, now, until time.Time) ([]string, error)
	// Release gives up owner's leases on keys; keys owner does not hold are left alone.
	Release(ctx context.Context, owner string, keys []string) error
	// Holders returns who holds each of keys at now, by key, with the lease's end; a key
	// nobody holds, or whose lease ran out before now, is absent.
	Holders(ctx context.Context, keys []string, now time.Time) (map[string]Holder, error)
}

// Holder is who holds a lease, and until when.
type Holder struct {
	Owner string
	Until time.Time
}

// Lease is a moderator's claim on an entry.
type Lease struct {
	EntryID string
	// By is the username of the moderator who holds it.
	By    string
	Until time.Time
}

// ClaimedError is a claim or decision refused because another moderator holds the entry. It
// is an errs.ErrConflict.
type ClaimedError struct {
	Lease Lease
}

func (e *ClaimedError) Error() string {
	return fmt.Sprintf("%s is judging this entry (until %s)", e.Lease.By, e.Lease.Until.UTC().Format("15:04 UTC"))
}

// Is makes a ClaimedError an errs.ErrConflict.
func (e *ClaimedError) Is(target error) bool { return target == errs.ErrConflict }

// Claimed returns the lease of whoever holds the entry err was refused for, when it was.
func Claimed(err error) (Lease, bool) {
	var ce *ClaimedError
	if errors.As(err, &ce) {
		return ce.Lease, true
	}
	return Lease{}, false
}

func leaseKey(entryID string) string { return "entry:" + entryID }

// leaseOwner keeps moderators' names apart from the engine's process names in the one lease
// table.
func leaseOwner(user string) string { return "user:" + user }

func (s *Service) leaseFor() time.Duration {
	if s.LeaseFor > 0 {
		return s.LeaseFor
	}
	return DefaultLease
}

// Claim gives user the entry for the lease time (Service.LeaseFor), or renews their lease.
// When someone else holds it, it fails with a *ClaimedError saying who and until when. With
// no Leases configured every claim succeeds and nothing is stored.
func (s *Service) Claim(ctx context.Context, campaign, entryID, user string) (Lease, error) {
	now := s.now()
	l := Lease{EntryID: entryID, By: user, Until: now.Add(s.leaseFor())}
	if s.Leases == nil {
		return l, nil
	}
	if strings.TrimSpace(user) == "" {
		return Lease{}, fmt.Errorf("judge: claim entry %s: %w: no user", entryID, errs.ErrInvalid)
	}
	key := leaseKey(entryID)
	before, err := s.Leases.Holders(ctx, []string{key}, now)
	if err != nil {
		return Lease{}, fmt.Errorf("judge: claim entry %s: %w", entryID, err)
	}
	won, err := s.Leases.Claim(ctx, leaseOwner(user), []string{key}, now, l.Until)
	if err != nil {
		return Lease{}, fmt.Errorf("judge: claim entry %s: %w", entryID, err)
	}
	if len(won) == 1 {
		if h, ok := before[key]; !ok || h.Owner != leaseOwner(user) {
			s.audit(ctx, Event{Kind: EventClaim, Campaign: campaign, EntryID: entryID, By: user, Detail: l.Until.UTC().Format(time.RFC3339), At: now})
		}
		return l, nil
	}
	hs, err := s.Leases.Holders(ctx, []string{key}, now)
	if err != nil {
		return Lease{}, fmt.Errorf("judge: claim entry %s: %w", entryID, err)
	}
	h := hs[key]
	return Lease{}, fmt.Errorf("judge: claim entry %s: %w", entryID,
		&ClaimedError{Lease{EntryID: entryID, By: strings.TrimPrefix(h.Owner, "user:"), Until: h.Until}})
}

// Release gives user's lease on the entry up, so it returns to the queue at once; a lease
// user does not hold is left alone.
func (s *Service) Release(ctx context.Context, campaign, entryID, user string) error {
	return s.release(ctx, campaign, entryID, user, "released")
}

func (s *Service) release(ctx context.Context, campaign, entryID, user, why string) error {
	if s.Leases == nil {
		return nil
	}
	key := leaseKey(entryID)
	hs, err := s.Leases.Holders(ctx, []string{key}, s.now())
	if err != nil {
		return fmt.Errorf("judge: release entry %s: %w", entryID, err)
	}
	if h, ok := hs[key]; !ok || h.Owner != leaseOwner(user) {
		return nil
	}
	if err := s.Leases.Release(ctx, leaseOwner(user), []string{key}); err != nil {
		return fmt.Errorf("judge: release entry %s: %w", entryID, err)
	}
	s.audit(ctx, Event{Kind: EventRelease, Campaign: campaign, EntryID: entryID, By: user, Detail: why})
	return nil
}

// Claims returns the live leases on entries, by entry id: who is judging which, for the
// queue to show.
func (s *Service) Claims(ctx context.Context, entryIDs []string) (map[string]Lease, error) {
	out := map[string]Lease{}
	if s.Leases == nil || len(entryIDs) == 0 {
		return out, nil
	}
	keys := make([]string, len(entryIDs))
	for i, id := range entryIDs {
		keys[i] = leaseKey(id)
	}
	hs, err := s.Leases.Holders(ctx, keys, s.now())
	if err != nil {
		return nil, fmt.Errorf("judge: claims of %d entries: %w", len(entryIDs), err)
	}
	for _, id := range entryIDs {
		if h, ok := hs[leaseKey(id)]; ok && strings.HasPrefix(h.Owner, "user:") {
			out[id] = Lease{EntryID: id, By: strings.TrimPrefix(h.Owner, "user:"), Until: h.Until}
		}
	}
	return out, nil
}
