package memory

import (
	"context"
	"time"

	"github.com/orgsso/orgsso/session"
)

// CreateSession stores a copy of a new session. It needs an ID and an OrgID;
// an ID the store already holds is an error wrapping ErrDuplicateID.
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
	c := *sess

	s.mu.Lock()
	defer s.mu.Unlock()
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

// Session returns a copy of the session with this ID, expired or not, or an
// error wrapping session.ErrNotFound.
func (s *Store) Session(ctx context.Context, id string) (*session.Session, error) {
	if err := s.begin(ctx); err != nil {
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
// now (those no longer valid at now) and returns how many it removed.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deleteExpiredSessionsLocked(now), nil
}

// deleteExpiredSessionsLocked removes the sessions not valid at now. The
// caller holds s.mu for writing.
func (s *Store) deleteExpiredSessionsLocked(now time.Time) int {
	n := 0
	for _, sess := range s.sessions {
		if !sess.Valid(now) {
			s.deleteSessionLocked(sess)
			n++
		}
	}
	return n
}

// deleteSessionLocked removes a stored session and its index entry. The
// caller holds s.mu for writing.
func (s *Store) deleteSessionLocked(sess *session.Session) {
	delete(s.sessions, sess.ID)
	if ids := s.orgSessions[sess.OrgID]; ids != nil {
		delete(ids, sess.ID)
		if len(ids) == 0 {
			delete(s.orgSessions, sess.OrgID)
		}
	}
}
