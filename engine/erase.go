package engine

import (
	"time"

	"github.com/chatcampaigns/campaign/campaigns"
)

// Variables of an erased participant's tombstone.
const (
	// VarErasedAt is when the participant was erased, RFC 3339 UTC.
	VarErasedAt = "erased.at"
	// ErasedName is the name a tombstone shows in rankings.
	ErasedName = "removed"
	// ErasedChannel is the channel of a tombstone: no channel reaches it.
	ErasedChannel = "erased"
)

// Tombstone is what stays of an erased participant so a ranking already published keeps its
// places: a new id (the old one is a hash of their address and could be recomputed from a
// phone number), no address, the name "removed", and only the variables the ranking reads
// (rk nil: none). It is finished, so nothing reaches or moves it.
func Tombstone(rk *campaigns.Ranking, p Participant, id string, at time.Time) Participant {
	vars := map[string]string{"name": ErasedName, VarErasedAt: at.UTC().Format(time.RFC3339)}
	if rk != nil {
		for _, k := range []string{rk.By, reachedVar(rk.By), varWinner} {
			if v, ok := p.Vars[k]; ok {
				vars[k] = v
			}
		}
	}
	return Participant{
		ID: id, Campaign: p.Campaign, Channel: ErasedChannel, State: p.State, Vars: vars,
		Version: 1, DefVersion: p.DefVersion, Finished: true,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
}

// IsTombstone tells an erased participant's tombstone from a participant.
func IsTombstone(p Participant) bool { return p.Channel == ErasedChannel }
