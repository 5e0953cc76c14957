package sso

import (
	"context"
	"errors"
	"net/http"

	"github.com/orgsso/orgsso/session"
)

// ValidateSession returns the session a token belongs to if it is valid now,
// by the session's lifetime and by the organization's current state:
//
//   - an SSO session only while the organization has SSO enabled, in the SSO
//     epoch the session was made in (Disable ends every SSO session,
//     including those of sign-ins that were in flight when it ran);
//   - any session only while its user is a member of the organization;
//   - a password session only while the member may sign in with a password
//     (PasswordLoginAllowed's rules: stricter rules end it).
//
// (The last two need a Store that implements AdminStore, as every store in
// orgsso/store does.)
//
// The errors: session.ErrUnknownSession (no such session), session.ErrExpired,
// an *session.EndedError (session.ErrEnded) whose Reason says why the session
// ended (session.EndSSODisabled, EndMemberRemoved, EndPasswordRevoked,
// EndRevoked, EndConnectionOff, EndMFARequired), and ErrUnavailable when
// the store cannot answer: a host must not read that one as "signed out". A session found ended by the
// organization's state is also marked ended in the store, with its reason.
//
// While Run runs, valid sessions are cached (Config.SessionCache): a
// revocation made through this Service is seen at once, one made on another
// replica within SessionCacheConfig.MaxStaleness (1 s by default).
func (s *Service) ValidateSession(ctx context.Context, token string) (*session.Session, error) {
	if c := s.cache; c != nil {
		return s.validateCached(ctx, c, token)
	}
	return s.validateSession(ctx, token)
}

// validateSession is ValidateSession without the cache: it reads the
// session, its organization and its member from the store.
func (s *Service) validateSession(ctx context.Context, token string) (*session.Session, error) {
	sctx, cancel := s.storeCtx(ctx)
	sess, err := s.sessions.Validate(sctx, token)
	cancel()
	switch {
	case errors.Is(err, session.ErrUnknownSession), errors.Is(err, session.ErrExpired),
		errors.Is(err, session.ErrEnded), errors.Is(err, session.ErrNoStore):
		return nil, err
	case err != nil:
		return nil, &StoreError{Op: "Session", Err: err}
	}
	reason, endAll, err := s.sessionEnd(ctx, sess, nil, nil)
	if err != nil {
		return nil, err
	}
	if reason != "" {
		if endAll {
			s.endSessions(ctx, session.Query{OrgID: sess.OrgID, UserID: sess.UserID, Method: sess.Method}, reason)
		}
		return nil, &session.EndedError{Reason: reason}
	}
	return sess, nil
}

// sessionEnd returns why the organization's state ends sess, or "", and
// whether that state ends every session of the user made with sess.Method
// (it does not for an SSO session of an older epoch in an organization that
// has SSO enabled again: the user's current sessions stay). org, when not
// nil, is sess's organization, already loaded; members, when not nil,
// caches members by user ID across calls.
func (s *Service) sessionEnd(ctx context.Context, sess *session.Session, org *Organization, members map[string]*Member) (reason string, endAll bool, err error) {
	if org == nil {
		org, err = s.loadOrg(ctx, sess.OrgID)
	}
	switch {
	case isNotFound(err):
		return session.EndMemberRemoved, true, nil
	case err != nil:
		return "", false, err
	case sess.Method == session.MethodSSO && !org.Enabled:
		return session.EndSSODisabled, true, nil
	case sess.Method == session.MethodSSO && sess.Connection != PrimaryConnection:
		if !org.connectionSessionValid(sess.Connection, sess.Epoch) {
			return session.EndConnectionOff, false, nil
		}
	case sess.Method == session.MethodSSO && sess.Epoch != org.SSOEpoch:
		return session.EndSSODisabled, false, nil
	case s.admin == nil:
		return "", false, nil // members by user ID need an AdminStore
	}
	m, ok := members[sess.UserID]
	if !ok {
		m, err = s.loadMemberByUserID(ctx, sess.OrgID, sess.UserID)
		if members != nil && (err == nil || isNotFound(err)) {
			members[sess.UserID] = m // nil: not a member
		}
	}
	switch {
	case isNotFound(err) || (ok && m == nil):
		return session.EndMemberRemoved, true, nil
	case err != nil:
		return "", false, err
	case sess.Method == session.MethodPassword && !passwordAllowed(org, m):
		return session.EndPasswordRevoked, true, nil
	}
	return "", false, nil
}

