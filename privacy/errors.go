package privacy

import (
	"fmt"

	"github.com/chatcampaigns/campaign/errs"
)

// errNotPerson refuses erasing a tombstone: there is nobody left in it.
var errNotPerson = fmt.Errorf("nothing personal is left to erase: %w", errs.ErrInvalid)

// errNotClosed refuses purging a campaign that may still be played.
var errNotClosed = fmt.Errorf("the campaign is not closed; close it first (its participants may still be playing): %w", errs.ErrConflict)
