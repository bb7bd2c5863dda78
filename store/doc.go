// Package store is the home of persistence. It holds no code of its own: each backend lives in
// a subpackage (sqlite, the embedded default; mongo, for running several servers), while the
// interfaces a backend implements live with their consumers (engine.Store, judge.Store,
// accounts.Users), so the domain never depends on a database. One conformance suite,
// storetest, runs against every backend, so they cannot drift apart in what they promise.
package store
