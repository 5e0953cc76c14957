package sqlstore

import (
	"context"
	"errors"
)

// ChangeSeq returns the store's change counter (sso.ChangeFeed): the seq of
// table change_counter, which triggers raise in the transaction of every
// write that can make a valid session invalid (see migration 0009: sessions
// ended or deleted, organizations and members updated or deleted; not
// inserts). It is one primary-key read; it never decreases, and survives
// reopening.
func (s *Store) ChangeSeq(ctx context.Context) (int64, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	var seq int64
	if err := s.stmts.changeSeq.QueryRowContext(ctx).Scan(&seq); err != nil {
		return 0, dbErr(ctx, "change counter", err)
	}
	return seq, nil
}

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
