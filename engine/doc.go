// Package engine owns the campaign runtime: it takes normalized inbound messages and moderator
// verdicts, runs each participant's state machine (one looplab/fsm machine, rebuilt from the
// compiled definition and the stored state for every event), and queues the replies in an
// outbox that a sender delivers through the channels. It knows no HTTP, no SQL and no platform.
//
// # The model
//
// Everything that happens is an inbound event first: a participant's text, photo, button tap
// or location (stored by a channel through Receive), a moderator's verdict (stored by the
// judge), a due timer, a round starting or closing, an agent handing a conversation back. An
// event is stored durably with a dedupe key (Channel, PlatformID) before anything else, so a
// retried webhook or a timer fired twice has one effect.
//
// The worker (ProcessPending) applies stored events in order. For one event it loads the
// participant, computes a Step (the new state and variables, transcript lines, entries,
// replies, codes, places taken from pools, timers set and cancelled, notifications) without
// writing anything, and the store commits the Step in one atomic write that also marks the
// event processed, guarded by the participant's version (compare-and-swap). A conflict
// recomputes the step; a full pool recomputes it taking the definition's TakeFull branch.
// Nothing is half done: a crash before the commit replays the event, after it never does.
//
// The sender (SendDue) delivers replies once due (the persona's typing delay), honouring the
// channel's customer-service window (Config.Windows): outside it only a message with a
// template goes out, and anything else is recorded as failed with the reason. On a store one
// process uses, a reply due at once is sent by the receive loop right after its step commits
// instead of waiting for the sender's next round (direct.go).
//
// Timers are rows in the store, set in the same commit as the state entry that arms them and
// deleted in the commit that leaves the state. FireDueTimers turns due timers into events
// atomically; a timer event that arrives after its participant left (or re-entered) the state
// carries a stale sequence number (Participant.Entered) and is ignored.
//
// # Definitions, versions and status
//
// The engine keeps every loaded definition version by (campaign id, version). A participant
// plays the version they started with until they finish; new participants get the current
// one. A campaign is draft (processed, but Route never sends strangers to it), live, paused
// (events wait in the store, processed when live again) or closed (everyone is told the
// campaign is not running; no participant is created). Definitions and statuses are kept in
// the store, so Restore brings back what was launched.
//
// # Internal states
//
// Besides the definition's states a participant can be in StateConsent (asked for consent
// before the start state; only a yes moves them on), StateDeclined (answered no; finished
// until the entry keyword starts them over) or StateOptedOut (unsubscribed: every reply meant
// for them is recorded as not sent, in whatever way it was made, until they send an entry
// keyword or a rejoin word, which starts them over with Definition.Repeat or gives back their
// one try).
//
// A participant whose run ended (Participant.Finished) is moved by nothing: their messages
// hear the finished text, and verdicts, rounds and timers for them are skipped.
package engine
