package session

import "errors"

// Sentinel errors of the Manager. Every error it returns is one of them, wraps
// one of them, or wraps a Store (or randomness) failure, so callers branch with
// errors.Is and log the full error for the operator. None of them ever carries
// a session token.
var (
	// ErrUnknownSession: the token is malformed, or no session has it. It is
	// deliberately distinct from ErrNotFound: a Store's ErrNotFound is
	// translated, never passed through, so hosts need not know Store errors.
	ErrUnknownSession = errors.New("session: unknown session")
	// ErrExpired: the session exists but its ExpiresAt is at or before the
	// Manager's now. It does not wrap ErrUnknownSession.
	ErrExpired = errors.New("session: session expired")
	// ErrNoStore: the Manager was built with a nil Store (or is nil itself).
	ErrNoStore = errors.New("session: manager has no store")
	// ErrEnded: the session was ended before it expired (SSO disabled, the
	// member removed, ...). It comes in an *EndedError that says why, and
	// does not wrap ErrUnknownSession or ErrExpired.
	ErrEnded = errors.New("session: session ended")
	// ErrNotSupported: the Store does not implement Lister, which the
	// method needs.
	ErrNotSupported = errors.New("session: the store cannot list or end sessions")
)

// EndedError is the error of a session that was ended before it expired.
// It wraps ErrEnded.
type EndedError struct {
	Reason string // one of the End* reasons, or the host's own
}

// Error implements error.
func (e *EndedError) Error() string { return "session: session ended: " + e.Reason }

// Unwrap returns ErrEnded, for errors.Is.
func (e *EndedError) Unwrap() error { return ErrEnded }

// ArgumentError says which argument of a Manager method is invalid and why.
// It wraps ErrInvalidArgument.
type ArgumentError struct {
	Arg    string // "orgID", "userID", "method" or "ttl"
	Reason string
}

// Error implements error.
func (e *ArgumentError) Error() string {
	return "session: invalid " + e.Arg + ": " + e.Reason
}

// Unwrap returns ErrInvalidArgument, for errors.Is.
func (e *ArgumentError) Unwrap() error { return ErrInvalidArgument }
