package judge

import (
	"fmt"
	"strings"

	"github.com/chatcampaigns/campaign/campaigns"
	"github.com/chatcampaigns/campaign/errs"
)

// InRound returns the test Rank uses for whether an entry belongs to round of def: collected
// in one of RoundStates, else created between the round's fixed start and its deadline. An
// unknown round, or one whose entries cannot be told apart, is errs.ErrInvalid.
func InRound(def *campaigns.Definition, round string) (func(Entry) bool, error) {
	names := make([]string, len(def.Rounds))
	for i, r := range def.Rounds {
		if r.Name == round {
			return roundFilter(def, r)
		}
		names[i] = r.Name
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%w: campaign %s has no rounds", errs.ErrInvalid, def.ID)
	}
	return nil, fmt.Errorf("%w: campaign %s has no round %q (its rounds: %s)", errs.ErrInvalid, def.ID, round, strings.Join(names, ", "))
}
