package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/orgsso/orgsso/session"
)

// Session IDs are token hashes: errors never repeat them.

// CreateSession stores a new session. It needs an ID and an OrgID; an ID the
// store already holds is an error wrapping ErrDuplicateID.
func (s *Store) CreateSession(ctx context.Context, sess *session.Session) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if sess == nil {
		return errorf(ErrInvalidArgument, "nil session")
	}
	if sess.ID == "" || sess.OrgID == "" {
		return errorf(ErrInvalidArgument, "session without an ID or organization ID")
	}
	if err := checkStorable("session", sess); err != nil {
		return err
	}
	created, err := encodeTime("session CreatedAt", sess.CreatedAt)
	if err != nil {
		return err
	}
	expires, err := encodeTime("session ExpiresAt", sess.ExpiresAt)
	if err != nil {
		return err
	}
	n, err := rowsAffected(s.stmts.createSession.ExecContext(ctx, sess.ID, sess.OrgID, sess.UserID, sess.Method, created, expires))
	if err != nil {
		return dbErr(ctx, "create session", err)
	}
	if n == 0 {
		return errorf(ErrDuplicateID, "session")
	}
	return nil
}

// Session returns the session with this ID, expired or not, or an error
// wrapping session.ErrNotFound. Its times are in UTC.
func (s *Store) Session(ctx context.Context, id string) (*session.Session, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if !storable(id) {
		return nil, errorf(session.ErrNotFound, "session")
	}
	sess := &session.Session{ID: id}
	var created, expires string
	err := s.stmts.session.QueryRowContext(ctx, id).Scan(&sess.OrgID, &sess.UserID, &sess.Method, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errorf(session.ErrNotFound, "session")
	}
	if err != nil {
		return nil, dbErr(ctx, "session", err)
	}
	if sess.CreatedAt, err = decodeTime(created); err != nil {
		return nil, dbErr(ctx, "session: created_at", err)
	}
	if sess.ExpiresAt, err = decodeTime(expires); err != nil {
		return nil, dbErr(ctx, "session: expires_at", err)
	}
	return sess, nil
}

// DeleteSession removes the session with this ID, or returns an error
// wrapping session.ErrNotFound if there was none.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if !storable(id) {
		return errorf(session.ErrNotFound, "session")
	}
	n, err := rowsAffected(s.stmts.deleteSession.ExecContext(ctx, id))
	if err != nil {
		return dbErr(ctx, "delete session", err)
	}
	if n == 0 {
		return errorf(session.ErrNotFound, "session")
	}
	return nil
}

// DeleteOrgSessions removes the sessions of organization orgID made with
// method (session.MethodSSO or session.MethodPassword; "" = every method) and
// returns how many it removed. An empty orgID is an error wrapping
// ErrInvalidArgument.
func (s *Store) DeleteOrgSessions(ctx context.Context, orgID, method string) (int, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	if orgID == "" {
		return 0, errorf(ErrInvalidArgument, "empty organization ID")
	}
	if !storable(orgID) || !storable(method) {
		return 0, nil // no stored session has such a key
	}
	var (
		n   int
		err error
	)
	if method == "" {
		n, err = rowsAffected(s.stmts.deleteOrgSessions.ExecContext(ctx, orgID))
	} else {
		n, err = rowsAffected(s.stmts.deleteOrgSessionsMethod.ExecContext(ctx, orgID, method))
	}
	if err != nil {
		return 0, dbErr(ctx, "delete organization sessions", err)
	}
	return n, nil
}

// DeleteExpiredSessions removes the sessions whose ExpiresAt is at or before
// now (those no longer valid at now) and returns how many it removed.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	n, err := rowsAffected(s.stmts.deleteExpiredSessions.ExecContext(ctx, encodeBound(now)))
	if err != nil {
		return 0, dbErr(ctx, "delete expired sessions", err)
	}
	return n, nil
}