// endSessions ends the sessions q selects with reason and returns how many
// it ended. A failure is logged and counted as none: every caller has already
// committed the state that makes those sessions invalid (ValidateSession
// judges by it), so ending them in the store is tidying, not the guarantee.
func (s *Service) endSessions(ctx context.Context, q session.Query, reason string) int {
	n, err := s.end(ctx, q, reason)
	if err != nil {
		s.log.WarnContext(ctx, "orgsso: ending sessions failed; they are refused by ValidateSession regardless",
			"org", q.OrgID, "reason", reason, "err", err.Error())
	}
	return n
}

// end ends the sessions q selects with reason, within the store timeout. A
// session store that cannot end sessions (no session.Lister) ends none, and
// that is not an error: ValidateSession judges by the organization's state.
func (s *Service) end(ctx context.Context, q session.Query, reason string) (int, error) {
	defer s.cache.drop() // after the write: a check in flight must not cache what it read before
	return s.count(ctx, "EndSessions", func(ctx context.Context) (int, error) {
		n, err := s.sessions.End(ctx, q, reason)
		if errors.Is(err, session.ErrNotSupported) {
			return 0, nil
		}
		return n, err
	})
}

// SessionFromRequest validates the session cookie of a request (as set from
// SessionCookie, and only under SessionCookieName(): on https a plain
// "orgsso_session" that a sibling subdomain may have planted is ignored) with
// ValidateSession: session.ErrUnknownSession when there is
// none or it is unknown, session.ErrExpired when it has expired, an
// *session.EndedError saying why it ended, ErrUnavailable when the store
// cannot answer (show an error page, do not sign the user out).
func (s *Service) SessionFromRequest(r *http.Request) (*session.Session, error) {
	c, err := r.Cookie(s.SessionCookieName())
	if err != nil {
		return nil, session.ErrUnknownSession
	}
	return s.ValidateSession(r.Context(), c.Value)
}

// SignOut ends the session of the request's cookie, if any, and returns the
// cookie that clears it, to set whatever happened: an unknown, expired or
// ended session is already signed out (nil error). Only a store failure is
// an error (ErrUnavailable).
func (s *Service) SignOut(ctx context.Context, r *http.Request) (*http.Cookie, error) {
	clear := s.ClearSessionCookie()
	c, err := r.Cookie(s.SessionCookieName())
	if err != nil {
		return clear, nil
	}
	err = s.do(ctx, "DeleteSession", func(ctx context.Context) error { return s.sessions.Revoke(ctx, c.Value) })
	s.cache.drop()
	if err != nil && !errors.Is(err, session.ErrUnknownSession) {
		return clear, err
	}
	return clear, nil
}

