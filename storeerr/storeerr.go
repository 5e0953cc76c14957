// Package storeerr holds what every orgsso store agrees on: the errors a
// store returns, whatever its backend, and the bound on its keys. It imports
// nothing of orgsso, so the session and sso packages and every store adapter
// share one set of values: session.ErrNotFound, sso.ErrNotFound and
// storeerr.ErrNotFound are the same error, and one errors.Is works for all.
//
// Hosts need not import it; the session and sso names are the ones to use.
package storeerr

import "errors"

// The errors every store returns.
var (
	// ErrNotFound: no entry has that key.
	ErrNotFound = errors.New("orgsso: not found")
	// ErrDuplicateID: a pending request or session with that ID already exists.
	ErrDuplicateID = errors.New("orgsso: duplicate ID")
	// ErrInvalidArgument: a nil store, context or value, a missing key field,
	// a key longer than MaxKeyBytes (or, for a session.Manager, a bad orgID,
	// userID, method or ttl).
	ErrInvalidArgument = errors.New("orgsso: invalid argument")
)

// MaxKeyBytes bounds every key a store holds, in bytes (not characters): a
// longer one is ErrInvalidArgument; one of exactly MaxKeyBytes is stored.
// sso.MaxKeyBytes lists which values are keys.
const MaxKeyBytes = 512
