package campaigns

import (
	"slices"
	"time"
)

// checkMessengerWindow warns about the messages a campaign on Messenger sends on a timer of a
// day or more: Messenger has no templates, so once its 24-hour window closed they are not
// sent at all (docs/messenger.md). Only a campaign that names messenger is checked.
func (p *parser) checkMessengerWindow() {
	if !slices.Contains(p.def.Channels, "messenger") {
		return
	}
	for _, name := range p.def.Order {
		for _, t := range p.def.States[name].On {
			if t.Kind != OnTimeout || t.After < 24*time.Hour {
				continue
			}
			for _, m := range t.Say {
				p.warnf(m.node, "on Messenger this message is not sent: it goes out %s after state %q is entered, after Messenger's 24-hour window, and Messenger has no templates", fmtDuration(t.After), name)
			}
		}
	}
}
