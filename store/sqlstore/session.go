package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/orgsso/orgsso/session"
	"github.com/orgsso/orgsso/sso"
)

// Session IDs are token hashes: errors never repeat them.

// CreateSession stores a new session, Epoch, EndReason and Connection
// included. It needs an ID and an OrgID, and keys (ID, OrgID, UserID) of at
// most sso.MaxKeyBytes (ErrKeyTooLong); a Method or Connection longer than
// that is refused the same way, though neither is a key (an index holds
// each, and PostgreSQL's cannot hold any length). An ID the store already holds is an error
// wrapping ErrDuplicateID.
func (s *Store) CreateSession(ctx context.Context, sess *session.Session) error {
	return runner{s: s}.createSession(ctx, sess)
}

// createSession is CreateSession, run by r.
func (r runner) createSession(ctx context.Context, sess *session.Session) error {
	s := r.s
	if err := s.begin(ctx); err != nil {
		return err
	}
	if sess == nil {
		return errorf(ErrInvalidArgument, "nil session")
	}
	if sess.ID == "" || sess.OrgID == "" {
		return errorf(ErrInvalidArgument, "session without an ID or organization ID")
	}
	if err := checkKeys("session", sess.ID, sess.OrgID, sess.UserID, sess.Method, sess.Connection); err != nil {
		return err
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
	n, err := r.exec(ctx, s.stmts.createSession,
		sess.ID, sess.OrgID, sess.UserID, sess.Method, created, expires, sess.Epoch, sess.EndReason, sess.Connection)
	if err != nil {
		return dbErr(ctx, "create session", err)
	}
	if n == 0 {
		return errorf(ErrDuplicateID, "session")
	}
	return nil
}

// scanSession reads one session from a row of sessionColumns.
func scanSession(scan func(dest ...any) error) (*session.Session, error) {
	var (
		sess             session.Session
		created, expires string
	)
	if err := scan(&sess.ID, &sess.OrgID, &sess.UserID, &sess.Method, &created, &expires, &sess.Epoch, &sess.EndReason, &sess.Connection); err != nil {
		return nil, err
	}
	var err error
	if sess.CreatedAt, err = decodeTime(created); err != nil {
		return nil, errorf(err, "created_at")
	}
	if sess.ExpiresAt, err = decodeTime(expires); err != nil {
		return nil, errorf(err, "expires_at")
	}
	return &sess, nil
}

// Session returns the session with this ID, expired or ended or not, or an
// error wrapping session.ErrNotFound. Its times are in UTC. An ID longer
// than sso.MaxKeyBytes is an error wrapping ErrKeyTooLong.
func (s *Store) Session(ctx context.Context, id string) (*session.Session, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if err := checkKeys("session", id); err != nil {
		return nil, err
	}
	if !storable(id) {
		return nil, errorf(session.ErrNotFound, "session")
	}
	sess, err := scanSession(s.stmts.session.QueryRowContext(ctx, id).Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errorf(session.ErrNotFound, "session")
	}
	if err != nil {
		return nil, dbErr(ctx, "session", err)
	}
	return sess, nil
}

// DeleteSession removes the session with this ID, or returns an error
// wrapping session.ErrNotFound if there was none. An ID longer than
// sso.MaxKeyBytes is an error wrapping ErrKeyTooLong.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if err := checkKeys("delete session", id); err != nil {
		return err
	}
	if !storable(id) {
		return errorf(session.ErrNotFound, "session")
	}
	n, err := s.exec(ctx, s.stmts.deleteSession, id)
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
// ErrInvalidArgument, an orgID longer than sso.MaxKeyBytes one wrapping
// ErrKeyTooLong; a method longer than that matches no session.
func (s *Store) DeleteOrgSessions(ctx context.Context, orgID, method string) (int, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	if orgID == "" {
		return 0, errorf(ErrInvalidArgument, "empty organization ID")
	}
	if err := checkKeys("delete organization sessions", orgID); err != nil {
		return 0, err
	}
	if !storable(orgID) || !storable(method) || len(method) > sso.MaxKeyBytes {
		return 0, nil // no stored session has such a key or method
	}
	var (
		n   int
		err error
	)
	if method == "" {
		n, err = s.exec(ctx, s.stmts.deleteOrgSessions, orgID)
	} else {
		n, err = s.exec(ctx, s.stmts.deleteOrgSessionsMethod, orgID, method)
	}
	if err != nil {
		return 0, dbErr(ctx, "delete organization sessions", err)
	}
	return n, nil
}

