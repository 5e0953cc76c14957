package memory

import (
	"context"
	"fmt"
	"slices"

	"github.com/orgsso/orgsso/sso"
)

// checkOrg checks what the store needs of an organization to write it: a
// non-nil org with an ID, and keys within sso.MaxKeyBytes, the names of its
// domains included.
func checkOrg(org *sso.Organization) error {
	if org == nil {
		return errorf(ErrInvalidArgument, "nil organization")
	}
	if org.ID == "" {
		return errorf(ErrInvalidArgument, "organization without an ID")
	}
	for _, d := range org.Domains {
		if err := checkKeys("organization domain", d.Name); err != nil {
			return err
		}
	}
	return checkKeys("organization", org.ID, org.SSOName, org.OwnerID)
}

// Organization returns a copy of the organization with this ID, or an error
// wrapping sso.ErrNotFound.
func (s *Store) Organization(ctx context.Context, id string) (*sso.Organization, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if err := checkKeys("organization", id); err != nil {
		return nil, err
	}
	s.mu.RLock()
	o := s.orgs[id]
	s.mu.RUnlock()
	if o == nil {
		return nil, errorf(sso.ErrNotFound, "organization %q", id)
	}
	return cloneOrg(o), nil
}

// OrganizationBySSOName returns a copy of the organization with this SSO name,
// or an error wrapping sso.ErrNotFound. Names match exactly; the store does
// not lowercase them (sso.ValidateSSOName allows lowercase names only).
func (s *Store) OrganizationBySSOName(ctx context.Context, ssoName string) (*sso.Organization, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if err := checkKeys("organization by SSO name", ssoName); err != nil {
		return nil, err
	}
	s.mu.RLock()
	var o *sso.Organization
	if id, ok := s.orgIDByName[ssoName]; ok { // "" (a draft) is never a key
		o = s.orgs[id]
	}
	s.mu.RUnlock()
	if o == nil {
		return nil, errorf(sso.ErrNotFound, "organization with SSO name %q", ssoName)
	}
	return cloneOrg(o), nil
}

// OrganizationByDomain returns a copy of the organization that has verified
// this email domain (sso.DomainStore), or an error wrapping sso.ErrNotFound:
// an unknown domain, one only claimed (not verified), and the empty name.
// The domain matches exactly the Name of a verified sso.Domain; the store
// does not lowercase it (the Service stores and asks lowercase names).
func (s *Store) OrganizationByDomain(ctx context.Context, domain string) (*sso.Organization, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if err := checkKeys("organization by domain", domain); err != nil {
		return nil, err
	}
	s.mu.RLock()
	var o *sso.Organization
	if id, ok := s.orgIDByDom[domain]; ok { // "" is never a key
		o = s.orgs[id]
	}
	s.mu.RUnlock()
	if o == nil {
		return nil, errorf(sso.ErrNotFound, "organization with verified domain %q", domain)
	}
	return cloneOrg(o), nil
}

// SaveOrganization stores a copy of org, creating it or replacing the one with
// the same ID, Version and SSOEpoch included as given. An SSO name held by
// another organization is an error wrapping sso.ErrSSONameTaken; renaming an
// organization frees its old name at once. An empty SSO name is allowed (a
// draft) and is not indexed. Then a verified domain another organization
// has verified is an error wrapping sso.ErrDomainTaken; a domain the
// organization no longer verifies is free at once. Nothing is written on
// error.
//
// The store checks only what it needs: a non-nil org with an ID, and keys
// within sso.MaxKeyBytes. Validating the organization (org.Validate) is the
// caller's job.
func (s *Store) SaveOrganization(ctx context.Context, org *sso.Organization) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if err := checkOrg(org); err != nil {
		return err
	}
	c := cloneOrg(org)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.initLocked()
	if s.nameTakenLocked(c) {
		return errorf(sso.ErrSSONameTaken, "SSO name %q", c.SSOName)
	}
	if d, taken := s.domainTakenLocked(c); taken {
		return domainTaken(c, d)
	}
	s.putOrgLocked(c)
	return nil
}

