package engine

import "time"

// Observer is told what the engine does, for metrics. Its methods are called on the hot path
// and must return quickly; they must be safe for concurrent use. The engine never depends on
// what they do, so a nil Config.Observer is fine.
type Observer interface {
	// Received is called once Receive stored an event (duplicate: it was stored before).
	Received(channel string, duplicate bool)
	// EventApplied is called for every stored event the worker consumed (applied or skipped),
	// and every event the receive loop applied as it stored it (fused.go), with how long
	// loading, stepping and committing it took.
	EventApplied(d time.Duration)
	// ReplySent is called for every reply the sender handed to a channel, with how long after
	// it was due it went out, and the channel's error (nil when sent).
	ReplySent(channel string, lag time.Duration, err error)
}

type nopObserver struct{}

func (nopObserver) Received(string, bool)                  {}
func (nopObserver) EventApplied(time.Duration)             {}
func (nopObserver) ReplySent(string, time.Duration, error) {}

// CrashObserver is an Observer that is also told about the traces of a crash; the engine
// calls its methods when Config.Observer has them.
type CrashObserver interface {
	// TakenBack is called once at start (Engine.Run) with how many leases the engine's Owner
	// still held from a run that ended without releasing them, and how many replies that run
	// left in flight.
	TakenBack(claims, inFlight int)
	// MaybeTwice is called for every reply sent again after an attempt whose outcome was never
	// stored: the platform may have had it already.
	MaybeTwice(channel string)
}
