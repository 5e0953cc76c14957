package memory

import (
	"errors"
	"fmt"
)

// Errors of this package, besides the shared sso.ErrNotFound (which is
// session.ErrNotFound), sso.ErrReplay and sso.ErrSSONameTaken.
var (
	// ErrInvalidArgument is returned for a nil store, context or value, or a
	// value missing a key field (an ID, an organization ID, an email).
	ErrInvalidArgument = errors.New("memory: invalid argument")
	// ErrDuplicateID is returned when creating a pending request or a session
	// whose ID the store already holds.
	ErrDuplicateID = errors.New("memory: duplicate ID")
)

// errorf returns an error that wraps sentinel and says which value it is
// about.
func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("memory: "+format+": %w", append(args, sentinel)...)
}