// Sessions lists the organization's valid sessions (of one user when userID
// is not empty) in a stable order, at most limit (0 = DefaultListLimit, at
// most MaxListLimit), starting after cursor ("" = from the start). next is
// the cursor of the following page, "" after the last. Only the owner, an
// admin, or the user asking for their own sessions may list them.
func (s *Service) Sessions(ctx context.Context, orgID, actorUserID, userID, cursor string, limit int) (list []*session.Session, next string, err error) {
	org, err := s.adminOrg(ctx, orgID)
	if err != nil {
		return nil, "", err
	}
	if userID == "" || userID != actorUserID {
		if err := s.authorize(ctx, org, actorUserID, false); err != nil {
			return nil, "", err
		}
	}
	limit, err = listLimit(limit)
	if err != nil {
		return nil, "", err
	}
	q := session.Query{OrgID: orgID, UserID: userID, After: cursor, Limit: limit}
	err = s.do(ctx, "ListSessions", func(ctx context.Context) error {
		list, err = s.sessions.List(ctx, q)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	if len(list) == limit {
		next = list[len(list)-1].ID
	}
	// The page lists only what ValidateSession would accept: a session the
	// organization's state ends (an in-flight sign-in's after Disable, a
	// removed member's) is left out, though the page may then be short.
	members := map[string]*Member{}
	valid := list[:0]
	for _, sess := range list {
		reason, _, err := s.sessionEnd(ctx, sess, org, members)
		if err != nil {
			return nil, "", err
		}
		if reason == "" {
			valid = append(valid, sess)
		}
	}
	return valid, next, nil
}

// RevokeSessions ends every session of the user in the organization
// (session.EndRevoked) and returns how many it ended. The owner and admins
// may end anyone's; a user may end their own. It emits EventSessionsEnded.
func (s *Service) RevokeSessions(ctx context.Context, orgID, actorUserID, userID string) (int, error) {
	org, err := s.adminOrg(ctx, orgID)
	if err != nil {
		return 0, err
	}
	if userID == "" {
		return 0, &ConfigError{Field: "userID", Reason: "is empty", Message: "Choose whose sessions to end."}
	}
	if userID != actorUserID {
		if err := s.authorize(ctx, org, actorUserID, false); err != nil {
			return 0, err
		}
	}
	n, err := s.count(ctx, "EndSessions", func(ctx context.Context) (int, error) {
		return s.sessions.End(ctx, session.Query{OrgID: orgID, UserID: userID}, session.EndRevoked)
	})
	s.cache.drop()
	if err != nil {
		return n, err
	}
	detail := "sessions ended by an administrator"
	if userID == actorUserID {
		detail = "signed out everywhere"
	}
	s.emit(ctx, Event{Type: EventSessionsEnded, OrgID: org.ID, SSOName: org.SSOName, UserID: userID, Actor: actorUserID,
		SessionsEnded: n, Detail: detail})
	return n, nil
}

// endPasswordSessions ends the password sessions of the organization's
// members (of onlyUserID's, when set) who may not sign in with a password
// under org's rules, the owner's never, and returns how many it ended.
//
// After a change that took password sign-in away it is tidying (the
// sessions are refused by ValidateSession anyway). Before a change that
// gives it back, it is the guarantee that no session refused until now comes
// back to life: the caller refuses that change if it fails.
func (s *Service) endPasswordSessions(ctx context.Context, org *Organization, onlyUserID string) (int, error) {
	if !org.Enabled {
		return 0, nil
	}
	users := map[string]bool{}
	q := session.Query{OrgID: org.ID, UserID: onlyUserID, Method: session.MethodPassword, Limit: session.MaxListLimit}
	for {
		var page []*session.Session
		err := s.do(ctx, "ListSessions", func(ctx context.Context) (err error) {
			page, err = s.sessions.List(ctx, q)
			return err
		})
		switch {
		case errors.Is(err, session.ErrNotSupported):
			return 0, nil
		case err != nil:
			return 0, err
		}
		for _, ps := range page {
			if ps.UserID != org.OwnerID {
				users[ps.UserID] = true
			}
		}
		if len(page) < q.Limit {
			break
		}
		q.After = page[len(page)-1].ID
	}
	n := 0
	var errs []error
	for uid := range users {
		m, err := s.loadMemberByUserID(ctx, org.ID, uid)
		switch {
		case err == nil && passwordAllowed(org, m):
			continue
		case err != nil && !isNotFound(err):
			errs = append(errs, err)
			continue
		}
		k, err := s.end(ctx, session.Query{OrgID: org.ID, UserID: uid, Method: session.MethodPassword}, session.EndPasswordRevoked)
		n += k
		if err != nil {
			errs = append(errs, err)
		}
	}
	return n, errors.Join(errs...)
}

// endPasswordSessionsAfter is endPasswordSessions after a change that took
// password sign-in away: a failure is logged, as the sessions are refused
// regardless.
func (s *Service) endPasswordSessionsAfter(ctx context.Context, org *Organization, onlyUserID string) int {
	n, err := s.endPasswordSessions(ctx, org, onlyUserID)
	if err != nil {
		s.log.WarnContext(ctx, "orgsso: ending password sessions failed; ValidateSession refuses them regardless",
			"org", org.ID, "err", err.Error())
	}
	return n
}

// passwordAllowed is PasswordLoginAllowed's rule for a known member m.
func passwordAllowed(org *Organization, m *Member) bool {
	switch {
	case !org.Enabled:
		return true
	case m == nil:
		return false
	case org.OwnerID != "" && m.UserID == org.OwnerID:
		return true
	case org.StrictMode:
		return false
	}
	return m.AllowWithoutSSO
}

// listLimit checks a page size: 0 = DefaultListLimit, else 1..MaxListLimit.
func listLimit(limit int) (int, error) {
	switch {
	case limit == 0:
		return DefaultListLimit, nil
	case limit < 0 || limit > MaxListLimit:
		return 0, &ConfigError{Field: "limit", Reason: "is outside 1..1000", Message: "Ask for between 1 and 1000 entries."}
	}
	return limit, nil
}
