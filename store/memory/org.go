package memory

import (
	"context"
	"fmt"

	"github.com/orgsso/orgsso/sso"
)

// memberKey identifies a member: organization ID and sso.MemberEmailKey.
type memberKey struct{ orgID, email string }

// newMemberKey keys a member by sso.MemberEmailKey, like every store.
func newMemberKey(orgID, email string) memberKey {
	return memberKey{orgID: orgID, email: sso.MemberEmailKey(email)}
}

// Organization returns a copy of the organization with this ID, or an error
// wrapping sso.ErrNotFound.
func (s *Store) Organization(ctx context.Context, id string) (*sso.Organization, error) {
	if err := s.begin(ctx); err != nil {
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

// SaveOrganization stores a copy of org, creating it or replacing the one with
// the same ID. An SSO name held by another organization is an error wrapping
// sso.ErrSSONameTaken; renaming an organization frees its old name at once.
// An empty SSO name is allowed (a draft) and is not indexed.
//
// The store checks only what it needs: a non-nil org with an ID. Validating
// the organization (org.Validate) is the caller's job.
func (s *Store) SaveOrganization(ctx context.Context, org *sso.Organization) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if org == nil {
		return errorf(ErrInvalidArgument, "nil organization")
	}
	if org.ID == "" {
		return errorf(ErrInvalidArgument, "organization without an ID")
	}
	c := cloneOrg(org)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.initLocked()
	if c.SSOName != "" {
		if owner, ok := s.orgIDByName[c.SSOName]; ok && owner != c.ID {
			return errorf(sso.ErrSSONameTaken, "SSO name %q", c.SSOName)
		}
	}
	if old := s.orgs[c.ID]; old != nil && old.SSOName != c.SSOName && old.SSOName != "" {
		delete(s.orgIDByName, old.SSOName)
	}
	s.orgs[c.ID] = c
	if c.SSOName != "" {
		s.orgIDByName[c.SSOName] = c.ID
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
	if err := sso.ValidateMemberEmail(email); err != nil {
		return nil, fmt.Errorf("memory: member of organization %q: %w", orgID, err)
	}
	k := newMemberKey(orgID, email)
	s.mu.RLock()
	m := s.members[k]
	s.mu.RUnlock()
	if m == nil {
		return nil, errorf(sso.ErrNotFound, "member %q of organization %q", email, orgID)
	}
	return cloneMember(m), nil
}

// SaveMember stores a copy of m, creating it or replacing the member with the
// same organization ID and email (compared by sso.MemberEmailKey, as in
// Member). The email is kept as given. m needs an OrgID and an Email that
// sso.ValidateMemberEmail accepts (else an error wrapping ErrInvalidArgument);
// the store does not check that the organization exists.
func (s *Store) SaveMember(ctx context.Context, m *sso.Member) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if m == nil {
		return errorf(ErrInvalidArgument, "nil member")
	}
	if m.OrgID == "" || m.Email == "" {
		return errorf(ErrInvalidArgument, "member without an organization ID or email")
	}
	if err := sso.ValidateMemberEmail(m.Email); err != nil {
		return fmt.Errorf("memory: member of organization %q: %w", m.OrgID, err)
	}
	c := cloneMember(m)
	k := newMemberKey(c.OrgID, c.Email)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.initLocked()
	s.members[k] = c
	return nil
}
