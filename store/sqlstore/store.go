package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
)

// Compile-time checks that *Store implements the ports it adapts.
var (
	_ sso.Store           = (*Store)(nil)
	_ sso.RequestConsumer = (*Store)(nil)
	_ sso.Cleaner         = (*Store)(nil)
	_ session.Store       = (*Store)(nil)
)

// Store implements sso.Store, sso.RequestConsumer, sso.Cleaner and
// session.Store on a SQL database. It is safe for concurrent use, also by
// several processes sharing the database: ConsumeRequest,
// ConsumeMatchingRequest, UseAssertion and the SSO name check are atomic in
// the database, not in the process. Create one with New (or
// sqlite.Open, postgres.Open) and Close it when done.
//
// Every method first returns an error wrapping ErrInvalidArgument for a nil
// *Store or a nil context, ErrClosed after Close, and ctx.Err() if ctx is
// already done.
type Store struct {
	db      *sql.DB
	dialect Dialect
	stmts   statements

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// New returns a Store on db, after bringing its schema up to date with the
// migrations embedded for dialect (see the package documentation). On success
// the Store owns db: Store.Close closes it. On failure db is left open, for
// the caller to close.
func New(ctx context.Context, db *sql.DB, d Dialect) (*Store, error) {
	switch {
	case ctx == nil:
		return nil, errorf(ErrInvalidArgument, "nil context")
	case db == nil:
		return nil, errorf(ErrInvalidArgument, "nil *sql.DB")
	case !d.valid():
		return nil, errorf(ErrInvalidArgument, "unknown dialect %v", d)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := migrate(ctx, db, d); err != nil {
		return nil, err
	}
	s := &Store{db: db, dialect: d}
	if err := s.stmts.prepare(ctx, db, d); err != nil {
		s.stmts.close()
		return nil, dbErr(ctx, "preparing statements", err)
	}
	return s, nil
}

// DB returns the database the Store uses, for health checks, metrics and
// pool settings (SetMaxOpenConns…). Closing it is Store.Close's job.
func (s *Store) DB() *sql.DB {
	if s == nil {
		return nil
	}
	return s.db
}

// Dialect returns the Store's dialect.
func (s *Store) Dialect() Dialect {
	if s == nil {
		return 0
	}
	return s.dialect
}

// Close releases the prepared statements and closes the database. Calls in
// flight may fail; later calls of any method return ErrClosed. Closing again
// returns the first Close's result.
func (s *Store) Close() error {
	if s == nil {
		return errorf(ErrInvalidArgument, "nil *Store")
	}
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.closeErr = errors.Join(s.stmts.close(), s.db.Close())
	})
	return s.closeErr
}

// begin checks what every method needs before it touches the database: a
// non-nil, open store and a live, non-nil context.
func (s *Store) begin(ctx context.Context) error {
	switch {
	case s == nil:
		return errorf(ErrInvalidArgument, "nil *Store")
	case ctx == nil:
		return errorf(ErrInvalidArgument, "nil context")
	case s.closed.Load():
		return ErrClosed
	}
	return ctx.Err()
}

// Cleanup evicts what has expired at now, in one transaction, and returns how
// many rows it removed in total:
//
//   - pending requests whose ExpiresAt is before now;
//   - used assertion IDs whose until is before now (from then on the ID may be
//     recorded again);
//   - sessions whose ExpiresAt is at or before now, as DeleteExpiredSessions.
//
// These are the rules of store/memory: pending requests and assertion IDs are
// kept through the instant itself. Cleanup is the only way the store evicts;
// call it periodically (sso.Service.Cleanup does). With several replicas,
// any one of them may call it: concurrent calls are harmless.
func (s *Store) Cleanup(ctx context.Context, now time.Time) (int, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	bound := encodeBound(now)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, dbErr(ctx, "cleanup", err)
	}
	defer tx.Rollback() // a no-op after Commit
	total := 0
	for _, st := range []*sql.Stmt{s.stmts.cleanupRequests, s.stmts.cleanupAssertions, s.stmts.deleteExpiredSessions} {
		n, err := rowsAffected(tx.StmtContext(ctx, st).ExecContext(ctx, bound))
		if err != nil {
			return 0, dbErr(ctx, "cleanup", err)
		}
		total += n
	}
	if err := tx.Commit(); err != nil {
		return 0, dbErr(ctx, "cleanup", err)
	}
	return total, nil
}

// rowsAffected returns the rows an Exec affected, or its error.
func rowsAffected(res sql.Result, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
