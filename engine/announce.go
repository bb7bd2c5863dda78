package engine

// Announcer is a Sender that is told of a reply as soon as it is queued, while the persona's
// typing delay still runs: the web chat shows "typing…" until it arrives. Queued is called
// after the step committed, only for replies due later than now, and must not block.
type Announcer interface {
	Queued(out Outbound)
}

// announce tells the channels that asked for it of a committed step's replies still to come,
// and the campaign's ranking board of the participant's new standing.
func (e *Engine) announce(s Step) {
	if s.Participant.ID != "" {
		e.boards.committed(s.Participant)
	}
	now := e.now()
	for _, out := range s.Outbox {
		if a, ok := e.senders[out.Channel].(Announcer); ok && out.DueAt.After(now) {
			a.Queued(out)
		}
	}
}
