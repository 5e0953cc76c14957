package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
)

// ChangeSeq returns the store's change counter (sso.ChangeFeed): the seq of
// table change_counter, which triggers raise in the transaction of every
// write that can make a valid session invalid (see migrations 0009 and
// 0011: sessions ended or deleted, organizations and members updated or
// deleted, or inserted when they concern stored sessions; on PostgreSQL
// any TRUNCATE of those tables). It is one primary-key read; it survives
// reopening, and never decreases but when a backup is restored (see
// InvalidateCaches). On SQLite the value also carries the database's
// schema cookie (schemaShift), so that a restore through the backup API
// changes it by itself.
func (s *Store) ChangeSeq(ctx context.Context) (int64, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	var seq, schema int64
	var version int
	if err := s.stmts.changeSeq.QueryRowContext(ctx).Scan(&seq, &schema, &version); err != nil {
		return 0, dbErr(ctx, "change counter", err)
	}
	if version < s.schema {
		// A backup of an older schema was restored under the running
		// Store: the triggers of the later migrations may be gone, and with
		// them the raises of the writes they catch. No value can be
		// trusted until a Store is opened again (Open migrates).
		return 0, fmt.Errorf("sqlstore: schema version %d, below the %d this Store migrated to (an older backup restored?): reopen the store: %w",
			version, s.schema, ErrMigration)
	}
	return seq ^ schema<<schemaShift, nil
}

// schemaShift places SQLite's schema cookie above the bits the counter
// uses: a restore through the backup API moves the cookie of the live
// database (SQLite does so that its other connections reload the schema),
// so the value ChangeSeq returns changes although the restored counter may
// equal the one a replica read last. The two could cancel out only if the
// counter had moved by 2^40 between the backup and the restore (256
// InvalidateCaches). On PostgreSQL the cookie reads as 0.
const schemaShift = 40

// Watcher pushes the change counter's new values as writes commit, until
// ctx is done or it fails, and returns why: what Store.WatchChanges runs
// (see sso.ChangeWatcher). store/postgres gives one that listens for the
// notifications of migration 0009.
type Watcher func(ctx context.Context, changed func(seq int64)) error

// Option configures a Store in New.
type Option func(*Store)

// WithWatcher gives the Store the Watcher its WatchChanges runs.
func WithWatcher(w Watcher) Option {
	return func(s *Store) { s.watch = w }
}

// WatchChanges implements sso.ChangeWatcher with the Watcher New was given
// (WithWatcher). Without one (SQLite, whose writers are polled for) it
// returns an error wrapping errors.ErrUnsupported at once. Close ends a
// watch; after Close it returns ErrClosed.
func (s *Store) WatchChanges(ctx context.Context, changed func(seq int64)) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if changed == nil {
		return errorf(ErrInvalidArgument, "watch changes: nil func")
	}
	if s.watch == nil {
		return errorf(errors.ErrUnsupported, "watch changes: the %v store is polled", s.dialect)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { // Close ends the watch
		select {
		case <-s.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	return s.watch(ctx, changed)
}

// InvalidateCachesStep is how much InvalidateCaches raises the change
// counter: more than the counter can have moved between a backup and its
// restore (a raise per revoking write), so that the raised value differs
// from every value a replica may have read since the backup.
const InvalidateCachesStep = 1 << 32

// InvalidateCaches raises the change counter by InvalidateCachesStep and,
// on PostgreSQL, notifies the raise as the triggers do, so that every
// sso.Service caching session checks over this database
// (sso.SessionCacheConfig) drops its cache: within its MaxStaleness (a
// poll), at commit over PostgreSQL's notifications.
//
// Call it after restoring a backup into a live database (pg_restore, or any
// copy of the rows back; on SQLite a restore through the backup API or the
// sqlite3 shell's .restore is seen without it, see ChangeSeq), or restart
// every replica instead. A restore brings the counter back to the
// backup's value. Replicas see that as a change only if the counter moved
// between the backup and the restore; when it did not (the
// sessions created since were inserts, which do not raise it), a replica
// goes on accepting from its cache the sessions it cached, which the
// restored database may no longer have, for as long as nothing else moves
// the counter. Raising the counter at every session insert would close
// that gap at the cost of every replica's cache at every sign-in; this
// explicit step is the chosen trade-off.
//
// It is also the way to make replicas forget what they cached after any
// write made behind the triggers' back (one with the triggers disabled,
// say). It is one short write transaction; the next check of each cached
// session on each replica reads the store again.
func (s *Store) InvalidateCaches(ctx context.Context) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	err := s.inTx(ctx, func(tx *sql.Tx) (bool, error) {
		var seq int64
		if err := tx.QueryRowContext(ctx, s.dialect.sql(qInvalidateCaches), int64(InvalidateCachesStep)).Scan(&seq); err != nil {
			return false, err
		}
		if s.dialect == Postgres {
			// The payload of migration 0009's triggers: "<schema> <seq>",
			// delivered at commit.
			if _, err := tx.ExecContext(ctx, qNotifyChange, strconv.FormatInt(seq, 10)); err != nil {
				return false, err
			}
		}
		return true, nil
	})
	if err != nil {
		return dbErr(ctx, "invalidate caches", err)
	}
	return nil
}