// CreateOrganization stores a copy of org as a new organization with Version
// 1, whatever org.Version was, and then sets org.Version to 1. An ID the
// store holds is an error wrapping sso.ErrDuplicateID, whatever the SSO name;
// an SSO name another organization holds, one wrapping sso.ErrSSONameTaken;
// a verified domain another organization holds, one wrapping
// sso.ErrDomainTaken. Nothing is written on error, and org is left as it
// was. It checks org as SaveOrganization does.
func (s *Store) CreateOrganization(ctx context.Context, org *sso.Organization) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if err := checkOrg(org); err != nil {
		return err
	}
	c := cloneOrg(org)
	c.Version = 1

	s.mu.Lock()
	defer s.mu.Unlock()
	s.initLocked()
	if _, ok := s.orgs[c.ID]; ok {
		return errorf(sso.ErrDuplicateID, "organization %q", c.ID)
	}
	if s.nameTakenLocked(c) {
		return errorf(sso.ErrSSONameTaken, "SSO name %q", c.SSOName)
	}
	if d, taken := s.domainTakenLocked(c); taken {
		return domainTaken(c, d)
	}
	s.putOrgLocked(c)
	org.Version = c.Version
	return nil
}

// UpdateOrganization replaces the stored organization with org.ID by a copy
// of org if its stored Version equals org.Version, and stores it with that
// Version plus one, which it then sets in org.Version. In this order: an
// unknown ID is an error wrapping sso.ErrNotFound, another stored Version one
// wrapping sso.ErrConflict, an SSO name another organization holds one
// wrapping sso.ErrSSONameTaken, a verified domain another organization has
// verified one wrapping sso.ErrDomainTaken. Nothing is written on error, and
// org is left as it was. The checks and the write are one step under the
// store's lock, so of concurrent updates from one Version exactly one
// succeeds, and of concurrent writes verifying one domain for different
// organizations at most one. It checks org
// as SaveOrganization does.
func (s *Store) UpdateOrganization(ctx context.Context, org *sso.Organization) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if err := checkOrg(org); err != nil {
		return err
	}
	c := cloneOrg(org)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.initLocked()
	old := s.orgs[c.ID]
	switch {
	case old == nil:
		return errorf(sso.ErrNotFound, "organization %q", c.ID)
	case old.Version != c.Version:
		return errorf(sso.ErrConflict, "organization %q at version %d, not %d", c.ID, old.Version, c.Version)
	case s.nameTakenLocked(c):
		return errorf(sso.ErrSSONameTaken, "SSO name %q", c.SSOName)
	}
	if d, taken := s.domainTakenLocked(c); taken {
		return domainTaken(c, d)
	}
	c.Version = old.Version + 1
	s.putOrgLocked(c)
	org.Version = c.Version
	return nil
}

// nameTakenLocked reports whether another organization than o holds o's SSO
// name. The caller holds s.mu.
func (s *Store) nameTakenLocked(o *sso.Organization) bool {
	if o.SSOName == "" {
		return false
	}
	owner, ok := s.orgIDByName[o.SSOName]
	return ok && owner != o.ID
}

// domainTakenLocked returns a verified domain of o that another
// organization has verified, if any. The caller holds s.mu.
func (s *Store) domainTakenLocked(o *sso.Organization) (string, bool) {
	for _, d := range o.Domains {
		if !d.Verified() || d.Name == "" {
			continue
		}
		if owner, ok := s.orgIDByDom[d.Name]; ok && owner != o.ID {
			return d.Name, true
		}
	}
	return "", false
}

// domainTaken is the error of an organization write refused because
// another organization has verified domain.
func domainTaken(o *sso.Organization, domain string) error {
	return errorf(sso.ErrDomainTaken, "organization %q: domain %q", o.ID, domain)
}

