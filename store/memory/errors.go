package memory

import (
	"fmt"

	"github.com/orgsso/orgsso/storeerr"
)

// Errors of this package, besides the shared sso.ErrNotFound (which is
// storeerr.ErrNotFound), sso.ErrReplay, sso.ErrSSONameTaken, sso.ErrConflict,
// sso.ErrMemberExists, sso.ErrUserIDTaken and sso.ErrDomainTaken.
var (
	// ErrInvalidArgument is storeerr.ErrInvalidArgument, shared by every store:
	// a nil store, context or value, a value missing a key field, a key
	// longer than sso.MaxKeyBytes, or a listing limit out of bounds.
	ErrInvalidArgument = storeerr.ErrInvalidArgument
	// ErrDuplicateID is storeerr.ErrDuplicateID, shared by every store: a
	// pending request or session whose ID the store already holds.
	ErrDuplicateID = storeerr.ErrDuplicateID
)

// errorf returns an error that wraps sentinel and says which value it is
// about.
func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("memory: "+format+": %w", append(args, sentinel)...)
}
