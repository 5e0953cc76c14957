package memory

import "context"

// ChangeSeq returns the store's change counter (sso.ChangeFeed): it grows
// with every write that can make a valid session invalid, under the
// store's lock, in the write: a session ended (EndSessions, once per
// session) or deleted (DeleteSession, DeleteOrgSessions, and the cleanup of
// expired sessions), an organization replaced (SaveOrganization of an
// existing ID, UpdateOrganization), a member replaced (SaveMember of an
// existing email, UpdateMember) or deleted. Creating one does not raise
// it, unless the new row concerns stored sessions: a member whose user has
// sessions in the organization (SaveMember lets several members share a
// user ID, and the new one may become the member MemberByUserID names), or
// an organization with the ID of stored sessions. A first sign-in creates
// its member before its session, so it raises nothing. It starts at 0 and
// only grows; it is an atomic read, no lock.
//
// Every writer of the maps raises it through changedLocked (or a helper
// that does: putOrgLocked, putMemberLocked, deleteSessionLocked), so that a
// Service caching session checks over this store (or over several Services
// sharing it) sees every revocation.
func (s *Store) ChangeSeq(ctx context.Context) (int64, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	return s.changes.Load(), nil
}

// changedLocked raises the change counter. The caller holds s.mu for
// writing.
func (s *Store) changedLocked() { s.changes.Add(1) }
