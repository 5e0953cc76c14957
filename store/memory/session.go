package memory

import (
	"context"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/orgsso/orgsso/session"
)

// CreateSession stores a copy of a new session, every field as given (Epoch,
// EndReason and Connection included). It needs an ID and an OrgID, and keys within
// sso.MaxKeyBytes; an ID the store already holds is an error wrapping
// ErrDuplicateID.
func (s *Store) CreateSession(ctx context.Context, sess *session.Session) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if err := checkSession(sess); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.createSessionLocked(sess)
}

// checkSession checks CreateSession's session.
func checkSession(sess *session.Session) error {
	if sess == nil {
		return errorf(ErrInvalidArgument, "nil session")
	}
	if sess.ID == "" || sess.OrgID == "" {
		return errorf(ErrInvalidArgument, "session without an ID or organization ID")
	}
	return checkKeys("session", sess.ID, sess.OrgID, sess.UserID)
}

// createSessionLocked is CreateSession's step under s.mu, which the caller
// holds; sess is checked.
func (s *Store) createSessionLocked(sess *session.Session) error {
	c := *sess
	s.initLocked()
	if _, ok := s.sessions[c.ID]; ok {
		// The ID is a token hash: it is not repeated in the error.
		return errorf(ErrDuplicateID, "session")
	}
	s.sessions[c.ID] = &c
	ids := s.orgSessions[c.OrgID]
	if ids == nil {
		ids = make(map[string]struct{})
		s.orgSessions[c.OrgID] = ids
	}
	ids[c.ID] = struct{}{}
	return nil
}

// Session returns a copy of the session with this ID, expired or ended or
// not, or an error wrapping session.ErrNotFound.
func (s *Store) Session(ctx context.Context, id string) (*session.Session, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if err := checkKeys("session", id); err != nil {
		return nil, err
	}
	s.mu.RLock()
	sess := s.sessions[id]
	s.mu.RUnlock()
	if sess == nil {
		return nil, errorf(session.ErrNotFound, "session")
	}
	c := *sess
	return &c, nil
}

// DeleteSession removes the session with this ID, or returns an error
// wrapping session.ErrNotFound if there was none.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if err := checkKeys("session", id); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.sessions[id]
	if sess == nil {
		return errorf(session.ErrNotFound, "session")
	}
	s.deleteSessionLocked(sess)
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
	if err := checkKeys("sessions", orgID); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id := range s.orgSessions[orgID] {
		if sess := s.sessions[id]; sess != nil && (method == "" || sess.Method == method) {
			s.deleteSessionLocked(sess)
			n++
		}
	}
	return n, nil
}

// DeleteExpiredSessions removes the sessions whose ExpiresAt is at or before
// now, ended or not, and returns how many it removed. An ended session that
// has not expired is kept, so that Validate can still say why it ended.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deleteExpiredSessionsLocked(now, math.MaxInt), nil
}

// ListSessions returns copies of the sessions q selects (organization q.OrgID;
// user q.UserID, method q.Method and connection q.Connection when not empty) that are neither ended
// nor expired at now (ExpiresAt after now), in ascending ID order, starting
// after q.After, at most q.Limit of them (0 = session.DefaultListLimit). An
// empty q.OrgID, a negative q.Limit or one above session.MaxListLimit is an
// error wrapping ErrInvalidArgument. It sorts the organization's sessions on
// each call.
func (s *Store) ListSessions(ctx context.Context, q session.Query, now time.Time) ([]*session.Session, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if err := checkQuery(q); err != nil {
		return nil, err
	}
	limit := q.Limit
	switch {
	case limit == 0:
		limit = session.DefaultListLimit
	case limit < 0 || limit > session.MaxListLimit:
		return nil, errorf(ErrInvalidArgument, "sessions: limit %d not within 0..%d", limit, session.MaxListLimit)
	}

	s.mu.RLock()
	var page []*session.Session
	for id := range s.orgSessions[q.OrgID] {
		if sess := s.sessions[id]; id > q.After && matches(sess, q) && sess.Valid(now) {
			page = append(page, sess)
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(page, func(a, b *session.Session) int { return strings.Compare(a.ID, b.ID) })
	page = page[:min(limit, len(page))]
	list := make([]*session.Session, len(page))
	for i, sess := range page {
		c := *sess // stored values are never modified: copy outside the lock
		list[i] = &c
	}
	return list, nil
}

// EndSessions sets EndReason to reason on every session q selects
// (organization q.OrgID; user q.UserID, method q.Method and connection
// q.Connection when not empty;
// q.After and q.Limit are ignored) that is not ended yet, expired or not, and
// returns how many it ended. A session ended before keeps its reason. Ended
// sessions stay until DeleteExpiredSessions or a cleanup removes them at
// their ExpiresAt. An empty reason or q.OrgID is an error wrapping
// ErrInvalidArgument.
func (s *Store) EndSessions(ctx context.Context, q session.Query, reason string) (int, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	if err := checkQuery(q); err != nil {
		return 0, err
	}
	if reason == "" {
		return 0, errorf(ErrInvalidArgument, "end sessions: empty reason")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id := range s.orgSessions[q.OrgID] {
		if sess := s.sessions[id]; matches(sess, q) && sess.EndReason == "" {
			c := *sess // a stored value is replaced, never modified
			c.EndReason = reason
			s.sessions[id] = &c
			s.changedLocked()
			n++
		}
	}
	return n, nil
}

// checkQuery checks what ListSessions and EndSessions need of a query: an
// organization ID, and keys within sso.MaxKeyBytes.
func checkQuery(q session.Query) error {
	if q.OrgID == "" {
		return errorf(ErrInvalidArgument, "session query without an organization ID")
	}
	return checkKeys("session query", q.OrgID, q.UserID, q.After)
}

// matches reports whether sess, a session of q.OrgID, has q's user, method
// and connection.
func matches(sess *session.Session, q session.Query) bool {
	return sess != nil && (q.UserID == "" || sess.UserID == q.UserID) && (q.Method == "" || sess.Method == q.Method) &&
		(q.Connection == "" || sess.Connection == q.Connection)
}

// deleteExpiredSessionsLocked removes at most limit sessions whose ExpiresAt
// is at or before now, ended or not, and returns how many it removed. The
// caller holds s.mu for writing.
func (s *Store) deleteExpiredSessionsLocked(now time.Time, limit int) int {
	n := 0
	for _, sess := range s.sessions {
		if n == limit {
			break
		}
		if !now.Before(sess.ExpiresAt) {
			s.deleteSessionLocked(sess)
			n++
		}
	}
	return n
}

// deleteSessionLocked removes a stored session and its index entry. The
// caller holds s.mu for writing.
func (s *Store) deleteSessionLocked(sess *session.Session) {
	s.changedLocked()
	delete(s.sessions, sess.ID)
	if ids := s.orgSessions[sess.OrgID]; ids != nil {
		delete(ids, sess.ID)
		if len(ids) == 0 {
			delete(s.orgSessions, sess.OrgID)
		}
	}
}
