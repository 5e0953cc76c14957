package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/orgsso/orgsso/storeerr"
)

// Errors of this package, besides the shared sso.ErrNotFound (which is
// storeerr.ErrNotFound), sso.ErrReplay, sso.ErrSSONameTaken and
// sso.ErrDomainTaken. A database failure is returned wrapped, with the
// operation named.
var (
	// ErrInvalidArgument is storeerr.ErrInvalidArgument, shared by every store:
	// a nil store, context or value, or a value missing a key field (and, here,
	// a string that is not valid UTF-8 or holds NUL, or a time outside the
	// years 0–9999).
	ErrInvalidArgument = storeerr.ErrInvalidArgument
	// ErrDuplicateID is storeerr.ErrDuplicateID, shared by every store: a
	// pending request or session whose ID the store already holds.
	ErrDuplicateID = storeerr.ErrDuplicateID
	// ErrClosed is returned by every method of a closed Store.
	ErrClosed = errors.New("sqlstore: store is closed")
	// ErrMigration is wrapped by every failure to bring the schema up to date
	// in New, with the database's error.
	ErrMigration = errors.New("sqlstore: migration failed")
	// ErrSchemaTooNew: the database holds a schema version this code does not
	// know, written by a newer orgsso. New's error then wraps ErrMigration
	// too. Roll the application forward, or restore the database it had.
	ErrSchemaTooNew = errors.New("sqlstore: database schema is newer than this orgsso")
	// ErrKeyTooLong: a key (an organization, user, request, session or
	// assertion ID, an SSO name, an email, a domain name, a session
	// method or connection, or a listing cursor) is longer than storeerr.MaxKeyBytes
	// (sso.MaxKeyBytes). Every method refuses such a key before it reaches
	// the database; the error wraps ErrInvalidArgument too.
	ErrKeyTooLong = fmt.Errorf("sqlstore: key longer than %d bytes: %w", storeerr.MaxKeyBytes, ErrInvalidArgument)
)

// errorf returns an error that wraps sentinel and says which value it is
// about.
func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("sqlstore: "+format+": %w", append(args, sentinel)...)
}

// dbErr wraps an error of the database, naming the operation. If ctx has
// ended, the error wraps ctx.Err() too, whatever the driver made of it (a
// statement the server cancelled, a dropped connection).
func dbErr(ctx context.Context, op string, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("sqlstore: %s: %w: %w", op, cerr, err)
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}
