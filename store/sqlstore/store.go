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
	_ sso.AdminStore      = (*Store)(nil)
	_ sso.DomainStore     = (*Store)(nil)
	_ sso.MetadataLister  = (*Store)(nil)
	_ sso.BatchCleaner    = (*Store)(nil)
	_ sso.ChangeFeed      = (*Store)(nil)
	_ sso.ChangeWatcher   = (*Store)(nil)
	_ session.Store       = (*Store)(nil)
	_ session.Lister      = (*Store)(nil)
)

// Store implements sso.Store, sso.AdminStore (with sso.RequestConsumer),
// sso.DomainStore, sso.MetadataLister, sso.Cleaner, sso.BatchCleaner,
// sso.ChangeFeed (with sso.ChangeWatcher), session.Store and session.Lister
// on a SQL database. It is safe for concurrent use, also by
// several processes sharing the database: ConsumeRequest,
// ConsumeMatchingRequest, UseAssertion, the SSO name check, the verified
// domain check, UpdateOrganization's version check and CreateMember's
// create-if-absent (email and user ID) are atomic in the database, not in
// the process. Create
// one with New (or sqlite.Open, postgres.Open) and Close it when done.
//
// Every method first returns an error wrapping ErrInvalidArgument for a nil
// *Store or a nil context, ErrClosed after Close, and ctx.Err() if ctx is
// already done; then, before any database work, one wrapping ErrKeyTooLong
// (and ErrInvalidArgument) for a key longer than sso.MaxKeyBytes.
type Store struct {
	db      *sql.DB
	dialect Dialect
	stmts   statements
	// writes is the write gate of a SQLite store (nil for PostgreSQL): a
	// slot every write statement holds while it runs. Go hands a freed
	// slot to the longest-waiting sender, so the store's writes take turns
	// in arrival order. SQLite runs one writer at a time anyway, but its
	// busy handler polls (sleeping up to 100 ms between tries) rather than
	// queues: a cleaner running batch after batch would retake the lock
	// within microseconds of releasing it and starve the sign-ins.
	writes chan struct{}

	watch Watcher       // nil: WatchChanges is unsupported (SQLite)
	done  chan struct{} // closed by Close: ends the watches

	schema int // the schema version New migrated to (ChangeSeq checks it)

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// New returns a Store on db, after bringing its schema up to date with the
// migrations embedded for dialect (see the package documentation). On success
// the Store owns db: Store.Close closes it. On failure db is left open, for
// the caller to close. Nil options are ignored.
func New(ctx context.Context, db *sql.DB, d Dialect, opts ...Option) (*Store, error) {
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
	schema, err := migrate(ctx, db, d)
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, dialect: d, schema: schema, done: make(chan struct{})}
	for _, o := range opts {
		if o != nil {
			o(s)
		}
	}
	if d == SQLite {
		s.writes = make(chan struct{}, 1)
	}
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
		close(s.done)
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

// CleanupBatchSize is how many rows Cleanup and DeleteExpiredSessions
// delete per statement.
const CleanupBatchSize = 1000

// Cleanup evicts what has expired at now and returns how many rows it
// removed in total:
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
//
// It calls CleanupBatch with CleanupBatchSize until a batch comes back short,
// so however large the backlog, no statement holds SQLite's write lock (or
// PostgreSQL's row locks) for more than one batch, and sign-ins go on in
// between. It is therefore not one transaction: if it fails midway (ctx
// ended), what the batches before removed stays removed, and the count is
// of them.
func (s *Store) Cleanup(ctx context.Context, now time.Time) (int, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	total := 0
	for {
		n, err := s.CleanupBatch(ctx, now, CleanupBatchSize)
		total += n
		if err != nil || n < CleanupBatchSize {
			return total, err
		}
	}
}

// CleanupBatch removes at most limit (≥ 1, else an error wrapping
// ErrInvalidArgument) of the rows Cleanup removes at now and returns how
// many it removed; fewer than limit means none was left. It takes expired
// pending requests first, then used assertion IDs, then sessions, each
// table with one DELETE … WHERE key IN (SELECT key … WHERE expiry < ? LIMIT
// ?), its own short transaction: a large backlog never holds SQLite's write
// lock for long. On PostgreSQL the SELECT skips rows another transaction has
// locked (FOR UPDATE SKIP LOCKED), so concurrent cleaners in several
// replicas take disjoint batches instead of waiting for each other; "none
// left" then means none that another cleaner is not already removing. If a
// statement fails, the count is of the rows the statements before it
// removed.
func (s *Store) CleanupBatch(ctx context.Context, now time.Time, limit int) (int, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	if limit < 1 {
		return 0, errorf(ErrInvalidArgument, "cleanup batch limit %d", limit)
	}
	bound := encodeBound(now)
	total := 0
	for _, st := range []*sql.Stmt{s.stmts.cleanupRequests, s.stmts.cleanupAssertions, s.stmts.cleanupSessions} {
		n, err := s.exec(ctx, st, bound, limit-total)
		total += n
		if err != nil {
			return total, dbErr(ctx, "cleanup", err)
		}
		if total == limit {
			break
		}
	}
	return total, nil
}

// exec runs a write statement, in its turn at the write gate, and returns
// how many rows it affected.
func (s *Store) exec(ctx context.Context, st *sql.Stmt, args ...any) (int, error) {
	if err := s.lockWrites(ctx); err != nil {
		return 0, err
	}
	defer s.unlockWrites()
	return rowsAffected(st.ExecContext(ctx, args...))
}

// writeRow runs a write statement that returns one row (DELETE …
// RETURNING), in its turn at the write gate, and scans the row into dest;
// sql.ErrNoRows if it returned none.
func (s *Store) writeRow(ctx context.Context, st *sql.Stmt, args []any, dest ...any) error {
	if err := s.lockWrites(ctx); err != nil {
		return err
	}
	defer s.unlockWrites()
	return st.QueryRowContext(ctx, args...).Scan(dest...)
}

// inTx runs f in one transaction, begun and ended in the store's turn at
// the write gate (f must not use exec or writeRow, which take the turn
// again). It commits if f returns commit true and no error, and rolls back
// otherwise; f's error is returned as is. The transactions of this package
// begin with a write, so a SQLite transaction that is not BEGIN IMMEDIATE
// takes the write lock at its first statement, never upgrades a read.
func (s *Store) inTx(ctx context.Context, f func(tx *sql.Tx) (commit bool, err error)) error {
	if err := s.lockWrites(ctx); err != nil {
		return err
	}
	defer s.unlockWrites()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	commit, err := f(tx)
	if err != nil || !commit {
		return errors.Join(err, ignoreDone(tx.Rollback()))
	}
	return tx.Commit()
}

// ignoreDone drops sql.ErrTxDone: a rollback after the context ended the
// transaction.
func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

// lockWrites waits for the store's turn to write, or for ctx to end. It
// does nothing for a store without a write gate.
func (s *Store) lockWrites(ctx context.Context) error {
	if s.writes == nil {
		return nil
	}
	select {
	case s.writes <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// unlockWrites ends the turn lockWrites began.
func (s *Store) unlockWrites() {
	if s.writes != nil {
		<-s.writes
	}
}

// rowsAffected returns the rows an Exec affected, or its error.
func rowsAffected(res sql.Result, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
