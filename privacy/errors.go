package privacy

import (
	"fmt"

	"github.com/chatcampaigns/campaign/errs"
)

// errNotPerson refuses erasing a tombstone: there is nobody left in it.
var errNotPerson = fmt.Errorf("nothing personal is left to erase: %w", errs.ErrInvalid)