// putOrgLocked stores c, which the store now owns, in place of the
// organization with its ID, moves its SSO name and verified domains in the
// indexes, and lists it among the organizations with a metadata URL or
// not. The caller holds s.mu for writing and has checked that the name and
// the domains are free.
func (s *Store) putOrgLocked(c *sso.Organization) {
	old := s.orgs[c.ID]
	if old != nil && old.SSOName != c.SSOName && old.SSOName != "" {
		delete(s.orgIDByName, old.SSOName)
	}
	if old != nil || len(s.orgSessions[c.ID]) > 0 {
		s.changedLocked() // replaced, or new with sessions of its ID: it may end sessions
	}
	if old != nil {
		for _, d := range old.Domains {
			if d.Verified() && s.orgIDByDom[d.Name] == c.ID {
				delete(s.orgIDByDom, d.Name)
			}
		}
	}
	s.orgs[c.ID] = c
	if c.SSOName != "" {
		s.orgIDByName[c.SSOName] = c.ID
	}
	for _, d := range c.Domains {
		if d.Verified() && d.Name != "" {
			s.orgIDByDom[d.Name] = c.ID
		}
	}
	if hasMetadataURL(c) {
		s.metaOrgIDs[c.ID] = struct{}{}
	} else {
		delete(s.metaOrgIDs, c.ID)
	}
}

// hasMetadataURL reports whether o names a metadata URL, its own IdP's or
// a SAML connection's: whether OrganizationsWithMetadataURL lists it.
func hasMetadataURL(o *sso.Organization) bool {
	if o.IdPMetadataURL != "" {
		return true
	}
	for _, c := range o.Connections {
		if c.Protocol == sso.ProtocolSAML && c.MetadataURL != "" {
			return true
		}
	}
	return false
}

