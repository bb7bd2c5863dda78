// Package errs owns the project's small error vocabulary: a handful of kinds that every layer
// wraps its errors in, so that the edges (HTTP handlers, the CLI) can turn any error into the
// right answer with errors.Is, without knowing which adapter produced it.
package errs

import "errors"

var (
	// ErrInvalid means the caller sent something that can never succeed as sent.
	ErrInvalid = errors.New("invalid")
	// ErrNotFound means the thing asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the request clashes with the current state (already decided, a stale
	// version, a duplicate key).
	ErrConflict = errors.New("conflict")
	// ErrUnauthorized means the caller is not, or not enough, authenticated.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrTooLarge means the input exceeds a size limit.
	ErrTooLarge = errors.New("too large")
)