// DeleteExpiredSessions removes the sessions whose ExpiresAt is at or before
// now (those no longer valid at now), ended or not, and returns how many it
// removed. It deletes in batches of CleanupBatchSize, each its own
// statement, as Cleanup does; if it fails midway, the batches before stay
// deleted and the count is of them.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	bound := encodeBound(now)
	total := 0
	for {
		n, err := s.exec(ctx, s.stmts.cleanupSessions, bound, CleanupBatchSize)
		total += n
		if err != nil {
			return total, dbErr(ctx, "delete expired sessions", err)
		}
		if n < CleanupBatchSize {
			return total, nil
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}

// checkQuery checks what ListSessions and EndSessions need of q: an OrgID,
// and keys (OrgID, UserID) of at most sso.MaxKeyBytes. match is false
// if no stored session can match: a key that cannot be stored, or a Method
// or Connection longer than sso.MaxKeyBytes (CreateSession refuses those;
// neither is a key, and an unknown one lists none).
func checkQuery(op string, q session.Query) (match bool, _ error) {
	if q.OrgID == "" {
		return false, errorf(ErrInvalidArgument, "%s: query without an organization ID", op)
	}
	if err := checkKeys(op, q.OrgID, q.UserID); err != nil {
		return false, err
	}
	return storable(q.OrgID) && storable(q.UserID) && storable(q.Method) && len(q.Method) <= sso.MaxKeyBytes &&
		storable(q.Connection) && len(q.Connection) <= sso.MaxKeyBytes, nil
}

// ListSessions returns the sessions of organization q.OrgID, of q.UserID,
// made with q.Method and through q.Connection when they are set, that are
// neither ended nor expired at now (now < ExpiresAt), in ascending ID order
// (bytewise), those whose ID sorts after q.After, at most q.Limit of them (1
// to session.MaxListLimit; 0 means session.DefaultListLimit). One page is one
// query, read in ID order from the (org_id, user_id, id) index when q.UserID
// is set, from the (org_id, connection_id, id) one when q.Connection is. None
// is a nil slice and no error; a q.Method or q.Connection no session has (an
// unknown one, however long) lists none. An empty q.OrgID, another limit, a key (OrgID, UserID,
// After) longer than sso.MaxKeyBytes (ErrKeyTooLong) or a q.After that is
// not valid UTF-8 or holds NUL is an error wrapping ErrInvalidArgument.
func (s *Store) ListSessions(ctx context.Context, q session.Query, now time.Time) ([]*session.Session, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	limit, err := listLimit(q.Limit, session.DefaultListLimit, session.MaxListLimit)
	if err != nil {
		return nil, err
	}
	match, err := checkQuery("list sessions", q)
	if err != nil {
		return nil, err
	}
	if err := checkKeys("list sessions: the cursor", q.After); err != nil {
		return nil, err
	}
	if !storable(q.After) {
		return nil, errorf(ErrInvalidArgument, "list sessions: the cursor is not valid UTF-8 or holds a NUL byte")
	}
	if !match {
		return nil, nil
	}
	f := filterOf(q)
	rows, err := s.stmts.listSessions[f].QueryContext(ctx, append(f.filterArgs(q), encodeBound(now), q.After, limit)...)
	if err != nil {
		return nil, dbErr(ctx, "list sessions", err)
	}
	defer rows.Close()
	var list []*session.Session
	for rows.Next() {
		sess, err := scanSession(rows.Scan)
		if err != nil {
			return nil, dbErr(ctx, "list sessions", err)
		}
		list = append(list, sess)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(ctx, "list sessions", err)
	}
	return list, nil
}

// EndSessions sets EndReason to reason on every session matching q (its
// organization, and user, method and connection when set; q.After and
// q.Limit are ignored) that is not ended yet, expired or not, in one UPDATE, and returns
// how many it changed; a session ended before keeps its reason. An empty
// reason or q.OrgID, a key (OrgID, UserID) longer than sso.MaxKeyBytes
// (ErrKeyTooLong), or a reason that is not valid UTF-8 or holds NUL is an
// error wrapping ErrInvalidArgument.
func (s *Store) EndSessions(ctx context.Context, q session.Query, reason string) (int, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	if reason == "" {
		return 0, errorf(ErrInvalidArgument, "end sessions: empty reason")
	}
	if !storable(reason) {
		return 0, errorf(ErrInvalidArgument, "end sessions: the reason is not valid UTF-8 or holds a NUL byte")
	}
	match, err := checkQuery("end sessions", q)
	if err != nil || !match {
		return 0, err
	}
	f := filterOf(q)
	n, err := s.exec(ctx, s.stmts.endSessions[f], append([]any{reason}, f.filterArgs(q)...)...)
	if err != nil {
		return 0, dbErr(ctx, "end sessions", err)
	}
	return n, nil
}