// OrganizationsWithMetadataURL returns copies of the organizations that
// name an IdP metadata URL (sso.MetadataLister): their own
// (IdPMetadataURL) or a SAML connection's (Connection.MetadataURL), those
// whose ID sorts, as bytes, after after ("" = from the start), in
// ascending ID order, at most limit of them. limit must be 1 to
// sso.MaxListLimit and after at most sso.MaxKeyBytes, else the error wraps
// ErrInvalidArgument. Every organization write keeps an index of these
// organizations up to date; a page sorts their IDs.
func (s *Store) OrganizationsWithMetadataURL(ctx context.Context, after string, limit int) ([]*sso.Organization, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if limit < 1 || limit > sso.MaxListLimit {
		return nil, errorf(ErrInvalidArgument, "organizations with a metadata URL: limit %d not within 1..%d", limit, sso.MaxListLimit)
	}
	if err := checkKeys("organizations with a metadata URL: the cursor", after); err != nil {
		return nil, err
	}

	s.mu.RLock()
	ids := make([]string, 0, len(s.metaOrgIDs))
	for id := range s.metaOrgIDs {
		if id > after {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	ids = ids[:min(limit, len(ids))]
	var page []*sso.Organization
	for _, id := range ids {
		page = append(page, s.orgs[id])
	}
	s.mu.RUnlock()
	for i, o := range page {
		page[i] = cloneOrg(o) // stored values are never modified: copy outside the lock
	}
	return page, nil
}

// checkMember checks what the store needs of a member to write it: a non-nil
// member with an OrgID and an Email that sso.ValidateMemberEmail accepts, and
// keys within sso.MaxKeyBytes.
func checkMember(m *sso.Member) error {
	if m == nil {
		return errorf(ErrInvalidArgument, "nil member")
	}
	if m.OrgID == "" || m.Email == "" {
		return errorf(ErrInvalidArgument, "member without an organization ID or email")
	}
	if err := checkKeys("member", m.OrgID, m.UserID, m.Email); err != nil {
		return err
	}
	if err := sso.ValidateMemberEmail(m.Email); err != nil {
		return fmt.Errorf("memory: member of organization %q: %w", m.OrgID, err)
	}
	return nil
}

// checkMemberKey checks the organization ID and email a member is looked up
// by: keys within sso.MaxKeyBytes and an email sso.ValidateMemberEmail
// accepts.
func checkMemberKey(orgID, email string) error {
	if err := checkKeys("member", orgID, email); err != nil {
		return err
	}
	if err := sso.ValidateMemberEmail(email); err != nil {
		return fmt.Errorf("memory: member of organization %q: %w", orgID, err)
	}
	return nil
}

// Member returns a copy of the member of organization orgID with this email,
// or an error wrapping sso.ErrNotFound. The email matches by
// sso.MemberEmailKey; one sso.ValidateMemberEmail refuses (not valid UTF-8, or
// holding NUL) is an error wrapping ErrInvalidArgument, as in every store.
func (s *Store) Member(ctx context.Context, orgID, email string) (*sso.Member, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if err := checkMemberKey(orgID, email); err != nil {
		return nil, err
	}
	key := sso.MemberEmailKey(email)
	s.mu.RLock()
	m := s.members[orgID][key]
	s.mu.RUnlock()
	if m == nil {
		return nil, errorf(sso.ErrNotFound, "member %q of organization %q", email, orgID)
	}
	return cloneMember(m), nil
}

// SaveMember stores a copy of m, creating it or replacing the member with the
// same organization ID and email (compared by sso.MemberEmailKey, as in
// Member). The email is kept as given. m needs an OrgID and an Email that
// sso.ValidateMemberEmail accepts, and keys within sso.MaxKeyBytes (else an
// error wrapping ErrInvalidArgument); the store does not check that the
// organization exists.
func (s *Store) SaveMember(ctx context.Context, m *sso.Member) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if err := checkMember(m); err != nil {
		return err
	}
	c := cloneMember(m)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.initLocked()
	s.putMemberLocked(c)
	return nil
}

// CreateMember stores a copy of m and returns another copy if organization
// m.OrgID has no member with m's email key (sso.MemberEmailKey) and none
// with m's UserID. If it has one with the email key, it stores nothing and
// returns a copy of that member with an error wrapping sso.ErrMemberExists;
// otherwise one with the UserID (a non-empty one) under another email key is
// an error wrapping sso.ErrUserIDTaken, nothing stored. The checks and the
// write are one step under the store's lock. It checks m as SaveMember does,
// and then returns a nil member.
func (s *Store) CreateMember(ctx context.Context, m *sso.Member) (*sso.Member, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if err := checkMember(m); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.createMemberLocked(m)
}

// createMemberLocked is CreateMember's step under s.mu, which the caller
// holds; m is checked.
func (s *Store) createMemberLocked(m *sso.Member) (*sso.Member, error) {
	c := cloneMember(m)
	s.initLocked()
	old := s.members[c.OrgID][sso.MemberEmailKey(c.Email)]
	switch {
	case old != nil:
		return cloneMember(old), errorf(sso.ErrMemberExists, "member %q of organization %q", m.Email, m.OrgID)
	case s.userIDHeldLocked(c.OrgID, c.UserID):
		return nil, errorf(sso.ErrUserIDTaken, "user %q, member %q of organization %q", m.UserID, m.Email, m.OrgID)
	}
	s.putMemberLocked(c)
	return cloneMember(c), nil
}

// userIDHeldLocked reports whether a member of organization orgID has this
// user ID (never the empty one). It scans the organization's members; the
// caller holds s.mu.
func (s *Store) userIDHeldLocked(orgID, userID string) bool {
	if userID == "" {
		return false
	}
	for _, m := range s.members[orgID] {
		if m.UserID == userID {
			return true
		}
	}
	return false
}

// UpdateMember replaces the member with m's organization ID and email key by
// a copy of m (its Email as given), or returns an error wrapping
// sso.ErrNotFound if there is none: it never creates one. It checks m as
// SaveMember does.
func (s *Store) UpdateMember(ctx context.Context, m *sso.Member) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if err := checkMember(m); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.updateMemberLocked(m)
	return err
}

// updateMemberLocked is UpdateMember's step under s.mu, which the caller
// holds; m is checked. It returns the member it replaced.
func (s *Store) updateMemberLocked(m *sso.Member) (*sso.Member, error) {
	old := s.members[m.OrgID][sso.MemberEmailKey(m.Email)]
	if old == nil {
		return nil, errorf(sso.ErrNotFound, "member %q of organization %q", m.Email, m.OrgID)
	}
	s.putMemberLocked(cloneMember(m))
	return old, nil
}

// DeleteMember removes the member of organization orgID with this email
// (by sso.MemberEmailKey), or returns an error wrapping sso.ErrNotFound if
// there is none. It refuses an email as Member does.
func (s *Store) DeleteMember(ctx context.Context, orgID, email string) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if err := checkMemberKey(orgID, email); err != nil {
		return err
	}
	key := sso.MemberEmailKey(email)

	s.mu.Lock()
	defer s.mu.Unlock()
	byKey := s.members[orgID]
	if byKey[key] == nil {
		return errorf(sso.ErrNotFound, "member %q of organization %q", email, orgID)
	}
	delete(byKey, key)
	if len(byKey) == 0 {
		delete(s.members, orgID)
	}
	s.changedLocked()
	return nil
}

// MemberByUserID returns a copy of the member of organization orgID with this
// user ID, the one with the lowest email key if several have it, or an error
// wrapping sso.ErrNotFound. An empty userID matches no member. It scans the
// organization's members.
func (s *Store) MemberByUserID(ctx context.Context, orgID, userID string) (*sso.Member, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if err := checkKeys("member by user ID", orgID, userID); err != nil {
		return nil, err
	}
	var found *sso.Member
	if userID != "" {
		s.mu.RLock()
		bestKey := ""
		for key, m := range s.members[orgID] {
			if m.UserID == userID && (found == nil || key < bestKey) {
				found, bestKey = m, key
			}
		}
		s.mu.RUnlock()
	}
	if found == nil {
		return nil, errorf(sso.ErrNotFound, "member with user ID %q of organization %q", userID, orgID)
	}
	return cloneMember(found), nil
}

// Members returns copies of organization orgID's members whose email key
// (sso.MemberEmailKey) sorts, as bytes, after sso.MemberEmailKey(after), in
// ascending key order, at most limit of them. limit must be 1 to
// sso.MaxListLimit, orgID non-empty and after empty or an email
// sso.ValidateMemberEmail accepts, else the error wraps ErrInvalidArgument.
// It sorts the organization's members on each call.
func (s *Store) Members(ctx context.Context, orgID, after string, limit int) ([]*sso.Member, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if orgID == "" {
		return nil, errorf(ErrInvalidArgument, "members: empty organization ID")
	}
	if limit < 1 || limit > sso.MaxListLimit {
		return nil, errorf(ErrInvalidArgument, "members: limit %d not within 1..%d", limit, sso.MaxListLimit)
	}
	if err := checkMemberKey(orgID, after); err != nil {
		return nil, err
	}
	afterKey := sso.MemberEmailKey(after)

	s.mu.RLock()
	byKey := s.members[orgID]
	keys := make([]string, 0, len(byKey))
	for key := range byKey {
		if key > afterKey {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	keys = keys[:min(limit, len(keys))]
	page := make([]*sso.Member, len(keys))
	for i, key := range keys {
		page[i] = byKey[key]
	}
	s.mu.RUnlock()
	for i, m := range page {
		page[i] = cloneMember(m) // stored values are never modified: copy outside the lock
	}
	return page, nil
}

// putMemberLocked stores c, which the store now owns, in place of the member
// with its organization and email key. The caller holds s.mu for writing.
// It raises the change counter when it replaces a member, and when it
// inserts one whose user has sessions in the organization (it may become
// the member MemberByUserID names, and decide whether those sessions are
// valid); a first sign-in inserts its member before its session, so it
// raises nothing.
func (s *Store) putMemberLocked(c *sso.Member) {
	byKey := s.members[c.OrgID]
	if byKey == nil {
		byKey = make(map[string]*sso.Member)
		s.members[c.OrgID] = byKey
	}
	key := sso.MemberEmailKey(c.Email)
	if byKey[key] != nil || s.userHasSessionsLocked(c.OrgID, c.UserID) {
		s.changedLocked() // replaced, or a new member of users with sessions: it may end sessions
	}
	byKey[key] = c
}

// userHasSessionsLocked reports whether a stored session (valid or not) of
// organization orgID has this user ID. It scans the organization's
// sessions; the caller holds s.mu.
func (s *Store) userHasSessionsLocked(orgID, userID string) bool {
	for id := range s.orgSessions[orgID] {
		if sess := s.sessions[id]; sess != nil && sess.UserID == userID {
			return true
		}
	}
	return false
}
